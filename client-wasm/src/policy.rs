//! The polling policy as a value: how long to wait between polls and when to give up.
//!
//! Defaults suit real translation jobs, which take minutes to tens of minutes: the first
//! polls come quickly (short jobs end quickly), the gap then grows by half each time up to
//! 15 s, and the caller gives up only after two hours. The seeds' defaults (10 attempts,
//! 60 s) would abandon most real jobs long before they finish.

use std::time::Duration;

use crate::millis::{whole_millis, JsNumber};

/// Why a [`PollPolicy`] was refused. Messages name the JS option, since that is where
/// the values come from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// `initialDelayMs` must be at least 1 ms, or the client would poll in a busy loop.
    #[error("initialDelayMs must be at least 1, got {0} ms")]
    InitialDelayTooShort(u64),
    /// `maxDelayMs` must not be shorter than `initialDelayMs`.
    #[error("maxDelayMs ({max} ms) must be at least initialDelayMs ({initial} ms)")]
    MaxDelayBelowInitial {
        /// `initialDelayMs`.
        initial: u64,
        /// `maxDelayMs`.
        max: u64,
    },
    /// `backoffFactor` must be a finite number, 1 or more.
    #[error("backoffFactor must be a finite number of at least 1, got {0}")]
    BackoffFactor(JsNumber),
    /// `jitter` must lie in 0..=1.
    #[error("jitter must be between 0 and 1, got {0}")]
    Jitter(JsNumber),
    /// `maxAttempts` must allow at least one request.
    #[error("maxAttempts must be at least 1")]
    NoAttempts,
    /// `requestTimeoutMs` must be at least 1 ms.
    #[error("requestTimeoutMs must be at least 1, got {0} ms")]
    RequestTimeoutTooShort(u64),
    /// `etaTolerance` must lie in 0..=1.
    #[error("etaTolerance must be between 0 and 1, got {0}")]
    EtaTolerance(JsNumber),
}

/// When to poll and when to stop. Build one with [`PollPolicy::default`] and the `with_`
/// methods, then check it with [`PollPolicy::validate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// The gap after the first poll, before jitter.
    ///
    /// # Default
    /// 1 s.
    pub initial_delay: Duration,
    /// The largest gap between two polls, before jitter.
    ///
    /// # Default
    /// 15 s.
    pub max_delay: Duration,
    /// Each gap is the previous one times this, up to `max_delay`.
    ///
    /// # Default
    /// 1.5.
    pub backoff_factor: f64,
    /// From 0 to 1: a gap `d` is drawn uniformly from `[d * (1 - jitter), d]`, so that many
    /// clients started together do not poll in lockstep. 0 polls exactly on schedule;
    /// 1 is "full jitter".
    ///
    /// # Default
    /// 0.2.
    pub jitter: f64,
    /// Give up after this many requests; `None` means no limit (then `max_wait` bounds).
    ///
    /// # Default
    /// `None`.
    pub max_attempts: Option<u32>,
    /// Give up after this long; the last poll is made exactly at this deadline, never past
    /// it. `None` means wait for ever.
    ///
    /// # Default
    /// 2 hours.
    pub max_wait: Option<Duration>,
    /// One request's limit; a request that takes longer counts as a failed attempt and is
    /// retried. A long-poll may take its wait on top of this.
    ///
    /// # Default
    /// 30 s.
    pub request_timeout: Duration,
    /// Use the server's hints: sleep until the job may end (from `eta_ms` and `progress`, or
    /// `Retry-After`) without holding a connection, then long-poll where the server offers
    /// it. `false` is plain jittered backoff, which any server gets anyway when it sends no
    /// hints.
    ///
    /// # Default
    /// `true`.
    pub adaptive: bool,
    /// How long a long-poll asks the server to hold the request (the server may cap it, and
    /// says so). Zero never long-polls.
    ///
    /// # Default
    /// 30 s.
    pub long_poll_wait: Duration,
    /// From 0 to 1: how wrong the server's estimate may be, as a fraction of the whole job.
    /// The client wakes this much before the estimated end.
    ///
    /// # Default
    /// 0.25.
    pub eta_tolerance: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy::DEFAULT
    }
}

