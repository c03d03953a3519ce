//! A single request (`createJob`, `getStatus`): its answer settles one promise, and any
//! failure rejects it at once, with no retry.

use std::time::Duration;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::errors;
use super::globals::now;
use super::io::{Failure, Reply};
use super::status::{parse_error_body, parse_status, status_to_js};
use crate::answer::Invalid;
use crate::poller::request_timeout_text;

/// A single request in flight, and how to settle its promise.
#[derive(Debug)]
pub struct SingleRequest {
    /// Resolves the promise with the status.
    pub resolve: Function,
    /// Rejects it.
    pub reject: Function,
    /// The status must carry an id (a created job's).
    pub needs_id: bool,
    /// When it was sent.
    pub started: Duration,
    /// Its time limit.
    pub timeout: Duration,
}

impl SingleRequest {
    /// Settles the promise with what came back.
    pub fn settle(self, answer: Result<Reply, Failure>) {
        let _ = match self.status_of(answer) {
            Ok(status) => self.resolve.call1(&JsValue::NULL, &status),
            Err(error) => self.reject.call1(&JsValue::NULL, &error),
        };
    }

    /// A success body that is a status (with an id, if `needs_id`), or the error to throw.
    fn status_of(&self, answer: Result<Reply, Failure>) -> Result<JsValue, JsValue> {
        let reply = answer.map_err(|failure| match failure {
            Failure::Network(message) => errors::network(&message),
            Failure::TimedOut => errors::timeout(
                &request_timeout_text(self.timeout),
                1,
                now().saturating_sub(self.started),
            ),
            Failure::Unreadable(message) | Failure::Violation(message) => {
                errors::protocol(&message)
            }
        })?;
        if !(200..300).contains(&reply.status) {
            let (code, message) = parse_error_body(&reply.body);
            return Err(errors::http(reply.status, code.as_deref(), &message));
        }
        let status = parse_status(&reply.body).map_err(|invalid| match invalid {
            Invalid::Malformed(message) | Invalid::UnknownResult(message) => {
                errors::protocol(&message)
            }
        })?;
        if self.needs_id && status.id.is_none() {
            return Err(errors::protocol("the new job's status has no id"));
        }
        Ok(status_to_js(&status))
    }
}
