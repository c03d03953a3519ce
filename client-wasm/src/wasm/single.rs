//! A single request (`createJob`, `getStatus`, `cancelJob`): one async function whose result
//! settles one promise. `getStatus` fails at once on any failure; `createJob` and
//! `cancelJob`, which change something, are retried a few times where that is safe
//! ([`crate::retry`]), and not while the environment says it is offline.

use std::time::Duration;

use futures_channel::oneshot;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::prelude::*;

use super::bodies::{parse_error_body, parse_status};
use super::errors;
use super::fetch::{exchange, timer_ms, Outgoing, Reply, RequestSetup};
use super::globals::{now, offline};
use super::values;
use super::wakeups::Wakeups;
use crate::answer::{ExchangeError, Invalid};
use crate::policy::PollPolicy;
use crate::poller::request_timeout_text;
use crate::retry::{AttemptFailure, Retry};

/// What the answer must be, and whether a failure is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any status; no retry (`getStatus`).
    Once,
    /// Any status; retried (`cancelJob`).
    Retried,
    /// A new job's status, which must carry its id; retried (`createJob`, made safe by its
    /// `Idempotency-Key`).
    Created,
}

/// Sends `outgoing` until it succeeds or may not be tried again: the status as a JS value,
/// or the error to reject with.
pub async fn send(
    outgoing: Outgoing,
    setup: &RequestSetup,
    policy: &PollPolicy,
    seed: u64,
    kind: Kind,
) -> Result<JsValue, JsValue> {
    let mut retry = (kind != Kind::Once).then(|| Retry::new(policy, seed));
    loop {
        let sent_at = now();
        let answer = exchange(&outgoing, setup, policy.request_timeout).await;
        let elapsed = now().saturating_sub(sent_at);
        let (error, failure) = match status_of(answer, kind, policy.request_timeout, elapsed) {
            Ok(status) => return Ok(status),
            Err(failed) => failed,
        };
        let Some(gap) = retry.as_mut().and_then(|retry| retry.after(failure)) else {
            return Err(error);
        };
        TimeoutFuture::new(timer_ms(gap)).await;
        online().await;
    }
}

/// Resolves once the environment is not offline (at once where it never says so).
async fn online() {
    if !offline() {
        return;
    }
    let (back, is_back) = oneshot::channel::<()>();
    let mut back = Some(back);
    let _listening = Wakeups::listen(move || {
        if let Some(back) = back.take() {
            let _ = back.send(());
        }
    });
    let _ = is_back.await;
}

/// A success body that is a status (with an id, for a created job), or the error to throw
/// and what kind of failure it was.
fn status_of(
    answer: Result<Reply, ExchangeError>,
    kind: Kind,
    timeout: Duration,
    elapsed: Duration,
) -> Result<JsValue, (JsValue, AttemptFailure)> {
    let reply = answer.map_err(|error| match error {
        ExchangeError::Network(message) => (errors::network(&message), AttemptFailure::NoAnswer),
        ExchangeError::TimedOut => (
            errors::timeout(&request_timeout_text(timeout), 1, elapsed),
            AttemptFailure::NoAnswer,
        ),
        ExchangeError::Malformed(message) | ExchangeError::NotTheContract(message) => {
            (errors::protocol(&message), AttemptFailure::NotTheContract)
        }
    })?;
    if !(200..300).contains(&reply.status) {
        let (code, message) = parse_error_body(&reply.body);
        let error = errors::http(reply.status, code.as_deref(), &message);
        return Err((
            error,
            AttemptFailure::Status(reply.status, reply.retry_after),
        ));
    }
    let not_the_contract =
        |message: &str| (errors::protocol(message), AttemptFailure::NotTheContract);
    let status = parse_status(&reply.body).map_err(|invalid| match invalid {
        Invalid::Malformed(message) | Invalid::UnknownResult(message) => not_the_contract(&message),
    })?;
    if kind == Kind::Created && status.id.is_none() {
        return Err(not_the_contract("the new job's status has no id"));
    }
    Ok(values::status(&status))
}
