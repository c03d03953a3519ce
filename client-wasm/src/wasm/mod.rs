//! The JS API over the pure poller: `VideoTranslationClient` and its helpers.
//!
//! | module | concern |
//! |---|---|
//! | [`client`] | the exported class: arguments in, promises out |
//! | [`watching`] | the watch loop: carries out the watcher's plans (and `report`s to each wait) |
//! | [`single`] | one request whose answer settles one promise (`createJob`, `getStatus`, `cancelJob`), retried where safe |
//! | [`options`] | JS option objects in (their shape checked by `js/io.js`), validated Rust values out |
//! | [`status`] | parsing status, watch and error bodies into the core's types |
//! | [`io`] | the loop's turns, requests and answers, carried out by `js/io.js` |
//! | [`errors`] | the `Error` objects JS callers receive |
//! | [`js`] | plain JS objects: fields read, objects built field by field, strings quoted |
//! | [`globals`] | the global `performance.now` (window, worker and Node alike) |
//! | [`urls`] | the status API's URLs |
//! | [`typescript`] | the `.d.ts` interfaces for options, results and errors |

mod client;
mod errors;
mod globals;
mod io;
mod js;
mod options;
mod single;
mod status;
mod typescript;
mod urls;
mod watching;

pub use client::VideoTranslationClient;

// Talc in place of Rust's default dlmalloc: the same job in a few KB less of the module that
// every page using the client downloads (`make bench`, package size). The module is
// single-threaded (no `atomics`), which the dynamic allocator requires.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
