//! The `Error` objects JS callers receive: real `Error`s whose `name` says what happened;
//! and the other way, the text of what JS threw at us, for messages.
//!
//! | name | when | extra fields |
//! |---|---|---|
//! | `TimeoutError` | `maxWaitMs` / `maxAttempts` ran out, or one request passed `requestTimeoutMs` | `attempts`, `elapsedMs` |
//! | `AbortError` | the caller's `AbortSignal` fired | `cause` = the signal's reason |
//! | `HttpError` | a permanent HTTP failure (a 4xx other than 408/429), or any non-2xx on a single request | `status`, `code` |
//! | `ProtocolError` | the server's answer is not the contract | |
//! | `NetworkError` | a single request (`createJob`, `getStatus`, `cancelJob`) got no answer | |

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::globals::js_millis;
use crate::poller::{http_text, PollError};

/// An `Error` named `name`, with extra fields.
fn named(name: &str, message: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    for (key, value) in fields {
        // Setting a data property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str(key), value);
    }
    error.into()
}

/// `TimeoutError`.
pub fn timeout(message: &str, attempts: u32, elapsed: Duration) -> JsValue {
    let elapsed_ms = js_millis(elapsed) as f64;
    named(
        "TimeoutError",
        message,
        &[
            ("attempts", attempts.into()),
            ("elapsedMs", elapsed_ms.into()),
        ],
    )
}

/// `AbortError`, carrying the signal's reason as `cause`.
pub fn aborted(signal: Option<&AbortSignal>) -> JsValue {
    let cause = signal.map(AbortSignal::reason);
    let fields: &[(&str, JsValue)] = match &cause {
        Some(reason) => &[("cause", reason.clone())],
        None => &[],
    };
    named(
        "AbortError",
        "the wait was aborted by its AbortSignal",
        fields,
    )
}

/// `HttpError`.
pub fn http(status: u16, code: Option<&str>, message: &str) -> JsValue {
    let code = code.map_or(JsValue::NULL, JsValue::from_str);
    named(
        "HttpError",
        &http_text(status, message),
        &[("status", status.into()), ("code", code)],
    )
}

/// `ProtocolError`.
pub fn protocol(message: &str) -> JsValue {
    let message = format!("the server's answer is not the contract: {message}");
    named("ProtocolError", &message, &[])
}

/// `NetworkError`.
pub fn network(message: &str) -> JsValue {
    named(
        "NetworkError",
        &format!("the request failed: {message}"),
        &[],
    )
}

/// A `TypeError` for an argument of the wrong kind.
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// A `RangeError` for an argument of the right kind but out of bounds.
pub fn range_error(message: &str) -> JsValue {
    js_sys::RangeError::new(message).into()
}

#[wasm_bindgen]
extern "C" {
    /// `String(value)`: how JS would print a thrown value that is not an `Error`.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// A thrown value as text, with its `cause` when there is one: Node's "fetch failed" says
/// why only in its cause ("connect ECONNREFUSED 127.0.0.1:8080").
pub fn thrown_text(error: &JsValue) -> String {
    let Some(error) = error.dyn_ref::<js_sys::Error>() else {
        return js_string(error);
    };
    let message = String::from(error.message());
    match error.cause().dyn_ref::<js_sys::Error>() {
        Some(cause) => format!("{message}: {}", String::from(cause.message())),
        None => message,
    }
}

/// serde-wasm-bindgen's error as text: the message of the JS `Error` it holds.
pub fn serde_text(error: serde_wasm_bindgen::Error) -> String {
    let error = JsValue::from(error);
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => error.message().into(),
        None => thrown_text(&error),
    }
}

/// The JS error for a failed wait. `http_code` is the `code` of the last error body.
pub fn from_poll_error(error: &PollError, http_code: Option<&str>) -> JsValue {
    match error {
        PollError::TimedOut {
            attempts, elapsed, ..
        } => timeout(&error.message(), *attempts, *elapsed),
        PollError::Http { status, message } => http(*status, http_code, message),
        PollError::Protocol(message) => protocol(message),
    }
}
