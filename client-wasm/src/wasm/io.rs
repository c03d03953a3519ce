//! The client's input and output, carried out by `js/io.js`: the turns of a watch loop
//! (timers, wake-ups), its requests (the global `fetch` or the client's own, bounded in time
//! and cancellable), and their answers. This side gives them Rust types.

use std::time::Duration;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::js::field;
use crate::answer::Failure;
use crate::hints::{applies_wait, parse_retry_after};
use crate::number_text::whole_millis;

#[wasm_bindgen(module = "/js/io.js")]
extern "C" {
    /// The I/O of one watch loop (`js/io.js`): runs its turns, sends its requests and
    /// queues their answers.
    #[derive(Debug)]
    pub type Io;

    #[wasm_bindgen(constructor)]
    pub fn new() -> Io;

    /// Calls `tick` in turns until [`Io::stop`]: the first one soon, the next when the
    /// last [`Io::sleep`] runs out or after a kick.
    #[wasm_bindgen(method)]
    pub fn start(this: &Io, tick: &Function);

    /// Ends the turns, and cancels every request in flight.
    #[wasm_bindgen(method)]
    pub fn stop(this: &Io);

    /// Asks for a turn soon.
    #[wasm_bindgen(method)]
    pub fn kick(this: &Io);

    #[wasm_bindgen(method, js_name = sleep)]
    fn js_sleep(this: &Io, ms: f64);

    /// Sends request number `id` (with an `Idempotency-Key`, if given); its answer comes
    /// back through [`Io::take_answers`].
    #[wasm_bindgen(method)]
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        this: &Io,
        id: u32,
        method: &str,
        url: &str,
        json_body: Option<&str>,
        idempotency_key: Option<&str>,
        timeout_ms: u32,
        transport: &JsValue,
    );

    /// `value` checked as the options called `what`: its keys and their types (`js/io.js`
    /// lists them); `None` for `undefined` or `null`.
    #[wasm_bindgen(static_method_of = Io, js_name = checkOptions, catch)]
    pub fn check_options(value: &JsValue, what: &str) -> Result<Option<js_sys::Object>, JsValue>;

    /// A new `Idempotency-Key`: 128 random bits from the platform's CSPRNG, in hex.
    #[wasm_bindgen(static_method_of = Io, js_name = idempotencyKey)]
    pub fn idempotency_key() -> String;

    /// Cancels request number `id`: its answer is no longer wanted.
    #[wasm_bindgen(method)]
    pub fn cancel(this: &Io, id: u32);

    #[wasm_bindgen(method, js_name = takeAnswers)]
    fn js_take_answers(this: &Io) -> js_sys::Array;

    /// Whether this turn was asked for by a return online or to the page: look at every
    /// job now.
    #[wasm_bindgen(method, js_name = takeUrgent)]
    pub fn take_urgent(this: &Io) -> bool;

    /// The environment says it is offline.
    #[wasm_bindgen(method)]
    pub fn offline(this: &Io) -> bool;

    /// Kicks when `signal` fires; returns the function that stops listening.
    #[wasm_bindgen(method)]
    pub fn listen(this: &Io, signal: &AbortSignal) -> Function;

    /// `[promise, resolve, reject]`.
    #[wasm_bindgen(static_method_of = Io, js_name = settleable)]
    fn js_settleable() -> js_sys::Array;
}

impl Io {
    /// The next turn after `delay` (`None`: only when kicked), or sooner if kicked.
    pub fn sleep(&self, delay: Option<Duration>) {
        self.js_sleep(delay.map_or(-1.0, |delay| f64::from(timer_ms(delay))));
    }

    /// The answers that came since the last call, by request number.
    pub fn take_answers(&self) -> Vec<(u32, Result<Reply, Failure>)> {
        let flat = self.js_take_answers();
        let mut answers = Vec::new();
        for at in (0..flat.length()).step_by(2) {
            let id = flat.get(at).as_f64().unwrap_or_default() as u32;
            answers.push((id, read_answer(&flat.get(at + 1))));
        }
        answers
    }
}

/// A promise and the functions that settle it.
pub fn promise_with_resolvers() -> (js_sys::Promise, Function, Function) {
    let parts = Io::js_settleable();
    (
        parts.get(0).unchecked_into(),
        parts.get(1).unchecked_into(),
        parts.get(2).unchecked_into(),
    )
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

/// A reply (`{ status, body, ... }`) or a failure (`{ kind, message }`) from `exchange`.
fn read_answer(answer: &JsValue) -> Result<Reply, Failure> {
    match answer.dyn_ref::<js_sys::Object>() {
        Some(reply) if field(reply, "kind").is_none() => Ok(read_reply(reply)),
        _ => Err(read_failure(answer)),
    }
}

/// `{ status, body, retryAfter, preferenceApplied }` from `exchange`.
fn read_reply(reply: &js_sys::Object) -> Reply {
    let value = |key: &str| field(reply, key);
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
            .and_then(|failure| field(failure, key))
            .and_then(|value| value.as_string())
    };
    let message = text("message").unwrap_or_else(|| "unknown error".to_owned());
    let kind = text("kind").unwrap_or_default();
    Failure::from_kind(&kind, message.clone()).unwrap_or(Failure::Network(message))
}

/// setTimeout takes a signed 32-bit delay; longer ones fire at once. Clamp to its maximum
/// (about 24.8 days), which no sane poll gap reaches.
pub fn timer_ms(delay: Duration) -> u32 {
    u32::try_from(whole_millis(delay))
        .unwrap_or(u32::MAX)
        .min(i32::MAX as u32)
}
