//! Reading the server's bodies with the JS engine's `JSON.parse` into the core's types
//! (`crate::answer`), and handing statuses to JS.
//!
//! Only the parsing is here; what an answer means to a wait is decided in `crate::answer`
//! and `crate::watcher`, natively tested.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::io::Reply;
use super::js::{field, nullable, quoted, Fields};
use crate::answer::{Answer, Invalid, JobStatus, ReplyHints, WatchBody};
use crate::text::text;
use video_translation_protocol::JobResult;

/// The status as a plain JS object: `{ id, result, progress, etaMs }`.
pub fn status_to_js(status: &JobStatus) -> JsValue {
    status_fields(status).into_value()
}

/// The status's fields, to extend with more (`onUpdate` adds the poll's).
pub fn status_fields(status: &JobStatus) -> Fields {
    Fields::new()
        .set("id", nullable(status.id.as_deref()))
        .set("result", status.result.as_str())
        .set("progress", nullable(status.progress))
        .set("etaMs", nullable(status.eta_ms))
        .set("reason", nullable(status.reason.as_deref()))
}

/// What a reply to a status request (`is_watch` false) or a watch says.
pub fn answer_of(reply: Reply, is_watch: bool) -> Answer {
    if !(200..300).contains(&reply.status) {
        let (code, message) = parse_error_body(&reply.body);
        return Answer::Error {
            status: reply.status,
            code,
            message,
            retry_after: reply.retry_after,
        };
    }
    let hints = ReplyHints {
        retry_after: reply.retry_after,
        long_polled: reply.long_polled,
    };
    if is_watch {
        Answer::Watch(parse_watch(&reply.body), hints)
    } else {
        Answer::Status(parse_status(&reply.body), hints)
    }
}

/// Parses a status body. The wire shape is lenient: only `result` is required, `id`,
/// `progress` and `eta_ms` may be missing or `null`, and extra fields are ignored.
pub fn parse_status(body: &str) -> Result<JobStatus, Invalid> {
    let value = js_sys::JSON::parse(body).map_err(|_| not_json(body))?;
    read_status(&value).map_err(|flaw| flaw.into_invalid(body))
}

/// Parses a watch body: `{"jobs": [status, ...], "missing": [id, ...]}`.
fn parse_watch(body: &str) -> Result<WatchBody, Invalid> {
    let value = js_sys::JSON::parse(body).map_err(|_| not_json(body))?;
    read_watch(&value).map_err(|flaw| flaw.into_invalid(body))
}

fn not_json(body: &str) -> Invalid {
    Invalid::Malformed(text!("the body is not JSON: ", excerpt(body)))
}

