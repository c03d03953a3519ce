//! Instants as wall-clock times. A job shared between processes cannot carry an [`Instant`]
//! (its origin is private to each process), so a shared backend stores microseconds since
//! the Unix epoch and each process maps them to and from its own instants through one pair
//! of readings taken at start. Replicas on several machines then agree on a job's state as
//! closely as their clocks agree (NTP keeps that within milliseconds).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One process's mapping between its instants and Unix time.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    anchor: Instant,
    anchor_unix: Duration,
}

impl WallClock {
    /// Reads both clocks now. A system clock before 1970 reads as 1970: no job is that old.
    pub fn now() -> Self {
        WallClock {
            anchor: Instant::now(),
            anchor_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    /// `at` as microseconds since the Unix epoch.
    pub fn unix_micros_of(&self, at: Instant) -> u64 {
        let unix = if at >= self.anchor {
            self.anchor_unix + (at - self.anchor)
        } else {
            self.anchor_unix.saturating_sub(self.anchor - at)
        };
        u64::try_from(unix.as_micros()).unwrap_or(u64::MAX)
    }

    /// The instant of `unix_micros` in this process. Times before what this process's
    /// instants can express (older than the machine's uptime, on some systems) read as the
    /// earliest it can: such a job has long ended, and its state reads the same.
    pub fn instant_of(&self, unix_micros: u64) -> Instant {
        let unix = Duration::from_micros(unix_micros);
        if unix >= self.anchor_unix {
            self.anchor
                .checked_add(unix - self.anchor_unix)
                .unwrap_or(self.anchor)
        } else {
            let before = self.anchor_unix - unix;
            self.anchor
                .checked_sub(before)
                .unwrap_or_else(|| earliest_before(self.anchor, before))
        }
    }
}

/// The earliest instant at most `before` ahead of `anchor`, halving until it is expressible.
fn earliest_before(anchor: Instant, before: Duration) -> Instant {
    let mut step = before;
    let mut earliest = anchor;
    while !step.is_zero() {
        if let Some(earlier) = earliest.checked_sub(step) {
            earliest = earlier;
        }
        step /= 2;
    }
    earliest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_round_trips_through_unix_time_to_the_microsecond() {
        let clock = WallClock::now();
        for at in [
            Instant::now(),
            Instant::now() + Duration::from_secs(3600),
            Instant::now() - Duration::from_millis(1500),
        ] {
            let back = clock.instant_of(clock.unix_micros_of(at));
            let error = if back > at { back - at } else { at - back };
            assert!(error < Duration::from_micros(2), "{error:?}");
        }
    }

    /// A clock read now, and how long reading it took: its instant and its Unix time were
    /// read one after the other within that span, so its mapping is off by at most that.
    fn read_clock() -> (WallClock, Duration) {
        let before = Instant::now();
        let clock = WallClock::now();
        (clock, before.elapsed())
    }

    #[test]
    fn two_processes_agree_on_a_time_to_within_their_clocks() {
        let (here, reading_here) = read_clock();
        let (there, reading_there) = read_clock();
        let created = Instant::now();
        let shared = here.unix_micros_of(created);
        let seen_there = there.instant_of(shared);
        let gap = if seen_there > created {
            seen_there - created
        } else {
            created - seen_there
        };
        // Their readings' spans, not a fixed figure: a thread preempted between the two
        // reads of one clock (on a loaded machine) widens the span, and the gap with it. Plus
        // the microseconds the shared time is rounded to.
        let within = reading_here.max(reading_there) + Duration::from_micros(2);
        assert!(gap <= within, "{gap:?}, more than {within:?}");
    }

    #[test]
    fn a_time_older_than_any_instant_reads_as_long_past() {
        let clock = WallClock::now();
        let ancient = clock.instant_of(0);
        assert!(ancient <= clock.anchor);
    }
}
