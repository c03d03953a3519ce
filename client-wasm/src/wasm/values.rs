//! What JS receives: statuses, `onUpdate`'s and `onRetry`'s arguments and wait results, as
//! plain objects made by serde-wasm-bindgen from the protocol's [`JobStatus`], in the JS
//! API's camelCase (`etaMs`), with `null` for what the server did not send.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::watcher::WaitProgress;
use video_translation_protocol::{EndReason, JobResult, JobStatus};

use super::globals::js_millis;

/// Missing values are `null`, as the `.d.ts` promises, not `undefined`; flattened structs
/// are plain objects, not `Map`s.
const SERIALIZER: serde_wasm_bindgen::Serializer = serde_wasm_bindgen::Serializer::new()
    .serialize_missing_as_null(true)
    .serialize_maps_as_objects(true);

/// `value` as a JS value. Nothing here can fail to convert: every number is below 2^53.
fn to_js(value: &impl Serialize) -> JsValue {
    value.serialize(&SERIALIZER).unwrap_or(JsValue::NULL)
}

/// A job's status as JS sees it (`JobStatus` in the `.d.ts`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusView<'a> {
    id: Option<&'a str>,
    result: JobResult,
    progress: Option<f64>,
    eta_ms: Option<u64>,
    reason: Option<EndReason>,
}

impl<'a> From<&'a JobStatus> for StatusView<'a> {
    fn from(status: &'a JobStatus) -> Self {
        StatusView {
            id: status.id.as_deref(),
            result: status.result,
            progress: status.progress,
            eta_ms: status.eta_ms,
            reason: status.reason,
        }
    }
}

/// `{ id, result, progress, etaMs, reason }`.
pub fn status(status: &JobStatus) -> JsValue {
    to_js(&StatusView::from(status))
}

/// A wait's place in a `waitForAll` set, for its callbacks.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Place {
    /// The job's index in `jobIds`.
    pub index: u32,
    /// Waits of the set that are over.
    pub settled: u32,
    /// Jobs in the set.
    pub total: u32,
}

/// Where a wait stands, as every callback receives it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Standing {
    attempt: u32,
    elapsed_ms: u64,
    next_poll_in_ms: Option<u64>,
    next_poll_wait_ms: Option<u64>,
}

impl From<&WaitProgress> for Standing {
    fn from(progress: &WaitProgress) -> Self {
        Standing {
            attempt: progress.attempt,
            elapsed_ms: js_millis(progress.elapsed),
            next_poll_in_ms: progress.next_poll_in.map(js_millis),
            next_poll_wait_ms: progress.next_poll_wait.map(js_millis),
        }
    }
}

/// `onUpdate`'s argument (`StatusUpdate` in the `.d.ts`).
#[derive(Debug, Serialize)]
struct Update<'a> {
    #[serde(flatten)]
    status: StatusView<'a>,
    #[serde(flatten)]
    standing: Standing,
    #[serde(flatten)]
    place: Option<Place>,
}

/// `onUpdate`'s argument: the status, where the wait stands, and its place in a set.
pub fn update(status: &JobStatus, progress: &WaitProgress, place: Option<Place>) -> JsValue {
    to_js(&Update {
        status: status.into(),
        standing: progress.into(),
        place,
    })
}

/// `onRetry`'s argument (`RetryInfo` in the `.d.ts`).
#[derive(Debug, Serialize)]
struct RetryInfo<'a> {
    error: &'a str,
    #[serde(flatten)]
    standing: Standing,
    #[serde(flatten)]
    place: Option<Place>,
}

/// `onRetry`'s argument: what went wrong, and where the wait stands.
pub fn retry(error: &str, progress: &WaitProgress, place: Option<Place>) -> JsValue {
    to_js(&RetryInfo {
        error,
        standing: progress.into(),
        place,
    })
}

/// How a wait resolves (`WaitResult` in the `.d.ts`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WaitResult<'a> {
    result: JobResult,
    attempts: u32,
    elapsed_ms: u64,
    status: Option<StatusView<'a>>,
}

/// `{ result, attempts, elapsedMs, status }`.
pub fn wait_result(
    result: JobResult,
    attempts: u32,
    elapsed: std::time::Duration,
    last_status: Option<&JobStatus>,
) -> JsValue {
    to_js(&WaitResult {
        result,
        attempts,
        elapsed_ms: js_millis(elapsed),
        status: last_status.map(StatusView::from),
    })
}
