//! The URLs of the status API, in one place: `POST /jobs`, `GET /jobs/{id}` (or the default
//! job's `GET /status`), `POST /jobs/{id}/cancel`, `POST /jobs/watch`, with the long-poll's
//! `?wait=`.

use std::time::Duration;

use crate::millis::whole_millis;
use video_translation_protocol::stream::PROGRESS_PARAM;
use video_translation_protocol::{
    format_wait, job_path, CANCEL_PATH, JOBS_PATH, JOB_PATH, STATUS_PATH, WAIT_PARAM, WATCH_PATH,
};

/// `POST /jobs`.
pub fn jobs_url(base_url: &str) -> String {
    format!("{base_url}{JOBS_PATH}")
}

/// `GET /jobs/{id}`, or `GET /status` for the server's default job (`None`).
pub fn status_url(base_url: &str, id: Option<&str>, wait: Option<Duration>) -> String {
    let wait = wait_query(wait);
    match id {
        Some(id) => format!("{base_url}{}{wait}", job_path(JOB_PATH, &encoded(id))),
        None => format!("{base_url}{STATUS_PATH}{wait}"),
    }
}

/// `POST /jobs/{id}/cancel`.
pub fn cancel_url(base_url: &str, id: &str) -> String {
    format!("{base_url}{}", job_path(CANCEL_PATH, &encoded(id)))
}

/// `POST /jobs/watch`.
pub fn watch_url(base_url: &str, wait: Option<Duration>) -> String {
    format!("{base_url}{WATCH_PATH}{}", wait_query(wait))
}

/// `POST /jobs/watch` as a stream, asking for the pending jobs' statuses every `progress`.
pub fn stream_url(base_url: &str, progress: Option<Duration>) -> String {
    match progress {
        Some(every) => format!(
            "{base_url}{WATCH_PATH}?{PROGRESS_PARAM}={}",
            whole_millis(every)
        ),
        None => format!("{base_url}{WATCH_PATH}"),
    }
}

/// An id as one path segment.
fn encoded(id: &str) -> String {
    js_sys::encode_uri_component(id).into()
}

fn wait_query(wait: Option<Duration>) -> String {
    match wait {
        Some(wait) => format!("?{WAIT_PARAM}={}", format_wait(wait)),
        None => String::new(),
    }
}
