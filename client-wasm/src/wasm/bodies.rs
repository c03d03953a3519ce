//! Response bodies into the protocol's types: `JSON.parse`, then serde-wasm-bindgen straight
//! from the parsed JS value (no JSON parser in the module), then what the core needs.
//!
//! Only the reading is here; what an answer means to a wait is decided in `crate::answer`
//! and `crate::watcher`, natively tested.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::errors::serde_text;
use super::fetch::Reply;
use crate::answer::{Answer, Invalid, ReplyHints};
use crate::stream::{Message, StreamEvent};
use std::time::Duration;
use video_translation_protocol::stream::{
    JobsEvent, MissingEvent, OpenEvent, END_EVENT, JOBS_EVENT, MISSING_EVENT, OPEN_EVENT,
};
use video_translation_protocol::{ErrorBody, JobResult, JobStatus, UnknownJobResult, WatchAnswer};

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

/// A status body. Lenient as the contract is: only `result` is required.
pub fn parse_status(body: &str) -> Result<JobStatus, Invalid> {
    let value = parse_json(body)?;
    serde_wasm_bindgen::from_value(value.clone())
        .map_err(|error| not_a_status(&value, serde_text(error), body))
}

/// A watch body: `{"jobs": [status, ...], "missing": [id, ...]}`, each listed status with its
/// id.
fn parse_watch(body: &str) -> Result<WatchAnswer, Invalid> {
    let value = parse_json(body)?;
    let watch: WatchAnswer = serde_wasm_bindgen::from_value(value)
        .map_err(|error| malformed("a watch answer", &serde_text(error), body))?;
    if let Some(status) = watch.jobs.iter().find(|status| status.id.is_none()) {
        let why = format!("a listed job has no id ({})", status.result);
        return Err(malformed("a watch answer", &why, body));
    }
    Ok(watch)
}

/// What one event of a stream says; `None` for an event this client does not know (a newer
/// server's), which it skips.
pub fn stream_event_of(message: &Message) -> Result<Option<StreamEvent>, Invalid> {
    let data = &message.data;
    let event = match message.event.as_str() {
        OPEN_EVENT => {
            let open: OpenEvent = read_event(data, "an open event")?;
            StreamEvent::Open {
                heartbeat: Duration::from_millis(open.heartbeat_ms),
            }
        }
        MISSING_EVENT => {
            StreamEvent::Missing(read_event::<MissingEvent>(data, "a missing event")?.ids)
        }
        END_EVENT => {
            let status = parse_status(data)?;
            if status.id.is_none() || !status.result.is_final() {
                let why = format!("an ended job with an id ({})", status.result);
                return Err(malformed("an end event", &why, data));
            }
            StreamEvent::End(status)
        }
        JOBS_EVENT => {
            let jobs = read_event::<JobsEvent>(data, "a jobs event")?.jobs;
            if let Some(status) = jobs.iter().find(|status| status.id.is_none()) {
                let why = format!("a listed job has no id ({})", status.result);
                return Err(malformed("a jobs event", &why, data));
            }
            StreamEvent::Jobs(jobs)
        }
        _ => return Ok(None),
    };
    Ok(Some(event))
}

fn read_event<T: serde::de::DeserializeOwned>(data: &str, what: &str) -> Result<T, Invalid> {
    serde_wasm_bindgen::from_value(parse_json(data)?)
        .map_err(|error| malformed(what, &serde_text(error), data))
}

fn parse_json(body: &str) -> Result<JsValue, Invalid> {
    js_sys::JSON::parse(body)
        .map_err(|_| Invalid::Malformed(format!("the body is not JSON: {}", excerpt(body))))
}

/// Why a 2xx body is not a status: a `result` the contract does not know (another version
/// of it: no retry will help), or anything else (possibly a glitch: retried once).
fn not_a_status(value: &JsValue, why: String, body: &str) -> Invalid {
    #[derive(Deserialize)]
    struct ResultOnly {
        result: String,
    }
    match serde_wasm_bindgen::from_value::<ResultOnly>(value.clone()) {
        Ok(ResultOnly { result }) if result.parse::<JobResult>().is_err() => {
            Invalid::UnknownResult(UnknownJobResult(result).to_string())
        }
        _ => malformed("a job status", &why, body),
    }
}

fn malformed(what: &str, why: &str, body: &str) -> Invalid {
    Invalid::Malformed(format!("the body is not {what} ({why}): {}", excerpt(body)))
}

/// The `code` and `message` of an error answer, falling back to an excerpt of the body.
pub fn parse_error_body(body: &str) -> (Option<String>, String) {
    let error = js_sys::JSON::parse(body)
        .ok()
        .and_then(|value| serde_wasm_bindgen::from_value::<ErrorBody>(value).ok());
    match error {
        Some(ErrorBody { error }) => (Some(error.code), cut(error.message)),
        None if body.trim_ascii().is_empty() => (None, "(empty body)".to_owned()),
        None => (None, excerpt(body)),
    }
}

/// The longest server message carried into an error, in characters: enough for any honest
/// message, and a 10 MB one does not become a 10 MB `error.message`.
const MAX_MESSAGE_CHARS: usize = 300;

fn cut(message: String) -> String {
    match head(&message, MAX_MESSAGE_CHARS) {
        Some(head) => format!("{head}…"),
        None => message,
    }
}

/// The first 120 characters of a body, quoted, for error messages.
fn excerpt(body: &str) -> String {
    match head(body, 120) {
        Some(head) => format!("{}…", quoted(head)),
        None => quoted(body),
    }
}

/// A string as a JSON string literal, as a JS developer would write it.
pub fn quoted(text: &str) -> String {
    js_sys::JSON::stringify(&JsValue::from_str(text))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
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
    use std::time::Duration;

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
        let full = parse_status(
            r#"{"id": "a", "result": "error", "progress": 0.5, "eta_ms": 1500.4, "reason": "cancelled"}"#,
        )
        .unwrap();
        assert_eq!(full.id.as_deref(), Some("a"));
        assert_eq!((full.progress, full.eta_ms), (Some(0.5), Some(1500)));
        let negative = parse_status(r#"{"result": "pending", "eta_ms": -3}"#).unwrap();
        assert_eq!(negative.eta_ms, None, "a negative estimate is no estimate");
    }

    #[test]
    fn what_is_not_a_status_says_why() {
        for (body, why) in [
            ("<html>", "not JSON"),
            ("[1]", "not a job status"),
            (r#"{"state": "done"}"#, "result"),
            (r#"{"result": 1}"#, "not a job status"),
            (r#"{"result": "pending", "id": 7}"#, "not a job status"),
            (r#"{"result": "pending", "progress": "half"}"#, "\"half\""),
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
            r#"{"jobs": {}, "missing": []}"#,
            r#"{"jobs": [{"result": "pending"}], "missing": []}"#,
            r#"{"jobs": [], "missing": [1]}"#,
            "{}",
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
        let mut busy = reply(503, &body);
        busy.retry_after = Some(Duration::from_secs(2));
        let Answer::Error {
            status,
            code,
            message,
            retry_after,
        } = answer_of(busy, false)
        else {
            panic!()
        };
        assert_eq!((status, code.as_deref()), (503, Some("busy")));
        assert_eq!(retry_after, Some(Duration::from_secs(2)));
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
