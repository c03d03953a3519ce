//! The jobs the server knows, by id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use video_translation_protocol::{JobStatus, Outcome, DEFAULT_JOB_ID};

use crate::job::Job;
use crate::transitions::Transitions;

/// A job id: 128 random bits as 32 lowercase hex digits, so ids cannot be guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u128);

/// Which job: the default one behind `GET /status`, or one created by `POST /jobs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKey {
    /// The job behind `GET /status`.
    Default,
    /// A job created by `POST /jobs`.
    Created(JobId),
}

impl JobId {
    fn random() -> Self {
        JobId(rand::random())
    }

    /// Parses the 32-hex-digit form; anything else is no id of ours.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(JobId)
    }
}

impl std::fmt::Display for JobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobKey::Default => f.write_str(DEFAULT_JOB_ID),
            JobKey::Created(id) => id.fmt(f),
        }
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Defaults for jobs created without an explicit duration or outcome.
#[derive(Debug, Clone, Copy)]
pub struct JobDefaults {
    /// Duration of a job that names none.
    pub duration: Duration,
    /// Chance that a job naming no outcome ends in `error`.
    pub error_rate: f64,
    /// How far a job's reported estimate strays from its true duration: the estimate is
    /// drawn from `duration × U(1 − eta_error, 1 + eta_error)`.
    pub eta_error: f64,
}

impl JobDefaults {
    fn draw_estimate(&self, duration: Duration) -> Duration {
        if self.eta_error == 0.0 {
            return duration;
        }
        let factor = 1.0 - self.eta_error + 2.0 * self.eta_error * rand::random::<f64>();
        duration.mul_f64(factor)
    }

    fn new_job(
        &self,
        duration: Option<Duration>,
        estimate: Option<Duration>,
        outcome: Option<Outcome>,
    ) -> Job {
        let duration = duration.unwrap_or(self.duration);
        Job {
            created_at: Instant::now(),
            duration,
            estimate: estimate.unwrap_or_else(|| self.draw_estimate(duration)),
            outcome: outcome.unwrap_or_else(|| self.draw_outcome()),
        }
    }

    fn draw_outcome(&self) -> Outcome {
        // rand::random::<f64>() is in [0, 1), so a rate of 0 never errs and 1 always does.
        if rand::random::<f64>() < self.error_rate {
            Outcome::Error
        } else {
            Outcome::Completed
        }
    }
}

/// Every job the server has created, plus the default job behind `GET /status`.
#[derive(Debug)]
pub struct JobStore {
    defaults: JobDefaults,
    default_job: Job,
    jobs: Mutex<HashMap<JobId, Job>>,
    transitions: Transitions<JobKey>,
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

impl JobStore {
    /// A store whose default job starts now.
    pub fn new(defaults: JobDefaults) -> Self {
        JobStore {
            default_job: defaults.new_job(None, None, None),
            defaults,
            jobs: Mutex::new(HashMap::new()),
            transitions: Transitions::start(),
        }
    }

    /// Starts a job now.
    pub fn create(&self, request: NewJob) -> JobStatus {
        let job = self
            .defaults
            .new_job(request.duration, request.estimate, request.outcome);
        let id = JobId::random();
        self.lock().insert(id, job);
        job.status_at(&id.to_string(), job.created_at)
    }

    /// The job an id names: `None` if the id is malformed or unknown.
    pub fn find(&self, id: &str) -> Option<JobKey> {
        let id = JobId::parse(id)?;
        self.lock().contains_key(&id).then_some(JobKey::Created(id))
    }

    /// The status of a job now.
    pub fn status(&self, key: JobKey) -> Option<JobStatus> {
        let job = self.job(key)?;
        Some(job.status_at(&key.to_string(), Instant::now()))
    }

    /// The status of job `key` as soon as it leaves `pending`, or after `wait`, whichever
    /// comes first. Waiters of one job share one notification (see [`Transitions`]).
    pub async fn status_after(&self, key: JobKey, wait: Duration) -> Option<JobStatus> {
        let job = self.job(key)?;
        if !wait.is_zero() && !job.is_final_at(Instant::now()) {
            let notify: Arc<Notify> = self.transitions.watch(key, job.ends_at());
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Enabled first, checked second: a job that ended in between is not missed.
            if !job.is_final_at(Instant::now()) {
                let _ = tokio::time::timeout(wait, notified).await;
            }
        }
        // A job never changes once created: no need to look it up again after the wait.
        Some(job.status_at(&key.to_string(), Instant::now()))
    }

    /// How many jobs have long-poll waiters right now.
    pub fn jobs_with_waiters(&self) -> usize {
        self.transitions.watched_jobs()
    }