/// What is wrong with a body, before it becomes a message (built once, for a smaller wasm).
enum Flaw {
    NotAStatus(&'static str),
    UnknownResult(String),
}

impl Flaw {
    fn into_invalid(self, body: &str) -> Invalid {
        match self {
            Flaw::NotAStatus(why) => Invalid::Malformed(text!(
                "the body is not a job status (",
                why,
                "): ",
                excerpt(body)
            )),
            Flaw::UnknownResult(result) => Invalid::UnknownResult(text!(
                "unknown result ",
                quoted(&result),
                ": expected \"pending\", \"completed\" or \"error\""
            )),
        }
    }
}

fn object(value: &JsValue) -> Option<&js_sys::Object> {
    value
        .dyn_ref::<js_sys::Object>()
        .filter(|_| !js_sys::Array::is_array(value))
}

fn read_status(value: &JsValue) -> Result<JobStatus, Flaw> {
    let object = object(value).ok_or(Flaw::NotAStatus("not an object"))?;
    let read = |key: &str| field(object, key);
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
    Ok(JobStatus {
        id,
        result,
        progress: number("progress", "progress is not a number")?,
        eta_ms: number("eta_ms", "eta_ms is not a number")?,
        reason: match read("reason") {
            None => None,
            Some(reason) => Some(
                reason
                    .as_string()
                    .ok_or(Flaw::NotAStatus("reason is not a string"))?,
            ),
        },
    })
}

fn read_watch(value: &JsValue) -> Result<WatchBody, Flaw> {
    let object = object(value).ok_or(Flaw::NotAStatus("not an object"))?;
    let list = |key: &str| -> Result<js_sys::Array, Flaw> {
        match field(object, key) {
            None => Ok(js_sys::Array::new()),
            Some(list) => list
                .dyn_into::<js_sys::Array>()
                .map_err(|_| Flaw::NotAStatus("jobs or missing is not a list")),
        }
    };
    let mut body = WatchBody::default();
    for status in list("jobs")?.iter() {
        let status = read_status(&status)?;
        if status.id.is_none() {
            return Err(Flaw::NotAStatus("a listed job has no id"));
        }
        body.jobs.push(status);
    }
    for id in list("missing")?.iter() {
        body.missing.push(
            id.as_string()
                .ok_or(Flaw::NotAStatus("a missing id is not a string"))?,
        );
    }
    Ok(body)
}

/// The `code` and `message` of an error answer, falling back to an excerpt of the body.
pub fn parse_error_body(body: &str) -> (Option<String>, String) {
    // `{"error": {"code": "...", "message": "..."}}`, both strings; anything else is not ours.
    let detail = js_sys::JSON::parse(body)
        .ok()
        .and_then(|value| value.dyn_into::<js_sys::Object>().ok())
        .and_then(|body| field(&body, "error"))
        .and_then(|error| error.dyn_into::<js_sys::Object>().ok());
    let text = |key: &str| {
        detail
            .as_ref()
            .and_then(|detail| field(detail, key))
            .and_then(|value| value.as_string())
    };
    match (text("code"), text("message")) {
        (Some(code), Some(message)) => (Some(code), cut(message)),
        _ if body.trim_ascii().is_empty() => (None, "(empty body)".to_owned()),
        _ => (None, excerpt(body)),
    }
}

/// The longest server message carried into an error, in characters: enough for any honest
/// message, and a 10 MB one does not become a 10 MB `error.message`.
const MAX_MESSAGE_CHARS: usize = 300;

fn cut(message: String) -> String {
    match head(&message, MAX_MESSAGE_CHARS) {
        Some(head) => text!(head, "…"),
        None => message,
    }
}

/// The first 120 characters of a body, quoted, for error messages.
fn excerpt(body: &str) -> String {
    match head(body, 120) {
        Some(head) => text!(quoted(head), "…"),
        None => quoted(body),
    }
}

/// The first `limit` characters of `text`, if it has more.
fn head(text: &str, limit: usize) -> Option<&str> {
    text.char_indices()
        .nth(limit)
        .and_then(|(end, _)| text.get(..end))
}

// Run in the browser by `wasm-pack test` (this module needs the JS engine's JSON.parse).
#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.to_owned(),
            retry_after: None,
            long_polled: true,
        }
    }

    #[test]
    fn a_status_needs_only_a_known_result() {
        let status = parse_status(r#"{"result": "pending", "extra": 1}"#).unwrap();
        assert_eq!(status.result, JobResult::Pending);
        assert_eq!(
            (status.id, status.progress, status.eta_ms),
            (None, None, None)
        );
        let full =
            parse_status(r#"{"id": "a", "result": "error", "progress": 0.5, "eta_ms": null}"#)
                .unwrap();
        assert_eq!(full.id.as_deref(), Some("a"));
        assert_eq!(full.progress, Some(0.5));
    }

    #[test]
    fn what_is_not_a_status_says_why() {
        for (body, why) in [
            ("<html>", "not JSON"),
            ("[1]", "not an object"),
            (r#"{"state": "done"}"#, "no result"),
            (r#"{"result": 1}"#, "result is not a string"),
            (r#"{"result": "pending", "id": 7}"#, "id is not a string"),
            (
                r#"{"result": "pending", "progress": "half"}"#,
                "progress is not a number",
            ),
        ] {
            let Err(Invalid::Malformed(message)) = parse_status(body) else {
                panic!("{body} should be malformed")
            };
            assert!(message.contains(why), "{body}: {message}");
        }
        let Err(Invalid::UnknownResult(message)) = parse_status(r#"{"result": "done"}"#) else {
            panic!("an unknown result")
        };
        assert!(message.contains("\"done\""), "{message}");
    }

    #[test]
    fn a_watch_answer_lists_statuses_with_ids_and_missing_ids() {
        let body = r#"{"jobs": [{"id": "a", "result": "completed"}], "missing": ["b"]}"#;
        let Answer::Watch(Ok(watch), hints) = answer_of(reply(200, body), true) else {
            panic!()
        };
        assert_eq!(watch.jobs[0].id.as_deref(), Some("a"));
        assert_eq!(watch.missing, ["b"]);
        assert!(hints.long_polled);
        for bad in [
            r#"{"jobs": {}}"#,
            r#"{"jobs": [{"result": "pending"}]}"#,
            r#"{"missing": [1]}"#,
        ] {
            assert!(
                matches!(answer_of(reply(200, bad), true), Answer::Watch(Err(_), _)),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_error_answer_keeps_its_code_and_a_cut_message() {
        let long = "x".repeat(10_000);
        let body = format!(r#"{{"error": {{"code": "busy", "message": "{long}"}}}}"#);
        let Answer::Error {
            status,
            code,
            message,
            ..
        } = answer_of(reply(503, &body), false)
        else {
            panic!()
        };
        assert_eq!((status, code.as_deref()), (503, Some("busy")));
        assert_eq!(
            message.chars().count(),
            MAX_MESSAGE_CHARS + 1,
            "cut, with an ellipsis"
        );
        let (code, message) = parse_error_body("");
        assert_eq!((code, message.as_str()), (None, "(empty body)"));
        let (code, message) = parse_error_body("gateway down");
        assert_eq!((code, message.as_str()), (None, "\"gateway down\""));
    }
}
