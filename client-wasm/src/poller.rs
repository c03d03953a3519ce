//! The Poller: a pure state machine that decides when to ask for a job's status and when
//! to stop.
//!
//! It performs no I/O and reads no clock. The driver (the wasm layer, or a test) tells it
//! the time and what each request returned, and does what it answers:
//!
//! ```
//! use std::time::Duration;
//! use video_translation_client::poller::{Action, Observation, Poller};
//! use video_translation_client::{JobResult, PollPolicy};
//!
//! let mut poller = Poller::new(PollPolicy::default().with_jitter(0.0), 1, Duration::ZERO);
//! assert_eq!(poller.start(), Action::Poll { attempt: 1 });
//!
//! let now = Duration::from_millis(40);
//! let action = poller.observe(now, Observation::Status(JobResult::Pending));
//! assert_eq!(action, Action::Sleep(Duration::from_secs(1)));
//!
//! let now = Duration::from_millis(1040);
//! assert_eq!(poller.wake(now), Action::Poll { attempt: 2 });
//! ```
//!
//! Time is a [`Duration`] since any fixed origin (the driver's monotonic clock).

use std::time::Duration;

use video_translation_protocol::JobResult;

use crate::backoff::Backoff;
use crate::policy::PollPolicy;

/// What one status request came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A well-formed status.
    Status(JobResult),
    /// An HTTP answer other than 2xx. `retry_after` is the server's `Retry-After`, if any.
    HttpStatus {
        /// The HTTP status code.
        status: u16,
        /// What the server said, for the error message.
        message: String,
        /// How long the server asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The request failed before any answer: connection refused, DNS, CORS, reset.
    NetworkError(String),
    /// No answer within the policy's `request_timeout`.
    RequestTimedOut,
    /// A 2xx answer whose body is not a job status (not JSON, missing `result`, wrong types).
    /// Possibly a glitch (a proxy's page, a truncated body), so it is retried once.
    Malformed(String),
    /// A well-formed status whose `result` is not one the contract knows: the server speaks
    /// another version of the contract, which no retry will fix.
    UnknownResult(String),
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a status request now. `attempt` counts requests from 1.
    Poll {
        /// Which request this is.
        attempt: u32,
    },
    /// Wait this long, then call [`Poller::wake`].
    Sleep(Duration),
    /// Stop: the wait is over.
    Done(Outcome),
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The job reached a final result (`completed` or `error`).
    Finished {
        /// `completed` or `error`.
        result: JobResult,
        /// Requests sent, failed ones included.
        attempts: u32,
        /// Time from start to the answer that ended it.
        elapsed: Duration,
    },
    /// The wait failed before a final result.
    Failed(PollError),
}

/// Which budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `max_attempts` requests were made.
    Attempts,
    /// `max_wait` elapsed.
    Time,
}

/// Why a wait failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PollError {
    /// A budget ran out while the job was still pending (or the server kept failing).
    #[error("{}", timeout_message(*.budget, *.attempts, *.elapsed, .last_failure.as_deref()))]
    TimedOut {
        /// Which budget.
        budget: Budget,
        /// Requests sent.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last transient failure, if the last attempt failed.
        last_failure: Option<String>,
    },
    /// The server answered with a status that retrying cannot fix (a 4xx other than 408/429).
    #[error("HTTP {status}: {message}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// What the server said.
        message: String,
    },
    /// The server's answers are not the contract.
    #[error("{0}")]
    Protocol(String),
}

fn timeout_message(
    budget: Budget,
    attempts: u32,
    elapsed: Duration,
    last_failure: Option<&str>,
) -> String {
    let what = match budget {
        Budget::Attempts => "maxAttempts ran out",
        Budget::Time => "maxWaitMs ran out",
    };
    let mut message = format!(
        "{what} before a final result ({attempts} requests over {} ms)",
        elapsed.as_millis()
    );
    if let Some(failure) = last_failure {
        message.push_str("; last request failed: ");
        message.push_str(failure);
    }
    message
}

/// Whether an HTTP status is worth retrying: server errors, `408 Request Timeout` and
/// `429 Too Many Requests` are; every other status will not change by asking again.
pub fn is_transient_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotStarted,
    AwaitingAnswer,
    Sleeping,
    Done,
}

