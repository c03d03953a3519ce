//! The fleet never changes a finished job, never claims a failed write did nothing when it
//! did, refuses creates while Redis is full, and keeps a damaged record that one job's
//! problem (issue 20). Each test has a redis-server of its own and tampers with it: paused
//! writes (`CLIENT PAUSE ... WRITE`, which Redis lifts by itself), a frozen process
//! (SIGSTOP), `maxmemory`, and keys written under the project's names by "another program".

mod common;

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use common::redis_server::RedisServer;
use common::replica::{replica, replica_with};
use common::{
    assert_error, call, cancel, create, get, header_text, post_jobs, post_watch, watch_body,
};
use video_translation_server::config::Settings;

fn keyed_post(key: &str, body: &str) -> test::TestRequest {
    post_jobs(body).insert_header(("Idempotency-Key", key))
}

/// Pauses Redis's writes for `pause`, from now (Redis lifts the pause by itself, unless
/// `CLIENT UNPAUSE` does first).
fn pause_writes(redis: &RedisServer, pause: Duration) {
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(pause.as_millis() as u64)
        .arg("WRITE")
        .query(&mut redis.connection())
        .expect("CLIENT PAUSE");
}

/// What the fleet keeps: how many jobs the expiry index lists.
fn jobs_in_redis(redis: &RedisServer) -> usize {
    redis::cmd("ZCARD")
        .arg("{vts}:expiries")
        .query(&mut redis.connection())
        .unwrap()
}

/// The texts that must never reach an answer (issue 20, point 5).
fn assert_no_internal_text(json: &serde_json::Value) {
    let text = json.to_string();
    for internal in [
        "WRONGTYPE",
        "OOM",
        "script",
        "user_script",
        "unpack",
        "pipe",
        "Redis",
    ] {
        assert!(!text.contains(internal), "{internal:?} in {text}");
    }
}

