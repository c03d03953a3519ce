//! The jobs the server knows, by id, and the requests waiting on them.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | the store's interface ([`JobBackend`]), its model and its errors |
//! | [`id`] | job ids |
//! | [`memory`] | the embedded backend (`--store memory`): one process's tables |
//! | [`redis`] | the fleet's backend (`--store redis://...`): jobs in Redis, a local cache |
//! | [`backend`] | the backend chosen at start, behind the one interface |
//! | `defaults.rs` | [`JobDefaults`]: what a job is when its creator leaves things out |
//! | [`front`] | [`JobStore`]: a backend plus what stays in each replica (held requests, their wake-ups) |
//! | [`held`] | the bounds on held requests (long-polls and watches) and their count |
//! | `watch.rs` | many jobs in one held request; `watch/stream.rs`, their event stream's feed |
//! | `wall_clock.rs` | instants as wall-clock times, for jobs shared between processes |
//!
//! A job's definition ([`Job`]) is all a backend keeps: its status follows from it and the
//! clock, so a backend is asked nothing as time passes, and a job's waiters are woken in the
//! replica that holds them (see [`crate::transitions`]). A cancel is the one change to a
//! definition; the backend makes it atomically and tells every replica.

pub mod backend;
mod defaults;
pub mod front;
pub mod held;
pub mod id;
pub mod memory;
pub mod redis;
pub(crate) mod wall_clock;
mod watch;

use std::future::Future;
use std::time::{Duration, Instant};

pub use backend::Backend;
pub use defaults::JobDefaults;
pub use front::JobStore;
pub use held::{Held, LongPollLimits};
pub use id::{JobId, JobKey};
use video_translation_protocol::{CreateJob, Outcome};
pub use watch::stream::{JobFeed, OpenedFeed};

use crate::idempotency::Keyed;
pub use crate::job::{CancelOutcome, Job};

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

/// What the store could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot take this request now (jobs or held requests at their cap);
    /// asking again after `retry_after` may succeed.
    #[error("{reason}")]
    Busy {
        /// What is full, for the error message.
        reason: String,
        /// When to ask again.
        retry_after: Duration,
    },
    /// The backend did not answer in time, or answered with an error: Redis is down, slow,
    /// full or refusing. Nothing was done; asking again later may succeed. The text is the
    /// detail for the log (made by [`StoreError::unavailable`], which logs it); the error
    /// shows only the contract's short message, so no Redis error, script hash or address
    /// reaches an answer.
    #[error("the job store cannot serve this request now; ask again after Retry-After")]
    Unavailable(String),
    /// An `Idempotency-Key` used before with another request.
    #[error("the Idempotency-Key {0:?} was used with another body; use a new key for another job")]
    KeyReused(String),
}

impl StoreError {
    /// How long a caller should wait before retrying a request refused with `Unavailable`:
    /// long enough for a restarted Redis to come back, short enough not to lose a poller.
    pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

    /// `Unavailable` with `detail`, which is logged here, the one place it is seen.
    pub fn unavailable(operation: &'static str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        tracing::warn!(operation, error = %detail, "the job store failed");
        StoreError::Unavailable(detail)
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

/// A request to create a job; `None` fields take the server's defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewJob {
    /// How long it truly runs.
    pub duration: Option<Duration>,
    /// How long the server reports it runs.
    pub estimate: Option<Duration>,
    /// How it ends.
    pub outcome: Option<Outcome>,
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
    /// within [`KEY_TTL`](crate::idempotency::KEY_TTL), stores nothing and says what the key
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
    /// cancel. Every process sharing the backend learns of the cancel (see [`backend`]).
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
