//! The jobs the server knows, by id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use video_translation_protocol::{JobStatus, Outcome, DEFAULT_JOB_ID};

use crate::job::Job;

/// A job id: 128 random bits as 32 lowercase hex digits, so ids cannot be guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(u128);

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
}

impl JobDefaults {
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
}

impl JobStore {
    /// A store whose default job starts now.
    pub fn new(defaults: JobDefaults) -> Self {
        let default_job = Job {
            created_at: Instant::now(),
            duration: defaults.duration,
            outcome: defaults.draw_outcome(),
        };
        JobStore {
            defaults,
            default_job,
            jobs: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a job now; missing parameters take the server's defaults.
    pub fn create(&self, duration: Option<Duration>, outcome: Option<Outcome>) -> JobStatus {
        let job = Job {
            created_at: Instant::now(),
            duration: duration.unwrap_or(self.defaults.duration),
            outcome: outcome.unwrap_or_else(|| self.defaults.draw_outcome()),
        };
        let id = JobId::random();
        self.lock().insert(id, job);
        job.status_at(&id.to_string(), job.created_at)
    }

    /// The status of job `id` now, or `None` if there is no such job.
    pub fn status(&self, id: &str) -> Option<JobStatus> {
        let id = JobId::parse(id)?;
        let job = *self.lock().get(&id)?;
        Some(job.status_at(&id.to_string(), Instant::now()))
    }

    /// The status of the default job now.
    pub fn default_status(&self) -> JobStatus {
        self.default_job.status_at(DEFAULT_JOB_ID, Instant::now())
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
        })
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
        let created = store.create(Some(Duration::from_secs(5)), None);
        assert_eq!(created.result, JobResult::Pending);
        assert_eq!(created.progress, 0.0);
        assert_eq!(created.eta_ms, Some(5_000));

        let found = store.status(&created.id).expect("the job exists");
        assert_eq!(found.id, created.id);
        assert_eq!(found.result, JobResult::Pending);
    }

    #[test]
    fn unknown_and_malformed_ids_are_not_found() {
        let store = store(0.0);
        assert!(store.status(&"0".repeat(32)).is_none());
        assert!(store.status("nope").is_none());
    }

    #[test]
    fn missing_parameters_take_the_defaults() {
        let always_fails = store(1.0);
        let created = always_fails.create(None, None);
        assert_eq!(created.eta_ms, Some(60_000));
        let instant = always_fails.create(Some(Duration::ZERO), None);
        assert_eq!(instant.result, JobResult::Error);

        let never_fails = store(0.0);
        let instant = never_fails.create(Some(Duration::ZERO), None);
        assert_eq!(instant.result, JobResult::Completed);
    }

    #[test]
    fn an_explicit_outcome_overrides_the_error_rate() {
        let store = store(1.0);
        let created = store.create(Some(Duration::ZERO), Some(Outcome::Completed));
        assert_eq!(created.result, JobResult::Completed);
    }

    #[test]
    fn the_default_job_reports_under_its_fixed_id() {
        let status = store(0.0).default_status();
        assert_eq!(status.id, DEFAULT_JOB_ID);
        assert_eq!(status.result, JobResult::Pending);
    }
}
