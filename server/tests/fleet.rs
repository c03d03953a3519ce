//! The fleet: replicas sharing one Redis (`--store redis://...`), as two in-process apps on
//! a redis-server of each test's own (persistence on). A job created on one is read on the
//! other; a cancel through one wakes long-polls held on the other within 50 ms; the same
//! Idempotency-Key names one job fleet-wide; jobs outlive every replica and Redis itself;
//! while Redis is away the API answers 503 with Retry-After, and heals by itself.

mod common;

use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::test;
use common::redis_server::RedisServer;
use common::replica::{replica, replica_with, wait_until_ready};
use common::{
    assert_error, call, cancel, create, get, header_text, post_jobs, post_watch, watch_body,
    BEFORE_THE_WAIT,
};
use video_translation_server::config::Settings;
use video_translation_server::startup::AppState;
use video_translation_server::store::redis::{COMMAND_TIMEOUT, HEARTBEAT};

/// How soon a request held on one replica (for 30 s) must answer a cancel made through
/// another: before its wait, so only a cancel that never reaches it fails. How soon it
/// really comes is `make bench`'s (bench/fleet.mjs).
const ACROSS_THE_FLEET: Duration = BEFORE_THE_WAIT;

/// How long a request to a Redis that does not answer may take: its round trip's bound,
/// [`COMMAND_TIMEOUT`], and then some. Ten times it: only a request that hangs fails.
const NOT_A_HANG: Duration = Duration::from_secs(10);

#[actix_web::test]
async fn a_job_created_on_one_replica_is_read_on_another_which_then_polls_it_from_its_cache() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a_state, a) = replica(&redis.url()).await;
    let (b_state, b) = replica(&redis.url()).await;
    let id = create(&a, r#"{"duration_ms": 60000}"#).await;

    // A scrape reads every job to count them, and must not fill the cache with them.
    let scrape =
        test::call_service(&b, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert!(scrape.status().is_success());

    let round_trips = |state: &AppState| state.metrics.store.round_trips_of("get");
    let (a_before, b_before) = (round_trips(&a_state), round_trips(&b_state));
    let (status, _, json) = call(&b, get(&id)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["result"], "pending");
    assert_eq!(
        round_trips(&b_state) - b_before,
        1,
        "B's first poll asks Redis"
    );
    for _ in 0..5 {
        let (status, _, _) = call(&b, get(&id)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = call(&a, get(&id)).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        round_trips(&b_state) - b_before,
        1,
        "B's later polls ask nobody"
    );
    assert_eq!(
        round_trips(&a_state) - a_before,
        0,
        "A created it: it never asks"
    );

    let scrape =
        test::call_service(&b, test::TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(scrape).await.to_vec()).unwrap();
    assert!(
        text.contains(&format!(
            "vts_store_round_trips_total{{operation=\"get\"}} {}",
            round_trips(&b_state)
        )),
        "the counter is scraped: {text}"
    );
}

#[actix_web::test]
async fn get_status_answers_one_default_job_on_every_replica_asking_redis_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // Replicas with different --delay, to tell whose default job answers.
    let (_, a) = replica_with(&redis.url(), Settings::for_tests(Duration::from_secs(60))).await;
    let (b_state, b) =
        replica_with(&redis.url(), Settings::for_tests(Duration::from_secs(1))).await;
    let status = || test::TestRequest::get().uri("/status");
    let (code, _, first) = call(&a, status()).await;
    assert_eq!(code, StatusCode::OK, "{first}");
    for _ in 0..3 {
        let (code, _, json) = call(&b, status()).await;
        assert_eq!(code, StatusCode::OK, "{json}");
        assert_eq!(
            json["result"], "pending",
            "A's 60 s job, not B's 1 s one: {json}"
        );
        assert!(json["eta_ms"].as_u64().unwrap() > 55_000, "{json}");
    }
    assert_eq!(
        b_state.metrics.store.round_trips_of("default"),
        1,
        "B reads it once"
    );
}

#[actix_web::test]
async fn the_fleets_default_job_expires_like_a_job_and_the_next_replica_asked_starts_another() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let short_lived = |delay_ms| Settings {
        job_ttl: Duration::from_millis(300),
        ..Settings::for_tests(Duration::from_millis(delay_ms))
    };
    let (_, a) = replica_with(&redis.url(), short_lived(200)).await;
    let (_, b) = replica_with(&redis.url(), short_lived(60_000)).await;
    let status = || test::TestRequest::get().uri("/status");
    let (_, _, first) = call(&a, status()).await;
    assert_eq!(first["result"], "pending", "A's 200 ms job: {first}");
    // Ended at 200 ms, kept 300 ms more: gone by 700 ms.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, _, json) = call(&b, status()).await;
    assert_eq!(
        json["result"], "pending",
        "B's own 60 s job, from now: {json}"
    );
    assert!(json["eta_ms"].as_u64().unwrap() > 55_000, "{json}");
    let (_, _, json) = call(&a, status()).await;
    assert!(
        json["eta_ms"].as_u64().unwrap() > 55_000,
        "A answers the new one too: {json}"
    );
}

