//! `POST /jobs/watch` through the real app: when it answers at once and when it holds, what
//! each answer lists, the bodies it refuses, and its share of `--max-waiters`.

use std::time::{Duration, Instant};

use actix_web::http::{header, Method, StatusCode};
use actix_web::test;
use serde_json::{json, Value};
use video_translation_server::config::Settings;
use video_translation_server::startup::{build_app, AppState};

mod common;
use common::{
    app, app_with, assert_error, call, header_text, post_jobs, post_watch, until_held, watch_body,
    TestApp, BEFORE_THE_WAIT,
};

/// A job lasting `millis` (ending `completed`); its id.
async fn job(app: &impl TestApp, millis: u64) -> String {
    let body = format!(r#"{{"duration_ms": {millis}, "outcome": "completed"}}"#);
    let (status, _, json) = call(app, post_jobs(&body)).await;
    assert_eq!(status, StatusCode::CREATED);
    json["id"].as_str().unwrap().to_owned()
}

/// The ids and results listed in `jobs`, and the `missing` ids.
fn listed(answer: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let jobs = answer["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {answer}"))
        .iter()
        .map(|job| {
            (
                job["id"].as_str().unwrap().to_owned(),
                job["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let missing = answer["missing"]
        .as_array()
        .unwrap_or_else(|| panic!("no missing in {answer}"))
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    (jobs, missing)
}

fn pair(id: &str, result: &str) -> (String, String) {
    (id.to_owned(), result.to_owned())
}

const UNKNOWN: &str = "0123456789abcdef0123456789abcdef";

#[actix_web::test]
async fn an_ended_or_unknown_job_answers_at_once_with_the_ended_and_the_missing() {
    let app = app(Duration::from_secs(60)).await;
    let ended = job(&app, 0).await;
    let pending = job(&app, 60_000).await;
    let started = Instant::now();
    let (status, headers, answer) = call(
        &app,
        post_watch(
            "?wait=30",
            &watch_body(&[&pending, &ended, UNKNOWN, "nope"]),
        ),
    )
    .await;
    assert!(started.elapsed() < BEFORE_THE_WAIT, "not held");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed(&answer),
        (
            vec![pair(&ended, "completed")],
            vec![UNKNOWN.to_owned(), "nope".to_owned()]
        ),
        "only the ended job; unknown and malformed ids as sent"
    );
    assert_eq!(header_text(&headers, header::CACHE_CONTROL), "no-store");
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=30"
    );

    let started = Instant::now();
    let (_, _, answer) = call(&app, post_watch("?wait=30", &watch_body(&[&pending, "x"]))).await;
    assert!(started.elapsed() < BEFORE_THE_WAIT, "not held");
    assert_eq!(listed(&answer), (vec![], vec!["x".to_owned()]));
}

#[actix_web::test]
async fn a_watch_is_held_until_the_first_listed_job_ends() {
    let app = app(Duration::from_secs(60)).await;
    let soon = job(&app, 300).await;
    let later = job(&app, 60_000).await;
    let started = Instant::now();
    let (status, headers, answer) = call(
        &app,
        test::TestRequest::post()
            .uri("/jobs/watch")
            .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
            .insert_header(("prefer", "wait=30"))
            .set_payload(watch_body(&[&later, &soon])),
    )
    .await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(
        waited >= Duration::from_millis(250),
        "answered before the job ended: {waited:?}"
    );
    assert!(
        waited < BEFORE_THE_WAIT,
        "held for its wait, not answered at the first end: {waited:?}"
    );
    assert_eq!(listed(&answer), (vec![pair(&soon, "completed")], vec![]));
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=30",
        "Prefer: wait= works as ?wait= does"
    );
}

#[actix_web::test]
async fn when_the_wait_runs_out_every_listed_job_is_answered_in_order() {
    let app = app(Duration::from_secs(60)).await;
    let first = job(&app, 60_000).await;
    let second = job(&app, 60_000).await;
    let started = Instant::now();
    let (_, headers, answer) = call(
        &app,
        post_watch("?wait=0.2", &watch_body(&[&second, &first, &second])),
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        listed(&answer),
        (
            vec![pair(&second, "pending"), pair(&first, "pending")],
            vec![]
        )
    );
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=0.2"
    );
    let status = &answer["jobs"][0];
    assert!(status["progress"].is_number() && status["eta_ms"].is_number());
}

