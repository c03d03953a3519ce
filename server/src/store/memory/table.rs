//! The created jobs, bounded in number and in time: each job is forgotten a while after it
//! ends, and past a cap on how many are kept, new ones are refused until the oldest expire.
//! A flood of `POST /jobs` therefore costs a bounded amount of memory.

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasherDefault;
use std::time::{Duration, Instant};

use crate::job::{CancelOutcome, Job};
use crate::store::id::{JobId, RandomIdHasher};

/// The created jobs by id, each kept until `ttl` after its end.
#[derive(Debug)]
pub struct JobTable {
    by_id: HashMap<JobId, Job, BuildHasherDefault<RandomIdHasher>>,
    /// When each job is forgotten, earliest first: one entry per job, moved when a cancel
    /// makes it expire sooner, so nothing of it stays once it has expired.
    expiries: BTreeSet<(Instant, JobId)>,
    ttl: Duration,
    capacity: usize,
}

/// The table holds `capacity` jobs; the earliest of them is forgotten after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFull {
    /// How long until a place frees up.
    pub retry_after: Duration,
}

impl JobTable {
    /// An empty table keeping each job `ttl` after its end, and at most `capacity` jobs.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        JobTable {
            by_id: HashMap::default(),
            expiries: BTreeSet::new(),
            ttl,
            capacity,
        }
    }

    /// Adds `job` under `id`, first forgetting the jobs expired by `now`.
    pub fn insert(&mut self, id: JobId, job: Job, now: Instant) -> Result<(), TableFull> {
        self.forget_expired(now);
        if self.by_id.len() >= self.capacity {
            let earliest = self.expiries.first().map_or(now, |(at, _)| *at);
            return Err(TableFull {
                retry_after: earliest.saturating_duration_since(now),
            });
        }
        self.by_id.insert(id, job);
        self.expiries.insert((self.expires_at(&job), id));
        Ok(())
    }

    /// The job `id` names, unless it is unknown or expired by `now`.
    pub fn get(&self, id: JobId, now: Instant) -> Option<Job> {
        self.by_id
            .get(&id)
            .filter(|job| self.expires_at(job) > now)
            .copied()
    }

    /// Cancels job `id` at `now` (see [`Job::cancel`]): what happened and the job as it is
    /// now, or `None` if it is unknown or expired.
    pub fn cancel(&mut self, id: JobId, now: Instant) -> Option<(CancelOutcome, Job)> {
        let ttl = self.ttl;
        let job = self
            .by_id
            .get_mut(&id)
            .filter(|job| job.ends_at() + ttl > now)?;
        let before = *job;
        let outcome = job.cancel(now);
        let job = *job;
        if outcome == CancelOutcome::Cancelled {
            // It ended early, so it expires early.
            self.expiries.remove(&(self.expires_at(&before), id));
            self.expiries.insert((self.expires_at(&job), id));
        }
        Some((outcome, job))
    }

    /// Every job kept and not expired by `now`.
    pub fn jobs(&self, now: Instant) -> impl Iterator<Item = &Job> {
        self.by_id
            .values()
            .filter(move |job| self.expires_at(job) > now)
    }

    /// How many jobs are kept, expired ones not yet swept included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no job is kept.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn expires_at(&self, job: &Job) -> Instant {
        job.ends_at() + self.ttl
    }

    /// Each job leaves the set once, so sweeping costs O(log n) per job over its life.
    fn forget_expired(&mut self, now: Instant) {
        while let Some((at, id)) = self.expiries.first().copied() {
            if at > now {
                break;
            }
            self.expiries.pop_first();
            self.by_id.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use video_translation_protocol::Outcome;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn job(created_at: Instant, duration: Duration) -> Job {
        Job::new(created_at, duration, duration, Outcome::Completed)
    }

    fn id(n: u128) -> JobId {
        JobId::parse(&format!("{n:032x}")).unwrap()
    }

    #[test]
    fn a_job_is_kept_until_the_ttl_after_its_end() {
        let start = Instant::now();
        let mut table = JobTable::new(10 * SECOND, 100);
        table.insert(id(1), job(start, 5 * SECOND), start).unwrap();
        assert!(table.get(id(1), start + 14 * SECOND).is_some());
        assert!(table.get(id(1), start + 15 * SECOND).is_none(), "expired");
        assert!(table.get(id(2), start).is_none(), "unknown");
    }

    #[test]
    fn expired_jobs_are_swept_when_new_ones_come() {
        let start = Instant::now();
        let mut table = JobTable::new(SECOND, 100);
        for n in 0..50 {
            table.insert(id(n), job(start, SECOND), start).unwrap();
        }
        assert_eq!(table.len(), 50);
        table
            .insert(id(99), job(start + 3 * SECOND, SECOND), start + 3 * SECOND)
            .unwrap();
        assert_eq!(table.len(), 1, "the 50 expired ones are gone");
    }

    #[test]
    fn a_full_table_refuses_until_its_earliest_job_expires() {
        let start = Instant::now();
        let mut table = JobTable::new(10 * SECOND, 2);
        table.insert(id(1), job(start, 5 * SECOND), start).unwrap();
        table.insert(id(2), job(start, 60 * SECOND), start).unwrap();
        let refused = table.insert(id(3), job(start, SECOND), start + 3 * SECOND);
        assert_eq!(
            refused,
            Err(TableFull {
                retry_after: 12 * SECOND
            }),
            "job 1 expires at 15 s"
        );
        assert!(table.get(id(3), start + 3 * SECOND).is_none());
        table
            .insert(id(3), job(start, SECOND), start + 15 * SECOND)
            .expect("job 1 expired, so there is room");
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_cancelled_job_expires_the_ttl_after_its_cancel() {
        let start = Instant::now();
        let mut table = JobTable::new(10 * SECOND, 100);
        table.insert(id(1), job(start, 60 * SECOND), start).unwrap();
        let (outcome, job) = table.cancel(id(1), start + SECOND).unwrap();
        assert_eq!(outcome, CancelOutcome::Cancelled);
        assert_eq!(job.ends_at(), start + SECOND);
        assert!(table.get(id(1), start + 10 * SECOND).is_some());
        assert!(table.get(id(1), start + 11 * SECOND).is_none(), "expired");
        assert!(table.cancel(id(1), start + 11 * SECOND).is_none());
        assert!(table.cancel(id(2), start).is_none(), "unknown");
        table.forget_expired(start + 11 * SECOND);
        assert!(table.is_empty(), "swept at its cancel's expiry");
        assert!(
            table.expiries.is_empty(),
            "nothing of it is kept until its original end"
        );
    }
}
