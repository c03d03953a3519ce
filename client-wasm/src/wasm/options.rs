//! JS option objects into serde structs (`#[serde(rename_all = "camelCase")]`, unknown keys
//! refused), then into the validated Rust values the client runs on. Every rejection is a
//! `TypeError` (wrong key or type) or a `RangeError` (out of bounds) that names the option.

mod given;
mod keys;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::errors;
use super::fetch::RequestSetup;
use crate::millis::{millis_duration, JsNumber};
use crate::policy::PollPolicy;
use crate::watcher::StreamSettings;
use given::{describe, FetchFunction, Given, HeadersValue};
use keys::keys_of;
use video_translation_protocol::stream::MIN_PROGRESS_MS;
use video_translation_protocol::{CreateJob, Outcome};

/// The progress interval a stream asks for unless told otherwise: updates as often as a
/// long-polled wait gives them far from its end, for one event per client.
pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_secs(15);

/// Everything the constructor's options decide.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The schedule and budgets of every wait.
    pub policy: PollPolicy,
    /// How every request is made.
    pub setup: RequestSetup,
    /// Whether waits stream, and the progress they ask of a stream.
    pub streams: StreamSettings,
}

/// `ClientOptions` in the `.d.ts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClientOptions {
    headers: Option<Given<HeadersValue>>,
    fetch: Option<Given<FetchFunction>>,
    initial_delay_ms: Option<Given<f64>>,
    max_delay_ms: Option<Given<f64>>,
    backoff_factor: Option<Given<f64>>,
    jitter: Option<Given<f64>>,
    max_attempts: Option<Given<f64>>,
    max_wait_ms: Option<Given<f64>>,
    request_timeout_ms: Option<Given<f64>>,
    adaptive: Option<Given<bool>>,
    long_poll_wait_ms: Option<Given<f64>>,
    eta_tolerance: Option<Given<f64>>,
    stream: Option<Given<bool>>,
    progress_interval_ms: Option<Given<f64>>,
}

/// `CreateJobOptions` in the `.d.ts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateJobOptions {
    duration_ms: Option<Given<f64>>,
    outcome: Option<Given<String>>,
    estimate_ms: Option<Given<f64>>,
}

/// `WaitOptions` in the `.d.ts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WaitOptionsInput {
    on_update: Option<Given<js_sys::Function>>,
    on_retry: Option<Given<js_sys::Function>>,
    signal: Option<Given<web_sys::AbortSignal>>,
    cancel_on_abort: Option<Given<bool>>,
}

/// A wait's callbacks and signal, checked.
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

/// The options object called `what`, read into `T`; `None` when it was left out
/// (`undefined` or `null`: all defaults).
fn read<T: DeserializeOwned>(value: &JsValue, what: &str) -> Result<Option<T>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if !value.is_object() || js_sys::Array::is_array(value) {
        let message = format!("{what} must be an object, got {}", describe(value));
        return Err(errors::type_error(&message));
    }
    let known = keys_of::<T>();
    if let Some(unknown) = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|key| key.as_string())
        .find(|key| !known.contains(&key.as_str()))
    {
        let message = format!(
            "unknown key \"{unknown}\" in {what}; expected any of: {}",
            known.join(", ")
        );
        return Err(errors::type_error(&message));
    }
    serde_wasm_bindgen::from_value(value.clone())
        .map(Some)
        .map_err(|error| errors::type_error(&format!("{what}: {}", errors::serde_text(error))))
}

