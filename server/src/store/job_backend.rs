//! The store's interface to where job definitions live ([`JobBackend`]), implemented by
//! the memory and the Redis backends, and what its methods take and give.

use std::future::Future;
use std::time::{Duration, Instant};

use video_translation_protocol::CreateJob;

use super::error::StoreError;
use super::id::JobId;
use super::idempotency::Keyed;
use crate::job::{CancelOutcome, Job};

/// How much the store holds at most, fleet-wide.
#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    /// How long a job is kept after it ends; then its id answers 404.
    pub job_ttl: Duration,
    /// How many created jobs are kept at once (pending, or ended within `job_ttl`).
    pub max_jobs: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            job_ttl: Duration::from_secs(600),
            max_jobs: 100_000,
        }
    }
}

/// How many kept jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobsByState {
    /// Still running.
    pub pending: usize,
    /// Ended `completed`.
    pub completed: usize,
    /// Ended `error`, cancelled ones included.
    pub error: usize,
}

impl JobsByState {
    /// Counts `job` in the state it is in at `now`.
    pub fn count(&mut self, job: &Job, now: Instant) {
        use video_translation_protocol::JobResult;
        match job.status_at(String::new(), now).result {
            JobResult::Pending => self.pending += 1,
            JobResult::Completed => self.completed += 1,
            JobResult::Error => self.error += 1,
        }
    }
}

/// What [`JobBackend::insert`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// The job is stored under its id.
    New,
    /// The `Idempotency-Key` was used before: nothing was stored, and this is what the key
    /// was first used for (the caller compares the requests).
    Replayed {
        /// The request the key first came with.
        request: CreateJob,
        /// The job it created, which may have expired since.
        job_id: JobId,
    },
}

/// The store's interface: where job definitions live. Every method is one atomic step on
/// the backend (one lock, or one Redis round trip), so replicas sharing a backend never see
/// half a change. Times are this process's [`Instant`]s; a backend shared between processes
/// converts them to wall-clock times (`wall_clock.rs`).
///
/// The conformance suite (`server/tests/store_conformance.rs`) runs the same tests against
/// every implementation.
pub trait JobBackend: Send + Sync {
    /// Stores `job` under `id` (the caller draws the id), first forgetting the jobs expired
    /// by `now`; `Busy` when `max_jobs` are kept. With a `keyed` request whose key was used
    /// within [`KEY_TTL`](super::idempotency::KEY_TTL), stores nothing and says what the key
    /// made; else the key is remembered with the job, in the same step.
    fn insert(
        &self,
        id: JobId,
        job: Job,
        keyed: Option<Keyed<'_>>,
        now: Instant,
    ) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    /// The job `id` names, unless it is unknown or expired by `now`.
    fn get(
        &self,
        id: JobId,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send;

    /// [`JobBackend::get`] for many ids in one step, in the order given.
    fn get_many(
        &self,
        ids: &[JobId],
        now: Instant,
    ) -> impl Future<Output = Result<Vec<Option<Job>>, StoreError>> + Send;

    /// Cancels job `id` at `now` (see [`Job::cancel`]): what happened and the job as it is
    /// now, or `None` if it is unknown or expired. A cancelled job expires `job_ttl` after its
    /// cancel. Every process sharing the backend learns of the cancel (`events.rs`).
    fn cancel(
        &self,
        id: JobId,
        now: Instant,
    ) -> impl Future<Output = Result<Option<(CancelOutcome, Job)>, StoreError>> + Send;

    /// How many kept jobs are in each state at `now` (for a scrape: it visits every job).
    fn jobs_by_state(
        &self,
        now: Instant,
    ) -> impl Future<Output = Result<JobsByState, StoreError>> + Send;

    /// Whether the backend answers now (`GET /readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The default job behind `GET /status` at `now`: one per backend, so every process
    /// sharing it answers the same job. The first to ask stores its `candidate`; the others
    /// get that. A shared backend lets it expire as a job does, `job_ttl` after its end.
    fn default_job(
        &self,
        candidate: Job,
        now: Instant,
    ) -> impl Future<Output = Result<Job, StoreError>> + Send;
}
