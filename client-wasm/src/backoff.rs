//! The jittered exponential schedule: the gap before each next poll.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::millis::millis_duration;
use crate::policy::PollPolicy;

/// Yields successive gaps: `initial`, `initial × factor`, ... capped at `max`, each drawn
/// from `[d × (1 − jitter), d]`.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The next gap before jitter, in milliseconds (f64 so that repeated multiplication does
    /// not lose the fraction; it is capped before it can overflow).
    next_ms: f64,
    initial_ms: f64,
    max_ms: f64,
    factor: f64,
    jitter: f64,
    /// Not cryptographic, and need not be: seeded per wait, so a schedule can be replayed.
    rng: SmallRng,
}

impl Backoff {
    /// A schedule for `policy`, drawing jitter from a generator seeded with `seed`.
    pub fn new(policy: &PollPolicy, seed: u64) -> Self {
        let initial_ms = policy.initial_delay.as_secs_f64() * 1000.0;
        Backoff {
            next_ms: initial_ms,
            initial_ms,
            max_ms: policy.max_delay.as_secs_f64() * 1000.0,
            factor: policy.backoff_factor,
            jitter: policy.jitter,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// The next gap, jittered; advances the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.next_ms.min(self.max_ms);
        self.next_ms = (nominal * self.factor).min(self.max_ms);
        self.shorten(millis_duration(nominal))
    }

    /// The gap the schedule, unjittered and started at 0, is in at `elapsed`: how long plain
    /// backoff may leave a job unwatched at that point. Jitter only makes its gaps shorter
    /// and so its schedule further along, so this is the smaller of the two.
    pub fn gap_at(&self, elapsed: Duration) -> Duration {
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        let (mut at_ms, mut gap_ms) = (0.0, self.initial_ms);
        // Ends once the gap reaches its cap (a factor of 1 starts there).
        while gap_ms < self.max_ms && self.factor > 1.0 && at_ms + gap_ms <= elapsed_ms {
            at_ms += gap_ms;
            gap_ms = (gap_ms * self.factor).min(self.max_ms);
        }
        millis_duration(gap_ms.min(self.max_ms))
    }

    /// Starts the schedule over from the initial gap: the job is near its end, when short
    /// gaps pay off again.
    pub fn restart(&mut self) {
        self.next_ms = self.initial_ms;
    }

    /// `delay` drawn from `[delay × (1 − jitter), delay]`.
    ///
    /// A draw u in [0, 1) maps to that range with u = 0 giving the whole delay, so jitter
    /// only ever shortens: a maximum stays a maximum, and a hinted wake-up is never late.
    pub fn shorten(&mut self, delay: Duration) -> Duration {
        let drawn_ms =
            delay.as_secs_f64() * 1000.0 * (1.0 - self.jitter * self.rng.random::<f64>());
        millis_duration(drawn_ms)
    }
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn policy(jitter: f64) -> PollPolicy {
        PollPolicy::default()
            .with_initial_delay(Duration::from_millis(1000))
            .with_backoff_factor(2.0)
            .with_max_delay(Duration::from_millis(10_000))
            .with_jitter(jitter)
    }

    fn gaps_ms(backoff: &mut Backoff, count: usize) -> Vec<u128> {
        (0..count)
            .map(|_| backoff.next_delay().as_millis())
            .collect()
    }

    #[test]
    fn without_jitter_gaps_grow_by_the_factor_up_to_the_cap() {
        let mut backoff = Backoff::new(&policy(0.0), 1);
        assert_eq!(
            gaps_ms(&mut backoff, 7),
            [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn gap_at_follows_the_unjittered_schedule_in_time() {
        let backoff = Backoff::new(&policy(0.5), 1);
        let gap_at = |ms| backoff.gap_at(Duration::from_millis(ms)).as_millis();
        // Polls at 0, 1, 3, 7, 15, 25 s: gaps 1, 2, 4, 8, 10 s.
        assert_eq!(
            [0, 999, 1000, 2999, 3000, 14_999, 15_000, 99_000].map(gap_at),
            [1000, 1000, 2000, 2000, 4000, 8000, 10_000, 10_000]
        );
    }

    #[test]
    fn a_factor_of_one_keeps_a_fixed_interval() {
        let mut backoff = Backoff::new(&policy(0.0).with_backoff_factor(1.0), 1);
        assert_eq!(gaps_ms(&mut backoff, 4), [1000; 4]);
    }

    #[test]
    fn jittered_gaps_stay_within_the_documented_range() {
        for jitter in [0.2, 0.5, 1.0] {
            let mut jittered = Backoff::new(&policy(jitter), 42);
            let mut nominal = Backoff::new(&policy(0.0), 42);
            for _ in 0..200 {
                let d = nominal.next_delay().as_secs_f64();
                let drawn = jittered.next_delay().as_secs_f64();
                assert!(drawn <= d + 1e-9, "{drawn} > {d}");
                assert!(
                    drawn >= d * (1.0 - jitter) - 1e-9,
                    "{drawn} < {d}*(1-{jitter})"
                );
            }
        }
    }

    #[test]
    fn jitter_actually_spreads_the_gaps() {
        let mut backoff = Backoff::new(&policy(1.0).with_backoff_factor(1.0), 7);
        let gaps = gaps_ms(&mut backoff, 50);
        let (min, max) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
        assert!(
            max - min > 500,
            "full jitter over 1 s should spread widely: {gaps:?}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let a = gaps_ms(&mut Backoff::new(&policy(0.5), 9), 20);
        let b = gaps_ms(&mut Backoff::new(&policy(0.5), 9), 20);
        let c = gaps_ms(&mut Backoff::new(&policy(0.5), 10), 20);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn restart_goes_back_to_the_initial_gap() {
        let mut backoff = Backoff::new(&policy(0.0), 1);
        assert_eq!(gaps_ms(&mut backoff, 3), [1000, 2000, 4000]);
        backoff.restart();
        assert_eq!(gaps_ms(&mut backoff, 2), [1000, 2000]);
    }

    #[test]
    fn shorten_never_lengthens() {
        let mut backoff = Backoff::new(&policy(0.5), 3);
        for _ in 0..100 {
            let drawn = backoff.shorten(Duration::from_secs(10));
            assert!(
                drawn <= Duration::from_secs(10) && drawn >= Duration::from_secs(5),
                "{drawn:?}"
            );
        }
    }

    #[test]
    fn a_huge_factor_saturates_at_the_cap_instead_of_overflowing() {
        let mut backoff = Backoff::new(&policy(0.0).with_backoff_factor(1e300), 1);
        assert_eq!(
            gaps_ms(&mut backoff, 5),
            [1000, 10_000, 10_000, 10_000, 10_000]
        );
    }
}
