//! `GET /openapi.json` documents the API as it is: every route the API serves, every wire
//! type, and every status a real request gets.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use serde_json::Value;
use video_translation_server::config::Settings;

mod common;
use common::{app_with, call, header_text, post_jobs, post_watch, until_held, watch_body};

async fn document() -> Value {
    document_of(&app_with(Settings::for_tests(Duration::from_secs(60))).await).await
}

/// The document `app` serves.
async fn document_of(app: &impl common::TestApp) -> Value {
    let (status, headers, json) = call(app, test::TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header_text(&headers, header::CONTENT_TYPE).starts_with("application/json"));
    json
}

#[actix_web::test]
async fn the_document_is_openapi_3_1_with_every_route_and_wire_type() {
    let doc = document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "video-translation-server");
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/healthz",
            "/jobs",
            "/jobs/watch",
            "/jobs/{id}",
            "/jobs/{id}/cancel",
            "/metrics",
            "/openapi.json",
            "/readyz",
            "/status"
        ]
    );
    for schema in [
        "JobStatus",
        "JobResult",
        "CreateJob",
        "Outcome",
        "WatchRequest",
        "WatchAnswer",
        "ErrorBody",
        "ErrorDetail",
        "JobConflict",
        "EndReason",
        "Health",
        "Auth",
        "Ready",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "no schema {schema}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["JobResult"]["enum"],
        serde_json::json!(["pending", "completed", "error"])
    );
    let status = &doc["components"]["schemas"]["JobStatus"];
    assert!(status["properties"]["reason"].is_object(), "{status}");
    assert!(
        !status["required"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("reason")),
        "reason is optional: {status}"
    );
    let create = &doc["paths"]["/jobs"]["post"]["parameters"];
    assert!(
        create
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
        "{create}"
    );
}

/// The statuses the document lists for `method path`.
fn documented_statuses(doc: &Value, method: &str, path: &str) -> Vec<u16> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .map(|status| status.parse().unwrap())
        .collect()
}

