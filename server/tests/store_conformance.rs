//! The store's contract, run against every backend: the same tests for `--store memory`
//! and `--store redis://...` (on a redis-server of each test's own).
//!
//! Each test takes a [`Backend`] and opens its stores from it; `memory` stores are each
//! alone, Redis ones share the test's Redis (the fleet's own tests are in `fleet.rs`).

mod common;

use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use common::BEFORE_THE_WAIT;
use video_translation_protocol::{CreateJob, EndReason, JobResult, JobStatus, Outcome};
use video_translation_server::store::backend::StoreKind;
use video_translation_server::store::front::Created;
use video_translation_server::store::{
    CancelOutcome, JobDefaults, JobKey, JobStore, Keyed, LongPollLimits, NewJob, StoreError,
    StoreLimits, StoreMetrics,
};

/// Where a test's stores live.
enum Backend {
    Memory,
    Redis(RedisServer),
}

impl Backend {
    /// A store with these limits, ready: a Redis one answers and hears the cancels.
    async fn open(&self, limits: StoreLimits) -> JobStore {
        let kind = match self {
            Backend::Memory => StoreKind::Memory,
            Backend::Redis(server) => StoreKind::Redis(server.url()),
        };
        let store = JobStore::open(
            &kind,
            JobDefaults {
                duration: Duration::from_secs(60),
                error_rate: 0.0,
                eta_error: 0.0,
            },
            limits,
            LongPollLimits::default(),
            StoreMetrics::default(),
        )
        .expect("the store opens");
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.ready().await.is_err() {
            assert!(Instant::now() < deadline, "the store never became ready");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        store
    }
}

/// Each test once per backend: `memory::NAME` and `redis::NAME`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Memory).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(server) = super::RedisServer::start() else {
                        return;
                    };
                    super::$name(super::Backend::Redis(server)).await;
                }
            )*
        }
    };
}

conformance!(
    a_created_job_is_found_by_its_id,
    unknown_and_malformed_ids_are_not_found,
    past_max_jobs_creating_is_refused_until_the_oldest_expire,
    a_job_is_forgotten_its_ttl_after_its_end,
    a_cancelled_job_is_forgotten_its_ttl_after_its_cancel,
    a_key_whose_job_has_expired_replays_no_job,
    a_cancel_ends_a_pending_job_once,
    a_job_that_ended_by_itself_cannot_be_cancelled,
    a_cancel_wakes_a_held_long_poll_at_once,
    a_long_poll_answers_when_the_job_ends,
    a_key_replays_its_job_for_the_same_request_and_refuses_another,
    a_watch_answers_ended_and_missing_jobs_at_once,
    a_held_watch_wakes_at_the_first_cancel,
    jobs_are_counted_by_state,
    the_default_job_is_one_per_backend,
);

fn lasting(duration: Duration) -> NewJob {
    NewJob {
        duration: Some(duration),
        ..NewJob::default()
    }
}

async fn create(store: &JobStore, request: NewJob) -> JobStatus {
    match store.create(request, None).await.expect("created") {
        Created::New(status) => status,
        other => panic!("not a new job: {other:?}"),
    }
}

async fn status_of(store: &JobStore, id: &str) -> Option<JobStatus> {
    let key = store.find(id).await.expect("the store answers")?;
    store.status(key).await.expect("the store answers")
}

async fn a_created_job_is_found_by_its_id(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let created = create(&store, lasting(Duration::from_secs(5))).await;
    assert_eq!(created.result, JobResult::Pending);
    assert_eq!(created.progress, Some(0.0));
    assert_eq!(created.eta_ms, Some(5_000));
    let found = status_of(&store, created.id.as_deref().unwrap())
        .await
        .expect("found");
    assert_eq!(found.id, created.id);
    assert_eq!(found.result, JobResult::Pending);
    assert!(found.eta_ms.unwrap() <= 5_000);
}

async fn unknown_and_malformed_ids_are_not_found(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    for id in [&"0".repeat(32), "nope", "default"] {
        assert_eq!(store.find(id).await.unwrap(), None, "{id:?}");
        assert_eq!(store.cancel(id).await.unwrap(), None, "{id:?}");
    }
}

async fn past_max_jobs_creating_is_refused_until_the_oldest_expire(backend: Backend) {
    let store = backend
        .open(StoreLimits {
            max_jobs: 2,
            job_ttl: Duration::from_secs(10),
        })
        .await;
    create(&store, lasting(Duration::from_secs(5))).await;
    create(&store, lasting(Duration::from_secs(5))).await;
    match store.create(lasting(Duration::from_secs(5)), None).await {
        Err(StoreError::Busy {
            reason,
            retry_after,
        }) => {
            assert!(reason.contains("2 jobs at most"), "{reason}");
            assert!(
                (Duration::from_secs(14)..=Duration::from_secs(15)).contains(&retry_after),
                "the first job expires 15 s after its creation: {retry_after:?}"
            );
        }
        other => panic!("not refused: {other:?}"),
    }
}

