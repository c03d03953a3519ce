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

/// `progress_ms`: a whole number of milliseconds as JSON Schema counts integers (`1000.0`
/// too), from [`MIN_PROGRESS_MS`] to [`MAX_PROGRESS_MS`]; `null` is absent.
pub(crate) fn progress_millis<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let millis = crate::whole_millis(deserializer)?;
    match millis {
        Some(ms) if !(MIN_PROGRESS_MS..=MAX_PROGRESS_MS).contains(&ms) => {
            Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Unsigned(ms),
                &"a whole number of milliseconds from 1000 to 86400000 (a day)",
            ))
        }
        millis => Ok(millis),
    }
}

#[cfg(test)]
mod tests {
    use crate::WatchRequest;

    fn progress_of(body: &str) -> Result<Option<u64>, String> {
        serde_json::from_str::<WatchRequest>(body)
            .map(|request| request.progress_ms)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn progress_ms_is_optional_and_a_whole_second_or_more() {
        assert_eq!(progress_of(r#"{"ids": ["a"]}"#), Ok(None));
        assert_eq!(
            progress_of(r#"{"ids": ["a"], "progress_ms": null}"#),
            Ok(None)
        );
        assert_eq!(
            progress_of(r#"{"ids": ["a"], "progress_ms": 1000}"#),
            Ok(Some(1000))
        );
        assert_eq!(
            progress_of(r#"{"ids": ["a"], "progress_ms": 2500.0}"#),
            Ok(Some(2500))
        );
        assert_eq!(
            progress_of(r#"{"ids": ["a"], "progress_ms": 86400000}"#),
            Ok(Some(86_400_000))
        );
        for bad in [
            "999", "0", "-1000", "1000.5", "\"1000\"", "true", "86400001", "1e30",
        ] {
            let body = format!(r#"{{"ids": ["a"], "progress_ms": {bad}}}"#);
            assert!(progress_of(&body).is_err(), "{bad}");
        }
        let below = progress_of(r#"{"ids": ["a"], "progress_ms": 500}"#).unwrap_err();
        assert!(below.contains("from 1000 to 86400000"), "{below}");
    }

    #[test]
    fn a_watch_without_progress_serializes_as_before() {
        let request = WatchRequest {
            ids: vec!["a".into()],
            progress_ms: None,
        };
        assert_eq!(serde_json::to_string(&request).unwrap(), r#"{"ids":["a"]}"#);
    }
}
