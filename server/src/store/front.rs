//! [`JobStore`]: what the handlers ask. It puts a [`Backend`] (where job definitions live,
//! the default job behind `GET /status` among them) together with what always stays in the
//! replica that serves the request: the held requests and the notifications that wake them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use video_translation_protocol::JobStatus;

use super::backend::{Backend, Event, EventSink, StoreKind};
use super::defaults::JobDefaults;
use super::held::{Held, HeldRequests, LongPollLimits};
use super::memory::MemoryBackend;
use super::{
    CancelOutcome, Inserted, Job, JobBackend, JobId, JobKey, JobsByState, NewJob, StoreError,
    StoreLimits,
};
use crate::idempotency::Keyed;
use crate::metrics::StoreMetrics;
use crate::transitions::Transitions;

/// What a creation came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new job, just started.
    New(JobStatus),
    /// The `Idempotency-Key` was used before with the same request: the job it created, in
    /// its status now, or `None` if that job has expired since.
    Replayed(Option<JobStatus>),
}

/// Every job the fleet has created, plus the default job behind `GET /status`.
#[derive(Debug)]
pub struct JobStore {
    defaults: JobDefaults,
    /// The default job as this replica would start it; the backend keeps the first such
    /// candidate of the fleet (see [`JobBackend::default_job`]).
    default_candidate: Job,
    backend: Backend,
    transitions: Arc<Transitions<JobKey>>,
    held: HeldRequests,
    metrics: StoreMetrics,
}

impl JobStore {
    /// A memory store whose default job starts now, counting into metrics nobody reads.
    pub fn new(defaults: JobDefaults, limits: StoreLimits, long_poll: LongPollLimits) -> Self {
        let metrics = StoreMetrics::default();
        let (transitions, _events) = Self::notifier(&metrics);
        Self::assemble(
            defaults,
            Backend::Memory(MemoryBackend::new(limits)),
            transitions,
            long_poll,
            metrics,
        )
    }

    /// A store on the backend `kind` names (whose default job starts now unless the backend
    /// has one already, see [`JobBackend::default_job`]), counting its
    /// operations, round trips and wake fan-out into `metrics`. A Redis backend connects
    /// lazily: this fails only for a URL it cannot use, never because Redis is down.
    pub fn open(
        kind: &StoreKind,
        defaults: JobDefaults,
        limits: StoreLimits,
        long_poll: LongPollLimits,
        metrics: StoreMetrics,
    ) -> Result<Self, String> {
        let (transitions, events) = Self::notifier(&metrics);
        let backend = Backend::open(kind, limits, metrics.clone(), events)?;
        Ok(Self::assemble(
            defaults,
            backend,
            transitions,
            long_poll,
            metrics,
        ))
    }

    /// The notifier of this replica's held requests, and the sink through which a shared
    /// backend's events reach it.
    fn notifier(metrics: &StoreMetrics) -> (Arc<Transitions<JobKey>>, EventSink) {
        let fanout = metrics.wake_fanout.clone();
        let transitions = Arc::new(Transitions::start_observed(move |woken| {
            fanout.observe(woken as f64)
        }));
        // Weak: the backend's event listener must not keep the notifier alive past the store.
        let wake = Arc::downgrade(&transitions);
        let events: EventSink = Arc::new(move |event: Event| {
            let Some(transitions) = wake.upgrade() else {
                return;
            };
            match event {
                Event::Cancelled(id) => transitions.fire(JobKey::Created(id)),
                Event::Missed => transitions.wake_all(),
            }
        });
        (transitions, events)
    }

    fn assemble(
        defaults: JobDefaults,
        backend: Backend,
        transitions: Arc<Transitions<JobKey>>,
        long_poll: LongPollLimits,
        metrics: StoreMetrics,
    ) -> Self {
        JobStore {
            default_candidate: defaults.new_job(NewJob::default(), Instant::now()),
            defaults,
            backend,
            transitions,
            held: HeldRequests::new(long_poll),
            metrics,
        }
    }

    /// The bounds on held requests, `--max-wait` among them.
    pub fn long_poll_limits(&self) -> LongPollLimits {
        self.held.limits()
    }