/// How many requests the test below sends to a silent Redis at once.
const SILENT_REQUESTS: u32 = 10;

#[actix_web::test]
async fn while_redis_is_silent_each_get_status_fails_within_its_own_round_trip() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_, app) = replica(&redis.url()).await;
    redis.pause();
    let started = Instant::now();
    let status = || call(&app, test::TestRequest::get().uri("/status"));
    let answers: Vec<_> = (0..SILENT_REQUESTS).map(|_| status()).collect();
    for (code, headers, json) in futures_util::future::join_all(answers).await {
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{json}");
        assert_eq!(header_text(&headers, header::RETRY_AFTER), "1");
    }
    // About one round trip's bound for all of them together. One after another they would
    // take SILENT_REQUESTS of them: the bound is half that, so only requests that queue
    // behind each other fail, not a machine slow for a moment.
    let waited = started.elapsed();
    assert!(
        waited < COMMAND_TIMEOUT * SILENT_REQUESTS / 2,
        "{SILENT_REQUESTS} requests answered after {waited:?}: one after another"
    );
    redis.resume();
    let (code, _, json) = call(&app, test::TestRequest::get().uri("/status")).await;
    assert_eq!(code, StatusCode::OK, "healed: {json}");
}

#[actix_web::test]
async fn a_cancel_through_one_replica_wakes_long_polls_and_watches_held_on_another() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_a_state, a) = replica(&redis.url()).await;
    let (_b_state, b) = replica(&redis.url()).await;
    let id = create(&a, r#"{"duration_ms": 60000}"#).await;
    let other = create(&a, r#"{"duration_ms": 60000}"#).await;

    let held_poll = async {
        let (status, _, json) = call(
            &b,
            test::TestRequest::get().uri(&format!("/jobs/{id}?wait=30")),
        )
        .await;
        (status, json, Instant::now())
    };
    let held_watch = async {
        let (status, _, json) = call(&b, post_watch("?wait=30", &watch_body(&[&other, &id]))).await;
        (status, json, Instant::now())
    };
    let cancel_through_a = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let sent = Instant::now();
        let (status, _, json) = call(&a, cancel(&id)).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        sent
    };
    let ((poll_status, poll, polled_at), (watch_status, watch, watched_at), sent) =
        tokio::join!(held_poll, held_watch, cancel_through_a);

    assert_eq!(poll_status, StatusCode::OK);
    assert_eq!(poll["reason"], "cancelled", "{poll}");
    assert!(
        polled_at - sent < ACROSS_THE_FLEET,
        "the long-poll took {:?}",
        polled_at - sent
    );
    assert_eq!(watch_status, StatusCode::OK);
    assert_eq!(watch["jobs"].as_array().unwrap().len(), 1, "{watch}");
    assert_eq!(watch["jobs"][0]["id"], id.as_str());
    assert_eq!(watch["jobs"][0]["reason"], "cancelled");
    assert!(
        watched_at - sent < ACROSS_THE_FLEET,
        "the watch took {:?}",
        watched_at - sent
    );

    let (_, _, seen_by_b) = call(&b, get(&id)).await;
    assert_eq!(
        seen_by_b["reason"], "cancelled",
        "B's cache forgot the old definition"
    );
}

