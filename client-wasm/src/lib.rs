//! A client for video-translation status APIs, compiled to WebAssembly for JavaScript.
//!
//! Translation jobs take minutes to tens of minutes. Polling too often wastes the server's
//! capacity; too rarely, the caller learns late. This crate decides when to poll:
//!
//! | module | concern |
//! |---|---|
//! | [`policy`] | [`PollPolicy`]: the schedule and the budgets, with documented defaults |
//! | `backoff` (internal) | the jittered exponential gaps between polls |
//! | [`hints`] | reading the server's timing headers (`Retry-After`) |
//! | `millis` (internal) | milliseconds, as JS states times, to and from `Duration`, without panics |
//! | [`poller`] | [`Poller`]: the sans-IO state machine of one wait: observations in, actions out |
//! | [`answer`] | what the server's answers mean to the pollers |
//! | [`retry`] | retrying `createJob` and `cancelJob`, which change something on the server |
//! | [`stream`] | a streamed watch's bytes decoded into events, bounded |
//! | [`watcher`] | [`Watcher`]: every wait of one client through as few requests as possible |
//! | `wasm` (wasm32 only) | the JS API: `VideoTranslationClient`, and the I/O the core asks for: `fetch` through web-sys, gloo-timers, one `spawn_local` watch loop per client |
//!
//! The core (`policy`, `backoff`, `poller`) has no JS in it and is tested natively with
//! `cargo test`; the wasm layer only carries out what the poller asks.
#![deny(missing_docs, missing_debug_implementations)]

pub mod answer;
mod backoff;
pub mod hints;
mod millis;
pub mod policy;
pub mod poller;
pub mod retry;
pub mod stream;
pub mod watcher;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::VideoTranslationClient;

pub use policy::{PolicyError, PollPolicy};
pub use poller::{Action, Observation, PollError, Poller, WaitOutcome};
pub use video_translation_protocol::JobResult;
pub use watcher::Watcher;

// `wasm-pack test --headless --chrome` runs the core's unit tests in the browser as well.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
