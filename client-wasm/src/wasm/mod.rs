//! The JS API over the sans-IO core, and the I/O the core asks for: requests through the
//! global `fetch` (web-sys, awaited as `JsFuture`s), time from gloo-timers, and one watch
//! loop per client, a Rust future run by `wasm_bindgen_futures::spawn_local`.
//!
//! | module | concern |
//! |---|---|
//! | [`client`] | the exported class: arguments in, promises out |
//! | [`watch_loop`] | the future that drives a client's [`crate::Watcher`]: requests, timers, wake-ups |
//! | [`report`] | the watcher's events handed to each wait's callbacks and promise |
//! | [`single`] | `createJob`, `getStatus`, `cancelJob`: one request, retried where that is safe |
//! | [`fetch`] | one HTTP exchange: headers, redirects, a time limit, abort on drop |
//! | [`body`] | a response body read from its stream, never past the bound |
//! | [`abort`] | an `AbortController` that aborts on drop; listening to an `AbortSignal` |
//! | [`wakeups`] | coming back online, or to the page: look at every job now |
//! | [`options`] | option objects into serde structs, checked, with errors that name the option |
//! | [`bodies`] | response bodies into the protocol's types |
//! | [`values`] | statuses, updates and results out to JS, through serde |
//! | [`errors`] | the `Error` objects JS callers receive, and the text of those thrown at us |
//! | [`globals`] | `performance.now`, `navigator.onLine`, `document.visibilityState` |
//! | [`random`] | jitter seeds and `Idempotency-Key`s from the platform's CSPRNG |
//! | [`urls`] | the status API's URLs |
//! | [`typescript`] | the `.d.ts` interfaces for options, results and errors |

mod abort;
mod bodies;
mod body;
mod client;
mod errors;
mod event_stream;
mod fetch;
mod globals;
mod options;
mod random;
mod report;
mod single;
mod typescript;
mod urls;
mod values;
mod wakeups;
mod watch_loop;

pub use client::VideoTranslationClient;

// Talc in place of std's dlmalloc: the same job in 2.8 KB less of the gzipped module every
// page downloads (`make bench`). The module is single-threaded (no `atomics`), which the
// dynamic allocator requires.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
