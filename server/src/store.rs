//! The jobs the server knows, by id, and the requests waiting on them.

mod watch;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use video_translation_protocol::{JobResult, JobStatus, Outcome, DEFAULT_JOB_ID};

use crate::job::{CancelOutcome, Job};
use crate::job_table::JobTable;
use crate::metrics::StoreMetrics;
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

    /// Parses the 32-hex-digit form (either case); anything else is no id of ours.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.as_bytes();
        if digits.len() != 32 {
            return None;
        }
        // Once per poll: a plain fold is a fraction of `from_str_radix`'s cost.
        digits
            .iter()
            .try_fold(0u128, |bits, &digit| {
                Some(bits << 4 | u128::from(hex_digit_value(digit)?))
            })
            .map(JobId)
    }
}

fn hex_digit_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl JobKey {
    /// The id as callers see it: the default job's fixed name, or 32 hex digits.
    pub fn id_text(&self) -> String {
        match self {
            JobKey::Default => DEFAULT_JOB_ID.to_owned(),
            JobKey::Created(id) => id.to_hex(),
        }
    }
}

impl JobId {
    /// The 32 lowercase hex digits. By hand rather than `format!("{:032x}")`: every status
    /// answer carries its id, and the formatting machinery cost more than the lookup.
    pub fn to_hex(self) -> String {
        const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 32];
        for (half, bits) in [(self.0 >> 64) as u64, self.0 as u64]
            .into_iter()
            .enumerate()
        {
            for (i, digit) in digits[16 * half..16 * (half + 1)].iter_mut().enumerate() {
                *digit = HEX_DIGITS[(bits >> (60 - 4 * i)) as usize & 0xf];
            }
        }
        // Hex digits are ASCII, so this never falls back to the empty default.
        std::str::from_utf8(&digits).unwrap_or_default().to_owned()
    }
}

impl std::fmt::Display for JobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id_text())
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
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
        Job::new(
            Instant::now(),
            duration,
            estimate.unwrap_or_else(|| self.draw_estimate(duration)),
            outcome.unwrap_or_else(|| self.draw_outcome()),
        )
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

/// How much the store holds at most.
#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    /// How long a job is kept after it ends; then its id answers 404.
    pub job_ttl: Duration,
    /// How many created jobs are kept at once (pending, or ended within `job_ttl`).
    pub max_jobs: usize,
    /// How many long-polls may be held at once, over all jobs.
    pub max_waiters: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            job_ttl: Duration::from_secs(600),
            max_jobs: 100_000,
            max_waiters: 20_000,
        }
    }
}

/// The store cannot take this request now; asking again after `retry_after` may succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Busy {
    /// What is full, for the error message.
    pub reason: String,
    /// When to ask again.
    pub retry_after: Duration,
}

/// Every job the server has created, plus the default job behind `GET /status`.
#[derive(Debug)]
pub struct JobStore {
    defaults: JobDefaults,
    limits: StoreLimits,
    default_job: Job,
    jobs: Mutex<JobTable>,
    transitions: Transitions<JobKey>,
    /// Held requests right now: long-polls and watches.
    waiters: AtomicUsize,
    /// Of those, watches.
    watches: AtomicUsize,
    metrics: StoreMetrics,
    /// Set once the server is stopping: long-polls answer at once.
    stopping: AtomicBool,
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

/// The requests held right now, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// `GET /jobs/{id}` and `GET /status` waiting.
    pub long_polls: usize,
    /// `POST /jobs/watch` waiting.
    pub watches: usize,
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
    /// A store whose default job starts now, counting into metrics nobody reads.
    pub fn new(defaults: JobDefaults, limits: StoreLimits) -> Self {
        Self::with_metrics(defaults, limits, StoreMetrics::default())
    }

    /// A store whose default job starts now, counting its operations and wake fan-out into
    /// `metrics`.
    pub fn with_metrics(defaults: JobDefaults, limits: StoreLimits, metrics: StoreMetrics) -> Self {
        let fanout = metrics.wake_fanout.clone();
        JobStore {
            default_job: defaults.new_job(None, None, None),
            defaults,
            limits,
            jobs: Mutex::new(JobTable::new(limits.job_ttl, limits.max_jobs)),
            transitions: Transitions::start_observed(move |woken| fanout.observe(woken as f64)),
            waiters: AtomicUsize::new(0),
            watches: AtomicUsize::new(0),
            metrics,
            stopping: AtomicBool::new(false),
        }
    }