async fn a_job_is_forgotten_its_ttl_after_its_end(backend: Backend) {
    let store = backend
        .open(StoreLimits {
            job_ttl: Duration::from_millis(100),
            max_jobs: 1,
        })
        .await;
    let created = create(&store, lasting(Duration::ZERO)).await;
    assert!(status_of(&store, created.id.as_deref().unwrap())
        .await
        .is_some());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        status_of(&store, created.id.as_deref().unwrap()).await,
        None
    );
    // Room again under `max_jobs: 1`: the expired job no longer counts.
    create(&store, lasting(Duration::ZERO)).await;
}

async fn a_cancel_ends_a_pending_job_once(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let created = create(&store, lasting(Duration::from_secs(60))).await;
    let (outcome, status) = store
        .cancel(created.id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("found");
    assert_eq!(outcome, CancelOutcome::Cancelled);
    assert_eq!(status.result, JobResult::Error);
    assert_eq!(status.reason, Some(EndReason::Cancelled));
    let (again, status) = store
        .cancel(created.id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("found");
    assert_eq!(again, CancelOutcome::AlreadyCancelled);
    assert_eq!(status.reason, Some(EndReason::Cancelled));
    let read = status_of(&store, created.id.as_deref().unwrap())
        .await
        .expect("found");
    assert_eq!(read.result, JobResult::Error);
    assert_eq!(read.reason, Some(EndReason::Cancelled));
}

async fn a_job_that_ended_by_itself_cannot_be_cancelled(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let created = create(&store, lasting(Duration::ZERO)).await;
    let (outcome, status) = store
        .cancel(created.id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("found");
    assert_eq!(outcome, CancelOutcome::AlreadyEnded);
    assert_eq!(status.result, JobResult::Completed);
    assert_eq!(status.reason, None);
}

async fn a_cancel_wakes_a_held_long_poll_at_once(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let created = create(&store, lasting(Duration::from_secs(60))).await;
    let key = store
        .find(created.id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("found");
    let held = store.status_after(key, Duration::from_secs(30));
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let cancelled_at = Instant::now();
        store
            .cancel(created.id.as_deref().unwrap())
            .await
            .unwrap()
            .expect("found");
        cancelled_at
    };
    let (answer, cancelled_at) = tokio::join!(held, cancel);
    let woken_after = cancelled_at.elapsed();
    let answer = answer.unwrap().expect("found");
    assert_eq!(answer.reason, Some(EndReason::Cancelled));
    assert!(
        woken_after < BEFORE_THE_WAIT,
        "held for its wait, not woken by the cancel: {woken_after:?}"
    );
}

async fn a_long_poll_answers_when_the_job_ends(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let created = create(&store, lasting(Duration::from_millis(200))).await;
    let key = store
        .find(created.id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("found");
    let started = Instant::now();
    let status = store
        .status_after(key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(status.result, JobResult::Completed);
    assert!(waited >= Duration::from_millis(150), "too soon: {waited:?}");
    assert!(
        waited < BEFORE_THE_WAIT,
        "held for its wait, not answered at the job's end: {waited:?}"
    );
    assert_eq!(
        store.jobs_with_waiters(),
        0,
        "the notification is forgotten"
    );
}

async fn a_key_replays_its_job_for_the_same_request_and_refuses_another(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let request = CreateJob {
        duration_ms: Some(60_000),
        ..CreateJob::default()
    };
    let keyed = Keyed {
        key: "k-1",
        request: &request,
    };
    let first = match store
        .create(lasting(Duration::from_secs(60)), Some(keyed))
        .await
    {
        Ok(Created::New(status)) => status,
        other => panic!("not created: {other:?}"),
    };
    let again = store
        .create(lasting(Duration::from_secs(60)), Some(keyed))
        .await;
    match again {
        Ok(Created::Replayed(Some(status))) => assert_eq!(status.id, first.id),
        other => panic!("not replayed: {other:?}"),
    }
    let other_request = CreateJob {
        outcome: Some(Outcome::Error),
        ..request.clone()
    };
    let refused = store
        .create(
            lasting(Duration::from_secs(60)),
            Some(Keyed {
                key: "k-1",
                request: &other_request,
            }),
        )
        .await;
    assert_eq!(refused, Err(StoreError::KeyReused("k-1".into())));
    let fresh = store
        .create(
            lasting(Duration::from_secs(60)),
            Some(Keyed {
                key: "k-2",
                request: &other_request,
            }),
        )
        .await;
    assert!(matches!(fresh, Ok(Created::New(status)) if status.id != first.id));
}

async fn a_watch_answers_ended_and_missing_jobs_at_once(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let ended = create(&store, lasting(Duration::ZERO)).await;
    let running = create(&store, lasting(Duration::from_secs(60))).await;
    let unknown = "f".repeat(32);
    let ids = [
        running.id.clone().unwrap(),
        unknown.clone(),
        ended.id.clone().unwrap(),
        "nope".into(),
    ];
    let started = Instant::now();
    let answer = store.watch(&ids, Duration::from_secs(30)).await.unwrap();
    assert!(started.elapsed() < BEFORE_THE_WAIT, "held for its wait");
    let listed: Vec<&str> = answer
        .jobs
        .iter()
        .map(|job| job.id.as_deref().unwrap())
        .collect();
    assert_eq!(listed, [ended.id.as_deref().unwrap()]);
    assert_eq!(answer.missing, [unknown, "nope".to_owned()]);
    let now = store.watch_now(&ids).await.unwrap();
    assert_eq!(now.jobs.len(), 2, "every known job's status");
}

async fn a_held_watch_wakes_at_the_first_cancel(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    let first = create(&store, lasting(Duration::from_secs(60))).await;
    let second = create(&store, lasting(Duration::from_secs(60))).await;
    let ids = [first.id.clone().unwrap(), second.id.clone().unwrap()];
    let held = store.watch(&ids, Duration::from_secs(30));
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        store
            .cancel(second.id.as_deref().unwrap())
            .await
            .unwrap()
            .expect("found");
        Instant::now()
    };
    let (answer, cancelled_at) = tokio::join!(held, cancel);
    assert!(
        cancelled_at.elapsed() < BEFORE_THE_WAIT,
        "held for its wait, not woken by the cancel"
    );
    let answer = answer.unwrap();
    assert_eq!(answer.jobs.len(), 1, "only the ended one");
    assert_eq!(answer.jobs[0].id, second.id);
    assert_eq!(answer.jobs[0].reason, Some(EndReason::Cancelled));
}

async fn jobs_are_counted_by_state(backend: Backend) {
    let store = backend.open(StoreLimits::default()).await;
    create(&store, lasting(Duration::from_secs(60))).await;
    let cancelled = create(&store, lasting(Duration::from_secs(60))).await;
    store
        .cancel(cancelled.id.as_deref().unwrap())
        .await
        .unwrap();
    create(&store, lasting(Duration::ZERO)).await;
    create(&store, lasting(Duration::ZERO)).await;
    let counts = store.jobs_by_state().await.unwrap();
    assert_eq!((counts.pending, counts.completed, counts.error), (1, 2, 1));
}

async fn a_cancelled_job_is_forgotten_its_ttl_after_its_cancel(backend: Backend) {
    let store = backend
        .open(StoreLimits {
            job_ttl: Duration::from_millis(300),
            ..StoreLimits::default()
        })
        .await;
    let created = create(&store, lasting(Duration::from_secs(60))).await;
    store
        .cancel(created.id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("found");
    // Read at once, not after a sleep a busy machine could stretch past the 300 ms.
    assert!(
        status_of(&store, created.id.as_deref().unwrap())
            .await
            .is_some(),
        "kept a while"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        status_of(&store, created.id.as_deref().unwrap()).await,
        None,
        "not kept 60 s"
    );
    assert_eq!(
        store.cancel(created.id.as_deref().unwrap()).await.unwrap(),
        None
    );
}

async fn a_key_whose_job_has_expired_replays_no_job(backend: Backend) {
    let store = backend
        .open(StoreLimits {
            job_ttl: Duration::from_millis(100),
            ..StoreLimits::default()
        })
        .await;
    let request = CreateJob::default();
    let keyed = Keyed {
        key: "k",
        request: &request,
    };
    let first = store.create(lasting(Duration::ZERO), Some(keyed)).await;
    assert!(matches!(first, Ok(Created::New(_))), "{first:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = store.create(lasting(Duration::ZERO), Some(keyed)).await;
    assert_eq!(
        again,
        Ok(Created::Replayed(None)),
        "the key outlives its job"
    );
}

async fn the_default_job_is_one_per_backend(backend: Backend) {
    let first = backend.open(StoreLimits::default()).await;
    // Another replica, starting later: its own default job would end 1 s after the first's.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = backend.open(StoreLimits::default()).await;
    // When each default job ends, and to within how much: its ETA was worked out at some
    // moment of the read, so its end lies within the read's span (plus the ETA's rounding to
    // the millisecond), however long a busy machine makes the reads or the time between them.
    async fn end_of(store: &JobStore) -> (Instant, Duration) {
        let before = Instant::now();
        let status = store.status(JobKey::Default).await.expect("answers");
        let after = Instant::now();
        let eta = Duration::from_millis(status.expect("the default job").eta_ms.unwrap());
        (before + eta, after - before + Duration::from_millis(1))
    }
    let (first_end, first_within) = end_of(&first).await;
    let (later_end, later_within) = end_of(&later).await;
    let apart = later_end.max(first_end) - later_end.min(first_end);
    match backend {
        // One process each: each store its own default job, started when it opened, a
        // second apart at least.
        Backend::Memory => assert!(
            later_end + later_within >= first_end + Duration::from_secs(1),
            "each its own: they end {apart:?} apart"
        ),
        // One fleet: the job the first store asked for, whoever asks.
        Backend::Redis(_) => assert!(
            apart <= first_within + later_within,
            "one job: they end {apart:?} apart, reads of {first_within:?} and {later_within:?}"
        ),
    }
}
