//! The JS API over the pure poller: `VideoTranslationClient` and its helpers.
//!
//! | module | concern |
//! |---|---|
//! | [`client`] | the exported class and the wait loop that carries out the poller's actions |
//! | [`options`] | JS option objects in, validated Rust values out |
//! | [`status`] | reading answers: status bodies, error bodies, observations |
//! | [`http`] | one `fetch` with a time limit and an `AbortSignal` |
//! | [`abort`] | abortable sleeping and the signal watcher both use |
//! | [`errors`] | the `Error` objects JS callers receive |
//! | [`globals`] | the global `fetch` and `performance.now` (window, worker and Node alike) |
//! | [`typescript`] | the `.d.ts` interfaces for options, results and errors |

mod abort;
mod client;
mod errors;
mod globals;
mod http;
mod options;
mod status;
mod typescript;

pub use client::VideoTranslationClient;
