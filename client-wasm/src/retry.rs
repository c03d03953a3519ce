//! Retrying a request that changes something on the server: `createJob` (made safe by its
//! `Idempotency-Key`: a repeat returns the same job) and `cancelJob` (idempotent by itself).
//!
//! A wait retries within its own budgets (see [`crate::poller`]); these requests have none,
//! so they get a few attempts, spaced like a wait's retries.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::policy::PollPolicy;
use crate::poller::is_transient_status;

/// Attempts of one `createJob` or `cancelJob`, at most: enough to ride out a restart or a
/// dropped connection, few enough that a broken server is reported within seconds.
pub const ATTEMPTS: u32 = 3;

/// How an attempt failed, as far as retrying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptFailure {
    /// No answer: the network failed, or the request passed `requestTimeoutMs`.
    NoAnswer,
    /// An HTTP status other than 2xx, with the server's `Retry-After` if any.
    Status(u16, Option<Duration>),
    /// An answer that is not the contract: asking again would not change it.
    NotTheContract,
}

/// The retries of one request.
#[derive(Debug, Clone)]
pub struct Retry {
    attempts: u32,
    backoff: Backoff,
    max_delay: Duration,
}

impl Retry {
    /// The first attempt is under way; later gaps follow `policy`'s backoff, jittered from
    /// `seed`.
    pub fn new(policy: &PollPolicy, seed: u64) -> Self {
        Retry {
            attempts: 1,
            backoff: Backoff::new(policy, seed),
            max_delay: policy.max_delay,
        }
    }

    /// After a failed attempt: how long to wait before the next one, or `None` to give up
    /// (the failure is not worth retrying, or the attempts are spent).
    pub fn after(&mut self, failure: AttemptFailure) -> Option<Duration> {
        let asked = match failure {
            AttemptFailure::NoAnswer => None,
            AttemptFailure::Status(status, retry_after) if is_transient_status(status) => {
                retry_after
            }
            AttemptFailure::Status(..) | AttemptFailure::NotTheContract => return None,
        };
        if self.attempts >= ATTEMPTS {
            return None;
        }
        self.attempts += 1;
        let delay = self.backoff.next_delay();
        // The server's wish to back off is honoured up to the longest gap, as in a wait.
        Some(asked.map_or(delay, |asked| delay.max(asked.min(self.max_delay))))
    }
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn retry() -> Retry {
        Retry::new(&PollPolicy::default().with_jitter(0.0), 7)
    }

    #[test]
    fn no_answer_and_server_errors_are_retried_with_backoff_until_the_attempts_run_out() {
        let mut retry = retry();
        assert_eq!(
            retry.after(AttemptFailure::NoAnswer),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry.after(AttemptFailure::Status(503, None)),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry.after(AttemptFailure::NoAnswer),
            None,
            "{ATTEMPTS} attempts in all"
        );
    }

    #[test]
    fn timeouts_and_rate_limits_are_retried_and_retry_after_is_honoured_up_to_the_max_delay() {
        let mut retry = retry();
        assert_eq!(
            retry.after(AttemptFailure::Status(429, Some(Duration::from_secs(5)))),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            retry.after(AttemptFailure::Status(408, Some(Duration::from_secs(3600)))),
            Some(PollPolicy::default().max_delay)
        );
    }

    #[test]
    fn client_errors_and_broken_answers_are_not_retried() {
        for failure in [
            AttemptFailure::Status(400, None),
            AttemptFailure::Status(404, None),
            AttemptFailure::Status(409, None),
            AttemptFailure::Status(422, None),
            AttemptFailure::NotTheContract,
        ] {
            assert_eq!(retry().after(failure), None, "{failure:?}");
        }
    }
}
