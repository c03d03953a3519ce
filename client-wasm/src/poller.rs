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
//! let policy = PollPolicy::default().with_jitter(0.0).with_adaptive(false);
//! let mut poller = Poller::new(policy, 1, Duration::ZERO);
//! assert_eq!(poller.start(), Action::Poll { attempt: 1, wait: None });
//!
//! let now = Duration::from_millis(40);
//! let action = poller.observe(now, Observation::status(JobResult::Pending));
//! assert_eq!(action, Action::Sleep(Duration::from_secs(1)));
//!
//! let now = Duration::from_millis(1040);
//! assert_eq!(poller.wake(now), Action::Poll { attempt: 2, wait: None });
//! ```
//!
//! Time is a [`Duration`] since any fixed origin (the driver's monotonic clock).
//!
//! # Strategy
//!
//! After a `pending` answer, in adaptive mode (the default):
//! - far from the job's earliest plausible end ([`StatusHints::earliest_end`]), it sleeps,
//!   then long-polls, and so on. No sleep is longer than the gap plain backoff would leave
//!   at that point of its own schedule (the *coverage* schedule below), so a job that ends
//!   long before its estimate is seen no later than plain backoff would see it; the long-polls
//!   between the sleeps are what saves requests;
//! - near it, it long-polls back to back (`wait`), so the answer comes the moment the job ends;
//! - where the server does not long-poll (no `Preference-Applied` in answer to a wait), it
//!   polls near the end with the backoff schedule started over;
//! - where the server gives no hints, it is plain jittered exponential backoff.
//!
//! The estimate decides how requests are spent, never how late the end is learnt: a
//! long-poll answered at once with nothing changed (a server that ignores waits) counts as a
//! plain poll, and the next one waits a backoff gap, so no server can make the client spin.
//!
//! In every mode the poll budget (`max_attempts`) and the deadline (`max_wait`, never slept
//! past, with one last poll at it) hold.

use std::time::Duration;

use video_translation_protocol::JobResult;

use crate::backoff::Backoff;
use crate::hints::StatusHints;
use crate::millis::{millis_duration, whole_millis};
use crate::policy::PollPolicy;

/// What one status request came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A well-formed status, with the timing hints of its answer.
    Status {
        /// Where the job is.
        result: JobResult,
        /// What the answer said about timing.
        hints: StatusHints,
    },
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
    /// No answer within the policy's `request_timeout` (plus the wait of a long-poll).
    RequestTimedOut,
    /// A 2xx answer whose body is not a job status (not JSON, missing `result`, wrong types).
    /// Possibly a glitch (a proxy's page, a truncated body), so it is retried once.
    Malformed(String),
    /// An answer that breaks the contract in a way no retry will fix: a `result` the
    /// contract does not know, another job's status, a redirect loop or to another origin.
    NotTheContract(String),
}

impl Observation {
    /// What went wrong, for `onRetry`; `None` for a status.
    pub fn failure_text(&self) -> Option<String> {
        match self {
            Observation::Status { .. } => None,
            Observation::HttpStatus {
                status, message, ..
            } => Some(http_text(*status, message)),
            Observation::NetworkError(message)
            | Observation::Malformed(message)
            | Observation::NotTheContract(message) => Some(message.clone()),
            Observation::RequestTimedOut => Some(REQUEST_TIMED_OUT.to_owned()),
        }
    }

