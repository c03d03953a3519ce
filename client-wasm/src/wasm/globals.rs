//! The globals every JS environment we support has (a window, a Web Worker, Node, Deno and
//! Bun), and two that only some have, read from `globalThis` without assuming either.
//!
//! Bound directly rather than through `web_sys::window()`, which does not exist in a worker
//! or a server-side runtime.

use std::time::Duration;

use wasm_bindgen::prelude::*;

use crate::millis::{millis_duration, whole_millis};

#[wasm_bindgen]
extern "C" {
    /// The global `performance.now()`: monotonic milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic time since an arbitrary origin, as the core wants it.
pub fn now() -> Duration {
    millis_duration(performance_now())
}

/// A duration as JS states one: whole milliseconds.
pub fn js_millis(duration: Duration) -> u64 {
    whole_millis(duration)
}

/// `globalThis[name]`, if it is there.
pub fn global(name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// `globalThis[object][name]`, if both are there.
fn global_field(object: &str, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(&global(object)?, &JsValue::from_str(name)).ok()
}

/// The environment says it is offline: `navigator.onLine` is `false` (never in Node).
pub fn offline() -> bool {
    global_field("navigator", "onLine").and_then(|online| online.as_bool()) == Some(false)
}

/// The page is hidden (`document.visibilityState`); no page, no hiding.
pub fn page_hidden() -> bool {
    global_field("document", "visibilityState").and_then(|state| state.as_string())
        == Some("hidden".to_owned())
}
