//! JS option objects in, validated Rust values out. Every rejection names the option.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::errors;
use super::js::{bool_field, describe, number_field, string_field};
use crate::number_text::{millis_duration, number_text};
use crate::policy::PollPolicy;
use crate::text::text;
use video_translation_protocol::{CreateJob, Outcome};

const CLIENT_OPTIONS: &str = "options";

const CLIENT_OPTION_NAMES: [&str; 12] = [
    "headers",
    "fetch",
    "initialDelayMs",
    "maxDelayMs",
    "backoffFactor",
    "jitter",
    "maxAttempts",
    "maxWaitMs",
    "requestTimeoutMs",
    "adaptive",
    "longPollWaitMs",
    "etaTolerance",
];

/// Reads the constructor's options: the policy, checked (in JS units: `undefined` or `null`
/// keeps a default, `Infinity` lifts the `maxAttempts` and `maxWaitMs` limits), and the
/// `{ headers, fetch }` object `js/io.js` takes for every request (`headers` an object or a
/// function, `fetch` a function).
pub fn client_options_from_js(options: &JsValue) -> Result<(PollPolicy, JsValue), JsValue> {
    let defaults = PollPolicy::DEFAULT;
    let Some(object) = checked_object(options, CLIENT_OPTIONS, &CLIENT_OPTION_NAMES)? else {
        return Ok((defaults, JsValue::UNDEFINED));
    };
    let number = |key| number_field(object, CLIENT_OPTIONS, key);
    let duration_or = |key, default| match number(key)? {
        None => Ok(default),
        Some(ms) => duration(ms, key),
    };
    let policy = PollPolicy {
        initial_delay: duration_or("initialDelayMs", defaults.initial_delay)?,
        max_delay: duration_or("maxDelayMs", defaults.max_delay)?,
        backoff_factor: number("backoffFactor")?.unwrap_or(defaults.backoff_factor),
        jitter: number("jitter")?.unwrap_or(defaults.jitter),
        max_attempts: match number("maxAttempts")? {
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
        max_wait: match number("maxWaitMs")? {
            None => defaults.max_wait,
            Some(ms) if ms == f64::INFINITY => None,
            Some(ms) => Some(duration(ms, "maxWaitMs")?),
        },
        request_timeout: duration_or("requestTimeoutMs", defaults.request_timeout)?,
        adaptive: bool_field(object, CLIENT_OPTIONS, "adaptive")?.unwrap_or(defaults.adaptive),
        long_poll_wait: duration_or("longPollWaitMs", defaults.long_poll_wait)?,
        eta_tolerance: number("etaTolerance")?.unwrap_or(defaults.eta_tolerance),
    };
    policy
        .validate()
        .map_err(|error| errors::range_error(&error.message()))?;
    Ok((policy, transport(object)?))
}

fn transport(options: &js_sys::Object) -> Result<JsValue, JsValue> {
    let headers = super::js::field(options, "headers")?;
    if let Some(headers) = &headers {
        if !headers.is_object() && !headers.is_function() {
            return Err(errors::type_error(&text!(
                "options: headers must be an object or a function returning one, got ",
                describe(headers)
            )));
        }
    }
    let fetch = super::js::field(options, "fetch")?;
    if let Some(fetch) = fetch.as_ref().filter(|fetch| !fetch.is_function()) {
        return Err(errors::type_error(&text!(
            "options: fetch must be a function like the global fetch, got ",
            describe(fetch)
        )));
    }
    Ok(super::js::Fields::new()
        .set("headers", super::js::nullable(headers))
        .set("fetch", super::js::nullable(fetch))
        .into_value())
}

const CREATE_JOB_OPTION_NAMES: [&str; 3] = ["durationMs", "outcome", "estimateMs"];

/// Reads `createJob`'s argument into the wire request.
pub fn create_job_from_js(request: &JsValue) -> Result<CreateJob, JsValue> {
    const WHAT: &str = "createJob's request";
    let Some(object) = checked_object(request, WHAT, &CREATE_JOB_OPTION_NAMES)? else {
        return Ok(CreateJob::default());
    };
    let outcome = match string_field(object, WHAT, "outcome")?.as_deref() {
        None => None,
        Some("completed") => Some(Outcome::Completed),
        Some("error") => Some(Outcome::Error),
        Some(other) => {
            return Err(errors::type_error(&text!(
                WHAT,
                ": outcome must be \"completed\" or \"error\", got ",
                describe(&JsValue::from_str(other))
            )))
        }
    };
    Ok(CreateJob {
        duration_ms: millis_argument(number_field(object, WHAT, "durationMs")?, "durationMs")?,
        outcome,
        estimate_ms: millis_argument(number_field(object, WHAT, "estimateMs")?, "estimateMs")?,
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
    pub signal: Option<AbortSignal>,
}

const WAIT_OPTION_NAMES: [&str; 3] = ["onUpdate", "onRetry", "signal"];

impl WaitOptions {
    /// Reads `{ onUpdate, onRetry, signal }`; `undefined` or `null` means none of them.
    pub fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        let Some(object) =
            checked_object(options, "waitForCompletion's options", &WAIT_OPTION_NAMES)?
        else {
            return Ok(WaitOptions::default());
        };
        Ok(WaitOptions {
            on_update: callback(object, "onUpdate")?,
            on_retry: callback(object, "onRetry")?,
            signal: optional_field(object, "signal", "an AbortSignal")?,
        })
    }
}

fn callback(object: &js_sys::Object, key: &str) -> Result<Option<js_sys::Function>, JsValue> {
    optional_field(object, key, "a function")
}

fn optional_field<T: JsCast>(
    object: &js_sys::Object,
    key: &str,
    expected: &str,
) -> Result<Option<T>, JsValue> {
    let Some(value) = super::js::field(object, key)? else {
        return Ok(None);
    };
    value
        .dyn_into::<T>()
        .map(Some)
        .map_err(|_| errors::type_error(&text!(key, " must be ", expected)))
}

/// `None` for `undefined`/`null` ("all defaults"), the object otherwise. A non-object, or
/// an object with a key not in `allowed` (a typo such as `maxDelay`), is a `TypeError`.
fn checked_object<'a>(
    value: &'a JsValue,
    what: &str,
    allowed: &[&str],
) -> Result<Option<&'a js_sys::Object>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let object = value
        .dyn_ref::<js_sys::Object>()
        .filter(|_| !value.is_function() && !js_sys::Array::is_array(value))
        .ok_or_else(|| {
            errors::type_error(&text!(
                what,
                " must be an object with any of: ",
                listed(allowed)
            ))
        })?;
    // Readers only look up the fields they know, so a misspelt key is caught here.
    for key in js_sys::Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(errors::type_error(&text!(
                "unknown key ",
                super::js::quoted(&key),
                " in ",
                what,
                "; expected any of: ",
                listed(allowed)
            )));
        }
    }
    Ok(Some(object))
}

/// `"a, b, c"`. (Not `join`: its generic code costs the wasm module more than this loop.)
fn listed(names: &[&str]) -> String {
    let mut list = String::new();
    for name in names {
        if !list.is_empty() {
            list.push_str(", ");
        }
        list.push_str(name);
    }
    list
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

// Run in the browser by `wasm-pack test`: the options are JS values.
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
