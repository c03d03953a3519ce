//! The URLs of the status API, in one place: `POST /jobs`, `GET /jobs/{id}` (or the default
//! job's `GET /status`), `POST /jobs/watch`, with the long-poll's `?wait=`.

use std::time::Duration;

use crate::text::text;
use video_translation_protocol::{format_wait, JOBS_PATH, WAIT_PARAM, WATCH_PATH};

/// `POST /jobs`.
pub fn jobs_url(base_url: &str) -> String {
    text!(base_url, JOBS_PATH)
}

/// `GET /jobs/{id}`, or `GET /status` for the server's default job (`None`).
pub fn status_url(base_url: &str, id: Option<&str>, wait: Option<Duration>) -> String {
    let path = match id {
        Some(id) => text!(
            JOBS_PATH,
            "/",
            String::from(js_sys::encode_uri_component(id))
        ),
        None => "/status".to_owned(),
    };
    text!(base_url, path, wait_query(wait))
}

/// `POST /jobs/watch`.
pub fn watch_url(base_url: &str, wait: Option<Duration>) -> String {
    text!(base_url, WATCH_PATH, wait_query(wait))
}

fn wait_query(wait: Option<Duration>) -> String {
    match wait {
        Some(wait) => text!("?", WAIT_PARAM, "=", format_wait(wait)),
        None => String::new(),
    }
}