    /// How many kept jobs are in each state now (one pass over the table, under its lock:
    /// for a scrape, not for every request).
    pub fn jobs_by_state(&self) -> JobsByState {
        let now = Instant::now();
        let mut counts = JobsByState::default();
        for job in self.lock().jobs(now) {
            match job.status_at(String::new(), now).result {
                JobResult::Pending => counts.pending += 1,
                JobResult::Completed => counts.completed += 1,
                JobResult::Error => counts.error += 1,
            }
        }
        counts
    }

    /// The requests held right now, by kind.
    pub fn held(&self) -> Held {
        let all = self.waiters.load(Ordering::Relaxed);
        let watches = self.watches.load(Ordering::Relaxed);
        Held {
            long_polls: all.saturating_sub(watches),
            watches,
        }
    }

    /// Starts a job now, unless `max_jobs` are kept already.
    pub fn create(&self, request: NewJob) -> Result<JobStatus, Busy> {
        let job = self
            .defaults
            .new_job(request.duration, request.estimate, request.outcome);
        let id = JobId::random();
        self.metrics.creates.inc();
        self.lock()
            .insert(id, job, job.created_at)
            .map_err(|full| Busy {
                reason: format!(
                    "the server keeps {} jobs at most, and is full until the oldest expire",
                    self.limits.max_jobs
                ),
                retry_after: full.retry_after,
            })?;
        Ok(job.status_at(id.to_hex(), job.created_at))
    }

    /// The job an id names: `None` if the id is malformed, unknown or expired.
    pub fn find(&self, id: &str) -> Option<JobKey> {
        let id = JobId::parse(id)?;
        self.metrics.reads.inc();
        let found = self.lock().get(id, Instant::now());
        found.map(|_| JobKey::Created(id))
    }

    /// The status of a job now.
    pub fn status(&self, key: JobKey) -> Option<JobStatus> {
        let job = self.job(key)?;
        Some(job.status_at(key.id_text(), Instant::now()))
    }

    /// The status of job `key` as soon as it leaves `pending`, or after `wait`, whichever
    /// comes first. Waiters of one job share one notification (see [`Transitions`]).
    ///
    /// At most `max_waiters` long-polls are held at once; past that, `Busy`. While the server
    /// stops, nothing is held: every waiter answers at once (see [`JobStore::stop_waiting`]).
    pub async fn status_after(
        &self,
        key: JobKey,
        wait: Duration,
    ) -> Result<Option<JobStatus>, Busy> {
        let Some(mut job) = self.job(key) else {
            return Ok(None);
        };
        if !wait.is_zero() && !job.is_final_at(Instant::now()) && !self.is_stopping() {
            let _slot = self.waiter_slot()?;
            let notify: Arc<Notify> = self.transitions.watch(key, job.ends_at());
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Enabled first, read again second: a job that ended (by time or by a cancel), or
            // a stop that began, in between is not missed. Only held requests pay this lookup.
            job = self.job(key).unwrap_or(job);
            if !job.is_final_at(Instant::now()) && !self.is_stopping() {
                let _ = tokio::time::timeout(wait, notified).await;
                // A cancel is the one change to a job's definition: see it.
                job = self.job(key).unwrap_or(job);
            }
        }
        Ok(Some(job.status_at(key.id_text(), Instant::now())))
    }

    /// Cancels the job `id` names if it is pending, waking every request held on it: what
    /// happened and its status now, or `None` if the id is malformed, unknown or expired.
    pub fn cancel(&self, id: &str) -> Option<(CancelOutcome, JobStatus)> {
        let id = JobId::parse(id)?;
        let now = Instant::now();
        self.metrics.cancels.inc();
        let (outcome, job) = self.lock().cancel(id, now)?;
        if outcome == CancelOutcome::Cancelled {
            // After the table's write: a waiter registering meanwhile either is registered
            // by now and woken here, or reads the job again after registering and sees it
            // ended (see `status_after`).
            self.transitions.fire(JobKey::Created(id));
        }
        Some((outcome, job.status_at(id.to_hex(), now)))
    }

