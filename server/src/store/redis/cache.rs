//! The jobs this replica has seen, so that polling a job it knows costs no Redis round trip.
//!
//! Sound because a job's definition changes only by a cancel, and every cancel is published:
//! the event listener forgets the job here as soon as it hears of it. Two races are closed:
//! - a read that began before a cancel's event and ends after it would put the old
//!   definition back. Every forgetting bumps an epoch, and a read fills the cache only if no
//!   forgetting happened since it began;
//! - while the event stream is cut, cancels go unheard. The cache is then distrusted:
//!   emptied, and bypassed until the listener has subscribed again.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::job::Job;
use crate::store::id::{JobId, RandomIdHasher};

/// The jobs seen, bounded by `capacity` (`--max-jobs`: the fleet keeps no more).
#[derive(Debug)]
pub struct SeenJobs {
    state: Mutex<State>,
    trusted: AtomicBool,
    ttl: Duration,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    jobs: HashMap<JobId, Job, BuildHasherDefault<RandomIdHasher>>,
    /// Bumped by every forgetting.
    epoch: u64,
}

/// When a read began, for [`SeenJobs::fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

impl SeenJobs {
    /// An empty cache, distrusted until the event stream is up; each job is kept `ttl` after
    /// its end, like the store keeps it.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        SeenJobs {
            state: Mutex::new(State::default()),
            trusted: AtomicBool::new(false),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// The job `id` names if it was seen and is not expired by `now`, and the cache is
    /// trusted; else `None`, and the caller asks Redis.
    pub fn get(&self, id: JobId, now: Instant) -> Option<Job> {
        if !self.trusted.load(Ordering::Acquire) {
            return None;
        }
        self.lock()
            .jobs
            .get(&id)
            .filter(|job| job.ends_at() + self.ttl > now)
            .copied()
    }

    /// Call before reading from Redis; hand the result to [`SeenJobs::fill`].
    pub fn epoch(&self) -> Epoch {
        Epoch(self.lock().epoch)
    }

    /// Keeps `job`, read from Redis since `since`, unless a cancel was heard meanwhile or the
    /// cache is distrusted. Past the capacity, the expired jobs go, or all if none has.
    pub fn fill(&self, id: JobId, job: Job, since: Epoch, now: Instant) {
        if !self.trusted.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.lock();
        if state.epoch != since.0 {
            return;
        }
        if state.jobs.len() >= self.capacity {
            let ttl = self.ttl;
            state.jobs.retain(|_, job| job.ends_at() + ttl > now);
            if state.jobs.len() >= self.capacity {
                // Only when every seen job is live: as many as the fleet may keep, so this
                // replica has seen them all. Starting over costs one round trip per job.
                state.jobs.clear();
            }
        }
        state.jobs.insert(id, job);
    }

    /// Forgets job `id`: it was cancelled.
    pub fn forget(&self, id: JobId) {
        let mut state = self.lock();
        state.epoch += 1;
        state.jobs.remove(&id);
    }

    /// The event stream is cut: forget everything and bypass the cache until [`trust`].
    ///
    /// [`trust`]: SeenJobs::trust
    pub fn distrust(&self) {
        self.trusted.store(false, Ordering::Release);
        let mut state = self.lock();
        state.epoch += 1;
        state.jobs.clear();
    }

    /// The event stream is up: every cancel from now on is heard.
    pub fn trust(&self) {
        self.trusted.store(true, Ordering::Release);
    }

    /// Whether the event stream is up.
    pub fn is_trusted(&self) -> bool {
        self.trusted.load(Ordering::Acquire)
    }

    /// How many jobs are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Whether no job is kept.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the map and epoch consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use video_translation_protocol::Outcome;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn job(start: Instant) -> Job {
        Job::new(start, 5 * SECOND, 5 * SECOND, Outcome::Completed)
    }

    fn id(n: u128) -> JobId {
        JobId::parse(&format!("{n:032x}")).unwrap()
    }

    fn trusted(capacity: usize) -> SeenJobs {
        let cache = SeenJobs::new(10 * SECOND, capacity);
        cache.trust();
        cache
    }

    #[test]
    fn a_seen_job_is_served_until_its_ttl_after_its_end() {
        let start = Instant::now();
        let cache = trusted(10);
        cache.fill(id(1), job(start), cache.epoch(), start);
        assert_eq!(cache.get(id(1), start + 14 * SECOND), Some(job(start)));
        assert_eq!(cache.get(id(1), start + 15 * SECOND), None, "expired");
        assert_eq!(cache.get(id(2), start), None, "never seen");
    }

    #[test]
    fn a_read_that_began_before_a_cancel_does_not_fill_the_cache() {
        let start = Instant::now();
        let cache = trusted(10);
        let before = cache.epoch();
        cache.forget(id(1));
        cache.fill(id(1), job(start), before, start);
        assert_eq!(cache.get(id(1), start), None);
        cache.fill(id(1), job(start), cache.epoch(), start);
        assert!(
            cache.get(id(1), start).is_some(),
            "a read begun after it does"
        );
    }

    #[test]
    fn a_distrusted_cache_serves_nothing_and_is_emptied() {
        let start = Instant::now();
        let cache = SeenJobs::new(10 * SECOND, 10);
        cache.fill(id(1), job(start), cache.epoch(), start);
        assert!(cache.is_empty(), "not filled before the events are up");
        cache.trust();
        cache.fill(id(1), job(start), cache.epoch(), start);
        cache.distrust();
        assert_eq!(cache.get(id(1), start), None);
        cache.trust();
        assert_eq!(cache.get(id(1), start), None, "emptied, not merely hidden");
    }

    #[test]
    fn past_its_capacity_the_cache_drops_expired_jobs_first() {
        let start = Instant::now();
        let cache = trusted(2);
        let old = Job::new(start, SECOND, SECOND, Outcome::Completed);
        cache.fill(id(1), old, cache.epoch(), start);
        cache.fill(id(2), job(start), cache.epoch(), start);
        cache.fill(id(3), job(start), cache.epoch(), start + 12 * SECOND);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(id(2), start).is_some());
        assert!(cache.get(id(3), start).is_some());
    }
}
