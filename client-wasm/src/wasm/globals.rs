//! The globals every JS environment we support has: a window, a Web Worker and Node 18+.
//!
//! Bound directly rather than through `web_sys::window()`, which does not exist in a worker
//! or in Node.

use std::time::Duration;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `performance.now()`: monotonic milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic time since an arbitrary origin, as the poller wants it.
pub fn now() -> Duration {
    // Whole microseconds, saturating: no float-to-Duration checks that could panic.
    Duration::from_micros((performance_now().max(0.0) * 1000.0) as u64)
}

/// Whole milliseconds as a JS number.
pub fn millis(duration: Duration) -> f64 {
    // Not `as_millis()`: its u128 arithmetic would add code to the wasm module.
    duration.as_secs() as f64 * 1000.0 + f64::from(duration.subsec_millis())
}