    /// A status answer without hints, as the seeds' plain server gives.
    pub const fn status(result: JobResult) -> Self {
        Observation::Status {
            result,
            hints: StatusHints::NONE,
        }
    }
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a status request now. `attempt` counts requests from 1. With `wait`, ask the
    /// server to hold the request up to that long while the job is pending (`?wait=`), and
    /// allow the request that much longer.
    Poll {
        /// Which request this is.
        attempt: u32,
        /// The long-poll wait to ask for.
        wait: Option<Duration>,
    },
    /// Wait this long, then call [`Poller::wake`].
    Sleep(Duration),
    /// Stop: the wait is over.
    Done(WaitOutcome),
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitOutcome {
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
#[derive(Debug, Clone, PartialEq)]
pub enum PollError {
    /// A budget ran out while the job was still pending (or the server kept failing).
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
    Http {
        /// The HTTP status code.
        status: u16,
        /// What the server said.
        message: String,
    },
    /// The server's answers are not the contract.
    Protocol(String),
}

impl PollError {
    /// What went wrong, for a person (also its `Display`).
    pub fn message(&self) -> String {
        match self {
            PollError::TimedOut {
                budget,
                attempts,
                elapsed,
                last_failure,
            } => {
                let what = match budget {
                    Budget::Attempts => "maxAttempts ran out",
                    Budget::Time => "maxWaitMs ran out",
                };
                let mut message = format!(
                    "{what} before a final result ({attempts} requests over {} ms)",
                    whole_millis(*elapsed)
                );
                if let Some(failure) = last_failure {
                    message.push_str("; last request failed: ");
                    message.push_str(failure);
                }
                message
            }
            PollError::Http { status, message } => http_text(*status, message),
            PollError::Protocol(message) => message.clone(),
        }
    }
}

impl std::fmt::Display for PollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PollError {}

/// How an HTTP failure reads in messages: `HTTP 503: busy`.
pub fn http_text(status: u16, message: &str) -> String {
    format!("HTTP {status}: {message}")
}

/// How a request cut by `requestTimeoutMs` reads in messages.
const REQUEST_TIMED_OUT: &str = "no answer within requestTimeoutMs";

/// The same with the limit: `no answer within requestTimeoutMs (30000 ms)`.
pub fn request_timeout_text(timeout: Duration) -> String {
    format!("{REQUEST_TIMED_OUT} ({} ms)", whole_millis(timeout))
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

/// What we know of the server's long-polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LongPolling {
    /// Not asked yet.
    Unknown,
    /// It answered a wait with `Preference-Applied`.
    Offered,
    /// It answered a wait without: it does not long-poll.
    NotOffered,
}

/// The polling state machine. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Poller {
    policy: PollPolicy,
    /// Gaps after failures, and near the end where the server does not long-poll.
    backoff: Backoff,
    /// The plain schedule: far from the end, a sleep is at most the gap it is in at that
    /// time (jittered alike), so adaptive mode is never later than plain backoff.
    coverage: Backoff,
    started_at: Duration,
    attempts: u32,
    malformed_in_a_row: u32,
    last_failure: Option<String>,
    long_polling: LongPolling,
    /// The wait the request in flight asked for.
    asked_wait: Option<Duration>,
    /// When (time since the start) the request in flight was sent.
    asked_at: Duration,
    phase: Phase,
}

/// Far from the end, the share of plain backoff's gap a sleep may take. Below 1, so that
/// adaptive mode's lateness stays below plain's as a distribution, not only on average: both
/// draw their gaps with the same jitter, and at 1 their slowest ends would tie.
const COVERAGE_SHARE: f64 = 0.9;

/// A long-poll answered sooner than this (or half its wait, if that is shorter) with the job
/// still pending was not held: it counts as a plain poll.
const HELD_AT_LEAST: Duration = Duration::from_secs(1);

impl Poller {
    /// A poller for one wait that starts at `now`. `seed` drives the jitter, so a fixed seed
    /// gives a reproducible schedule. The policy must be [valid](PollPolicy::validate).
    pub fn new(policy: PollPolicy, seed: u64, now: Duration) -> Self {
        debug_assert_eq!(policy.validate(), Ok(()), "the driver validates the policy");
        Poller {
            backoff: Backoff::new(&policy, seed),
            // Another stream of draws, so the two schedules' jitter is independent.
            coverage: Backoff::new(&policy, seed ^ 0x9e37_79b9_7f4a_7c15),
            policy,
            started_at: now,
            attempts: 0,
            malformed_in_a_row: 0,
            last_failure: None,
            long_polling: LongPolling::Unknown,
            asked_wait: None,
            asked_at: Duration::ZERO,
            phase: Phase::NotStarted,
        }
    }

    /// The first action: poll at once, plainly (nothing is known of the job yet).
    pub fn start(&mut self) -> Action {
        debug_assert_eq!(self.phase, Phase::NotStarted);
        self.begin_attempt(Duration::ZERO, None)
    }

    /// The sleep asked for is over: poll again, long-polling if the server may offer it.
    /// Sleeps never run past the deadline, so this always polls (that is the "last poll at
    /// the deadline").
    pub fn wake(&mut self, now: Duration) -> Action {
        debug_assert_eq!(self.phase, Phase::Sleeping);
        let elapsed = self.elapsed(now);
        let wait = self.long_poll_wait(elapsed);
        self.begin_attempt(elapsed, wait)
    }