    /// Starts a job now (unless `max_jobs` are kept: `Busy`). With an `Idempotency-Key`
    /// used before: the job it made if it came with the same request, else `KeyReused`.
    pub async fn create(
        &self,
        request: NewJob,
        keyed: Option<Keyed<'_>>,
    ) -> Result<Created, StoreError> {
        let now = Instant::now();
        let job = self.defaults.new_job(request, now);
        let id = JobId::random();
        self.metrics.creates.inc();
        match self.backend.insert(id, job, keyed, now).await? {
            Inserted::New => Ok(Created::New(job.status_at(id.to_hex(), now))),
            Inserted::Replayed {
                request: first,
                job_id,
            } => {
                if let Some(keyed) = keyed.filter(|keyed| *keyed.request != first) {
                    return Err(StoreError::KeyReused(keyed.key.to_owned()));
                }
                let job = self.job(JobKey::Created(job_id)).await?;
                Ok(Created::Replayed(
                    job.map(|job| job.status_at(job_id.to_hex(), Instant::now())),
                ))
            }
        }
    }

    /// The job an id names: `None` if the id is malformed, unknown or expired.
    pub async fn find(&self, id: &str) -> Result<Option<JobKey>, StoreError> {
        let Some(id) = JobId::parse(id) else {
            return Ok(None);
        };
        let key = JobKey::Created(id);
        Ok(self.job(key).await?.map(|_| key))
    }

    /// The status of a job now.
    pub async fn status(&self, key: JobKey) -> Result<Option<JobStatus>, StoreError> {
        let job = self.job(key).await?;
        Ok(job.map(|job| job.status_at(key.id_text(), Instant::now())))
    }

    /// The status of job `key` as soon as it leaves `pending`, or after `wait`, whichever
    /// comes first. Waiters of one job share one notification (see [`Transitions`]), fired
    /// at the job's end by this replica's clock, or at once by a cancel on any replica.
    ///
    /// At most `max_waiters` requests are held at once; past that, `Busy`. While the server
    /// stops, nothing is held: every waiter answers at once (see [`JobStore::stop_waiting`]).
    pub async fn status_after(
        &self,
        key: JobKey,
        wait: Duration,
    ) -> Result<Option<JobStatus>, StoreError> {
        let Some(mut job) = self.job(key).await? else {
            return Ok(None);
        };
        if !wait.is_zero() && !job.is_final_at(Instant::now()) && !self.held.is_stopping() {
            let _slot = self.held.slot()?;
            let notify = self.transitions.watch(key, job.ends_at());
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Enabled first, read again second: a job that ended (by time or by a cancel), or
            // a stop that began, in between is not missed. Only held requests pay this lookup.
            job = self.job_or(key, job).await;
            if !job.is_final_at(Instant::now()) && !self.held.is_stopping() {
                let _ = tokio::time::timeout(wait, notified).await;
                // A cancel is the one change to a job's definition: see it.
                job = self.job_or(key, job).await;
            }
        }
        Ok(Some(job.status_at(key.id_text(), Instant::now())))
    }

    /// Cancels the job `id` names if it is pending, waking every request held on it here
    /// (and, through the backend, on every replica): what happened and its status now, or
    /// `None` if the id is malformed, unknown or expired.
    pub async fn cancel(&self, id: &str) -> Result<Option<(CancelOutcome, JobStatus)>, StoreError> {
        let Some(id) = JobId::parse(id) else {
            return Ok(None);
        };
        let now = Instant::now();
        self.metrics.cancels.inc();
        let Some((outcome, job)) = self.backend.cancel(id, now).await? else {
            return Ok(None);
        };
        if outcome == CancelOutcome::Cancelled {
            // After the backend's write: a waiter registering meanwhile either is registered
            // by now and woken here, or reads the job again after registering and sees it
            // ended (see `status_after`). Other replicas hear of it from the backend.
            self.transitions.fire(JobKey::Created(id));
        }
        // Whatever the outcome, the job has ended: it is told as ended, though the backend
        // may have judged it after `now` (Redis runs a cancel at its own time, see
        // `redis/cancel.lua`).
        let ended = Instant::now().max(job.ends_at());
        Ok(Some((outcome, job.status_at(id.to_hex(), ended))))
    }

