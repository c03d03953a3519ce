//! JS option objects in, validated Rust values out. Every rejection names the option.
//!
//! The shape comes first, in `js/io.js` (`checkOptions`): which keys each options object
//! may have (a typo such as `maxDelay` is an error) and the type of each, with messages that
//! name them; JS says that in a few lines where Rust's reflection took kilobytes of the
//! package. The values are judged here: ranges, units, and the policy as a whole.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::errors;
use super::io::Io;
use super::js::{field, quoted};
use crate::number_text::{millis_duration, number_text};
use crate::policy::PollPolicy;
use crate::text::text;
use video_translation_protocol::{CreateJob, Outcome};

/// The options object called `what` (as `js/io.js` knows it), its shape checked; `None`
/// when it was left out (`undefined` or `null`: all defaults).
fn checked(value: &JsValue, what: &str) -> Result<Option<js_sys::Object>, JsValue> {
    Io::check_options(value, what)
}

/// A field the check has typed as a number.
fn number(object: &js_sys::Object, key: &str) -> Option<f64> {
    field(object, key).and_then(|value| value.as_f64())
}

const CLIENT_OPTIONS: &str = "options";

/// Reads the constructor's options: the policy, checked (in JS units: `undefined` or `null`
/// keeps a default, `Infinity` lifts the `maxAttempts` and `maxWaitMs` limits), and the
/// `{ headers, fetch }` object `js/io.js` takes for every request.
pub fn client_options_from_js(options: &JsValue) -> Result<(PollPolicy, JsValue), JsValue> {
    let defaults = PollPolicy::DEFAULT;
    let Some(object) = checked(options, CLIENT_OPTIONS)? else {
        return Ok((defaults, JsValue::UNDEFINED));
    };
    let number = |key| number(&object, key);
    let duration_or = |key, default| match number(key) {
        None => Ok(default),
        Some(ms) => duration(ms, key),
    };
    let policy = PollPolicy {
        initial_delay: duration_or("initialDelayMs", defaults.initial_delay)?,
        max_delay: duration_or("maxDelayMs", defaults.max_delay)?,
        backoff_factor: number("backoffFactor").unwrap_or(defaults.backoff_factor),
        jitter: number("jitter").unwrap_or(defaults.jitter),
        max_attempts: match number("maxAttempts") {
            None => defaults.max_attempts,
            Some(n) if n == f64::INFINITY => None,
            Some(n) if n.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&n) => {
                Some(n as u32)
            }
            Some(n) => {
                return Err(errors::range_error(&text!(
                    "maxAttempts must be a whole number of at least 1 (or Infinity), got ",
                    number_text(n)
                )))
            }
        },
        max_wait: match number("maxWaitMs") {
            None => defaults.max_wait,
            Some(ms) if ms == f64::INFINITY => None,
            Some(ms) => Some(duration(ms, "maxWaitMs")?),
        },
        request_timeout: duration_or("requestTimeoutMs", defaults.request_timeout)?,
        adaptive: field(&object, "adaptive")
            .and_then(|adaptive| adaptive.as_bool())
            .unwrap_or(defaults.adaptive),
        long_poll_wait: duration_or("longPollWaitMs", defaults.long_poll_wait)?,
        eta_tolerance: number("etaTolerance").unwrap_or(defaults.eta_tolerance),
    };
    policy
        .validate()
        .map_err(|error| errors::range_error(&error.message()))?;
    let transport = super::js::Fields::new()
        .set(
            "headers",
            field(&object, "headers").unwrap_or(JsValue::NULL),
        )
        .set("fetch", field(&object, "fetch").unwrap_or(JsValue::NULL))
        .into_value();
    Ok((policy, transport))
}

/// Reads `createJob`'s argument into the wire request.
pub fn create_job_from_js(request: &JsValue) -> Result<CreateJob, JsValue> {
    const WHAT: &str = "createJob's request";
    let Some(object) = checked(request, WHAT)? else {
        return Ok(CreateJob::default());
    };
    let outcome = match field(&object, "outcome").and_then(|outcome| outcome.as_string()) {
        None => None,
        Some(outcome) if outcome == "completed" => Some(Outcome::Completed),
        Some(outcome) if outcome == "error" => Some(Outcome::Error),
        Some(other) => {
            return Err(errors::type_error(&text!(
                WHAT,
                ": outcome must be \"completed\" or \"error\", got string ",
                quoted(&other)
            )))
        }
    };
    Ok(CreateJob {
        duration_ms: millis_argument(number(&object, "durationMs"), "durationMs")?,
        outcome,
        estimate_ms: millis_argument(number(&object, "estimateMs"), "estimateMs")?,
    })
}