#[actix_web::test]
async fn every_status_a_real_request_gets_is_documented() {
    let doc = document().await;
    let app = app_with(Settings {
        // One held request at a time, so that a second is refused (503).
        max_waiters: 1,
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    let (_, headers, _) = call(&app, post_jobs(r#"{"duration_ms": 60000}"#)).await;
    let location = header_text(&headers, header::LOCATION).to_owned();
    let watch = watch_body(&[location.trim_start_matches("/jobs/")]);
    let too_many = watch_body(&vec!["x"; 1001]);
    let too_large = format!(r#"{{"ids": ["{}"]}}"#, "a".repeat(41 * 1024));
    let (_, _, ended) = call(&app, post_jobs(r#"{"duration_ms": 0}"#)).await;
    let ended = format!("/jobs/{}/cancel", ended["id"].as_str().unwrap());
    let (_, _, pending) = call(&app, post_jobs("{}")).await;
    let pending = format!("/jobs/{}/cancel", pending["id"].as_str().unwrap());
    let keyed = |key: &str, body: &str| post_jobs(body).insert_header(("Idempotency-Key", key));

    let cases = [
        ("post", "/jobs", post_jobs(r#"{"duration_ms": 1000}"#)),
        ("post", "/jobs", post_jobs(r#"{"duration_ms": "soon"}"#)),
        (
            "post",
            "/jobs",
            post_jobs("{}").insert_header((header::CONTENT_TYPE, "text/html")),
        ),
        ("post", "/jobs/watch", post_watch("", &watch)),
        ("post", "/jobs/watch", post_watch("?wait=0.01", &watch)),
        ("post", "/jobs/watch", post_watch("", &too_many)),
        ("post", "/jobs/watch", post_watch("?wait=soon", &watch)),
        ("post", "/jobs/watch", post_watch("", &too_large)),
        (
            "post",
            "/jobs/watch",
            post_watch("", &watch).insert_header((header::CONTENT_TYPE, "text/plain")),
        ),
        (
            "post",
            "/jobs",
            post_jobs(&format!(r#"{{"x": "{}"}}"#, "a".repeat(5000))),
        ),
        ("get", "/jobs/{id}", test::TestRequest::get().uri(&location)),
        (
            "get",
            "/jobs/{id}",
            test::TestRequest::get().uri(&format!("{location}?wait=0.01")),
        ),
        (
            "get",
            "/jobs/{id}",
            test::TestRequest::get().uri(&format!("{location}?wait=later")),
        ),
        (
            "get",
            "/jobs/{id}",
            test::TestRequest::get().uri(&format!("/jobs/{}", "0".repeat(32))),
        ),
        ("get", "/status", test::TestRequest::get().uri("/status")),
        (
            "get",
            "/status",
            test::TestRequest::get().uri("/status?wait=-1"),
        ),
        ("get", "/healthz", test::TestRequest::get().uri("/healthz")),
        ("post", "/jobs", keyed("k", "{}")),
        ("post", "/jobs", keyed("k", "{}")),
        ("post", "/jobs", keyed("k", r#"{"duration_ms": 5}"#)),
        ("post", "/jobs", keyed("bad key", "{}")),
        (
            "post",
            "/jobs/{id}/cancel",
            test::TestRequest::post().uri(&pending),
        ),
        (
            "post",
            "/jobs/{id}/cancel",
            test::TestRequest::post().uri(&ended),
        ),
        (
            "post",
            "/jobs/{id}/cancel",
            test::TestRequest::post().uri(&format!("/jobs/{}/cancel", "0".repeat(32))),
        ),
        (
            "post",
            "/jobs/{id}/cancel",
            test::TestRequest::post().uri(&pending).set_payload("{}"),
        ),
        (
            "post",
            "/jobs/{id}/cancel",
            test::TestRequest::post()
                .uri(&pending)
                .set_payload("x".repeat(2000)),
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (method, path, request) in cases {
        let (status, _, _) = call(&app, request).await;
        assert!(
            documented_statuses(&doc, method, path).contains(&status.as_u16()),
            "{method} {path} answered {status}, which the document does not list"
        );
        seen.insert((method, path, status.as_u16()));
    }

    // Held requests over --max-waiters: a watch and a long-poll while another watch is held
    // (once the server counts it held; for 2 s, far longer than the two requests take).
    let held = call(&app, post_watch("?wait=2", &watch));
    let refused = async {
        until_held(&app, "watch", 1).await;
        let watch = call(&app, post_watch("?wait=0.5", &watch)).await;
        let long_poll = call(
            &app,
            test::TestRequest::get().uri(&format!("{location}?wait=0.5")),
        )
        .await;
        (watch.0, long_poll.0)
    };
    let (_, (watch_status, long_poll_status)) = tokio::join!(held, refused);
    for (method, path, status) in [
        ("post", "/jobs/watch", watch_status),
        ("get", "/jobs/{id}", long_poll_status),
    ] {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{method} {path}");
        assert!(documented_statuses(&doc, method, path).contains(&503));
        seen.insert((method, path, 503));
    }
    let watch_statuses: Vec<u16> = seen
        .iter()
        .filter(|(_, path, _)| *path == "/jobs/watch")
        .map(|(_, _, status)| *status)
        .collect();
    assert_eq!(
        watch_statuses,
        [200, 400, 413, 415, 503],
        "the cases reach every status of POST /jobs/watch but 429"
    );
    for (path, reached) in [
        ("/jobs", &[200, 201, 400, 413, 415, 422][..]),
        ("/jobs/{id}/cancel", &[200, 400, 404, 409, 413]),
    ] {
        let statuses: Vec<u16> = seen
            .iter()
            .filter(|(_, seen_path, _)| *seen_path == path)
            .map(|(_, _, status)| *status)
            .collect();
        assert_eq!(
            statuses, reached,
            "POST {path}: every status but 429, 503 (and an expired replay's 404)"
        );
    }
}

/// The operations the document lists, as (method, path) pairs.
fn operations(doc: &Value) -> Vec<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

#[actix_web::test]
async fn the_bearer_scheme_is_declared_and_each_operation_that_names_it_answers_its_401() {
    // Every operation the document lists, asked of a server with keys: without a key, those
    // that name the scheme answer the 401 they document, and the others do not ask for one.
    let app = app_with(Settings {
        api_keys: vec!["k1".parse().unwrap()],
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    let doc = document_of(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["api_key"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    let open = ["/healthz", "/metrics", "/openapi.json", "/readyz"];
    for (method, path) in operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        let uri = path.replace("{id}", &"0".repeat(32));
        let request = test::TestRequest::default()
            .method(method.to_uppercase().parse().unwrap())
            .uri(&uri)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{}");
        // Not `call`: /metrics answers in text, not JSON.
        let response = test::call_service(&app, request.to_request()).await;
        let (status, headers) = (response.status(), response.headers().clone());
        if open.contains(&path.as_str()) {
            assert!(operation["security"].is_null(), "{method} {path} is open");
            assert!(!documented_statuses(&doc, &method, &path).contains(&401));
            assert_eq!(status, StatusCode::OK, "{method} {path}");
        } else {
            assert_eq!(
                operation["security"],
                serde_json::json!([{ "api_key": [] }]),
                "{method} {path} needs a key"
            );
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert!(
                documented_statuses(&doc, &method, &path).contains(&401),
                "{method} {path} answered 401, which the document does not list"
            );
            assert!(header_text(&headers, header::WWW_AUTHENTICATE).starts_with("Bearer"));
        }
    }
    let unauthorized = &doc["components"]["responses"]["Unauthorized"];
    assert_eq!(
        unauthorized["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
}

#[actix_web::test]
async fn without_keys_a_key_is_optional_and_no_401_is_listed() {
    let doc = document().await;
    let app = app_with(Settings::for_tests(Duration::from_secs(60))).await;
    for (method, path) in operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        assert!(
            !documented_statuses(&doc, &method, &path).contains(&401),
            "{method} {path} lists a 401 the server never sends"
        );
        if !operation["security"].is_null() {
            assert_eq!(
                operation["security"],
                serde_json::json!([{}, { "api_key": [] }]),
                "{method} {path}: no key, or any"
            );
        }
    }
    assert!(doc["components"]["responses"]["Unauthorized"].is_null());
    // And the server asks for none: a job is made without a key, and with any.
    for authorization in [None, Some("Bearer anything")] {
        let mut request = post_jobs("{}");
        if let Some(value) = authorization {
            request = request.insert_header((header::AUTHORIZATION, value));
        }
        let (status, _, _) = call(&app, request).await;
        assert_eq!(status, StatusCode::CREATED, "{authorization:?}");
    }
}

#[actix_web::test]
async fn the_documents_bounds_are_the_servers() {
    let doc = document().await;
    let create = &doc["paths"]["/jobs"]["post"];
    let key = create["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(key["schema"]["minLength"], 1);
    assert_eq!(
        key["schema"]["maxLength"],
        video_translation_server::routes::idempotency_key::MAX_KEY_LEN
    );
    assert_eq!(key["schema"]["pattern"], "^[!-~]{1,255}$");
    assert!(create["requestBody"]["content"]["application/json"].is_object());

    let job = &doc["components"]["schemas"]["CreateJob"]["properties"];
    let longest = video_translation_protocol::MAX_JOB_DURATION.as_millis() as u64;
    for field in ["duration_ms", "estimate_ms"] {
        assert_eq!(job[field]["maximum"], longest, "{field}");
        assert_eq!(job[field]["minimum"], 0, "{field}");
    }

    for (method, path) in [
        ("get", "/jobs/{id}"),
        ("get", "/status"),
        ("post", "/jobs/watch"),
    ] {
        let wait = doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "wait")
            .unwrap_or_else(|| panic!("{method} {path} has no wait"));
        assert_eq!(wait["schema"]["minimum"], 0, "{method} {path}");
    }

    // A cancel takes no body: the document declares none (not one of media type "").
    assert!(doc["paths"]["/jobs/{id}/cancel"]["post"]["requestBody"].is_null());
}

#[actix_web::test]
async fn a_duration_written_as_a_whole_float_is_the_same_integer() {
    let app = app_with(Settings::for_tests(Duration::from_secs(60))).await;
    let (status, _, job) = call(
        &app,
        post_jobs(r#"{"duration_ms": 60000.0, "estimate_ms": 6e4}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    // The estimate as sent (less what has run since): 6e4 is 60,000.
    let eta = job["eta_ms"].as_u64().unwrap();
    assert!((50_000..=60_000).contains(&eta), "{job}");
    let (status, _, _) = call(&app, post_jobs(r#"{"duration_ms": 0.5}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
