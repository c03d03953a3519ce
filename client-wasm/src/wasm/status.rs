//! Reading the server's answers: a status body, an error body, and the observation the
//! poller gets from either.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::io::Reply;
use super::js::{field, nullable, quoted, Fields};
use crate::hints::StatusHints;
use crate::poller::Observation;
use video_translation_protocol::JobResult;

/// A job status as JS sees it: camelCase, and `null` where the server said nothing (the
/// seeds' plain `GET /status` sends only `result`).
#[derive(Debug, Clone)]
pub struct Status {
    /// The job's id.
    pub id: Option<String>,
    /// `pending`, `completed` or `error`.
    pub result: JobResult,
    /// Fraction done, 0 to 1.
    pub progress: Option<f64>,
    /// Milliseconds to go.
    pub eta_ms: Option<f64>,
}

impl Status {
    /// The status as a plain JS object: `{ id, result, progress, etaMs }`.
    pub fn to_js(&self) -> JsValue {
        self.fields().into_value()
    }

    /// The status's fields, to extend with more (`onUpdate` adds the poll's).
    pub fn fields(&self) -> Fields {
        Fields::new()
            .set("id", nullable(self.id.as_deref()))
            .set("result", self.result.as_str())
            .set("progress", nullable(self.progress))
            .set("etaMs", nullable(self.eta_ms))
    }
}

/// Why a 2xx body is not a status.
#[derive(Debug)]
pub enum Invalid {
    /// Not JSON, or not the contract's shape.
    Malformed(String),
    /// A `result` the contract does not know.
    UnknownResult(String),
}

impl Invalid {
    /// The message, whichever kind.
    pub fn message(&self) -> &str {
        match self {
            Invalid::Malformed(message) | Invalid::UnknownResult(message) => message,
        }
    }
}

/// Parses a status body. The wire shape is lenient: only `result` is required, `id`,
/// `progress` and `eta_ms` may be missing or `null`, and extra fields are ignored.
pub fn parse_status(body: &str) -> Result<Status, Invalid> {
    // The messages are built here, once, rather than at each check (smaller wasm).
    read_status(body).map_err(|flaw| match flaw {
        Flaw::NotJson => Invalid::Malformed(format!("the body is not JSON: {}", excerpt(body))),
        Flaw::NotAStatus(why) => Invalid::Malformed(format!(
            "the body is not a job status ({why}): {}",
            excerpt(body)
        )),
        Flaw::UnknownResult(result) => Invalid::UnknownResult(format!(
            "unknown result {}: expected \"pending\", \"completed\" or \"error\"",
            quoted(&result)
        )),
    })
}

/// What is wrong with a status body, before it becomes a message.
enum Flaw {
    NotJson,
    NotAStatus(&'static str),
    UnknownResult(String),
}

fn read_status(body: &str) -> Result<Status, Flaw> {
    let value = js_sys::JSON::parse(body).map_err(|_| Flaw::NotJson)?;
    let object = value
        .dyn_ref::<js_sys::Object>()
        .filter(|_| !js_sys::Array::is_array(&value))
        .ok_or(Flaw::NotAStatus("not an object"))?;
    let read = |key: &str| field(object, key).ok().flatten();
    let result = read("result")
        .ok_or(Flaw::NotAStatus("no result"))?
        .as_string()
        .ok_or(Flaw::NotAStatus("result is not a string"))?;
    // Not `parse::<JobResult>()`'s error message: its `{:?}` would pull Rust's string
    // escaping into the wasm module; `quoted` says the same.
    let result = result
        .parse::<JobResult>()
        .map_err(|_| Flaw::UnknownResult(result))?;
    let id = match read("id") {
        None => None,
        Some(id) => Some(
            id.as_string()
                .ok_or(Flaw::NotAStatus("id is not a string"))?,
        ),
    };
    let number = |key: &str, why: &'static str| match read(key) {
        None => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or(Flaw::NotAStatus(why)),
    };
    Ok(Status {
        id,
        result,
        progress: number("progress", "progress is not a number")?,
        eta_ms: number("eta_ms", "eta_ms is not a number")?,
    })
}

/// The `code` and `message` of an error answer, falling back to an excerpt of the body.
pub fn parse_error_body(body: &str) -> (Option<String>, String) {
    // `{"error": {"code": "...", "message": "..."}}`, both strings; anything else is not ours.
    let detail = js_sys::JSON::parse(body)
        .ok()
        .and_then(|value| value.dyn_into::<js_sys::Object>().ok())
        .and_then(|body| field(&body, "error").ok().flatten())
        .and_then(|error| error.dyn_into::<js_sys::Object>().ok());
    let text = |key: &str| {
        detail
            .as_ref()
            .and_then(|detail| field(detail, key).ok().flatten())
            .and_then(|value| value.as_string())
    };
    match (text("code"), text("message")) {
        (Some(code), Some(message)) => (Some(code), message),
        _ if body.trim().is_empty() => (None, "(empty body)".to_owned()),
        _ => (None, excerpt(body)),
    }
}

/// What a reply means to the poller, plus the status it carried (if it is one) and the
/// error code (if it is an error body).
pub struct Reading {
    /// For the poller.
    pub observation: Observation,
    /// A well-formed status.
    pub status: Option<Status>,
    /// The `code` of an error body.
    pub error_code: Option<String>,
}

/// Reads one reply to a status request.
pub fn read_reply(reply: Reply) -> Reading {
    if (200..300).contains(&reply.status) {
        return match parse_status(&reply.body) {
            Ok(status) => Reading {
                observation: Observation::Status {
                    result: status.result,
                    hints: StatusHints {
                        eta: status
                            .eta_ms
                            .filter(|ms| ms.is_finite() && *ms >= 0.0)
                            .map(|ms| Duration::from_micros((ms.min(1e12) * 1000.0) as u64)),
                        progress: status.progress,
                        retry_after: reply.retry_after,
                        long_polled: reply.long_polled,
                    },
                },
                status: Some(status),
                error_code: None,
            },
            Err(Invalid::Malformed(message)) => reading(Observation::Malformed(message), None),
            Err(Invalid::UnknownResult(message)) => {
                reading(Observation::UnknownResult(message), None)
            }
        };
    }
    let (code, message) = parse_error_body(&reply.body);
    reading(
        Observation::HttpStatus {
            status: reply.status,
            message,
            retry_after: reply.retry_after,
        },
        code,
    )
}

fn reading(observation: Observation, error_code: Option<String>) -> Reading {
    Reading {
        observation,
        status: None,
        error_code,
    }
}

/// The first 120 characters of a body, quoted, for error messages.
fn excerpt(body: &str) -> String {
    const LIMIT: usize = 120;
    // Collected rather than sliced: slicing a str checks char boundaries with a panic path.
    let head: String = body.chars().take(LIMIT).collect();
    if head.len() < body.len() {
        format!("{}…", quoted(&head))
    } else {
        quoted(body)
    }
}