    /// For a graceful stop: every held long-poll answers now with its job's current status,
    /// and later ones are not held.
    pub fn stop_waiting(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.transitions.wake_all_and_stop();
    }

    /// How many long-polls are held right now.
    pub fn waiters(&self) -> usize {
        self.waiters.load(Ordering::Relaxed)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn waiter_slot(&self) -> Result<WaiterSlot<'_>, Busy> {
        let held = self.waiters.fetch_add(1, Ordering::Relaxed);
        if held >= self.limits.max_waiters {
            self.waiters.fetch_sub(1, Ordering::Relaxed);
            return Err(Busy {
                reason: format!(
                    "the server holds {} long-polls at most; poll without waiting, or later",
                    self.limits.max_waiters
                ),
                retry_after: Duration::from_secs(1),
            });
        }
        // At debug level (`RUST_LOG=video_translation_server::store=debug`), each held
        // request's start and end with the count held, timestamped: the tests read from it
        // how many requests a client keeps held at once, and for how long.
        tracing::debug!(held = held + 1, "held request starts");
        Ok(WaiterSlot(&self.waiters))
    }

    /// How many jobs have long-poll waiters right now.
    pub fn jobs_with_waiters(&self) -> usize {
        self.transitions.watched_jobs()
    }

    fn job(&self, key: JobKey) -> Option<Job> {
        self.metrics.reads.inc();
        match key {
            JobKey::Default => Some(self.default_job),
            JobKey::Created(id) => self.lock().get(id, Instant::now()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, JobTable> {
        // A panic while holding the lock cannot leave the table half-written (inserts and
        // lookups are single calls), so a poisoned lock is still safe to use.
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One held request, counted while it lives.
struct WaiterSlot<'a>(&'a AtomicUsize);

impl<'a> WaiterSlot<'a> {
    /// Counts one more in `count` until dropped.
    fn counted(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        WaiterSlot(count)
    }
}

impl Drop for WaiterSlot<'_> {
    fn drop(&mut self) {
        let held = self.0.fetch_sub(1, Ordering::Relaxed) - 1;
        tracing::debug!(held, "held request ends");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(error_rate: f64) -> JobStore {
        JobStore::new(
            JobDefaults {
                duration: Duration::from_secs(60),
                error_rate,
                eta_error: 0.0,
            },
            StoreLimits::default(),
        )
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
        for n in [0, 0xabc, 1 << 127, u128::MAX, id.0] {
            assert_eq!(JobId(n).to_hex(), format!("{n:032x}"));
            assert_eq!(JobId::parse(&format!("{n:032X}")), Some(JobId(n)));
        }
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
            "000000000000000000000000000000é", // 32 bytes
            "0000000000000000000000000000000g",
            "0000000000000000000000000000000 ",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_created_job_can_be_looked_up_by_its_id() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::from_secs(5))).unwrap();
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
        let created = always_fails.create(NewJob::default()).unwrap();
        assert_eq!(created.eta_ms, Some(60_000));
        let instant = always_fails.create(lasting(Duration::ZERO)).unwrap();
        assert_eq!(instant.result, JobResult::Error);

        let never_fails = store(0.0);
        let instant = never_fails.create(lasting(Duration::ZERO)).unwrap();
        assert_eq!(instant.result, JobResult::Completed);
    }

    #[test]
    fn an_explicit_outcome_overrides_the_error_rate() {
        let store = store(1.0);
        let created = store
            .create(NewJob {
                outcome: Some(Outcome::Completed),
                ..lasting(Duration::ZERO)
            })
            .unwrap();
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
        let created = store
            .create(NewJob {
                estimate: Some(Duration::from_secs(8)),
                ..lasting(Duration::from_secs(10))
            })
            .unwrap();
        assert_eq!(created.eta_ms, Some(8_000));
    }

    #[test]
    fn eta_error_strays_the_estimate_within_its_bound() {
        let store = JobStore::new(
            JobDefaults {
                duration: Duration::from_secs(100),
                error_rate: 0.0,
                eta_error: 0.2,
            },
            StoreLimits::default(),
        );
        let etas: Vec<u64> = (0..200)
            .map(|_| store.create(NewJob::default()).unwrap().eta_ms.unwrap())
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
        let created = store.create(lasting(Duration::from_millis(200))).unwrap();
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let status = run(store.status_after(key, Duration::from_secs(10)))
            .unwrap()
            .unwrap();
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
        let created = store.create(lasting(Duration::from_secs(60))).unwrap();
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let status = run(store.status_after(key, Duration::from_millis(100)))
            .unwrap()
            .unwrap();
        assert_eq!(status.result, JobResult::Pending);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn a_finished_job_answers_a_long_poll_at_once() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::ZERO)).unwrap();
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let status = run(store.status_after(key, Duration::from_secs(30)))
            .unwrap()
            .unwrap();
        assert_eq!(status.result, JobResult::Completed);
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(
            store.jobs_with_waiters(),
            0,
            "no notification for a finished job"
        );
    }