/// Reads the constructor's options: the policy, checked (in JS units: `undefined` or `null`
/// keeps a default, `Infinity` lifts the `maxAttempts` and `maxWaitMs` limits), how requests
/// are made, and how waits stream.
pub fn client_options(options: &JsValue) -> Result<ClientSettings, JsValue> {
    let defaults = PollPolicy::DEFAULT;
    let Some(options) = read::<ClientOptions>(options, "options")? else {
        return Ok(ClientSettings {
            policy: defaults,
            setup: RequestSetup::default(),
            streams: stream_settings(&defaults, true, DEFAULT_PROGRESS_INTERVAL),
        });
    };
    const WHAT: &str = "options";
    let number = |value, name| Given::named(value, WHAT, name);
    let duration_or = |value, name, default| match number(value, name)? {
        None => Ok(default),
        Some(ms) => duration(ms, name),
    };
    let policy = PollPolicy {
        initial_delay: duration_or(
            options.initial_delay_ms,
            "initialDelayMs",
            defaults.initial_delay,
        )?,
        max_delay: duration_or(options.max_delay_ms, "maxDelayMs", defaults.max_delay)?,
        backoff_factor: number(options.backoff_factor, "backoffFactor")?
            .unwrap_or(defaults.backoff_factor),
        jitter: number(options.jitter, "jitter")?.unwrap_or(defaults.jitter),
        max_attempts: match number(options.max_attempts, "maxAttempts")? {
            None => defaults.max_attempts,
            Some(n) if n == f64::INFINITY => None,
            Some(n) if n.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&n) => {
                Some(n as u32)
            }
            Some(n) => {
                return Err(errors::range_error(&format!(
                    "maxAttempts must be a whole number of at least 1 (or Infinity), got {}",
                    JsNumber(n)
                )))
            }
        },
        max_wait: match number(options.max_wait_ms, "maxWaitMs")? {
            None => defaults.max_wait,
            Some(ms) if ms == f64::INFINITY => None,
            Some(ms) => Some(duration(ms, "maxWaitMs")?),
        },
        request_timeout: duration_or(
            options.request_timeout_ms,
            "requestTimeoutMs",
            defaults.request_timeout,
        )?,
        adaptive: Given::named(options.adaptive, WHAT, "adaptive")?.unwrap_or(defaults.adaptive),
        long_poll_wait: duration_or(
            options.long_poll_wait_ms,
            "longPollWaitMs",
            defaults.long_poll_wait,
        )?,
        eta_tolerance: number(options.eta_tolerance, "etaTolerance")?
            .unwrap_or(defaults.eta_tolerance),
    };
    policy
        .validate()
        .map_err(|error| errors::range_error(&error.to_string()))?;
    let setup = RequestSetup {
        headers: Given::named(options.headers, WHAT, "headers")?
            .map(|HeadersValue(headers)| headers),
        fetch: Given::named(options.fetch, WHAT, "fetch")?.map(|FetchFunction(fetch)| fetch),
    };
    let stream = Given::named(options.stream, WHAT, "stream")?.unwrap_or(true);
    let progress = match number(options.progress_interval_ms, "progressIntervalMs")? {
        None => DEFAULT_PROGRESS_INTERVAL,
        Some(0.0) => Duration::ZERO,
        Some(ms) if ms.fract() == 0.0 && ms >= MIN_PROGRESS_MS as f64 => {
            duration(ms, "progressIntervalMs")?
        }
        Some(ms) => {
            return Err(errors::range_error(&format!(
                "progressIntervalMs must be 0 (no progress while streaming) or a whole number \
                 of at least {MIN_PROGRESS_MS}, got {}",
                JsNumber(ms)
            )))
        }
    };
    let streams = stream_settings(&policy, stream, progress);
    Ok(ClientSettings {
        policy,
        setup,
        streams,
    })
}

/// Streams are held requests that follow the server's hints: a client that long-polls
/// (`adaptive`, a `longPollWaitMs` above 0) streams unless told not to.
fn stream_settings(policy: &PollPolicy, stream: bool, progress: Duration) -> StreamSettings {
    StreamSettings {
        enabled: stream && policy.adaptive && !policy.long_poll_wait.is_zero(),
        progress: (!progress.is_zero()).then_some(progress),
    }
}

/// Reads `createJob`'s argument into the wire request.
pub fn create_job(request: &JsValue) -> Result<CreateJob, JsValue> {
    const WHAT: &str = "createJob's request";
    let Some(request) = read::<CreateJobOptions>(request, WHAT)? else {
        return Ok(CreateJob::default());
    };
    let outcome = match Given::named(request.outcome, WHAT, "outcome")? {
        None => None,
        Some(outcome) if outcome == "completed" => Some(Outcome::Completed),
        Some(outcome) if outcome == "error" => Some(Outcome::Error),
        Some(other) => {
            return Err(errors::type_error(&format!(
                "{WHAT}: outcome must be \"completed\" or \"error\", got {}",
                describe(&JsValue::from_str(&other))
            )))
        }
    };
    Ok(CreateJob {
        duration_ms: whole_millis(
            Given::named(request.duration_ms, WHAT, "durationMs")?,
            "durationMs",
        )?,
        outcome,
        estimate_ms: whole_millis(
            Given::named(request.estimate_ms, WHAT, "estimateMs")?,
            "estimateMs",
        )?,
    })
}

impl WaitOptions {
    /// Reads `{ onUpdate, onRetry, signal, cancelOnAbort }`; `undefined` or `null` means
    /// none of them.
    pub fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        const WHAT: &str = "waitForCompletion's options";
        let Some(options) = read::<WaitOptionsInput>(options, WHAT)? else {
            return Ok(WaitOptions::default());
        };
        Ok(WaitOptions {
            on_update: Given::named(options.on_update, WHAT, "onUpdate")?,
            on_retry: Given::named(options.on_retry, WHAT, "onRetry")?,
            signal: Given::named(options.signal, WHAT, "signal")?,
            cancel_on_abort: Given::named(options.cancel_on_abort, WHAT, "cancelOnAbort")?
                .unwrap_or(false),
        })
    }
}