#[actix_web::test]
async fn a_cancel_that_redis_runs_after_the_jobs_end_answers_409_and_the_job_stays_completed() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_a_state, a) = replica(&redis.url()).await;
    let (_b_state, b) = replica(&redis.url()).await;
    // Redis knows the cancel script first, so the held cancel is one EVALSHA.
    let warm_up = create(&a, "{}").await;
    assert_eq!(call(&a, cancel(&warm_up)).await.0, StatusCode::OK);
    let id = create(&a, r#"{"duration_ms": 150, "outcome": "completed"}"#).await;
    // The cancel reaches Redis while the job is pending, and waits there past its end. The
    // pause is well within the cancel's deadline (0.5 s), so that the script still runs
    // on a busy machine.
    pause_writes(&redis, Duration::from_millis(250));
    let (status, _, json) = call(&a, cancel(&id)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{json}");
    assert_eq!(json["status"]["result"], "completed", "{json}");

    let (status, _, json) = call(&b, get(&id)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["result"], "completed", "never changed: {json}");
    let (_, _, json) = call(&a, get(&id)).await;
    assert_eq!(json["result"], "completed", "{json}");
}

#[actix_web::test]
async fn creates_and_cancels_answered_503_while_redis_held_them_did_nothing() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_a_state, a) = replica(&redis.url()).await;
    let (_b_state, b) = replica(&redis.url()).await;
    let running = create(&a, r#"{"duration_ms": 60000}"#).await;

    // Creates, their writes held until both have answered (a create waits 1.5 s at most;
    // the pause's length is a backstop: it is lifted by hand once they have).
    pause_writes(&redis, Duration::from_secs(30));
    let (created, keyed) = tokio::join!(
        call(&a, post_jobs(r#"{"duration_ms": 60000}"#)),
        call(&a, keyed_post("held-key", r#"{"duration_ms": 60000}"#)),
    );
    assert_503(&[("create", created), ("keyed create", keyed)]);
    redis_command(&redis, &["CLIENT", "UNPAUSE"]);
    // Once Redis has run what it held, nothing of it happened.
    settle(&redis).await;
    assert_eq!(jobs_in_redis(&redis), 1, "no job was stored by a 503");
    let (status, _, json) = call(&b, keyed_post("held-key", r#"{"duration_ms": 5}"#)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the key was not taken by a 503, so another request may use it: {json}"
    );

    // A cancel, Redis frozen (SIGSTOP) until it has answered: the script waits in Redis's
    // socket, and runs when Redis is woken. A cancel first, so that the replica's connection
    // is up again after the timeouts above and Redis knows the script: the held cancel is
    // then one EVALSHA, not a handshake or a NOSCRIPT that the timeout cuts short.
    let warm_up = create(&a, "{}").await;
    let (status, _, _) = call(&a, cancel(&warm_up)).await;
    assert_eq!(status, StatusCode::OK);
    redis.pause();
    let cancelled = call(&a, cancel(&running)).await;
    redis.resume();
    assert_503(&[("cancel", cancelled)]);
    settle(&redis).await;
    let (status, _, json) = call(&b, get(&running)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["result"], "pending", "not cancelled by a 503: {json}");
}

/// Each of `answers` is a 503 in the contract's words.
fn assert_503(answers: &[(&str, (StatusCode, header::HeaderMap, serde_json::Value))]) {
    for (what, (status, headers, json)) in answers {
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {json}");
        assert_error(json, "unavailable");
        assert_no_internal_text(json);
        assert_eq!(header_text(headers, header::RETRY_AFTER), "1", "{what}");
    }
}

/// Lets Redis run what it held: a write of the test's own queues behind it, and a moment
/// more lets the replica's late answers arrive.
async fn settle(redis: &RedisServer) {
    redis_command(redis, &["SET", "{vts}:test-probe", "1"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn redis_command(redis: &RedisServer, words: &[&str]) {
    let mut command = redis::cmd(words[0]);
    command.arg(&words[1..]);
    let _: () = command.query(&mut redis.connection()).unwrap();
}

#[actix_web::test]
async fn a_full_redis_refuses_creates_with_503_and_retry_after_and_still_takes_cancels() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_state, app) = replica(&redis.url()).await;
    let running = create(&app, r#"{"duration_ms": 60000}"#).await;
    let set_maxmemory = |bytes: &str| {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg(bytes)
            .query(&mut redis.connection())
            .unwrap();
    };
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query(&mut redis.connection())
        .unwrap();
    set_maxmemory("1");

    for request in [
        post_jobs("{}"),
        keyed_post("full-key", "{}"),
        post_jobs(r#"{"duration_ms": 5}"#),
    ] {
        let (status, headers, json) = call(&app, request).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
        assert_error(&json, "unavailable");
        assert_no_internal_text(&json);
        assert!(headers.contains_key(header::RETRY_AFTER));
    }
    assert_eq!(
        jobs_in_redis(&redis),
        1,
        "nothing was stored past maxmemory"
    );

    // A cancel frees memory sooner (the job expires earlier): a full Redis takes it.
    let (status, _, json) = call(&app, cancel(&running)).await;
    assert_eq!(status, StatusCode::OK, "{json}");

    set_maxmemory("0");
    create(&app, "{}").await;
}

#[actix_web::test]
async fn redis_errors_reach_the_log_not_the_answer() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_state, app) = replica(&redis.url()).await;
    // Another program's value where the fleet keeps its expiry index.
    let _: () = redis::cmd("SET")
        .arg("{vts}:expiries")
        .arg("not a sorted set")
        .query(&mut redis.connection())
        .unwrap();
    let (status, _, json) = call(&app, post_jobs("{}")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_error(&json, "unavailable");
    assert_no_internal_text(&json);
}

#[actix_web::test]
async fn keys_are_trimmed_to_max_jobs_however_many_are_kept() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // A fleet that kept many keys, restarted with a lower --max-jobs: more keys to forget
    // at once than Lua can unpack (about 8,000).
    const KEPT: usize = 9_000;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut zadd = redis::cmd("ZADD");
    zadd.arg("{vts}:keys");
    for n in 0..KEPT {
        zadd.arg(now_ms - 1_000).arg(format!("old-{n}"));
    }
    let _: () = zadd.query(&mut redis.connection()).unwrap();

    let (_state, app) = replica_with(
        &redis.url(),
        Settings {
            max_jobs: 10,
            ..Settings::for_tests(Duration::from_secs(60))
        },
    )
    .await;
    let (status, _, json) = call(&app, keyed_post("new-key", "{}")).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    let keys: usize = redis::cmd("ZCARD")
        .arg("{vts}:keys")
        .query(&mut redis.connection())
        .unwrap();
    assert_eq!(keys, 10, "trimmed to --max-jobs, the newest kept");
    let (status, _, json) = call(&app, keyed_post("new-key", "{}")).await;
    assert_eq!(status, StatusCode::OK, "the new key is kept: {json}");
}

#[actix_web::test]
async fn a_damaged_record_is_that_jobs_problem_and_the_others_are_answered() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (_state, app) = replica(&redis.url()).await;
    let ended = create(&app, r#"{"duration_ms": 0}"#).await;
    let garbled = "1".repeat(32);
    let of_another_type = "2".repeat(32);
    let _: () = redis::cmd("HSET")
        .arg(format!("{{vts}}:job:{garbled}"))
        .arg(&["c", "yesterday", "d", "1", "e", "1", "o", "completed"])
        .query(&mut redis.connection())
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("{{vts}}:job:{of_another_type}"))
        .arg("a string")
        .query(&mut redis.connection())
        .unwrap();

    let ids = [ended.as_str(), &garbled, &of_another_type];
    for _ in 0..2 {
        let (status, _, json) = call(&app, post_watch("", &watch_body(&ids))).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert_eq!(json["jobs"][0]["id"], ended.as_str(), "{json}");
        assert_eq!(json["jobs"][0]["result"], "completed", "{json}");
        let missing: Vec<&str> = json["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        assert_eq!(missing, [garbled.as_str(), &of_another_type], "{json}");
    }
    for id in [&garbled, &of_another_type] {
        for request in [get(id), cancel(id)] {
            let (status, _, json) = call(&app, request).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {json}");
            assert_no_internal_text(&json);
        }
    }

    // The same for the default job's and a key's records: they are replaced.
    for key in ["{vts}:default", "{vts}:key:taken-by-garbage"] {
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg("a string")
            .query(&mut redis.connection())
            .unwrap();
    }
    let (status, _, json) = call(&app, test::TestRequest::get().uri("/status")).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, _, json) = call(&app, keyed_post("taken-by-garbage", "{}")).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
}
