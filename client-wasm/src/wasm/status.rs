//! Reading the server's answers: a status body, an error body, and the observation the
//! poller gets from either.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::http::Reply;
use crate::hints::StatusHints;
use crate::poller::Observation;
use video_translation_protocol::JobResult;

/// A job status as JS sees it: camelCase, and `null` where the server said nothing (the
/// seeds' plain `GET /status` sends only `result`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
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

/// The wire shape, lenient: only `result` is required, and extra fields are ignored.
#[derive(Deserialize)]
struct WireStatus {
    result: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    progress: Option<f64>,
    #[serde(default)]
    eta_ms: Option<f64>,
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

/// Parses a status body.
pub fn parse_status(body: &str) -> Result<Status, Invalid> {
    let value = js_sys::JSON::parse(body)
        .map_err(|_| Invalid::Malformed(format!("the body is not JSON: {}", excerpt(body))))?;
    let wire: WireStatus = serde_wasm_bindgen::from_value(value).map_err(|error| {
        Invalid::Malformed(format!(
            "the body is not a job status ({error}): {}",
            excerpt(body)
        ))
    })?;
    let result = wire
        .result
        .parse::<JobResult>()
        .map_err(|error| Invalid::UnknownResult(error.to_string()))?;
    Ok(Status {
        id: wire.id,
        result,
        progress: wire.progress,
        eta_ms: wire.eta_ms,
    })
}

/// The `code` and `message` of an error answer, falling back to an excerpt of the body.
pub fn parse_error_body(body: &str) -> (Option<String>, String) {
    #[derive(Deserialize)]
    struct Detail {
        code: String,
        message: String,
    }
    #[derive(Deserialize)]
    struct Body {
        error: Detail,
    }
    let parsed = js_sys::JSON::parse(body)
        .ok()
        .and_then(|value| serde_wasm_bindgen::from_value::<Body>(value).ok());
    match parsed {
        Some(Body { error }) => (Some(error.code), error.message),
        None if body.trim().is_empty() => (None, "(empty body)".to_owned()),
        None => (None, excerpt(body)),
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
                            .map(|ms| Duration::from_secs_f64(ms.min(1e12) / 1000.0)),
                        progress: status.progress,
                        retry_after: reply.retry_after,
                        wait_applied: reply.wait_applied,
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

/// The first 120 characters of a body, for error messages.
fn excerpt(body: &str) -> String {
    const LIMIT: usize = 120;
    match body.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{:?}…", &body[..cut]),
        None => format!("{body:?}"),
    }
}

/// A Rust value as a plain JS object (`null` for `None`, objects rather than `Map`s).
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    // Our own plain structs always serialize.
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
