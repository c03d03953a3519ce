//! The URLs of the status API, in one place: `POST /jobs`, `GET /jobs/{id}` (or the default
//! job's `GET /status`), `POST /jobs/{id}/cancel`, `POST /jobs/watch`, with the long-poll's
//! `?wait=`.

use std::time::Duration;

use crate::text::text;
use video_translation_protocol::{format_wait, CANCEL_SUFFIX, JOBS_PATH, WAIT_PARAM, WATCH_PATH};

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

/// `POST /jobs/{id}/cancel`.
pub fn cancel_url(base_url: &str, id: &str) -> String {
    let id = String::from(js_sys::encode_uri_component(id));
    text!(base_url, JOBS_PATH, "/", id, CANCEL_SUFFIX)
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
