//! The HTTP API, through the real app (middleware and routes) with actix's test utilities.

use std::time::Duration;

use actix_web::http::{header, Method, StatusCode};
use actix_web::test;
use video_translation_protocol::{JobResult, JobStatus};
use video_translation_server::config::Settings;
use video_translation_server::startup::Application;

mod common;
use common::{
    app, app_with, assert_error, call, header_text, post_jobs, raw_exchange, spawn_server, TestApp,
    BEFORE_THE_WAIT,
};

#[actix_web::test]
async fn status_reports_the_default_job_in_the_seeds_shape() {
    let app = app(Duration::from_secs(60)).await;
    let (status, _, json) = call(&app, test::TestRequest::get().uri("/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["result"], "pending");
    assert_eq!(json["id"], "default");
}

#[actix_web::test]
async fn status_is_completed_once_the_delay_has_passed() {
    let app = app(Duration::ZERO).await;
    let (_, _, json) = call(&app, test::TestRequest::get().uri("/status")).await;
    assert_eq!(json["result"], "completed");
    assert_eq!(json["progress"], 1.0);
}

#[actix_web::test]
async fn creating_a_job_answers_201_with_location_and_status() {
    let app = app(Duration::from_secs(30)).await;
    let (status, headers, json) = call(&app, post_jobs("")).await;
    assert_eq!(status, StatusCode::CREATED);
    let job: JobStatus = serde_json::from_value(json).unwrap();
    assert_eq!(job.result, JobResult::Pending);
    assert_eq!(job.progress, Some(0.0));
    assert_eq!(job.eta_ms, Some(30_000), "the default duration applies");
    assert_eq!(
        header_text(&headers, header::LOCATION),
        format!("/jobs/{}", job.id.as_deref().unwrap()).as_str()
    );
}

#[actix_web::test]
async fn a_created_job_is_reported_at_its_location() {
    let app = app(Duration::from_secs(30)).await;
    let (_, headers, _) = call(&app, post_jobs(r#"{"duration_ms": 60000}"#)).await;
    let location = header_text(&headers, header::LOCATION).to_owned();

    let (status, _, json) = call(&app, test::TestRequest::get().uri(&location)).await;
    assert_eq!(status, StatusCode::OK);
    let job: JobStatus = serde_json::from_value(json).unwrap();
    assert_eq!(format!("/jobs/{}", job.id.as_deref().unwrap()), location);
    assert_eq!(job.result, JobResult::Pending);
    assert!(job.eta_ms.unwrap() <= 60_000 && job.eta_ms.unwrap() > 59_000);
}

#[actix_web::test]
async fn the_requested_outcome_is_reached_after_the_requested_duration() {
    let app = app(Duration::from_secs(30)).await;
    let (_, _, json) = call(&app, post_jobs(r#"{"duration_ms": 0, "outcome": "error"}"#)).await;
    assert_eq!(json["result"], "error");
    let (_, _, json) = call(
        &app,
        post_jobs(r#"{"duration_ms": 0, "outcome": "completed"}"#),
    )
    .await;
    assert_eq!(json["result"], "completed");
}

fn post_jobs_as(content_type: Option<&str>, body: &str) -> test::TestRequest {
    let request = test::TestRequest::post()
        .uri("/jobs")
        .set_payload(body.to_owned());
    match content_type {
        Some(content_type) => request.insert_header((header::CONTENT_TYPE, content_type)),
        None => request,
    }
}

#[actix_web::test]
async fn a_job_body_is_read_when_declared_json() {
    let app = app(Duration::from_secs(30)).await;
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let (status, _, json) = call(
            &app,
            post_jobs_as(Some(content_type), r#"{"duration_ms": 1234}"#),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{content_type:?}");
        assert_eq!(json["eta_ms"], 1234);
    }
    let (status, _, _) = call(&app, post_jobs_as(Some("application/json"), "")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "an empty body declared JSON: all defaults"
    );
}

#[actix_web::test]
async fn a_job_request_not_declared_json_is_415_and_creates_nothing() {
    let app = app_with(Settings {
        max_jobs: 1,
        ..Settings::for_tests(Duration::from_secs(30))
    })
    .await;
    for content_type in [
        // What `fetch` declares for a string body: a "simple" request, sent cross-origin
        // without a CORS preflight.
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
        Some("text/html"),
        Some("json"),
        Some(""),
        None,
    ] {
        for body in [r#"{"duration_ms": 1234}"#, ""] {
            let (status, _, json) = call(&app, post_jobs_as(content_type, body)).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type:?} {body:?}"
            );
            let message = assert_error(&json, "unsupported_media_type");
            assert!(message.contains("application/json"), "{message}");
        }
    }
    // Room for one job: had any refused request made one, this would be 503.
    let (status, _, _) = call(&app, post_jobs_as(Some("application/json"), "{}")).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[actix_web::test]
async fn anything_after_the_job_object_is_400() {
    let app = app(Duration::from_secs(30)).await;
    for body in [
        "{} xyz",
        r#"{"duration_ms":1000}{"duration_ms":99}"#,
        "{}}",
        "{} 1",
    ] {
        let (status, _, json) = call(&app, post_jobs(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = assert_error(&json, "bad_request");
        assert!(message.contains("trailing"), "{body}: {message}");
    }
    let (status, _, _) = call(&app, post_jobs("  {}\r\n\t ")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "whitespace may surround the object"
    );
}

#[actix_web::test]
async fn unknown_and_malformed_job_ids_are_404_in_the_error_shape() {
    let app = app(Duration::from_secs(30)).await;
    for path in [
        "/jobs/nope",
        "/jobs/00000000000000000000000000000000",
        "/jobs/%00%ff",
        "/jobs/default",
        // An unknown job is told first, even when the wait is malformed too.
        "/jobs/00000000000000000000000000000000?wait=abc",
        "/jobs/nope?wait=-1",
    ] {
        let (status, _, json) = call(&app, test::TestRequest::get().uri(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&json, "not_found");
    }
}

#[actix_web::test]
async fn bad_job_requests_are_400_with_a_message_that_says_why() {
    let app = app(Duration::from_secs(30)).await;
    let cases = [
        ("{", "EOF"),
        ("not json", "expected"),
        ("[]", "expected"),
        ("null", "expected"),
        (r#"{"duration_ms": "5000"}"#, "duration_ms: invalid type"),
        (r#"{"duration_ms": -5}"#, "-5"),
        (r#"{"duration_ms": 1.5}"#, "1.5"),
        (r#"{"duration_ms": 99999999999999999999999}"#, "duration_ms"),
        (r#"{"duration_ms": 86400001}"#, "at most 86400000"),
        (r#"{"outcome": "pending"}"#, "pending"),
        (r#"{"outcome": 1}"#, "outcome"),
        (r#"{"durationMs": 5000}"#, "durationMs"),
    ];
    for (body, hint) in cases {
        let (status, _, json) = call(&app, post_jobs(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = assert_error(&json, "bad_request");
        assert!(
            message.contains(hint),
            "{body}: {message:?} should mention {hint:?}"
        );
    }
}

#[actix_web::test]
async fn an_oversized_body_is_413_in_the_error_shape() {
    let app = app(Duration::from_secs(30)).await;
    // Just past the 4 KiB limit, and far past it.
    let head = r#"{"duration_ms": 1}"#;
    for size in [4 * 1024 + 1, 64 * 1024] {
        let padded = format!("{head}{}", " ".repeat(size - head.len()));
        assert_eq!(padded.len(), size);
        let (status, _, json) = call(&app, post_jobs(&padded)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{size} bytes");
        assert_error(&json, "payload_too_large");
    }
    // Right at the limit is still read (trailing whitespace is allowed after the JSON).
    let at_limit = format!("{head}{}", " ".repeat(4 * 1024 - head.len()));
    let (status, _, json) = call(&app, post_jobs(&at_limit)).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
}

#[actix_web::test]
async fn unknown_routes_are_404_in_the_error_shape() {
    let app = app(Duration::from_secs(30)).await;
    for path in [
        "/nope",
        "/jobs/a/b",
        "/pkg/does-not-exist.js",
        "/status/extra",
    ] {
        let (status, _, json) = call(&app, test::TestRequest::get().uri(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&json, "not_found");
    }
}

#[actix_web::test]
async fn wrong_methods_are_405_with_allow() {
    let app = app(Duration::from_secs(30)).await;
    let cases = [
        (Method::POST, "/status", "GET"),
        (Method::DELETE, "/jobs/abc", "GET"),
        (Method::GET, "/jobs", "POST"),
        (Method::PUT, "/healthz", "GET"),
    ];
    for (method, path, allowed) in cases {
        let request = test::TestRequest::default()
            .method(method.clone())
            .uri(path);
        let (status, headers, json) = call(&app, request).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(header_text(&headers, header::ALLOW), allowed);
        assert_error(&json, "method_not_allowed");
    }
}

#[actix_web::test]
async fn healthz_answers_ok() {
    let app = app(Duration::from_secs(30)).await;
    let (status, _, json) = call(&app, test::TestRequest::get().uri("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["status"], "ok");
}

#[actix_web::test]
async fn cross_origin_callers_may_create_and_read_jobs() {
    let app = app(Duration::from_secs(30)).await;
    let preflight = test::TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/jobs")
        .insert_header((header::ORIGIN, "http://app.example"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type"))
        .to_request();
    let response = test::call_service(&app, preflight).await;
    assert!(response.status().is_success(), "{}", response.status());
    let allowed_methods = header_text(response.headers(), header::ACCESS_CONTROL_ALLOW_METHODS);
    assert!(allowed_methods.contains("POST"), "{allowed_methods}");
    assert!(
        !allowed_methods.contains("DELETE"),
        "only the methods the API uses: {allowed_methods}"
    );

    let request = post_jobs("").insert_header((header::ORIGIN, "http://app.example"));
    let (status, headers, _) = call(&app, request).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        header_text(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "http://app.example"
    );
    let exposed = header_text(&headers, header::ACCESS_CONTROL_EXPOSE_HEADERS).to_ascii_lowercase();
    assert!(exposed.contains("location"), "{exposed}");
}

#[actix_web::test]
async fn error_answers_carry_cors_headers_too() {
    let app = app(Duration::from_secs(30)).await;
    let request = test::TestRequest::get()
        .uri("/jobs/nope")
        .insert_header((header::ORIGIN, "http://app.example"));
    let (status, headers, _) = call(&app, request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        header_text(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "http://app.example"
    );
}

#[actix_web::test]
async fn the_demo_page_is_served_at_the_root() {
    let app = app(Duration::from_secs(30)).await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header_text(response.headers(), header::CONTENT_TYPE).to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = test::read_body(response).await;
    assert!(String::from_utf8_lossy(&body).contains("<title>"));
}

#[core::prelude::v1::test]
fn the_application_binds_a_free_port_and_serves_http() {
    let app = Application::build(Settings::for_tests(Duration::from_secs(5))).unwrap();
    assert_ne!(app.port(), 0);
    assert_eq!(app.url(), format!("http://127.0.0.1:{}", app.port()));
    drop(app);

    let address = spawn_server(Settings::for_tests(Duration::from_secs(5)));
    let answer = raw_exchange(
        address,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#"{"status":"ok"}"#), "{answer}");
}

async fn created_job_path(app: &impl TestApp, body: &str) -> String {
    let (status, headers, _) = call(app, post_jobs(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    header_text(&headers, header::LOCATION).to_owned()
}

#[actix_web::test]
async fn pending_answers_carry_retry_after_and_are_not_cached() {
    let app = app(Duration::from_secs(30)).await;
    let path = created_job_path(&app, r#"{"duration_ms": 60000, "estimate_ms": 42500}"#).await;
    let (_, headers, json) = call(&app, test::TestRequest::get().uri(&path)).await;
    assert_eq!(json["result"], "pending");
    assert_eq!(
        header_text(&headers, header::RETRY_AFTER),
        "43",
        "the estimate, rounded up"
    );
    assert_eq!(header_text(&headers, header::CACHE_CONTROL), "no-store");
    assert!(
        headers.get("preference-applied").is_none(),
        "no wait was asked"
    );

    let done = created_job_path(&app, r#"{"duration_ms": 0}"#).await;
    let (_, headers, json) = call(&app, test::TestRequest::get().uri(&done)).await;
    assert_eq!(json["result"], "completed");
    assert!(
        headers.get(header::RETRY_AFTER).is_none(),
        "a final answer needs no retry"
    );
}

#[actix_web::test]
async fn a_long_poll_is_answered_when_the_job_ends() {
    let app = app(Duration::from_secs(30)).await;
    let path = created_job_path(&app, r#"{"duration_ms": 300}"#).await;
    let started = std::time::Instant::now();
    let (status, headers, json) = call(
        &app,
        test::TestRequest::get().uri(&format!("{path}?wait=30")),
    )
    .await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["result"], "completed");
    assert!(
        waited >= Duration::from_millis(250),
        "answered before the job ended: {waited:?}"
    );
    assert!(
        waited < BEFORE_THE_WAIT,
        "held for its wait, not answered at the job's end: {waited:?}"
    );
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=30"
    );
}

#[actix_web::test]
async fn a_long_poll_answers_pending_when_its_wait_ends_first() {
    let app = app(Duration::from_secs(30)).await;
    let path = created_job_path(&app, r#"{"duration_ms": 60000}"#).await;
    let request = test::TestRequest::get()
        .uri(&path)
        .insert_header(("prefer", "wait=0.2"));
    let started = std::time::Instant::now();
    let (_, headers, json) = call(&app, request).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(json["result"], "pending");
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=0.2"
    );
    assert!(headers.get(header::RETRY_AFTER).is_some());
}

#[actix_web::test]
async fn the_server_caps_the_wait_at_max_wait_and_says_so() {
    let mut settings = Settings::for_tests(Duration::from_secs(30));
    settings.max_wait = Duration::from_millis(150);
    let app = app_with(settings).await;
    let path = created_job_path(&app, r#"{"duration_ms": 60000}"#).await;
    let started = std::time::Instant::now();
    let (_, headers, _) = call(
        &app,
        test::TestRequest::get().uri(&format!("{path}?wait=30")),
    )
    .await;
    assert!(
        started.elapsed() < BEFORE_THE_WAIT,
        "held for the wait asked"
    );
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=0.15"
    );
}

#[actix_web::test]
async fn the_default_job_long_polls_too() {
    let app = app(Duration::from_millis(300)).await;
    let (_, headers, json) = call(&app, test::TestRequest::get().uri("/status?wait=5")).await;
    assert_eq!(json["result"], "completed");
    assert_eq!(
        header_text(&headers, "preference-applied".try_into().unwrap()),
        "wait=5"
    );
}

#[actix_web::test]
async fn a_job_id_may_be_given_in_either_case_or_percent_encoded() {
    let app = app(Duration::from_secs(30)).await;
    let path = created_job_path(&app, "").await;
    let id = path.trim_start_matches("/jobs/");
    let escaped: String = id.bytes().map(|digit| format!("%{digit:02X}")).collect();
    for spelling in [id.to_uppercase(), escaped] {
        let (status, _, json) = call(
            &app,
            test::TestRequest::get().uri(&format!("/jobs/{spelling}")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{spelling}");
        assert_eq!(json["id"], id, "answered with the id as issued");
    }
}

#[actix_web::test]
async fn a_malformed_wait_is_400_naming_it() {
    let app = app(Duration::from_secs(30)).await;
    let path = created_job_path(&app, "").await;
    for bad in ["abc", "-1", "NaN"] {
        let (status, _, json) = call(
            &app,
            test::TestRequest::get().uri(&format!("{path}?wait={bad}")),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        let message = assert_error(&json, "bad_request");
        assert!(message.contains("wait"), "{message}");
    }
}

#[actix_web::test]
async fn an_absurd_estimate_is_400_naming_it() {
    let app = app(Duration::from_secs(30)).await;
    let (status, _, json) = call(&app, post_jobs(r#"{"estimate_ms": 86400001}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&json, "bad_request").contains("estimate_ms"));
}

#[actix_web::test]
async fn cross_origin_callers_may_send_prefer_and_read_the_hints() {
    let app = app(Duration::from_secs(30)).await;
    let preflight = test::TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/jobs/abc")
        .insert_header((header::ORIGIN, "http://app.example"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "GET"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "prefer"))
        .to_request();
    let response = test::call_service(&app, preflight).await;
    assert!(response.status().is_success(), "{}", response.status());
    let allowed =
        header_text(response.headers(), header::ACCESS_CONTROL_ALLOW_HEADERS).to_ascii_lowercase();
    assert!(allowed.contains("prefer"), "{allowed}");

    let path = created_job_path(&app, "").await;
    let request = test::TestRequest::get()
        .uri(&path)
        .insert_header((header::ORIGIN, "http://app.example"));
    let (_, headers, _) = call(&app, request).await;
    let exposed = header_text(&headers, header::ACCESS_CONTROL_EXPOSE_HEADERS).to_ascii_lowercase();
    for name in ["retry-after", "preference-applied", "location"] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
}