#[actix_web::test]
async fn without_a_wait_every_listed_job_is_answered_at_once() {
    let app = app(Duration::from_secs(60)).await;
    let ended = job(&app, 0).await;
    let pending = job(&app, 60_000).await;
    for query in ["", "?wait=0"] {
        let started = Instant::now();
        let (status, headers, answer) = call(
            &app,
            post_watch(query, &watch_body(&[&pending, UNKNOWN, &ended])),
        )
        .await;
        assert!(started.elapsed() < BEFORE_THE_WAIT, "{query}: held");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            listed(&answer),
            (
                vec![pair(&pending, "pending"), pair(&ended, "completed")],
                vec![UNKNOWN.to_owned()]
            ),
            "{query}"
        );
        assert!(headers.get("preference-applied").is_none(), "{query}");
        assert_eq!(header_text(&headers, header::CACHE_CONTROL), "no-store");
    }
}

#[actix_web::test]
async fn the_wait_is_capped_by_max_wait_and_says_so() {
    let app = app_with(Settings {
        max_wait: Duration::from_millis(150),
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    let pending = job(&app, 60_000).await;
    let started = Instant::now();
    let (_, headers, answer) = call(&app, post_watch("?wait=30", &watch_body(&[&pending]))).await;
    assert!(
        started.elapsed() < BEFORE_THE_WAIT,
        "held for the wait asked"
    );
    assert_eq!(listed(&answer).0, vec![pair(&pending, "pending")]);
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=0.15"
    );
}

#[actix_web::test]
async fn duplicates_are_answered_once_whatever_their_spelling() {
    let app = app(Duration::from_secs(60)).await;
    let ended = job(&app, 0).await;
    let (_, _, answer) = call(
        &app,
        post_watch(
            "?wait=5",
            &watch_body(&[
                ended.as_str(),
                UNKNOWN,
                &ended.to_uppercase(),
                UNKNOWN,
                &ended,
                "",
                "",
            ]),
        ),
    )
    .await;
    assert_eq!(
        listed(&answer),
        (
            vec![pair(&ended, "completed")],
            vec![UNKNOWN.to_owned(), String::new()]
        )
    );
}

#[actix_web::test]
async fn a_thousand_ids_are_taken_even_indented_and_more_are_400() {
    let app = app(Duration::from_secs(60)).await;
    let ids: Vec<String> = (0..1000u32).map(|n| format!("{n:032x}")).collect();
    let indented = serde_json::to_string_pretty(&json!({ "ids": ids })).unwrap();
    let (status, _, answer) = call(&app, post_watch("", &indented)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&answer).1.len(), 1000, "all unknown, each listed");

    let too_many: Vec<String> = (0..1001u32).map(|n| format!("{n:032x}")).collect();
    let (status, _, json) = call(&app, post_watch("", &watch_body(&too_many))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = assert_error(&json, "bad_request");
    assert!(
        message.contains("1 to 1000") && message.contains("1001"),
        "{message}"
    );
}

#[actix_web::test]
async fn malformed_watch_requests_are_400_saying_why() {
    let app = app(Duration::from_secs(60)).await;
    let cases = [
        (r#"{"ids": []}"#, "not 0"),
        ("", "empty"),
        ("{", "EOF"),
        ("[]", "not a JSON object"),
        (r#"["a"]"#, "not a JSON object"),
        ("null", "not a JSON object"),
        ("{}", "missing field `ids`"),
        (r#"{"ids": "a"}"#, "ids: invalid type"),
        (r#"{"ids": [1]}"#, "ids[0]: invalid type"),
        (r#"{"ids": ["a"], "wait": 5}"#, "unknown field `wait`"),
        (r#"{"ids": ["a"]} xyz"#, "trailing"),
        (r#"{"ids": ["a"]}{"ids": ["b"]}"#, "trailing"),
    ];
    for (body, hint) in cases {
        let (status, _, json) = call(&app, post_watch("?wait=1", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = assert_error(&json, "bad_request");
        assert!(
            message.contains(hint) && message.contains("watch request"),
            "{body}: {message:?} should mention {hint:?}"
        );
    }
    let (status, _, json) = call(&app, post_watch("?wait=soon", &watch_body(&["a"]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&json, "bad_request").contains("wait"));
}

#[actix_web::test]
async fn a_watch_body_not_declared_json_is_415() {
    let app = app(Duration::from_secs(60)).await;
    let body = watch_body(&[UNKNOWN]);
    for content_type in [
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonp"),
        None,
    ] {
        let mut request = test::TestRequest::post()
            .uri("/jobs/watch")
            .set_payload(body.clone());
        if let Some(content_type) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, content_type));
        }
        let (status, _, json) = call(&app, request).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_error(&json, "unsupported_media_type");
    }
}

#[actix_web::test]
async fn a_body_over_40_kib_is_413_and_other_methods_405() {
    let app = app(Duration::from_secs(60)).await;
    let huge = format!(r#"{{"ids": ["{}"]}}"#, "a".repeat(41 * 1024));
    let (status, _, json) = call(&app, post_watch("", &huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&json, "payload_too_large");

    let (status, headers, json) = call(
        &app,
        test::TestRequest::default()
            .method(Method::GET)
            .uri("/jobs/watch"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header_text(&headers, header::ALLOW), "POST");
    assert_error(&json, "method_not_allowed");
}

#[actix_web::test]
async fn a_held_watch_takes_one_waiter_slot_whatever_its_ids() {
    let app = app_with(Settings {
        max_waiters: 2,
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(job(&app, 60_000).await);
    }
    let body = watch_body(&ids);
    // Each once the server counts the ones before it held; held for 2 s, far longer than
    // the requests after them take.
    let held = call(&app, post_watch("?wait=2", &body));
    let others = async {
        until_held(&app, "watch", 1).await;
        let second = call(&app, post_watch("?wait=2", &body));
        let refused = async {
            until_held(&app, "watch", 2).await;
            let long_poll = call(
                &app,
                test::TestRequest::get().uri(&format!("/jobs/{}?wait=1", ids[0])),
            )
            .await;
            let watch = call(&app, post_watch("?wait=1", &body)).await;
            let plain = call(&app, post_watch("", &body)).await;
            (long_poll, watch, plain)
        };
        tokio::join!(second, refused)
    };
    let ((held_status, _, _), ((second_status, _, _), (long_poll, watch, plain))) =
        tokio::join!(held, others);
    assert_eq!(held_status, StatusCode::OK);
    assert_eq!(
        second_status,
        StatusCode::OK,
        "50 ids took one slot, not 50"
    );
    for (what, (status, headers, json)) in [("long-poll", long_poll), ("watch", watch)] {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert!(assert_error(&json, "unavailable").contains("at most"));
        assert_eq!(header_text(&headers, header::RETRY_AFTER), "1", "{what}");
    }
    assert_eq!(
        plain.0,
        StatusCode::OK,
        "a watch without a wait is never refused"
    );

    let (status, _, _) = call(&app, post_watch("?wait=0.05", &body)).await;
    assert_eq!(status, StatusCode::OK, "the slots came back");
}

#[actix_web::test]
async fn stopping_answers_held_watches_at_once_with_every_status() {
    let state = AppState::new(&Settings::for_tests(Duration::from_secs(60))).unwrap();
    let app = test::init_service(build_app(&state)).await;
    let first = job(&app, 60_000).await;
    let second = job(&app, 60_000).await;
    let started = Instant::now();
    let held = call(
        &app,
        post_watch("?wait=30", &watch_body(&[&first, &second])),
    );
    let stop = async {
        until_held(&app, "watch", 1).await;
        state.store.stop_waiting();
    };
    let ((status, _, answer), ()) = tokio::join!(held, stop);
    assert!(started.elapsed() < BEFORE_THE_WAIT, "held for the 30 s");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed(&answer),
        (
            vec![pair(&first, "pending"), pair(&second, "pending")],
            vec![]
        )
    );

    let started = Instant::now();
    let (_, _, answer) = call(&app, post_watch("?wait=30", &watch_body(&[&first]))).await;
    assert!(
        started.elapsed() < BEFORE_THE_WAIT,
        "later ones are not held"
    );
    assert_eq!(listed(&answer).0, vec![pair(&first, "pending")]);
}