    fn job(&self, key: JobKey) -> Option<Job> {
        match key {
            JobKey::Default => Some(self.default_job),
            JobKey::Created(id) => self.lock().get(&id).copied(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, Job>> {
        // A panic while holding the lock cannot leave the map half-written (inserts and
        // lookups are single calls), so a poisoned lock is still safe to use.
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use video_translation_protocol::JobResult;

    use super::*;

    fn store(error_rate: f64) -> JobStore {
        JobStore::new(JobDefaults {
            duration: Duration::from_secs(60),
            error_rate,
            eta_error: 0.0,
        })
    }

    fn lasting(duration: Duration) -> NewJob {
        NewJob {
            duration: Some(duration),
            ..NewJob::default()
        }
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn job_ids_are_32_hex_digits_and_round_trip() {
        let id = JobId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(JobId::parse(&text), Some(id));
    }

    #[test]
    fn malformed_ids_do_not_parse() {
        for bad in [
            "",
            "default",
            "xyz",
            &"g".repeat(32),
            &"a".repeat(31),
            &"a".repeat(33),
            "+0000000000000000000000000000000",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_created_job_can_be_looked_up_by_its_id() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::from_secs(5)));
        assert_eq!(created.result, JobResult::Pending);
        assert_eq!(created.progress, 0.0);
        assert_eq!(created.eta_ms, Some(5_000));

        let key = store.find(&created.id).expect("the job exists");
        let found = store.status(key).unwrap();
        assert_eq!(found.id, created.id);
        assert_eq!(found.result, JobResult::Pending);
    }

    #[test]
    fn unknown_and_malformed_ids_are_not_found() {
        let store = store(0.0);
        assert!(store.find(&"0".repeat(32)).is_none());
        assert!(store.find("nope").is_none());
        assert!(
            store.find("default").is_none(),
            "the default job is only at /status"
        );
    }

    #[test]
    fn missing_parameters_take_the_defaults() {
        let always_fails = store(1.0);
        let created = always_fails.create(NewJob::default());
        assert_eq!(created.eta_ms, Some(60_000));
        let instant = always_fails.create(lasting(Duration::ZERO));
        assert_eq!(instant.result, JobResult::Error);

        let never_fails = store(0.0);
        let instant = never_fails.create(lasting(Duration::ZERO));
        assert_eq!(instant.result, JobResult::Completed);
    }

    #[test]
    fn an_explicit_outcome_overrides_the_error_rate() {
        let store = store(1.0);
        let created = store.create(NewJob {
            outcome: Some(Outcome::Completed),
            ..lasting(Duration::ZERO)
        });
        assert_eq!(created.result, JobResult::Completed);
    }

    #[test]
    fn the_default_job_reports_under_its_fixed_id() {
        let status = store(0.0).status(JobKey::Default).unwrap();
        assert_eq!(status.id, DEFAULT_JOB_ID);
        assert_eq!(status.result, JobResult::Pending);
    }

    #[test]
    fn an_explicit_estimate_is_what_eta_reports() {
        let store = store(0.0);
        let created = store.create(NewJob {
            estimate: Some(Duration::from_secs(8)),
            ..lasting(Duration::from_secs(10))
        });
        assert_eq!(created.eta_ms, Some(8_000));
    }

    #[test]
    fn eta_error_strays_the_estimate_within_its_bound() {
        let store = JobStore::new(JobDefaults {
            duration: Duration::from_secs(100),
            error_rate: 0.0,
            eta_error: 0.2,
        });
        let etas: Vec<u64> = (0..200)
            .map(|_| store.create(NewJob::default()).eta_ms.unwrap())
            .collect();
        assert!(
            etas.iter().all(|eta| (80_000..=120_000).contains(eta)),
            "{etas:?}"
        );
        assert!(
            etas.iter().any(|eta| *eta != 100_000),
            "the estimate does stray"
        );
    }

    #[test]
    fn a_long_poll_answers_when_the_job_ends() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::from_millis(200)));
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let status = run(store.status_after(key, Duration::from_secs(10))).unwrap();
        let waited = started.elapsed();
        assert_eq!(status.result, JobResult::Completed);
        assert!(
            waited >= Duration::from_millis(150),
            "answered too soon: {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(2),
            "answered too late: {waited:?}"
        );
        assert_eq!(
            store.jobs_with_waiters(),
            0,
            "the fired notification is forgotten"
        );
    }

    #[test]
    fn a_long_poll_ends_after_its_wait_while_the_job_runs_on() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::from_secs(60)));
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let status = run(store.status_after(key, Duration::from_millis(100))).unwrap();
        assert_eq!(status.result, JobResult::Pending);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn a_finished_job_answers_a_long_poll_at_once() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::ZERO));
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let status = run(store.status_after(key, Duration::from_secs(30))).unwrap();
        assert_eq!(status.result, JobResult::Completed);
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(
            store.jobs_with_waiters(),
            0,
            "no notification for a finished job"
        );
    }
}