    /// The answer to the request in flight; returns what to do next.
    pub fn observe(&mut self, now: Duration, observation: Observation) -> Action {
        debug_assert_eq!(self.phase, Phase::AwaitingAnswer);
        let elapsed = self.elapsed(now);
        let asked_wait = self.asked_wait.take();
        let mut retry_after = None;
        match observation {
            Observation::Status { result, .. } if result.is_final() => {
                return self.finish(WaitOutcome::Finished {
                    result,
                    attempts: self.attempts,
                    elapsed,
                });
            }
            Observation::Status { hints, .. } => {
                self.malformed_in_a_row = 0;
                self.last_failure = None;
                let mut held_briefly = false;
                if let Some(wait) = asked_wait {
                    self.long_polling = if hints.long_polled {
                        LongPolling::Offered
                    } else {
                        LongPolling::NotOffered
                    };
                    let held = elapsed.saturating_sub(self.asked_at);
                    held_briefly = hints.long_polled && held < (wait / 2).min(HELD_AT_LEAST);
                }
                return self.after_pending(elapsed, &hints, held_briefly);
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
                self.last_failure = Some(http_text(status, &message));
            }
            Observation::NetworkError(message) => self.last_failure = Some(message),
            Observation::RequestTimedOut => {
                self.last_failure = Some(request_timeout_text(self.policy.request_timeout))
            }
            Observation::Malformed(message) => {
                self.malformed_in_a_row += 1;
                if self.malformed_in_a_row >= 2 {
                    return self.fail(PollError::Protocol(message));
                }
                self.last_failure = Some(message);
            }
            Observation::NotTheContract(message) => return self.fail(PollError::Protocol(message)),
        }
        self.retry_after_failure(elapsed, retry_after)
    }

    /// A pending status brought by a stream that carries the job: news for the caller, but
    /// not the end of the request, which goes on (the next status is not a new attempt).
    pub fn observe_streamed(&mut self) {
        debug_assert_eq!(self.phase, Phase::AwaitingAnswer);
        self.malformed_in_a_row = 0;
        self.last_failure = None;
    }

    /// The stream carrying the job was closed by the server while the job is pending (its
    /// lifetime ran out, or it is stopping). A stream held at least a second did its
    /// work: the job is streamed again at once, as a new attempt. One closed sooner counts as
    /// a plain poll, and the next waits a backoff gap, so no server can make the client spin.
    pub fn stream_closed(&mut self, now: Duration) -> Action {
        debug_assert_eq!(self.phase, Phase::AwaitingAnswer);
        let elapsed = self.elapsed(now);
        self.asked_wait = None;
        if let Some(out_of_budget) = self.check_budgets(elapsed) {
            return out_of_budget;
        }
        if elapsed.saturating_sub(self.asked_at) >= HELD_AT_LEAST {
            return self.begin_attempt(elapsed, None);
        }
        let delay = self.backoff.next_delay();
        self.sleep(elapsed, delay)
    }

    /// The end of the wait if its deadline has passed while a stream carries the job (which
    /// is not cut for it: the stream goes on for the others).
    pub fn deadline_passed(&mut self, now: Duration) -> Option<Action> {
        let elapsed = self.elapsed(now);
        self.remaining(elapsed)
            .is_some_and(|remaining| remaining.is_zero())
            .then(|| self.time_out(Budget::Time, elapsed))
    }

    /// The wait the poll after a sleep ending at `wake_at` will ask for: `Some` if it will
    /// long-poll. (What [`Poller::wake`] will decide then, told ahead for progress reports.)
    pub fn wait_after_sleep(&self, wake_at: Duration) -> Option<Duration> {
        self.long_poll_wait(self.elapsed(wake_at))
    }

    /// Time left before the deadline (`max_wait`) at `now`; `None` without one.
    pub fn time_left(&self, now: Duration) -> Option<Duration> {
        self.remaining(self.elapsed(now))
    }

    /// The policy this wait runs under.
    pub fn policy(&self) -> &PollPolicy {
        &self.policy
    }