/// The polling state machine. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Poller {
    policy: PollPolicy,
    backoff: Backoff,
    started_at: Duration,
    attempts: u32,
    malformed_in_a_row: u32,
    last_failure: Option<String>,
    phase: Phase,
}

impl Poller {
    /// A poller for one wait that starts at `now`. `seed` drives the jitter, so a fixed seed
    /// gives a reproducible schedule. The policy must be [valid](PollPolicy::validate).
    pub fn new(policy: PollPolicy, seed: u64, now: Duration) -> Self {
        debug_assert_eq!(policy.validate(), Ok(()), "the driver validates the policy");
        Poller {
            backoff: Backoff::new(&policy, seed),
            policy,
            started_at: now,
            attempts: 0,
            malformed_in_a_row: 0,
            last_failure: None,
            phase: Phase::NotStarted,
        }
    }

    /// The first action: poll at once.
    pub fn start(&mut self) -> Action {
        debug_assert_eq!(self.phase, Phase::NotStarted);
        self.begin_attempt()
    }

    /// The sleep asked for is over: poll again. Sleeps never run past the deadline, so this
    /// always polls (that is the "last poll at the deadline").
    pub fn wake(&mut self, _now: Duration) -> Action {
        debug_assert_eq!(self.phase, Phase::Sleeping);
        self.begin_attempt()
    }

    /// The answer to the request in flight; returns what to do next.
    pub fn observe(&mut self, now: Duration, observation: Observation) -> Action {
        debug_assert_eq!(self.phase, Phase::AwaitingAnswer);
        let elapsed = now.saturating_sub(self.started_at);
        let mut retry_after = None;
        match observation {
            Observation::Status(result) if result.is_final() => {
                return self.finish(Outcome::Finished {
                    result,
                    attempts: self.attempts,
                    elapsed,
                });
            }
            Observation::Status(_) => {
                self.malformed_in_a_row = 0;
                self.last_failure = None;
            }
            Observation::HttpStatus {
                status,
                message,
                retry_after: hint,
            } => {
                if !is_transient_status(status) {
                    return self.fail(PollError::Http { status, message });
                }
                retry_after = hint;
                self.note_transient(format!("HTTP {status}: {message}"));
            }
            Observation::NetworkError(message) => self.note_transient(message),
            Observation::RequestTimedOut => self.note_transient(format!(
                "no answer within requestTimeoutMs ({} ms)",
                self.policy.request_timeout.as_millis()
            )),
            Observation::Malformed(message) => {
                self.malformed_in_a_row += 1;
                if self.malformed_in_a_row >= 2 {
                    return self.fail(PollError::Protocol(message));
                }
                self.note_transient(message);
            }
            Observation::UnknownResult(message) => return self.fail(PollError::Protocol(message)),
        }
        self.schedule_next(elapsed, retry_after)
    }

