//! `Idempotency-Key` on `POST /jobs` (issue 11): the same key and request make one job (201,
//! then 200 with the same `Location`), another request with the key is a JSON 422, no key
//! makes a new job each time, a malformed key is a JSON 400, and past `--max-jobs` keys the
//! oldest is forgotten.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use video_translation_server::config::Settings;

mod common;
use common::{app, app_with, assert_error, call, header_text, post_jobs};

fn keyed(key: &str, body: &str) -> test::TestRequest {
    post_jobs(body).insert_header(("Idempotency-Key", key))
}

#[actix_web::test]
async fn the_same_key_and_request_return_the_same_job() {
    let app = app(Duration::from_secs(60)).await;
    let (status, headers, first) = call(&app, keyed("k-1", r#"{"duration_ms": 60000}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
    let location = header_text(&headers, header::LOCATION).to_owned();
    // Re-encoded, as another serializer would: the same request by meaning.
    let (status, headers, again) = call(&app, keyed("k-1", "{ \"duration_ms\" : 60000 }\n")).await;
    assert_eq!(status, StatusCode::OK, "a replay, not a creation");
    assert_eq!(header_text(&headers, header::LOCATION), location);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["result"], "pending");
}

#[actix_web::test]
async fn an_empty_body_and_an_empty_object_are_the_same_request() {
    let app = app(Duration::from_secs(60)).await;
    let (_, _, first) = call(&app, keyed("k", "")).await;
    let (status, _, again) = call(&app, keyed("k", "{}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
}

#[actix_web::test]
async fn the_same_key_with_another_request_is_422() {
    let app = app(Duration::from_secs(60)).await;
    call(&app, keyed("k", r#"{"duration_ms": 1000}"#)).await;
    let (status, _, json) = call(&app, keyed("k", r#"{"duration_ms": 2000}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = assert_error(&json, "unprocessable");
    assert!(message.contains("another body"), "{message}");
}

#[actix_web::test]
async fn without_a_key_each_request_makes_a_new_job() {
    let app = app(Duration::from_secs(60)).await;
    let (first, _, a) = call(&app, post_jobs("{}")).await;
    let (second, _, b) = call(&app, post_jobs("{}")).await;
    assert_eq!((first, second), (StatusCode::CREATED, StatusCode::CREATED));
    assert_ne!(a["id"], b["id"]);
    let (_, _, c) = call(&app, keyed("k", "{}")).await;
    let (_, _, d) = call(&app, keyed("other", "{}")).await;
    assert_ne!(c["id"], d["id"], "another key, another job");
}

#[actix_web::test]
async fn a_malformed_key_is_400_and_makes_no_job() {
    let app = app_with(Settings {
        max_jobs: 1,
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    for bad in ["", "two words", &"k".repeat(256)] {
        let (status, _, json) = call(&app, keyed(bad, "{}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(assert_error(&json, "bad_request").contains("Idempotency-Key"));
    }
    let (status, _, _) = call(&app, keyed(&"k".repeat(255), "{}")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "room was left: no job was made"
    );
}

#[actix_web::test]
async fn past_max_jobs_keys_the_oldest_key_is_forgotten() {
    let app = app_with(Settings {
        max_jobs: 2,
        job_ttl: Duration::ZERO,
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    // Jobs of no duration and no ttl expire at once, so only the keys fill up.
    let instant = r#"{"duration_ms": 0}"#;
    let (_, _, first) = call(&app, keyed("k1", instant)).await;
    call(&app, keyed("k2", instant)).await;
    call(&app, keyed("k3", instant)).await;
    let (status, _, again) = call(&app, keyed("k1", instant)).await;
    assert_eq!(status, StatusCode::CREATED, "k1 was forgotten");
    assert_ne!(again["id"], first["id"]);
    let (status, _, json) = call(&app, keyed("k3", instant)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "k3 is kept, its job expired");
    assert!(assert_error(&json, "not_found").contains("expired"));
}

#[actix_web::test]
async fn a_cross_origin_page_may_send_the_key() {
    let app = app(Duration::from_secs(60)).await;
    let response = test::call_service(
        &app,
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/jobs")
            .insert_header((header::ORIGIN, "https://app.example.com"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .insert_header((
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type, idempotency-key",
            ))
            .to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let allowed = response
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap()
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
}