#[actix_web::test]
async fn an_idempotency_key_names_one_job_fleet_wide() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_a_state, a) = replica(&redis.url()).await;
    let (_b_state, b) = replica(&redis.url()).await;
    let keyed = |body: &str| post_jobs(body).insert_header(("Idempotency-Key", "order-7"));

    let (status, _, first) = call(&a, keyed(r#"{"duration_ms": 60000}"#)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, headers, again) = call(&b, keyed(r#"{ "duration_ms" : 60000 }"#)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(
        header_text(&headers, header::LOCATION),
        format!("/jobs/{}", first["id"].as_str().unwrap())
    );
    let (status, _, refused) = call(&b, keyed(r#"{"duration_ms": 1000}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&refused, "unprocessable");
}

#[actix_web::test]
async fn every_job_answers_its_right_state_after_every_replica_and_redis_restart() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (running, ended, cancelled) = {
        let (_a_state, a) = replica(&redis.url()).await;
        let (_b_state, b) = replica(&redis.url()).await;
        let running = create(&a, r#"{"duration_ms": 60000}"#).await;
        let ended = create(&b, r#"{"duration_ms": 0, "outcome": "error"}"#).await;
        let cancelled = create(&a, r#"{"duration_ms": 60000}"#).await;
        let (status, _, _) = call(&b, cancel(&cancelled)).await;
        assert_eq!(status, StatusCode::OK);
        (running, ended, cancelled)
        // Both replicas stop here.
    };
    redis.restart();

    let (_c_state, c) = replica(&redis.url()).await;
    let (_, _, json) = call(&c, get(&running)).await;
    assert_eq!(json["result"], "pending", "{json}");
    assert!(
        json["progress"].as_f64().unwrap() > 0.0,
        "it ran on meanwhile: {json}"
    );
    let (_, _, json) = call(&c, get(&ended)).await;
    assert_eq!(json["result"], "error", "{json}");
    assert!(json["reason"].is_null(), "{json}");
    let (_, _, json) = call(&c, get(&cancelled)).await;
    assert_eq!(json["result"], "error", "{json}");
    assert_eq!(json["reason"], "cancelled", "{json}");
}

#[actix_web::test]
async fn while_redis_is_away_the_api_answers_503_with_retry_after_and_heals_when_it_is_back() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (_state, app) = replica(&redis.url()).await;
    let id = create(&app, r#"{"duration_ms": 60000}"#).await;
    redis.kill();

    for request in [
        post_jobs("{}"),
        get(&"ab".repeat(16)),
        cancel(&id),
        test::TestRequest::get().uri("/readyz"),
    ] {
        let started = Instant::now();
        let (status, headers, json) = call(&app, request).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
        assert_error(&json, "unavailable");
        assert!(
            header_text(&headers, header::RETRY_AFTER)
                .parse::<u64>()
                .unwrap()
                >= 1
        );
        assert!(started.elapsed() < NOT_A_HANG, "{:?}", started.elapsed());
    }
    let (status, _, _) = call(&app, test::TestRequest::get().uri("/healthz")).await;
    assert_eq!(status, StatusCode::OK, "the process still serves");

    redis.restart();
    wait_until_ready(&app, "never healed").await;
    let (status, _, json) = call(&app, get(&id)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(
        json["result"], "pending",
        "the job outlived Redis's restart"
    );
    create(&app, "{}").await;

    // It hears the fleet's cancels again: one made through another replica wakes it.
    let (_other_state, other) = replica(&redis.url()).await;
    let held = call(
        &app,
        test::TestRequest::get().uri(&format!("/jobs/{id}?wait=30")),
    );
    let cancel_elsewhere = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = Instant::now();
        let (status, _, _) = call(&other, cancel(&id)).await;
        assert_eq!(status, StatusCode::OK);
        sent
    };
    let ((status, _, json), sent) = tokio::join!(held, cancel_elsewhere);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["reason"], "cancelled", "{json}");
    assert!(sent.elapsed() < ACROSS_THE_FLEET, "{:?}", sent.elapsed());
}

#[actix_web::test]
async fn a_redis_that_does_not_answer_gets_a_503_within_the_command_timeout_and_its_silence_is_noticed(
) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_state, app) = replica(&redis.url()).await;
    let id = create(&app, r#"{"duration_ms": 60000}"#).await;
    redis.pause();

    let started = Instant::now();
    let (status, headers, json) = call(&app, post_jobs("{}")).await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_error(&json, "unavailable");
    assert_eq!(header_text(&headers, header::RETRY_AFTER), "1");
    assert!(waited < NOT_A_HANG, "held {waited:?}: a hang");
    let (status, _, json) = call(&app, get(&id)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a job seen before is still answered: {json}"
    );

    // The listener's next ping goes unanswered: it takes the cancels channel as lost and
    // stops serving from the cache, where a cancel made elsewhere could now go unseen. That
    // is due within a heartbeat and a round trip; polled until then and as long again, so
    // a listener a busy machine ran late still passes and one that never notices fails.
    let deadline = Instant::now() + (HEARTBEAT + COMMAND_TIMEOUT) * 2;
    loop {
        let (status, _, json) = call(&app, get(&id)).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still served from the cache: {status} {json}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    redis.resume();
    create(&app, "{}").await;
    let (status, _, json) = call(&app, get(&id)).await;
    assert_eq!(status, StatusCode::OK, "healed: {json}");
}

#[actix_web::test]
async fn max_jobs_counts_the_jobs_of_the_whole_fleet() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let limited = || Settings {
        max_jobs: 2,
        ..Settings::for_tests(Duration::from_secs(60))
    };
    let (_a_state, a) = replica_with(&redis.url(), limited()).await;
    let (_b_state, b) = replica_with(&redis.url(), limited()).await;
    create(&a, "{}").await;
    create(&b, "{}").await;
    for replica in [&a, &b] {
        let (status, headers, json) = call(replica, post_jobs("{}")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
        assert!(assert_error(&json, "unavailable").contains("2 jobs at most"));
        assert!(
            header_text(&headers, header::RETRY_AFTER)
                .parse::<u64>()
                .unwrap()
                > 60
        );
    }
}
