//! The event stream of a watch: `POST /jobs/watch` with `Accept: text/event-stream` (see
//! [`video_translation_protocol::stream`] for the events). One connection carries every
//! listed job's end as it comes, optionally their progress, and heartbeats, for up to
//! `--stream-lifetime`, holding one `--max-waiters` slot the whole time.
//!
//! | file | concern |
//! |---|---|
//! | [`cursor`] | the events' `id`: a cursor that resumes a stream without missing an end |
//! | [`session`] | what has been told and what to tell next, from the jobs and the time (no I/O) |
//! | `run.rs` | the loop: wait, read the store, send what the session says |
//! | [`frame`] | events as bytes |
//! | [`body`] | the loop as a response body, dropped (with its slot) when the client leaves |
//!
//! The store's side (the listed jobs, the slot, the notifications) is
//! [`JobFeed`](crate::store::JobFeed); the handler is `routes/watch_stream.rs`.

pub mod body;
pub mod cursor;
pub mod frame;
mod run;
pub mod session;

use std::time::Duration;

use self::body::EventBody;
use self::cursor::Resume;
use self::session::Session;
use crate::store::OpenedFeed;

/// The streams' timing, from the flags.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// A comment is sent after this long without an event (`--stream-heartbeat`).
    pub heartbeat: Duration,
    /// A stream is closed after this long (`--stream-lifetime`).
    pub lifetime: Duration,
}

/// The body of a stream just opened on the store: resumed from `resume`, with a `jobs`
/// event every `progress` if asked.
pub fn event_body(
    opened: OpenedFeed,
    resume: &Resume,
    settings: StreamSettings,
    progress: Option<Duration>,
) -> EventBody {
    let session = Session::new(opened.jobs, opened.missing, resume);
    let feed = opened.feed;
    EventBody::new(move |sender| run::run(feed, session, settings, progress, sender))
}
