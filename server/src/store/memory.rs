//! The embedded backend (`--store memory`, the default): the jobs and the idempotency keys
//! of one process, in two tables under one lock, so a keyed creation is one atomic step.
//! Nothing outlives the process, and nothing is shared: one replica only.

mod table;

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use self::table::JobTable;
use super::idempotency::{KeyTable, Keyed, KEY_TTL};
use super::{
    CancelOutcome, Inserted, Job, JobBackend, JobId, JobsByState, StoreError, StoreLimits,
};

/// The jobs and keys of this process.
#[derive(Debug)]
pub struct MemoryBackend {
    tables: Mutex<Tables>,
    limits: StoreLimits,
}

#[derive(Debug)]
struct Tables {
    jobs: JobTable,
    keys: KeyTable,
}

impl MemoryBackend {
    /// Empty tables bounded by `limits`; a key per job at most, so `max_jobs` bounds the
    /// keys too.
    pub fn new(limits: StoreLimits) -> Self {
        MemoryBackend {
            tables: Mutex::new(Tables {
                jobs: JobTable::new(limits.job_ttl, limits.max_jobs),
                keys: KeyTable::new(KEY_TTL, limits.max_jobs),
            }),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a table half-written (inserts and
        // lookups are single calls), so a poisoned lock is still safe to use.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The refusal of a creation past `max_jobs`, in one wording for every backend.
    pub fn full(max_jobs: usize, retry_after: std::time::Duration) -> StoreError {
        StoreError::Busy {
            reason: format!(
                "the server keeps {max_jobs} jobs at most, and is full until the oldest expire"
            ),
            retry_after,
        }
    }
}

impl JobBackend for MemoryBackend {
    async fn insert(
        &self,
        id: JobId,
        job: Job,
        keyed: Option<Keyed<'_>>,
        now: Instant,
    ) -> Result<Inserted, StoreError> {
        let mut tables = self.lock();
        if let Some(keyed) = keyed {
            if let Some(seen) = tables.keys.seen(keyed.key, now) {
                return Ok(Inserted::Replayed {
                    request: seen.request.clone(),
                    job_id: seen.job_id,
                });
            }
        }
        tables
            .jobs
            .insert(id, job, now)
            .map_err(|full| Self::full(self.limits.max_jobs, full.retry_after))?;
        if let Some(keyed) = keyed {
            tables
                .keys
                .remember(keyed.key, keyed.request.clone(), id, now);
        }
        Ok(Inserted::New)
    }

    async fn get(&self, id: JobId, now: Instant) -> Result<Option<Job>, StoreError> {
        Ok(self.lock().jobs.get(id, now))
    }

    async fn get_many(&self, ids: &[JobId], now: Instant) -> Result<Vec<Option<Job>>, StoreError> {
        let tables = self.lock();
        Ok(ids.iter().map(|id| tables.jobs.get(*id, now)).collect())
    }

    async fn cancel(
        &self,
        id: JobId,
        now: Instant,
    ) -> Result<Option<(CancelOutcome, Job)>, StoreError> {
        Ok(self.lock().jobs.cancel(id, now))
    }

    async fn jobs_by_state(&self, now: Instant) -> Result<JobsByState, StoreError> {
        let mut counts = JobsByState::default();
        for job in self.lock().jobs.jobs(now) {
            counts.count(job, now);
        }
        Ok(counts)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// This process is the only one asking, and its store keeps its candidate for as long
    /// as it runs.
    async fn default_job(&self, candidate: Job, _now: Instant) -> Result<Job, StoreError> {
        Ok(candidate)
    }
}