    /// Requests sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time since the wait started.
    pub fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.started_at)
    }

    fn begin_attempt(&mut self, elapsed: Duration, wait: Option<Duration>) -> Action {
        self.attempts += 1;
        self.asked_wait = wait;
        self.asked_at = elapsed;
        self.phase = Phase::AwaitingAnswer;
        Action::Poll {
            attempt: self.attempts,
            wait,
        }
    }

    /// A pending answer: sleep (within the coverage gap), long-poll, or back off.
    /// `held_briefly`: the answer was to a long-poll the server did not really hold.
    fn after_pending(
        &mut self,
        elapsed: Duration,
        hints: &StatusHints,
        held_briefly: bool,
    ) -> Action {
        if let Some(out_of_budget) = self.check_budgets(elapsed) {
            return out_of_budget;
        }
        if !self.policy.adaptive || held_briefly {
            let delay = self.backoff.next_delay();
            return self.sleep(elapsed, delay);
        }
        let long_poll_wait = self.long_poll_wait(elapsed);
        match hints.earliest_end(self.policy.eta_tolerance) {
            // Far from the end: sleep towards it, never longer than plain backoff's gap.
            Some(until) if !until.is_zero() => {
                if long_poll_wait.is_none() {
                    // The gaps near the end start short again.
                    self.backoff.restart();
                }
                let gap = self.coverage.shorten(self.coverage.gap_at(elapsed));
                let gap = millis_duration(gap.as_secs_f64() * 1000.0 * COVERAGE_SHARE);
                self.sleep(elapsed, until.min(gap))
            }
            // Near the end, or a server that long-polls but does not estimate: listen.
            Some(_) if long_poll_wait.is_some() => self.begin_attempt(elapsed, long_poll_wait),
            None if self.long_polling == LongPolling::Offered => {
                self.begin_attempt(elapsed, long_poll_wait)
            }
            _ => {
                let delay = self.backoff.next_delay();
                self.sleep(elapsed, delay)
            }
        }
    }

    /// A failed attempt worth retrying: back off, longer if the server asked.
    fn retry_after_failure(&mut self, elapsed: Duration, retry_after: Option<Duration>) -> Action {
        if let Some(out_of_budget) = self.check_budgets(elapsed) {
            return out_of_budget;
        }
        let mut delay = self.backoff.next_delay();
        if let Some(asked) = retry_after {
            // Honour the server's wish to back off, but never beyond our own longest gap:
            // a misconfigured server must not be able to park the client for hours.
            delay = delay.max(asked.min(self.policy.max_delay));
        }
        self.sleep(elapsed, delay)
    }

    /// The wait to ask of a long-poll now: none in plain mode, where the server does not
    /// offer it, or when no time is left.
    fn long_poll_wait(&self, elapsed: Duration) -> Option<Duration> {
        if !self.policy.adaptive || self.long_polling == LongPolling::NotOffered {
            return None;
        }
        let wait = match self.remaining(elapsed) {
            Some(remaining) => self.policy.long_poll_wait.min(remaining),
            None => self.policy.long_poll_wait,
        };
        (!wait.is_zero()).then_some(wait)
    }

    /// Time left before the deadline; `None` without one.
    fn remaining(&self, elapsed: Duration) -> Option<Duration> {
        self.policy
            .max_wait
            .map(|max_wait| max_wait.saturating_sub(elapsed))
    }

    /// The end of the wait if a budget has run out.
    fn check_budgets(&mut self, elapsed: Duration) -> Option<Action> {
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            return Some(self.time_out(Budget::Attempts, elapsed));
        }
        if self
            .remaining(elapsed)
            .is_some_and(|remaining| remaining.is_zero())
        {
            return Some(self.time_out(Budget::Time, elapsed));
        }
        None
    }

    /// Sleeps `delay`, but never past the deadline.
    fn sleep(&mut self, elapsed: Duration, delay: Duration) -> Action {
        let delay = match self.remaining(elapsed) {
            Some(remaining) => delay.min(remaining),
            None => delay,
        };
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
        self.finish(WaitOutcome::Failed(error))
    }

    fn finish(&mut self, outcome: WaitOutcome) -> Action {
        self.phase = Phase::Done;
        Action::Done(outcome)
    }
}

#[cfg(test)]
#[path = "poller_tests.rs"]
mod tests;