    /// Requests sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time since the wait started.
    pub fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.started_at)
    }

    fn begin_attempt(&mut self) -> Action {
        self.attempts += 1;
        self.phase = Phase::AwaitingAnswer;
        Action::Poll {
            attempt: self.attempts,
        }
    }

    fn note_transient(&mut self, failure: String) {
        self.last_failure = Some(failure);
    }

    fn schedule_next(&mut self, elapsed: Duration, retry_after: Option<Duration>) -> Action {
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            return self.time_out(Budget::Attempts, elapsed);
        }
        let mut delay = self.backoff.next_delay();
        if let Some(asked) = retry_after {
            // Honour the server's wish to back off, but never beyond our own longest gap:
            // a misconfigured server must not be able to park the client for hours.
            delay = delay.max(asked.min(self.policy.max_delay));
        }
        if let Some(max_wait) = self.policy.max_wait {
            let Some(remaining) = max_wait.checked_sub(elapsed).filter(|r| !r.is_zero()) else {
                return self.time_out(Budget::Time, elapsed);
            };
            delay = delay.min(remaining);
        }
        self.phase = Phase::Sleeping;
        Action::Sleep(delay)
    }

    fn time_out(&mut self, budget: Budget, elapsed: Duration) -> Action {
        let error = PollError::TimedOut {
            budget,
            attempts: self.attempts,
            elapsed,
            last_failure: self.last_failure.take(),
        };
        self.fail(error)
    }

    fn fail(&mut self, error: PollError) -> Action {
        self.finish(Outcome::Failed(error))
    }

    fn finish(&mut self, outcome: Outcome) -> Action {
        self.phase = Phase::Done;
        Action::Done(outcome)
    }
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// 1 s, ×2, capped at 8 s, no jitter, no limits: every gap is predictable.
    fn exact_policy() -> PollPolicy {
        PollPolicy::default()
            .with_initial_delay(ms(1000))
            .with_backoff_factor(2.0)
            .with_max_delay(ms(8000))
            .with_jitter(0.0)
            .with_max_wait(None)
    }

    /// Drives a poller with a fake clock: each request takes `latency`, each sleep exactly
    /// what was asked. `answer(attempt)` plays the server. Returns the poll times and the end.
    fn run(
        policy: PollPolicy,
        latency: Duration,
        mut answer: impl FnMut(u32) -> Observation,
    ) -> (Vec<Duration>, Outcome) {
        let mut now = Duration::ZERO;
        let mut poller = Poller::new(policy, 7, now);
        let mut polls = Vec::new();
        let mut action = poller.start();
        loop {
            match action {
                Action::Poll { attempt } => {
                    assert_eq!(attempt as usize, polls.len() + 1, "attempts count from 1");
                    polls.push(now);
                    assert!(polls.len() < 10_000, "runaway poller");
                    now += latency;
                    action = poller.observe(now, answer(attempt));
                }
                Action::Sleep(delay) => {
                    now += delay;
                    action = poller.wake(now);
                }
                Action::Done(outcome) => return (polls, outcome),
            }
        }
    }

    fn pending() -> Observation {
        Observation::Status(JobResult::Pending)
    }

    fn http(status: u16) -> Observation {
        Observation::HttpStatus {
            status,
            message: format!("status {status}"),
            retry_after: None,
        }
    }

    #[test]
    fn polls_on_the_exponential_schedule_until_completed() {
        let (polls, outcome) = run(exact_policy(), Duration::ZERO, |attempt| {
            if attempt < 7 {
                pending()
            } else {
                Observation::Status(JobResult::Completed)
            }
        });
        let expected: Vec<_> = [0, 1000, 3000, 7000, 15_000, 23_000, 31_000].map(ms).into();
        assert_eq!(polls, expected);
        assert_eq!(
            outcome,
            Outcome::Finished {
                result: JobResult::Completed,
                attempts: 7,
                elapsed: ms(31_000)
            }
        );
    }

    #[test]
    fn an_error_result_is_final_too() {
        let (polls, outcome) = run(exact_policy(), 5 * MS, |_| {
            Observation::Status(JobResult::Error)
        });
        assert_eq!(polls.len(), 1);
        assert_eq!(
            outcome,
            Outcome::Finished {
                result: JobResult::Error,
                attempts: 1,
                elapsed: 5 * MS
            }
        );
    }

    #[test]
    fn max_attempts_stops_after_exactly_that_many_requests() {
        let (polls, outcome) = run(
            exact_policy().with_max_attempts(Some(3)),
            Duration::ZERO,
            |_| pending(),
        );
        assert_eq!(polls.len(), 3);
        let Outcome::Failed(PollError::TimedOut {
            budget, attempts, ..
        }) = outcome
        else {
            panic!("expected a timeout, got {outcome:?}");
        };
        assert_eq!((budget, attempts), (Budget::Attempts, 3));
    }

    #[test]
    fn a_single_attempt_budget_makes_one_request() {
        let (polls, outcome) = run(
            exact_policy().with_max_attempts(Some(1)),
            Duration::ZERO,
            |_| pending(),
        );
        assert_eq!(polls, [Duration::ZERO]);
        assert!(matches!(
            outcome,
            Outcome::Failed(PollError::TimedOut {
                budget: Budget::Attempts,
                ..
            })
        ));
    }

    #[test]
    fn never_sleeps_past_the_deadline_and_polls_once_more_at_it() {
        // Schedule 0, 1, 3, 7 s; the next would be 15 s but the deadline is 10 s.
        let policy = exact_policy().with_max_wait(Some(ms(10_000)));
        let (polls, outcome) = run(policy, Duration::ZERO, |_| pending());
        assert_eq!(polls, [0, 1000, 3000, 7000, 10_000].map(ms));
        let Outcome::Failed(PollError::TimedOut {
            budget,
            attempts,
            elapsed,
            ..
        }) = outcome
        else {
            panic!("expected a timeout, got {outcome:?}");
        };
        assert_eq!((budget, attempts, elapsed), (Budget::Time, 5, ms(10_000)));
    }

    #[test]
    fn the_last_poll_at_the_deadline_can_still_succeed() {
        let policy = exact_policy().with_max_wait(Some(ms(10_000)));
        let (polls, outcome) = run(policy, Duration::ZERO, |attempt| {
            if attempt == 5 {
                Observation::Status(JobResult::Completed)
            } else {
                pending()
            }
        });
        assert_eq!(polls.last(), Some(&ms(10_000)));
        assert!(matches!(
            outcome,
            Outcome::Finished {
                result: JobResult::Completed,
                ..
            }
        ));
    }

    #[test]
    fn slow_answers_count_against_the_deadline() {
        // Each answer takes 4 s: polls at 0 (answer at 4), sleep 1 → 5 (answer at 9),
        // sleep min(2, 1) → 10 (answer at 14, past the deadline) → timeout.
        let policy = exact_policy().with_max_wait(Some(ms(10_000)));
        let (polls, outcome) = run(policy, ms(4000), |_| pending());
        assert_eq!(polls, [0, 5000, 10_000].map(ms));
        assert!(matches!(
            outcome,
            Outcome::Failed(PollError::TimedOut { budget: Budget::Time, elapsed, .. }) if elapsed == ms(14_000)
        ));
    }

    #[test]
    fn a_zero_max_wait_polls_exactly_once() {
        let policy = exact_policy().with_max_wait(Some(Duration::ZERO));
        let (polls, outcome) = run(policy, Duration::ZERO, |_| pending());
        assert_eq!(polls.len(), 1);
        assert!(matches!(
            outcome,
            Outcome::Failed(PollError::TimedOut {
                budget: Budget::Time,
                ..
            })
        ));
    }

    #[test]
    fn transient_failures_are_retried_on_the_same_schedule() {
        let failures = [
            Observation::NetworkError("connection refused".into()),
            http(500),
            http(502),
            http(503),
            http(408),
            http(429),
            Observation::RequestTimedOut,
        ];
        let count = failures.len() as u32;
        let mut failures = failures.into_iter();
        let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| {
            failures
                .next()
                .unwrap_or(Observation::Status(JobResult::Completed))
        });
        assert_eq!(polls.len() as u32, count + 1);
        assert_eq!(&polls[..4], &[0, 1000, 3000, 7000].map(ms));
        assert!(
            matches!(outcome, Outcome::Finished { result: JobResult::Completed, attempts, .. } if attempts == count + 1)
        );
    }

    #[test]
    fn transient_failures_share_the_attempt_budget_and_are_reported() {
        let policy = exact_policy().with_max_attempts(Some(2));
        let (polls, outcome) = run(policy, Duration::ZERO, |_| http(503));
        assert_eq!(polls.len(), 2);
        let Outcome::Failed(error @ PollError::TimedOut { .. }) = outcome else {
            panic!("expected a timeout, got {outcome:?}");
        };
        let message = error.to_string();
        assert!(message.contains("maxAttempts"), "{message}");
        assert!(message.contains("HTTP 503"), "{message}");
    }

    #[test]
    fn a_pending_answer_clears_the_last_failure() {
        let policy = exact_policy().with_max_attempts(Some(2));
        let (_, outcome) = run(policy, Duration::ZERO, |attempt| {
            if attempt == 1 {
                http(503)
            } else {
                pending()
            }
        });
        assert!(matches!(
            outcome,
            Outcome::Failed(PollError::TimedOut {
                last_failure: None,
                ..
            })
        ));
    }

    #[test]
    fn permanent_http_errors_fail_at_once() {
        for status in [400, 401, 403, 404, 405, 410, 422] {
            let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| http(status));
            assert_eq!(polls.len(), 1, "HTTP {status} must not be retried");
            assert_eq!(
                outcome,
                Outcome::Failed(PollError::Http {
                    status,
                    message: format!("status {status}")
                })
            );
        }
    }

    #[test]
    fn which_statuses_are_transient() {
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_transient_status(status), "{status}");
        }
        for status in [300, 304, 400, 401, 403, 404, 409, 451] {
            assert!(!is_transient_status(status), "{status}");
        }
    }

    #[test]
    fn one_malformed_answer_is_retried_but_two_in_a_row_fail() {
        let (polls, outcome) = run(exact_policy(), Duration::ZERO, |attempt| match attempt {
            1 => Observation::Malformed("not JSON".into()),
            2 => pending(),
            3 => Observation::Malformed("not JSON".into()),
            _ => Observation::Status(JobResult::Completed),
        });
        assert_eq!(polls.len(), 4);
        assert!(matches!(outcome, Outcome::Finished { .. }));

        let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| {
            Observation::Malformed("body is <html>".into())
        });
        assert_eq!(polls.len(), 2);
        assert_eq!(
            outcome,
            Outcome::Failed(PollError::Protocol("body is <html>".into()))
        );
    }

    #[test]
    fn an_unknown_result_fails_at_once_with_the_value() {
        let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| {
            Observation::UnknownResult("unknown result \"done\"".into())
        });
        assert_eq!(polls.len(), 1);
        let Outcome::Failed(PollError::Protocol(message)) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(message.contains("\"done\""));
    }

    #[test]
    fn retry_after_lengthens_the_gap_up_to_the_max_delay() {
        let with_hint = |seconds| Observation::HttpStatus {
            status: 503,
            message: "busy".into(),
            retry_after: Some(Duration::from_secs(seconds)),
        };
        // 5 s asked, scheduled gap 1 s: waits 5 s.
        let (polls, _) = run(exact_policy(), Duration::ZERO, |attempt| {
            if attempt == 1 {
                with_hint(5)
            } else {
                Observation::Status(JobResult::Completed)
            }
        });
        assert_eq!(polls, [0, 5000].map(ms));
        // An absurd hour is clamped to maxDelay (8 s).
        let (polls, _) = run(exact_policy(), Duration::ZERO, |attempt| {
            if attempt == 1 {
                with_hint(3600)
            } else {
                Observation::Status(JobResult::Completed)
            }
        });
        assert_eq!(polls, [0, 8000].map(ms));
        // ... and to the deadline.
        let policy = exact_policy().with_max_wait(Some(ms(3000)));
        let (polls, _) = run(policy, Duration::ZERO, |_| with_hint(3600));
        assert_eq!(polls, [0, 3000].map(ms));
    }

    #[test]
    fn jittered_runs_are_reproducible_from_the_seed_and_stay_in_range() {
        let policy = PollPolicy::default()
            .with_jitter(0.5)
            .with_max_wait(Some(ms(120_000)));
        let (a, _) = run(policy, Duration::ZERO, |_| pending());
        let (b, _) = run(policy, Duration::ZERO, |_| pending());
        assert_eq!(a, b);
        // Default schedule: 1 s × 1.5 up to 15 s; with jitter 0.5 each gap is in [d/2, d].
        let mut nominal = 1000.0_f64;
        for pair in a.windows(2).take(a.len() - 2) {
            let gap = (pair[1] - pair[0]).as_secs_f64() * 1000.0;
            assert!(
                gap <= nominal + 0.5 && gap >= nominal / 2.0 - 0.5,
                "gap {gap} vs {nominal}"
            );
            nominal = (nominal * 1.5).min(15_000.0);
        }
        assert_eq!(
            a.last(),
            Some(&ms(120_000)),
            "the last poll is at the deadline"
        );
    }

    #[test]
    fn elapsed_and_attempts_are_observable() {
        let mut poller = Poller::new(exact_policy(), 1, ms(500));
        assert_eq!(poller.attempts(), 0);
        poller.start();
        assert_eq!(poller.attempts(), 1);
        assert_eq!(poller.elapsed(ms(1500)), ms(1000));
        assert_eq!(
            poller.elapsed(ms(100)),
            Duration::ZERO,
            "a clock that steps back reads as zero"
        );
    }
}
