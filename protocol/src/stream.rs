//! The streamed watch: `POST /jobs/watch` asked with `Accept: text/event-stream`.
//!
//! The body is the watch's own [`WatchRequest`](crate::WatchRequest); the answer is one event
//! stream for all the listed jobs, which the server closes once every one of them has ended
//! (or its lifetime runs out, or it stops). In order:
//!
//! | event | data | when |
//! |---|---|---|
//! | [`OPEN`] | [`StreamOpen`] | first, at once: a client that sees nothing for seconds is behind a proxy that buffers |
//! | [`MISSING`] | [`StreamMissing`] | once, if some listed id names no job |
//! | [`END`] | [`JobStatus`](crate::JobStatus) | one per job, as it ends (at once for one that has) |
//! | [`JOBS`] | [`StreamJobs`] | every job still pending: at the start, every [`PROGRESS_PARAM`] if asked, and before the server closes the stream early |
//!
//! A comment line (`: keep-alive`) comes every heartbeat, so proxies keep the connection and
//! the client can tell a silent stream from a dead one. Every event carries an `id`: sent back
//! as [`LAST_EVENT_ID_HEADER`] with the same ids (or fewer), it resumes after that event,
//! missing no end.

use serde::{Deserialize, Serialize};

use crate::JobStatus;

/// The media type a client asks for (`Accept`) and a stream answers with (`Content-Type`).
pub const EVENT_STREAM: &str = "text/event-stream";

/// The query parameter asking for a [`JOBS`] event at this interval, in milliseconds.
pub const PROGRESS_PARAM: &str = "progress_ms";

/// The shortest progress interval a server accepts, in milliseconds.
pub const MIN_PROGRESS_MS: u64 = 1_000;

/// The request header that resumes a stream after the event with this id.
pub const LAST_EVENT_ID_HEADER: &str = "last-event-id";

/// The first event: the stream is open.
pub const OPEN: &str = "open";
/// The listed ids the server does not know.
pub const MISSING: &str = "missing";
/// One job has ended.
pub const END: &str = "end";
/// Every listed job still pending.
pub const JOBS: &str = "jobs";

/// Data of the [`OPEN`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamOpen {
    /// The longest the server stays silent: a comment comes at least this often.
    pub heartbeat_ms: u64,
}

/// Data of the [`MISSING`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamMissing {
    /// The listed ids that name no job, as the request spelled them, each once.
    pub ids: Vec<String>,
}

/// Data of the [`JOBS`] event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamJobs {
    /// Every listed job still pending, each once, in the order listed.
    pub jobs: Vec<JobStatus>,
}