/// A whole number of milliseconds given as a JS number, checked.
fn whole_millis(ms: Option<f64>, name: &str) -> Result<Option<u64>, JsValue> {
    match ms {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 && ms.fract() == 0.0 && ms <= 2f64.powi(53) => {
            Ok(Some(ms as u64))
        }
        Some(ms) => Err(errors::range_error(&format!(
            "{name} must be a whole number of milliseconds, 0 or more, got {}",
            JsNumber(ms)
        ))),
    }
}

fn duration(ms: f64, name: &str) -> Result<Duration, JsValue> {
    // A year is far beyond any sensible setting; larger values are surely unit mistakes.
    const MAX_MS: f64 = 365.0 * 24.0 * 3600.0 * 1000.0;
    if !ms.is_finite() || !(0.0..=MAX_MS).contains(&ms) {
        return Err(errors::range_error(&format!(
            "{name} must be a number of milliseconds from 0 to {}, got {}",
            MAX_MS as u64,
            JsNumber(ms)
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
        let settings = client_options(&JsValue::UNDEFINED).unwrap();
        assert_eq!(settings.policy, PollPolicy::DEFAULT);
        assert!(settings.setup.headers.is_none() && settings.setup.fetch.is_none());
        let streams = StreamSettings {
            enabled: true,
            progress: Some(DEFAULT_PROGRESS_INTERVAL),
        };
        assert_eq!(settings.streams, streams);
        let settings = client_options(&JsValue::NULL).unwrap();
        assert_eq!(settings.policy, PollPolicy::DEFAULT);
        let settings = client_options(&options(&[("jitter", JsValue::NULL)])).unwrap();
        assert_eq!(settings.policy, PollPolicy::DEFAULT, "null keeps a default");
        assert_eq!(settings.streams, streams);
    }

    #[test]
    fn streams_follow_their_options_and_only_a_long_polling_client_streams() {
        let streams = |given: &[(&str, JsValue)]| client_options(&options(given)).unwrap().streams;
        assert!(!streams(&[("stream", false.into())]).enabled);
        assert!(!streams(&[("adaptive", false.into())]).enabled);
        assert!(!streams(&[("longPollWaitMs", 0.into())]).enabled);
        assert_eq!(streams(&[("progressIntervalMs", 0.into())]).progress, None);
        assert_eq!(
            streams(&[("progressIntervalMs", 2_000.into())]).progress,
            Some(Duration::from_secs(2))
        );
        for bad in [999.0, 1_500.5, -1.0, f64::NAN] {
            let error =
                client_options(&options(&[("progressIntervalMs", bad.into())])).unwrap_err();
            assert!(
                message(error).contains("progressIntervalMs must be 0"),
                "{bad}"
            );
        }
        let error = client_options(&options(&[("stream", "yes".into())])).unwrap_err();
        assert!(message(error).contains("stream must be a boolean"));
    }

    #[test]
    fn each_option_lands_in_the_policy_and_infinity_lifts_a_limit() {
        let ClientSettings { policy, .. } = client_options(&options(&[
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
        let error = client_options(&options(&[("initialDelay", 5.into())])).unwrap_err();
        assert!(message(error).contains("unknown key \"initialDelay\" in options"));
        let error = client_options(&options(&[("maxDelayMs", "5".into())])).unwrap_err();
        assert_eq!(
            message(error),
            "options: maxDelayMs must be a number, got string \"5\""
        );
        let error = client_options(&options(&[("maxAttempts", 0.into())])).unwrap_err();
        assert!(message(error).contains("maxAttempts"));
        let error = client_options(&JsValue::from_str("fast")).unwrap_err();
        assert_eq!(
            message(error),
            "options must be an object, got string \"fast\""
        );
    }

    #[test]
    fn headers_are_an_object_or_a_function_and_fetch_a_function() {
        let function: JsValue = js_sys::Function::new_no_args("return {}").into();
        let ClientSettings { setup, .. } = client_options(&options(&[
            ("headers", function.clone()),
            ("fetch", function),
        ]))
        .unwrap();
        assert!(setup.fetch.is_some() && setup.headers.is_some());
        let error = client_options(&options(&[("headers", 42.into())])).unwrap_err();
        assert!(message(error).contains("headers must be an object or a function"));
        let error = client_options(&options(&[("fetch", "fetch".into())])).unwrap_err();
        assert!(message(error).contains("fetch must be a function"));
    }

    #[test]
    fn wait_options_check_callbacks_and_the_signal() {
        let error = WaitOptions::from_js(&options(&[("onUpdate", 5.into())])).unwrap_err();
        assert!(message(error).contains("onUpdate must be a function, got number 5"));
        let error = WaitOptions::from_js(&options(&[("signal", js_sys::Object::new().into())]))
            .unwrap_err();
        assert!(message(error).contains("signal must be an AbortSignal"));
        let error = WaitOptions::from_js(&options(&[("cancelOnAbort", "yes".into())])).unwrap_err();
        assert!(message(error).contains("cancelOnAbort must be a boolean"));
    }
}
