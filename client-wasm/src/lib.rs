//! A client for video-translation status APIs, compiled to WebAssembly for JavaScript.
//!
//! Translation jobs take minutes to tens of minutes. Polling too often wastes the server's
//! capacity; too rarely, the caller learns late. This crate decides when to poll:
//!
//! | module | concern |
//! |---|---|
//! | [`policy`] | [`PollPolicy`]: the schedule and the budgets, with documented defaults |
//! | [`backoff`] | the jittered exponential gaps between polls |
//! | [`poller`] | [`Poller`]: the sans-IO state machine: observations in, actions out |
//! | `wasm` (wasm32 only) | the JS API: `VideoTranslationClient`, `fetch`, timers, abort |
//!
//! The core (`policy`, `backoff`, `poller`) has no JS in it and is tested natively with
//! `cargo test`; the wasm layer only carries out what the poller asks.
#![deny(missing_docs, missing_debug_implementations)]

pub mod backoff;
pub mod poller;
pub mod policy;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use poller::{Action, Observation, Outcome, PollError, Poller};
pub use policy::{PollPolicy, PolicyError};
pub use video_translation_protocol::JobResult;