    /// How many kept jobs are in each state now (a pass over every job: for a scrape, not
    /// for every request).
    pub async fn jobs_by_state(&self) -> Result<JobsByState, StoreError> {
        self.backend.jobs_by_state(Instant::now()).await
    }

    /// Whether the backend answers now.
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    /// The requests held right now, by kind.
    pub fn held(&self) -> Held {
        self.held.now()
    }

    /// How many requests are held right now.
    pub fn waiters(&self) -> usize {
        self.held.all()
    }

    /// How many jobs have held requests right now.
    pub fn jobs_with_waiters(&self) -> usize {
        self.transitions.watched_jobs()
    }

    /// For a graceful stop: every held request answers now with its jobs' current status,
    /// and later ones are not held.
    pub fn stop_waiting(&self) {
        self.held.stop();
        self.transitions.wake_all_and_stop();
    }

    pub(super) fn held_requests(&self) -> &HeldRequests {
        &self.held
    }

    pub(super) fn transitions(&self) -> &Transitions<JobKey> {
        &self.transitions
    }

    pub(super) fn backend(&self) -> &Backend {
        &self.backend
    }

    pub(super) fn metrics(&self) -> &StoreMetrics {
        &self.metrics
    }

    async fn job(&self, key: JobKey) -> Result<Option<Job>, StoreError> {
        self.metrics.reads.inc();
        match key {
            JobKey::Default => self
                .backend
                .default_job(self.default_candidate, Instant::now())
                .await
                .map(Some),
            JobKey::Created(id) => self.backend.get(id, Instant::now()).await,
        }
    }

