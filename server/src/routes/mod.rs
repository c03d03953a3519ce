//! Thin HTTP handlers: each reads the request, asks the [`JobStore`](crate::store::JobStore)
//! and renders the answer. Route registration lives in [`crate::startup`].

pub mod cancel;
pub mod fallback;
pub mod health;
pub mod idempotency_key;
pub mod jobs;
pub mod json_body;
pub mod metrics;
pub mod openapi;
pub mod progress;
pub mod ready;
pub mod status;
pub mod watch;
pub mod watch_stream;
