//! The globals every JS environment we support has: a window, a Web Worker and Node 18+.
//!
//! Bound directly rather than through `web_sys::window()`, which does not exist in a worker
//! or in Node.

use std::time::Duration;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch(request)`.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch_with_request(request: &web_sys::Request) -> js_sys::Promise;

    /// The global `performance.now()`: monotonic milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic time since an arbitrary origin, as the poller wants it.
pub fn now() -> Duration {
    Duration::from_secs_f64(performance_now().max(0.0) / 1000.0)
}

/// Whole milliseconds as a JS number.
pub fn millis(duration: Duration) -> f64 {
    duration.as_millis() as f64
}
