//! A streamed watch, read without I/O: the server's `text/event-stream` bytes in, its events
//! out, and what they mean to the [`Watcher`](crate::watcher::Watcher).
//!
//! `POST /jobs/watch` with `Accept: text/event-stream` answers one event stream for every id
//! listed: `open` first (with the server's heartbeat), then `missing` (the unknown ids),
//! `end` (one per job, as it ends) and `jobs` (every pending job's status, at the start, at
//! the interval the client asked for, and before the server closes the stream). A comment
//! line comes every heartbeat, so a silent stream is a dead one. Each event's `id` is a
//! cursor the client sends back as `Last-Event-ID` when it reconnects.
//!
//! The decoding is [`sse_core`]'s; this bounds what a stream may make the client keep: no
//! event, and no run of bytes between two events, past [`MAX_UNREAD_BYTES`] (the same 1 MiB
//! rule as every answer's body).

use std::num::NonZeroUsize;
use std::time::Duration;

use sse_core::{SseDecoder, SseEvent};
use video_translation_protocol::JobStatus;

/// The most a stream may send between two events, comments and heartbeats included, and the
/// most one event may hold: past it the stream is cut as unreadable.
pub const MAX_UNREAD_BYTES: usize = 1 << 20;

/// How long after it is sent a stream has to bring its head and first event (which the server
/// sends at once). A proxy that buffers streams holds them back; past this the client takes
/// it for one and long-polls instead.
pub const FIRST_EVENT_WITHIN: Duration = Duration::from_secs(5);

/// The heartbeat assumed until the `open` event tells the server's own.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// The longest heartbeat believed: a server announcing a longer one (or a hostile one) would
/// otherwise keep the client listening to a dead connection for as long.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(60);

/// How long a stream may stay silent once open, given the server's heartbeat (at most
/// [`MAX_HEARTBEAT`]): two beats, and at least five seconds more than one, for a slow network
/// or a loaded machine.
pub fn silence_limit(heartbeat: Duration) -> Duration {
    let heartbeat = heartbeat.min(MAX_HEARTBEAT);
    (heartbeat * 2).max(heartbeat + Duration::from_secs(5))
}

/// One event of a stream, as the server framed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The `event` field (`message` when the server sent none).
    pub event: String,
    /// The `data` lines, joined with `\n`.
    pub data: String,
    /// The cursor to resume after this event: the last `id` the stream has sent.
    pub cursor: Option<String>,
}

/// The decoding of one stream's bytes, bounded. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct EventStream {
    decoder: SseDecoder,
    /// Bytes taken since the last event.
    since_event: usize,
}

impl Default for EventStream {
    fn default() -> Self {
        Self::new()
    }
}

impl EventStream {
    /// A decoder for a new stream.
    pub fn new() -> Self {
        let limit = NonZeroUsize::new(MAX_UNREAD_BYTES).unwrap_or(NonZeroUsize::MIN);
        EventStream {
            decoder: SseDecoder::with_limit(limit),
            since_event: 0,
        }
    }

    /// Decodes `chunk`, the next bytes of the stream, pushing each complete event to
    /// `events`. An error says why the stream cannot be read on (it is to be cut).
    pub fn feed(&mut self, chunk: &[u8], events: &mut Vec<Message>) -> Result<(), String> {
        let mut rest = chunk;
        while !rest.is_empty() {
            let before = rest.len();
            let next = self.decoder.next(&mut rest);
            self.since_event += before - rest.len();
            match next {
                Some(Ok(SseEvent::Message(message))) => {
                    self.since_event = 0;
                    events.push(Message {
                        event: message.event.into_owned(),
                        data: message.data,
                        cursor: message.last_event_id.map(|id| id.to_string()),
                    });
                }
                // The client reconnects on its own schedule (jittered backoff).
                Some(Ok(SseEvent::Retry(_))) => {}
                Some(Err(_)) => return Err(too_much()),
                None => {}
            }
            if self.since_event > MAX_UNREAD_BYTES {
                return Err(too_much());
            }
        }
        Ok(())
    }
}

fn too_much() -> String {
    format!("the event stream sent more than {MAX_UNREAD_BYTES} bytes without an event")
}

/// What a stream's event means, its data read (in the wasm build, by `JSON.parse` and
/// serde-wasm-bindgen into the protocol's types).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The stream is open; the server sends a comment at least this often.
    Open {
        /// The server's heartbeat.
        heartbeat: Duration,
    },
    /// These ids name no job the server knows.
    Missing(Vec<String>),
    /// A job ended: its final status.
    End(JobStatus),
    /// Every listed job still pending, with its status.
    Jobs(Vec<JobStatus>),
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
