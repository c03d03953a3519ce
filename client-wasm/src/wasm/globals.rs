//! The globals every JS environment we support has: a window, a Web Worker and Node 18+.
//!
//! Bound directly rather than through `web_sys::window()`, which does not exist in a worker
//! or in Node.

use std::time::Duration;

use wasm_bindgen::prelude::*;

use crate::number_text::{millis_duration, whole_millis};

#[wasm_bindgen]
extern "C" {
    /// The global `performance.now()`: monotonic milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic time since an arbitrary origin, as the poller wants it.
pub fn now() -> Duration {
    millis_duration(performance_now())
}

/// A duration as JS states one: whole milliseconds, as a number (`elapsedMs`).
pub fn js_millis(duration: Duration) -> JsValue {
    JsValue::from_f64(whole_millis(duration) as f64)
}