impl PollPolicy {
    /// The documented defaults, as a constant.
    pub const DEFAULT: PollPolicy = PollPolicy {
        initial_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15),
        backoff_factor: 1.5,
        jitter: 0.2,
        max_attempts: None,
        max_wait: Some(Duration::from_secs(2 * 60 * 60)),
        request_timeout: Duration::from_secs(30),
        adaptive: true,
        long_poll_wait: Duration::from_secs(30),
        eta_tolerance: 0.25,
    };

    /// Sets [`PollPolicy::initial_delay`].
    pub const fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets [`PollPolicy::max_delay`].
    pub const fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`PollPolicy::backoff_factor`].
    pub const fn with_backoff_factor(mut self, factor: f64) -> Self {
        self.backoff_factor = factor;
        self
    }

    /// Sets [`PollPolicy::jitter`].
    pub const fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`PollPolicy::max_attempts`].
    pub const fn with_max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`PollPolicy::max_wait`].
    pub const fn with_max_wait(mut self, wait: Option<Duration>) -> Self {
        self.max_wait = wait;
        self
    }

    /// Sets [`PollPolicy::request_timeout`].
    pub const fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`PollPolicy::adaptive`].
    pub const fn with_adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// Sets [`PollPolicy::long_poll_wait`].
    pub const fn with_long_poll_wait(mut self, wait: Duration) -> Self {
        self.long_poll_wait = wait;
        self
    }

    /// Sets [`PollPolicy::eta_tolerance`].
    pub const fn with_eta_tolerance(mut self, tolerance: f64) -> Self {
        self.eta_tolerance = tolerance;
        self
    }

    /// Checks every field; the poller relies on a validated policy.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let initial = whole_millis(self.initial_delay);
        let max = whole_millis(self.max_delay);
        if initial < 1 {
            return Err(PolicyError::InitialDelayTooShort(initial));
        }
        if max < initial {
            return Err(PolicyError::MaxDelayBelowInitial { initial, max });
        }
        if !self.backoff_factor.is_finite() || self.backoff_factor < 1.0 {
            return Err(PolicyError::BackoffFactor(JsNumber(self.backoff_factor)));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(PolicyError::Jitter(JsNumber(self.jitter)));
        }
        if self.max_attempts == Some(0) {
            return Err(PolicyError::NoAttempts);
        }
        if whole_millis(self.request_timeout) < 1 {
            return Err(PolicyError::RequestTimeoutTooShort(whole_millis(
                self.request_timeout,
            )));
        }
        if !(0.0..=1.0).contains(&self.eta_tolerance) {
            return Err(PolicyError::EtaTolerance(JsNumber(self.eta_tolerance)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_defaults_are_valid_and_as_documented() {
        let policy = PollPolicy::default();
        assert_eq!(policy.validate(), Ok(()));
        assert_eq!(policy.initial_delay, Duration::from_secs(1));
        assert_eq!(policy.max_delay, Duration::from_secs(15));
        assert_eq!(policy.backoff_factor, 1.5);
        assert_eq!(policy.jitter, 0.2);
        assert_eq!(policy.max_attempts, None);
        assert_eq!(policy.max_wait, Some(Duration::from_secs(7200)));
        assert_eq!(policy.request_timeout, Duration::from_secs(30));
        assert!(policy.adaptive);
        assert_eq!(policy.long_poll_wait, Duration::from_secs(30));
        assert_eq!(policy.eta_tolerance, 0.25);
    }

    #[test]
    fn each_invalid_field_is_named_in_its_error() {
        let base = PollPolicy::default();
        let cases = [
            (base.with_initial_delay(Duration::ZERO), "initialDelayMs"),
            (
                base.with_max_delay(Duration::from_millis(500)),
                "maxDelayMs",
            ),
            (base.with_backoff_factor(0.5), "backoffFactor"),
            (base.with_backoff_factor(f64::NAN), "backoffFactor"),
            (base.with_backoff_factor(f64::INFINITY), "backoffFactor"),
            (base.with_jitter(-0.1), "jitter"),
            (base.with_jitter(1.5), "jitter"),
            (base.with_jitter(f64::NAN), "jitter"),
            (base.with_max_attempts(Some(0)), "maxAttempts"),
            (
                base.with_request_timeout(Duration::ZERO),
                "requestTimeoutMs",
            ),
            (base.with_eta_tolerance(1.5), "etaTolerance"),
            (base.with_eta_tolerance(f64::NAN), "etaTolerance"),
        ];
        for (policy, option) in cases {
            let error = policy.validate().expect_err(option).to_string();
            assert!(error.contains(option), "{error:?} should name {option}");
        }
    }

    #[test]
    fn edge_values_are_allowed() {
        let policy = PollPolicy::default()
            .with_initial_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_millis(1))
            .with_backoff_factor(1.0)
            .with_jitter(1.0)
            .with_max_attempts(Some(1))
            .with_max_wait(Some(Duration::ZERO));
        assert_eq!(policy.validate(), Ok(()));
        assert_eq!(PollPolicy::default().with_jitter(0.0).validate(), Ok(()));
    }
}
