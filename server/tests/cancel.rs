//! `POST /jobs/{id}/cancel` (issue 11): a pending job ends at once as `error` with
//! `"reason": "cancelled"`; the cancel is idempotent; an ended job answers 409 with its
//! status; every long-poll and watch held on the job answers at once.

use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::test;
use serde_json::Value;
use video_translation_server::config::Settings;

mod common;
use common::{
    app, app_with, assert_error, call, header_text, post_jobs, post_watch, watch_body,
    BEFORE_THE_WAIT,
};

fn cancel(id: &str) -> test::TestRequest {
    test::TestRequest::post().uri(&format!("/jobs/{id}/cancel"))
}

/// Creates a job with `body` and returns its id.
async fn job(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    body: &str,
) -> String {
    let (status, _, json) = call(app, post_jobs(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    json["id"].as_str().unwrap().to_owned()
}

fn assert_cancelled(json: &Value, id: &str) {
    assert_eq!(json["id"], id, "{json}");
    assert_eq!(json["result"], "error", "{json}");
    assert_eq!(json["reason"], "cancelled", "{json}");
    assert_eq!(json["eta_ms"], 0, "{json}");
}

#[actix_web::test]
async fn a_pending_job_ends_at_once_as_error_with_the_reason_and_stays_so() {
    let app = app(Duration::from_secs(60)).await;
    let id = job(&app, "{}").await;
    let (status, headers, json) = call(&app, cancel(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_text(&headers, header::CACHE_CONTROL), "no-store");
    assert_cancelled(&json, &id);
    assert!(headers.get(header::RETRY_AFTER).is_none(), "not pending");

    let (status, _, polled) =
        call(&app, test::TestRequest::get().uri(&format!("/jobs/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_cancelled(&polled, &id);
    assert_eq!(
        polled["progress"], json["progress"],
        "the progress is frozen"
    );
}

#[actix_web::test]
async fn cancelling_twice_answers_200_with_the_same_status() {
    let app = app(Duration::from_secs(60)).await;
    let id = job(&app, "{}").await;
    let (_, _, first) = call(&app, cancel(&id)).await;
    let (status, _, second) = call(&app, cancel(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first, second);
}

#[actix_web::test]
async fn an_ended_job_answers_409_with_its_status_and_no_reason() {
    let app = app(Duration::from_secs(60)).await;
    for outcome in ["completed", "error"] {
        let id = job(
            &app,
            &format!(r#"{{"duration_ms": 0, "outcome": "{outcome}"}}"#),
        )
        .await;
        let (status, _, json) = call(&app, cancel(&id)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{json}");
        let message = assert_error(&json, "conflict");
        assert!(message.contains(outcome), "{message}");
        assert_eq!(json["status"]["id"], id.as_str(), "{json}");
        assert_eq!(json["status"]["result"], outcome, "{json}");
        assert!(json["status"].get("reason").is_none(), "{json}");
    }
}

#[actix_web::test]
async fn an_unknown_or_malformed_id_is_404() {
    let app = app(Duration::from_secs(60)).await;
    for id in ["0".repeat(32), "default".to_owned(), "xyz".to_owned()] {
        let (status, _, json) = call(&app, cancel(&id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert_error(&json, "not_found");
    }
}

#[actix_web::test]
async fn an_empty_body_of_any_type_is_taken_and_a_body_is_400() {
    let app = app(Duration::from_secs(60)).await;
    let id = job(&app, "{}").await;
    let (status, _, _) = call(
        &app,
        cancel(&id).insert_header((header::CONTENT_TYPE, "text/html")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "an empty body, whatever its type");

    let other = job(&app, "{}").await;
    let (status, _, json) = call(
        &app,
        cancel(&other)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&json, "bad_request").contains("no body"));
    let (_, _, still) = call(
        &app,
        test::TestRequest::get().uri(&format!("/jobs/{other}")),
    )
    .await;
    assert_eq!(
        still["result"], "pending",
        "a refused cancel cancels nothing"
    );

    let (status, headers, _) = call(
        &app,
        test::TestRequest::get().uri(&format!("/jobs/{id}/cancel")),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header_text(&headers, header::ALLOW), "POST");
}

/// Sends `held` (a request asking to wait), then after 200 ms cancels job `id`: the held
/// answer, and how long after the cancel was sent it came.
async fn held_then_cancelled(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    held: test::TestRequest,
    id: &str,
) -> (StatusCode, Value, Duration) {
    let held = async {
        let (status, _, json) = call(app, held).await;
        (status, json, Instant::now())
    };
    let cancelling = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = Instant::now();
        let (status, _, json) = call(app, cancel(id)).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        sent
    };
    let ((status, json, answered_at), sent) = tokio::join!(held, cancelling);
    (status, json, answered_at.saturating_duration_since(sent))
}

#[actix_web::test]
async fn a_held_long_poll_answers_at_once_when_its_job_is_cancelled() {
    let app = app(Duration::from_secs(60)).await;
    let id = job(&app, "{}").await;
    let started = Instant::now();
    let long_poll = test::TestRequest::get().uri(&format!("/jobs/{id}?wait=30"));
    let (status, json, after_cancel) = held_then_cancelled(&app, long_poll, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_cancelled(&json, &id);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "it was held"
    );
    assert!(
        after_cancel < BEFORE_THE_WAIT,
        "answered {after_cancel:?} after the cancel"
    );
}

#[actix_web::test]
async fn a_held_watch_answers_at_once_with_the_cancelled_job() {
    let app = app(Duration::from_secs(60)).await;
    let id = job(&app, "{}").await;
    let other = job(&app, "{}").await;
    let started = Instant::now();
    let watch = post_watch("?wait=30", &watch_body(&[&other, &id]));
    let (status, json, after_cancel) = held_then_cancelled(&app, watch, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "it was held"
    );
    assert!(
        after_cancel < BEFORE_THE_WAIT,
        "answered {after_cancel:?} after the cancel"
    );
    let jobs = json["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "only the ended job: {json}");
    assert_cancelled(&jobs[0], &id);
}

#[actix_web::test]
async fn with_api_keys_a_cancel_needs_one() {
    let app = app_with(Settings {
        api_keys: vec!["k1".parse().unwrap()],
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    let (_, _, created) = call(
        &app,
        post_jobs("{}").insert_header((header::AUTHORIZATION, "Bearer k1")),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (status, headers, json) = call(&app, cancel(id)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&json, "unauthorized");
    assert!(header_text(&headers, header::WWW_AUTHENTICATE).starts_with("Bearer"));
    let (status, _, json) = call(
        &app,
        cancel(id).insert_header((header::AUTHORIZATION, "Bearer k1")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_cancelled(&json, id);
}