    fn limited(limits: StoreLimits) -> JobStore {
        JobStore::new(
            JobDefaults {
                duration: Duration::from_secs(60),
                error_rate: 0.0,
                eta_error: 0.0,
            },
            limits,
        )
    }

    #[test]
    fn past_max_jobs_creating_is_refused_until_the_oldest_expire() {
        let store = limited(StoreLimits {
            max_jobs: 2,
            job_ttl: Duration::from_secs(10),
            ..StoreLimits::default()
        });
        store.create(lasting(Duration::from_secs(5))).unwrap();
        store.create(lasting(Duration::from_secs(5))).unwrap();
        let busy = store.create(lasting(Duration::from_secs(5))).unwrap_err();
        assert!(busy.reason.contains("2 jobs at most"), "{}", busy.reason);
        assert!(
            (Duration::from_secs(14)..=Duration::from_secs(15)).contains(&busy.retry_after),
            "the first job expires 15 s after its creation: {:?}",
            busy.retry_after
        );
    }

    #[test]
    fn an_expired_job_is_not_found() {
        let store = limited(StoreLimits {
            job_ttl: Duration::from_millis(50),
            ..StoreLimits::default()
        });
        let created = store.create(lasting(Duration::ZERO)).unwrap();
        assert!(store.find(&created.id).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(store.find(&created.id), None);
    }

    #[test]
    fn past_max_waiters_a_long_poll_is_refused_and_a_plain_poll_is_not() {
        let store = limited(StoreLimits {
            max_waiters: 1,
            ..StoreLimits::default()
        });
        let created = store.create(lasting(Duration::from_secs(60))).unwrap();
        let key = store.find(&created.id).unwrap();
        let (held, refused) = run(async {
            let held = store.status_after(key, Duration::from_millis(200));
            let refused = async {
                tokio::task::yield_now().await;
                store.status_after(key, Duration::from_secs(10)).await
            };
            tokio::join!(held, refused)
        });
        assert_eq!(held.unwrap().unwrap().result, JobResult::Pending);
        let busy = refused.unwrap_err();
        assert!(
            busy.reason.contains("1 long-polls at most"),
            "{}",
            busy.reason
        );
        assert_eq!(store.waiters(), 0, "the held slot is given back");
        assert!(store.status(key).is_some(), "plain polls are not limited");
    }

    #[test]
    fn stopping_answers_every_held_long_poll_at_once() {
        let store = store(0.0);
        let created = store.create(lasting(Duration::from_secs(60))).unwrap();
        let key = store.find(&created.id).unwrap();
        let started = Instant::now();
        let (answers, ()) = run(async {
            let waits = futures_util::future::join_all(
                (0..3).map(|_| store.status_after(key, Duration::from_secs(30))),
            );
            let stop = async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert_eq!(store.waiters(), 3);
                store.stop_waiting();
            };
            tokio::join!(waits, stop)
        });
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not held for the 30 s wait"
        );
        for answer in answers {
            assert_eq!(answer.unwrap().unwrap().result, JobResult::Pending);
        }
        let later = run(store.status_after(key, Duration::from_secs(30)));
        assert_eq!(
            later.unwrap().unwrap().result,
            JobResult::Pending,
            "not held either"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
