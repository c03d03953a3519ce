//! The client's input and output, carried out by `js/io.js`: one HTTP exchange, bounded in
//! time and abortable (the global `fetch`, `setTimeout`, an `AbortSignal`), and the wake-up
//! a watch loop sleeps on. This side gives them Rust types.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::js::field;
use crate::hints::{applies_wait, parse_retry_after};
use crate::number_text::whole_millis;

#[wasm_bindgen(module = "/js/io.js")]
extern "C" {
    #[wasm_bindgen(js_name = exchange)]
    fn js_exchange(
        method: &str,
        url: &str,
        json_body: Option<&str>,
        timeout_ms: u32,
        signal: Option<&AbortSignal>,
        transport: &JsValue,
    ) -> js_sys::Promise;

    /// A watch loop's wake-up (`js/io.js`): a sleep that a kick cuts short.
    #[derive(Debug)]
    pub type Wakeup;

    #[wasm_bindgen(constructor)]
    pub fn new() -> Wakeup;

    /// Ends the current (or the next) sleep.
    #[wasm_bindgen(method)]
    pub fn kick(this: &Wakeup);

    #[wasm_bindgen(method, js_name = sleep)]
    fn js_sleep(this: &Wakeup, ms: f64) -> js_sys::Promise;

    /// Whether the last wake-up was a return online or to the page: look at every job now.
    #[wasm_bindgen(method, js_name = takeUrgent)]
    pub fn take_urgent(this: &Wakeup) -> bool;

    /// The environment says it is offline.
    #[wasm_bindgen(method)]
    pub fn offline(this: &Wakeup) -> bool;

    /// Listens for `online` and `visibilitychange` while the loop runs.
    #[wasm_bindgen(method)]
    pub fn start(this: &Wakeup);

    /// Stops listening for them.
    #[wasm_bindgen(method)]
    pub fn stop(this: &Wakeup);

    /// Kicks when `signal` fires; returns the function that stops listening.
    #[wasm_bindgen(method)]
    pub fn listen(this: &Wakeup, signal: &AbortSignal) -> js_sys::Function;
}

impl Wakeup {
    /// Sleeps for `delay` (`None`: until kicked), or less if kicked.
    pub async fn sleep(&self, delay: Option<Duration>) {
        let ms = delay.map_or(-1.0, |delay| f64::from(timer_ms(delay)));
        // The promise never rejects.
        let _ = JsFuture::from(self.js_sleep(ms)).await;
    }
}

/// An HTTP answer, its body read in full.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The `Retry-After` header, in seconds, if present and well-formed.
    pub retry_after: Option<Duration>,
    /// `Preference-Applied` named the wait: the server long-polled.
    pub long_polled: bool,
}

/// Why no [`Reply`] came.
#[derive(Debug)]
pub enum Failure {
    /// The network failed (refused, reset, DNS, CORS): the message says how.
    Network(String),
    /// No complete answer within the time limit; the request was cancelled.
    TimedOut,
    /// The caller's signal fired; the request was cancelled (or never sent).
    Aborted,
    /// The answer could not be read: its body is larger than the client reads.
    Unreadable(String),
    /// The answer breaks the contract before its body: a redirect loop or to another origin.
    Violation(String),
}

/// A request to send.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: &'a str,
    /// A JSON body, for `POST`.
    pub json_body: Option<&'a str>,
    /// Limit for the whole exchange, body included.
    pub timeout: Duration,
    /// The client's `{ headers, fetch }` options.
    pub transport: &'a JsValue,
}

impl Exchange<'_> {
    /// Sends the request and reads the whole answer, unless `timeout` passes or `signal`
    /// fires first; in both cases the request is cancelled. Nothing is sent if `signal`
    /// has already fired.
    pub async fn send(self, signal: Option<&AbortSignal>) -> Result<Reply, Failure> {
        let promise = js_exchange(
            self.method,
            self.url,
            self.json_body,
            timer_ms(self.timeout),
            signal,
            self.transport,
        );
        match JsFuture::from(promise).await {
            Ok(reply) => Ok(read_reply(reply.unchecked_ref())),
            Err(failure) => Err(read_failure(&failure)),
        }
    }
}

/// `{ status, body, retryAfter, preferenceApplied }` from `exchange`.
fn read_reply(reply: &js_sys::Object) -> Reply {
    let value = |key: &str| field(reply, key).ok().flatten();
    let text = |key: &str| value(key).and_then(|value| value.as_string());
    Reply {
        status: value("status")
            .and_then(|status| status.as_f64())
            .map_or(0, |status| status as u16),
        body: text("body").unwrap_or_default(),
        retry_after: text("retryAfter").and_then(|header| parse_retry_after(&header)),
        long_polled: text("preferenceApplied").is_some_and(|header| applies_wait(&header)),
    }
}

/// `{ kind, message }` from `exchange`.
fn read_failure(failure: &JsValue) -> Failure {
    let text = |key: &str| {
        failure
            .dyn_ref::<js_sys::Object>()
            .and_then(|failure| field(failure, key).ok().flatten())
            .and_then(|value| value.as_string())
    };
    let message = || text("message").unwrap_or_else(|| "unknown error".to_owned());
    match text("kind").as_deref() {
        Some("timeout") => Failure::TimedOut,
        Some("aborted") => Failure::Aborted,
        Some("malformed") => Failure::Unreadable(message()),
        Some("protocol") => Failure::Violation(message()),
        _ => Failure::Network(message()),
    }
}

/// setTimeout takes a signed 32-bit delay; longer ones fire at once. Clamp to its maximum
/// (about 24.8 days), which no sane poll gap reaches.
fn timer_ms(delay: Duration) -> u32 {
    u32::try_from(whole_millis(delay))
        .unwrap_or(u32::MAX)
        .min(i32::MAX as u32)
}
