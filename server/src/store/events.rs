//! What a shared backend tells every replica ([`Event`]), and where it sends it
//! ([`EventSink`]): the Redis backend's listener hears them, the [`JobStore`](super::JobStore)
//! wakes its held requests on them.

use std::sync::Arc;

use super::id::JobId;

/// What a shared backend tells every replica, so their held requests wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A job was cancelled, here or on another replica.
    Cancelled(JobId),
    /// Events may have been lost (the event stream was cut and is back): every held request
    /// should look its jobs up again.
    Missed,
}

/// Where a backend sends its events.
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;
