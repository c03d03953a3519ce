//! The store on the memory backend: defaults, the default job, estimates, long-polls and their cap.
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
