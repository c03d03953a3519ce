//! Cancelling requests and hearing aborts: an `AbortController` that aborts when dropped, so
//! a request whose future is dropped (cancelled, timed out, or its loop gone) is cut at once;
//! and a listener on a caller's `AbortSignal` that stops listening when dropped, so a signal
//! shared by many waits does not collect listeners.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, AbortSignal};

/// An `AbortController` for one request: aborts its signal on drop. Aborting after the
/// answer was read is harmless.
#[derive(Debug)]
#[must_use = "the request is aborted when this is dropped"]
pub struct AbortOnDrop(AbortController);

impl AbortOnDrop {
    /// A new controller; `Err` only where `AbortController` does not exist.
    pub fn new() -> Result<Self, JsValue> {
        AbortController::new().map(AbortOnDrop)
    }

    /// The signal to hand to `fetch`.
    pub fn signal(&self) -> AbortSignal {
        self.0.signal()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Calls a function when a signal fires, until dropped.
#[derive(Debug)]
#[must_use = "the listener is removed when this is dropped"]
pub struct AbortListener {
    signal: AbortSignal,
    on_abort: Closure<dyn FnMut()>,
}

impl AbortListener {
    /// Listens to `signal`'s `abort` event.
    pub fn new(signal: &AbortSignal, on_abort: impl FnMut() + 'static) -> Self {
        let on_abort = Closure::<dyn FnMut()>::new(on_abort);
        // Adding a listener to an AbortSignal does not throw.
        let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        AbortListener {
            signal: signal.clone(),
            on_abort,
        }
    }
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.on_abort.as_ref().unchecked_ref());
    }
}
