//! What the server's answers mean: a status answer, a watch answer or an error, read into
//! the [`Observation`]s the pollers take.
//!
//! An answer that breaks the contract has one of two names here, as the pollers treat it:
//! `Malformed` (possibly a glitch: retried once) or `NotTheContract` (no retry will fix it).
//! Either ends a wait as the JS `ProtocolError`
//! ([`PollError::Protocol`](crate::poller::PollError::Protocol)), whose message says "the
//! server's answer is not the contract".
//!
//! The driver reads the body (in the wasm build, `JSON.parse` and serde-wasm-bindgen into
//! the protocol's types); from the parsed values on, everything is here, in plain Rust, and
//! tested natively.

use std::time::Duration;

use video_translation_protocol::{JobStatus, WatchAnswer};

use crate::hints::StatusHints;
use crate::poller::Observation;

/// Why an exchange brought no answer to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// Refused, reset, DNS, CORS, or a `headers` function that threw; the message says how.
    #[error("{0}")]
    Network(String),
    /// No complete answer within the time limit; the request was cancelled.
    #[error("no answer within requestTimeoutMs")]
    TimedOut,
    /// The answer is not the contract's before its body is parsed: larger than any of the
    /// contract's, so not read to its end.
    #[error("{0}")]
    Malformed(String),
    /// The answer breaks the contract before its body: a redirect loop, or to another
    /// origin.
    #[error("{0}")]
    NotTheContract(String),
}

impl From<ExchangeError> for Answer {
    fn from(error: ExchangeError) -> Self {
        match error {
            ExchangeError::Network(message) => Answer::NetworkError(message),
            ExchangeError::TimedOut => Answer::TimedOut,
            ExchangeError::Malformed(message) => Answer::Malformed(message),
            ExchangeError::NotTheContract(message) => Answer::NotTheContract(message),
        }
    }
}

/// Why a 2xx body is not what was asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// Not JSON, or not the contract's shape: possibly a glitch, retried once.
    Malformed(String),
    /// A `result` the contract does not know: another version of the contract.
    UnknownResult(String),
}

impl Invalid {
    /// The observation a poller makes of it.
    pub fn observation(self) -> Observation {
        match self {
            Invalid::Malformed(message) => Observation::Malformed(message),
            Invalid::UnknownResult(message) => Observation::NotTheContract(message),
        }
    }
}

/// The headers that matter to polling.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReplyHints {
    /// `Retry-After`, in seconds, if present and well-formed.
    pub retry_after: Option<Duration>,
    /// `Preference-Applied` named the wait: the server held the request.
    pub long_polled: bool,
}

/// One answer (or its absence) to one request, its body already parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A 2xx answer to a status request (`GET /jobs/{id}`, `GET /status`).
    Status(Result<JobStatus, Invalid>, ReplyHints),
    /// A 2xx answer to a watch (`POST /jobs/watch`).
    Watch(Result<WatchAnswer, Invalid>, ReplyHints),
    /// Any other HTTP status, with the error body's `code` and `message`.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error body's `code`, if it has the contract's shape.
        code: Option<String>,
        /// Its `message`, or an excerpt of the body.
        message: String,
        /// `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// No answer: the network failed.
    NetworkError(String),
    /// An answer larger than any of the contract's, not read to its end. Retried once, as
    /// a malformed body is.
    Malformed(String),
    /// An answer that breaks the contract before its body is read: a redirect loop, or a
    /// redirect to another origin.
    NotTheContract(String),
    /// No answer within the time allowed; for a stream, silence past its limit.
    TimedOut,
    /// The server closed a streamed watch, every event of it read.
    StreamClosed,
    /// A streamed watch brought no event within
    /// [`FIRST_EVENT_WITHIN`](crate::stream::FIRST_EVENT_WITHIN) of its headers: something
    /// between buffers it.
    StreamBuffered,
}

/// The observation a status answer gives its job's poller.
pub fn status_observation(status: &JobStatus, hints: ReplyHints) -> Observation {
    Observation::Status {
        result: status.result,
        hints: StatusHints {
            eta: status.eta_ms.map(Duration::from_millis),
            progress: status.progress,
            retry_after: hints.retry_after,
            long_polled: hints.long_polled,
        },
    }
}

/// A failed exchange as every job it carried observes it; `None` for a 2xx answer.
pub fn failure_observation(answer: &Answer) -> Option<Observation> {
    Some(match answer {
        Answer::Status(..) | Answer::Watch(..) | Answer::StreamClosed | Answer::StreamBuffered => {
            return None
        }
        Answer::Error {
            status,
            message,
            retry_after,
            ..
        } => Observation::HttpStatus {
            status: *status,
            message: message.clone(),
            retry_after: *retry_after,
        },
        Answer::NetworkError(message) => Observation::NetworkError(message.clone()),
        Answer::Malformed(message) => Observation::Malformed(message.clone()),
        Answer::NotTheContract(message) => Observation::NotTheContract(message.clone()),
        Answer::TimedOut => Observation::RequestTimedOut,
    })
}

/// Whether a job id in an answer names the job asked for: ids are hex, which servers may
/// write in either case.
pub fn same_id(asked: &str, answered: &str) -> bool {
    asked.eq_ignore_ascii_case(answered)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use video_translation_protocol::JobResult;

    use super::*;

    fn status(eta_ms: Option<u64>) -> JobStatus {
        JobStatus {
            id: Some("ab".into()),
            result: JobResult::Pending,
            progress: Some(0.5),
            eta_ms,
            reason: None,
        }
    }

    #[test]
    fn a_status_answer_carries_its_hints_to_the_poller() {
        let hints = ReplyHints {
            retry_after: Some(Duration::from_secs(3)),
            long_polled: true,
        };
        let Observation::Status { result, hints } = status_observation(&status(Some(1500)), hints)
        else {
            panic!()
        };
        assert_eq!(result, JobResult::Pending);
        assert_eq!(hints.eta, Some(Duration::from_millis(1500)));
        assert_eq!(hints.progress, Some(0.5));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(3)));
        assert!(hints.long_polled);
    }

    #[test]
    fn failures_become_the_observations_every_carried_job_makes() {
        let error = Answer::Error {
            status: 503,
            code: Some("unavailable".into()),
            message: "busy".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(
            failure_observation(&error),
            Some(Observation::HttpStatus {
                status: 503,
                message: "busy".into(),
                retry_after: Some(Duration::from_secs(1))
            })
        );
        assert_eq!(
            failure_observation(&Answer::TimedOut),
            Some(Observation::RequestTimedOut)
        );
        assert_eq!(
            failure_observation(&Answer::NetworkError("refused".into())),
            Some(Observation::NetworkError("refused".into()))
        );
        assert_eq!(
            failure_observation(&Answer::Watch(
                Ok(WatchAnswer::default()),
                ReplyHints::default()
            )),
            None
        );
    }

    #[test]
    fn ids_match_in_either_case() {
        assert!(same_id("ABCdef", "abcDEF"));
        assert!(!same_id("abc", "abd"));
    }
}
