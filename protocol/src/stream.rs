//! The event stream of a watch: `POST /jobs/watch` with `Accept: text/event-stream` and the
//! usual [`WatchRequest`](crate::WatchRequest) body answers `200 text/event-stream`, whose
//! events (each with `event:`, `id:` and one `data:` line of compact JSON) are:
//!
//! | event | data | when |
//! |---|---|---|
//! | [`MISSING_EVENT`] | [`MissingEvent`] | once at the start, if some listed ids are unknown |
//! | [`END_EVENT`] | [`JobStatus`] | once per listed job, as it ends (at once for a job already ended) |
//! | [`JOBS_EVENT`] | [`JobsEvent`] | every pending listed job: every `progress_ms` if asked, and once before the server closes the stream for its lifetime or its shutdown |
//!
//! and a comment (`: keep-alive`) after some seconds without an event. The stream ends after
//! the last listed job's `end`, or after a `jobs` event when the server closes it.
//!
//! An event's `id` is a cursor, opaque to clients: sent back as [`LAST_EVENT_ID_HEADER`]
//! with the same (or fewer) ids, it resumes the stream without missing an end.

use serde::{Deserialize, Serialize};

use crate::JobStatus;

/// The media type of an event stream, asked for in `Accept` and answered in `Content-Type`.
pub const EVENT_STREAM_TYPE: &str = "text/event-stream";

/// Request header resuming a stream: the `id` of the last event received.
pub const LAST_EVENT_ID_HEADER: &str = "last-event-id";

/// The first event: the stream is open.
pub const OPEN_EVENT: &str = "open";

/// The query parameter asking a stream for a [`JOBS_EVENT`] every so many milliseconds. A
/// query parameter, not a body field: a server without streams ignores it, where its watch
/// refuses a body field it does not know.
pub const PROGRESS_PARAM: &str = "progress_ms";

/// The event of the ids the server does not know.
pub const MISSING_EVENT: &str = "missing";

/// The event of one job's end; its data is the job's final [`JobStatus`].
pub const END_EVENT: &str = "end";

/// The event of every pending listed job's status.
pub const JOBS_EVENT: &str = "jobs";

/// The shortest progress interval a stream takes, in milliseconds (`progress_ms`).
pub const MIN_PROGRESS_MS: u64 = 1_000;

/// The longest progress interval a stream takes, in milliseconds: a day, the longest a stream
/// can last (`--stream-lifetime`).
pub const MAX_PROGRESS_MS: u64 = 86_400_000;

/// Data of the [`OPEN_EVENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenEvent {
    /// The longest the server stays silent, in milliseconds: a comment comes at least this
    /// often (`--stream-heartbeat`).
    pub heartbeat_ms: u64,
}

/// Data of a [`MISSING_EVENT`]: the listed ids the server does not know (never issued,
/// malformed or expired), as the request spelled them, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingEvent {
    /// The unknown ids.
    pub ids: Vec<String>,
}

/// Data of a [`JOBS_EVENT`]: every listed job still pending, in the order listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobsEvent {
    /// Their statuses now.
    pub jobs: Vec<JobStatus>,
}

/// The value of [`PROGRESS_PARAM`]: a whole number of milliseconds from [`MIN_PROGRESS_MS`]
/// to [`MAX_PROGRESS_MS`]; the error says what is wrong, to be answered with a `400`.
pub fn parse_progress(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .ok()
        .filter(|ms| (MIN_PROGRESS_MS..=MAX_PROGRESS_MS).contains(ms))
        .ok_or_else(|| {
            format!(
                "{PROGRESS_PARAM} must be a whole number of milliseconds from {MIN_PROGRESS_MS} \
                 to {MAX_PROGRESS_MS} (a day), not {text:?}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_a_whole_number_of_milliseconds_from_a_second_to_a_day() {
        assert_eq!(parse_progress("1000"), Ok(1000));
        assert_eq!(parse_progress("86400000"), Ok(86_400_000));
        for bad in [
            "999", "0", "-1000", "1000.5", "1e3", "", " 1000", "86400001", "soon",
        ] {
            let error = parse_progress(bad).unwrap_err();
            assert!(error.contains("from 1000 to 86400000"), "{bad}: {error}");
        }
    }
}