/// A whole number of milliseconds given as a JS number, checked.
fn millis_argument(ms: Option<f64>, name: &str) -> Result<Option<u64>, JsValue> {
    match ms {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 && ms.fract() == 0.0 && ms <= 2f64.powi(53) => {
            Ok(Some(ms as u64))
        }
        Some(ms) => Err(errors::range_error(&text!(
            name,
            " must be a whole number of milliseconds, 0 or more, got ",
            number_text(ms)
        ))),
    }
}

/// `waitForCompletion`'s options: callbacks and a signal.
#[derive(Debug, Default, Clone)]
pub struct WaitOptions {
    /// Called with each status observed.
    pub on_update: Option<js_sys::Function>,
    /// Called after each failed attempt that will be retried.
    pub on_retry: Option<js_sys::Function>,
    /// Aborts the wait.
    pub signal: Option<web_sys::AbortSignal>,
    /// When `signal` aborts the wait, cancel the job on the server too.
    pub cancel_on_abort: bool,
}

impl WaitOptions {
    /// Reads `{ onUpdate, onRetry, signal, cancelOnAbort }`; `undefined` or `null` means
    /// none of them.
    pub fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        let Some(object) = checked(options, "waitForCompletion's options")? else {
            return Ok(WaitOptions::default());
        };
        let typed = |key| field(&object, key).map(JsCast::unchecked_into);
        Ok(WaitOptions {
            on_update: typed("onUpdate"),
            on_retry: typed("onRetry"),
            signal: field(&object, "signal").map(JsCast::unchecked_into),
            cancel_on_abort: field(&object, "cancelOnAbort").is_some_and(|on| on.is_truthy()),
        })
    }
}

fn duration(ms: f64, name: &str) -> Result<Duration, JsValue> {
    // A year is far beyond any sensible setting; larger values are surely unit mistakes.
    const MAX_MS: f64 = 365.0 * 24.0 * 3600.0 * 1000.0;
    if !ms.is_finite() || !(0.0..=MAX_MS).contains(&ms) {
        return Err(errors::range_error(&text!(
            name,
            " must be a number of milliseconds from 0 to ",
            number_text(MAX_MS),
            ", got ",
            number_text(ms)
        )));
    }
    // In whole microseconds: exact enough, and without from_secs_f64's panicking checks.
    Ok(millis_duration(ms))
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn options(fields: &[(&str, JsValue)]) -> JsValue {
        let object = js_sys::Object::new();
        for (key, value) in fields {
            js_sys::Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
        }
        object.into()
    }

    fn message(error: JsValue) -> String {
        error.unchecked_into::<js_sys::Error>().message().into()
    }

    #[test]
    fn no_options_are_the_documented_defaults() {
        let (policy, transport) = client_options_from_js(&JsValue::UNDEFINED).unwrap();
        assert_eq!(policy, PollPolicy::DEFAULT);
        assert!(transport.is_undefined());
        let (policy, _) = client_options_from_js(&JsValue::NULL).unwrap();
        assert_eq!(policy, PollPolicy::DEFAULT);
    }

    #[test]
    fn each_option_lands_in_the_policy_and_infinity_lifts_a_limit() {
        let (policy, _) = client_options_from_js(&options(&[
            ("initialDelayMs", 250.into()),
            ("maxAttempts", f64::INFINITY.into()),
            ("maxWaitMs", 60_000.into()),
            ("adaptive", false.into()),
        ]))
        .unwrap();
        assert_eq!(policy.initial_delay, Duration::from_millis(250));
        assert_eq!(policy.max_attempts, None);
        assert_eq!(policy.max_wait, Some(Duration::from_secs(60)));
        assert!(!policy.adaptive);
    }

    #[test]
    fn a_misspelt_or_mistyped_option_is_named() {
        let error = client_options_from_js(&options(&[("initialDelay", 5.into())])).unwrap_err();
        assert!(message(error).contains("unknown key \"initialDelay\""));
        let error = client_options_from_js(&options(&[("maxDelayMs", "5".into())])).unwrap_err();
        assert!(message(error).contains("maxDelayMs must be a number"));
        let error = client_options_from_js(&options(&[("maxAttempts", 0.into())])).unwrap_err();
        assert!(message(error).contains("maxAttempts"));
    }

    #[test]
    fn headers_are_an_object_or_a_function_and_fetch_a_function() {
        let function: JsValue = js_sys::Function::new_no_args("return {}").into();
        let (_, transport) = client_options_from_js(&options(&[
            ("headers", function.clone()),
            ("fetch", function),
        ]))
        .unwrap();
        assert!(js_sys::Reflect::get(&transport, &"fetch".into())
            .unwrap()
            .is_function());
        let error = client_options_from_js(&options(&[("headers", 42.into())])).unwrap_err();
        assert!(message(error).contains("headers must be an object or a function"));
        let error = client_options_from_js(&options(&[("fetch", "fetch".into())])).unwrap_err();
        assert!(message(error).contains("fetch must be a function"));
    }
}