    /// The job read again while held, or `known` if the backend fails meanwhile: a held
    /// request that has waited answers with the definition it has rather than an error
    /// (right unless a cancel went unseen, which the next poll shows).
    async fn job_or(&self, key: JobKey, known: Job) -> Job {
        self.job(key).await.ok().flatten().unwrap_or(known)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;
    use video_translation_protocol::{JobResult, Outcome, DEFAULT_JOB_ID};

    use super::*;

    fn store_with(defaults: JobDefaults, long_poll: LongPollLimits) -> JobStore {
        JobStore::new(defaults, StoreLimits::default(), long_poll)
    }

    fn store(error_rate: f64) -> JobStore {
        store_with(
            JobDefaults {
                duration: Duration::from_secs(60),
                error_rate,
                eta_error: 0.0,
            },
            LongPollLimits::default(),
        )
    }

    fn lasting(duration: Duration) -> NewJob {
        NewJob {
            duration: Some(duration),
            ..NewJob::default()
        }
    }

    async fn created(store: &JobStore, request: NewJob) -> JobStatus {
        match store.create(request, None).await.unwrap() {
            Created::New(status) => status,
            other => panic!("not created: {other:?}"),
        }
    }

    async fn key_of(store: &JobStore, status: &JobStatus) -> JobKey {
        store
            .find(status.id.as_deref().unwrap_or_default())
            .await
            .unwrap()
            .expect("the job exists")
    }

    #[tokio::test]
    async fn missing_parameters_take_the_defaults() {
        let always_fails = store(1.0);
        let job = created(&always_fails, NewJob::default()).await;
        assert_eq!(job.eta_ms, Some(60_000));
        let instant = created(&always_fails, lasting(Duration::ZERO)).await;
        assert_eq!(instant.result, JobResult::Error);

        let never_fails = store(0.0);
        let instant = created(&never_fails, lasting(Duration::ZERO)).await;
        assert_eq!(instant.result, JobResult::Completed);
    }

    #[tokio::test]
    async fn an_explicit_outcome_overrides_the_error_rate() {
        let store = store(1.0);
        let request = NewJob {
            outcome: Some(Outcome::Completed),
            ..lasting(Duration::ZERO)
        };
        assert_eq!(created(&store, request).await.result, JobResult::Completed);
    }

    #[tokio::test]
    async fn the_default_job_reports_under_its_fixed_id() {
        let status = store(0.0).status(JobKey::Default).await.unwrap().unwrap();
        assert_eq!(status.id.as_deref(), Some(DEFAULT_JOB_ID));
        assert_eq!(status.result, JobResult::Pending);
    }

    #[tokio::test]
    async fn an_explicit_estimate_is_what_eta_reports() {
        let store = store(0.0);
        let request = NewJob {
            estimate: Some(Duration::from_secs(8)),
            ..lasting(Duration::from_secs(10))
        };
        assert_eq!(created(&store, request).await.eta_ms, Some(8_000));
    }

    #[tokio::test]
    async fn eta_error_strays_the_estimate_within_its_bound() {
        let store = store_with(
            JobDefaults {
                duration: Duration::from_secs(100),
                error_rate: 0.0,
                eta_error: 0.2,
            },
            LongPollLimits::default(),
        );
        let mut etas = Vec::new();
        for _ in 0..200 {
            etas.push(created(&store, NewJob::default()).await.eta_ms.unwrap());
        }
        assert!(
            etas.iter().all(|eta| (80_000..=120_000).contains(eta)),
            "{etas:?}"
        );
        assert!(
            etas.iter().any(|eta| *eta != 100_000),
            "the estimate does stray"
        );
    }

    #[tokio::test]
    async fn a_long_poll_ends_after_its_wait_while_the_job_runs_on() {
        let store = store(0.0);
        let job = created(&store, lasting(Duration::from_secs(60))).await;
        let key = key_of(&store, &job).await;
        let started = Instant::now();
        let status = store
            .status_after(key, Duration::from_millis(100))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.result, JobResult::Pending);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_finished_job_answers_a_long_poll_at_once() {
        let store = store(0.0);
        let job = created(&store, lasting(Duration::ZERO)).await;
        let key = key_of(&store, &job).await;
        // At once: answered on the first poll, before any timer could have run.
        let status = store
            .status_after(key, Duration::from_secs(30))
            .now_or_never()
            .expect("answered without waiting")
            .unwrap()
            .unwrap();
        assert_eq!(status.result, JobResult::Completed);
        assert_eq!(
            store.jobs_with_waiters(),
            0,
            "no notification for a finished job"
        );
    }

    #[tokio::test]
    async fn past_max_waiters_a_long_poll_is_refused_and_a_plain_poll_is_not() {
        let store = store_with(
            JobDefaults {
                duration: Duration::from_secs(60),
                error_rate: 0.0,
                eta_error: 0.0,
            },
            LongPollLimits {
                max_waiters: 1,
                ..LongPollLimits::default()
            },
        );
        let job = created(&store, lasting(Duration::from_secs(60))).await;
        let key = key_of(&store, &job).await;
        let held = store.status_after(key, Duration::from_millis(200));
        let refused = async {
            tokio::task::yield_now().await;
            store.status_after(key, Duration::from_secs(10)).await
        };
        let (held, refused) = tokio::join!(held, refused);
        assert_eq!(held.unwrap().unwrap().result, JobResult::Pending);
        match refused.unwrap_err() {
            StoreError::Busy { reason, .. } => {
                assert!(reason.contains("1 long-polls at most"), "{reason}")
            }
            other => panic!("not busy: {other:?}"),
        }
        assert_eq!(store.waiters(), 0, "the held slot is given back");
        assert!(
            store.status(key).await.unwrap().is_some(),
            "plain polls are not limited"
        );
    }

    #[tokio::test]
    async fn stopping_answers_every_held_long_poll_at_once() {
        let store = store(0.0);
        let job = created(&store, lasting(Duration::from_secs(60))).await;
        let key = key_of(&store, &job).await;
        let started = Instant::now();
        let waits = futures_util::future::join_all(
            (0..3).map(|_| store.status_after(key, Duration::from_secs(30))),
        );
        let stop = async {
            // Once all three are held (polled: a busy machine may take a while to get there).
            while store.waiters() != 3 {
                assert!(started.elapsed() < Duration::from_secs(10), "never held");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            store.stop_waiting();
        };
        let (answers, ()) = tokio::join!(waits, stop);
        // Half the 30 s wait: only requests held for it fail.
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not held for the 30 s wait"
        );
        for answer in answers {
            assert_eq!(answer.unwrap().unwrap().result, JobResult::Pending);
        }
        let later = store.status_after(key, Duration::from_secs(30)).await;
        assert_eq!(
            later.unwrap().unwrap().result,
            JobResult::Pending,
            "not held either"
        );
        assert!(started.elapsed() < Duration::from_secs(15));
    }
}
