//! A single request (`createJob`, `getStatus`, `cancelJob`): its answer settles one promise.
//! `getStatus` fails at once on any failure; `createJob` and `cancelJob`, which change
//! something, are retried a few times where that is safe ([`crate::retry`]).

use std::time::Duration;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::errors;
use super::globals::now;
use super::io::Reply;
use super::status::{parse_error_body, parse_status, status_to_js};
use crate::answer::{Failure, Invalid};
use crate::poller::request_timeout_text;
use crate::retry::{self, Retry};

/// What to send, as often as it is sent.
#[derive(Debug)]
pub struct Outgoing {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// A JSON body.
    pub json_body: Option<String>,
    /// The `Idempotency-Key` that makes a repeated `POST /jobs` safe.
    pub idempotency_key: Option<String>,
}

/// A single request, and how to settle its promise.
#[derive(Debug)]
pub struct SingleRequest {
    /// What is sent.
    pub outgoing: Outgoing,
    /// Resolves and rejects the promise; `None` when nobody waits for the answer (the
    /// cancel sent when an aborted wait asked for it).
    pub settle: Option<(Function, Function)>,
    /// The status must carry an id (a created job's).
    pub needs_id: bool,
    /// A request's time limit.
    pub timeout: Duration,
    /// When the current attempt was sent.
    pub sent_at: Duration,
    /// The retries left, for a request that may be repeated.
    pub retry: Option<Retry>,
}

impl SingleRequest {
    /// Settles the promise with what came back, or says how long to wait before trying
    /// again.
    pub fn on_answer(&mut self, answer: Result<Reply, Failure>) -> Option<Duration> {
        let settled = match self.status_of(answer) {
            Ok(status) => Ok(status),
            Err((error, failure)) => {
                if let Some(gap) = self.retry.as_mut().and_then(|retry| retry.after(failure)) {
                    return Some(gap);
                }
                Err(error)
            }
        };
        if let Some((resolve, reject)) = &self.settle {
            let _ = match settled {
                Ok(status) => resolve.call1(&JsValue::NULL, &status),
                Err(error) => reject.call1(&JsValue::NULL, &error),
            };
        }
        None
    }

    /// A success body that is a status (with an id, if `needs_id`), or the error to throw
    /// and what kind of failure it was.
    fn status_of(
        &self,
        answer: Result<Reply, Failure>,
    ) -> Result<JsValue, (JsValue, retry::Failure)> {
        let reply = answer.map_err(|failure| match failure {
            Failure::Network(message) => (errors::network(&message), retry::Failure::NoAnswer),
            Failure::TimedOut => (
                errors::timeout(
                    &request_timeout_text(self.timeout),
                    1,
                    now().saturating_sub(self.sent_at),
                ),
                retry::Failure::NoAnswer,
            ),
            Failure::Unreadable(message) | Failure::Violation(message) => {
                (errors::protocol(&message), retry::Failure::NotTheContract)
            }
        })?;
        if !(200..300).contains(&reply.status) {
            let (code, message) = parse_error_body(&reply.body);
            let error = errors::http(reply.status, code.as_deref(), &message);
            return Err((
                error,
                retry::Failure::Status(reply.status, reply.retry_after),
            ));
        }
        let not_the_contract =
            |message: &str| (errors::protocol(message), retry::Failure::NotTheContract);
        let status = parse_status(&reply.body).map_err(|invalid| match invalid {
            Invalid::Malformed(message) | Invalid::UnknownResult(message) => {
                not_the_contract(&message)
            }
        })?;
        if self.needs_id && status.id.is_none() {
            return Err(not_the_contract("the new job's status has no id"));
        }
        Ok(status_to_js(&status))
    }
}
