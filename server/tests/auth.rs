//! `--api-key` (issue 12): with keys, every API route asks for `Authorization: Bearer KEY` and
//! answers a JSON 401 with `WWW-Authenticate: Bearer` otherwise; the health check, the OpenAPI
//! document and the static files stay open, CORS preflights pass, and without keys nothing
//! changes.

use std::time::Duration;

use actix_web::http::{header, Method, StatusCode};
use actix_web::test;
use video_translation_server::api_key::ApiKey;
use video_translation_server::config::Settings;

mod common;
use common::{
    app_with, assert_error, call, header_text, post_jobs, post_watch, watch_body, TestApp,
};

const KEYS: [&str; 2] = ["first-key_1", "second/key+2=="];

fn keyed() -> Settings {
    Settings {
        api_keys: KEYS
            .iter()
            .map(|key| key.parse::<ApiKey>().unwrap())
            .collect(),
        // Room for the job a test makes with a key and one more: a refused POST /jobs that
        // created a job anyway would show as a 503 on the next creation.
        max_jobs: 2,
        ..Settings::for_tests(Duration::from_secs(60))
    }
}

/// One request to each API route and method the server has (its 405s too), built afresh
/// each time (a `TestRequest` is used up when sent); `id` is a known job's.
fn api_requests(id: &str) -> Vec<(&'static str, test::TestRequest)> {
    vec![
        ("GET /status", test::TestRequest::get().uri("/status")),
        (
            "GET /status?wait",
            test::TestRequest::get().uri("/status?wait=0.01"),
        ),
        ("POST /jobs", post_jobs(r#"{"duration_ms": 1000}"#)),
        (
            "GET /jobs/{id}",
            test::TestRequest::get().uri(&format!("/jobs/{id}")),
        ),
        ("POST /jobs/watch", post_watch("", &watch_body(&[id]))),
        (
            "POST /jobs/watch?wait",
            post_watch("?wait=0.01", &watch_body(&[id])),
        ),
        (
            "DELETE /jobs (405 with a key)",
            test::TestRequest::delete().uri("/jobs"),
        ),
        (
            "GET /jobs/watch (405 with a key)",
            test::TestRequest::get().uri("/jobs/watch"),
        ),
        // Last: it ends the job the others ask about.
        (
            "POST /jobs/{id}/cancel",
            test::TestRequest::post().uri(&format!("/jobs/{id}/cancel")),
        ),
    ]
}

/// A job created with the first key, for the routes that name one.
async fn created_job(app: &impl TestApp) -> String {
    let (status, headers, _) = call(
        app,
        post_jobs(r#"{"duration_ms": 60000}"#).insert_header(bearer(KEYS[0])),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    header_text(&headers, header::LOCATION)
        .trim_start_matches("/jobs/")
        .to_owned()
}

fn bearer(key: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {key}"))
}

#[actix_web::test]
async fn every_api_route_refuses_requests_without_an_accepted_key() {
    let app = app_with(keyed()).await;
    let id = created_job(&app).await;
    let refusals: [(&str, Option<&str>, &str); 5] = [
        ("no Authorization", None, "Bearer"),
        ("another scheme", Some("Basic Zmlyc3Qta2V5XzE6"), "Bearer"),
        ("a bare key", Some(KEYS[0]), "Bearer"),
        (
            "an unknown key",
            Some("Bearer not-a-key"),
            r#"Bearer error="invalid_token""#,
        ),
        (
            "a known key's prefix",
            Some("Bearer first-key"),
            r#"Bearer error="invalid_token""#,
        ),
    ];
    for (what, authorization, challenge) in refusals {
        for (route, request) in api_requests(&id) {
            let request = match authorization {
                Some(value) => request.insert_header((header::AUTHORIZATION, value)),
                None => request,
            };
            let (status, headers, json) = call(&app, request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{route} with {what}");
            assert_eq!(
                header_text(&headers, header::WWW_AUTHENTICATE),
                challenge,
                "{route} with {what}"
            );
            let message = assert_error(&json, "unauthorized");
            assert!(!message.contains(KEYS[0]), "{route}: {message}");
        }
    }

    // No refused POST /jobs created a job: the second (and last) slot is still free.
    let (status, _, _) = call(&app, post_jobs("{}").insert_header(bearer(KEYS[1]))).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[actix_web::test]
async fn each_key_is_accepted_on_every_api_route() {
    for key in KEYS {
        let app = app_with(Settings {
            max_jobs: 100,
            ..keyed()
        })
        .await;
        let id = created_job(&app).await;
        for (route, request) in api_requests(&id) {
            let (status, _, json) = call(&app, request.insert_header(bearer(key))).await;
            if route.contains("405") {
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{route}");
                assert_error(&json, "method_not_allowed");
            } else {
                assert!(status.is_success(), "{route} with {key}: {status} {json}");
            }
        }
    }
}

#[actix_web::test]
async fn the_scheme_is_case_insensitive() {
    let app = app_with(keyed()).await;
    let (status, _, _) = call(
        &app,
        test::TestRequest::get()
            .uri("/status")
            .insert_header((header::AUTHORIZATION, format!("bearer   {}", KEYS[1]))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn the_health_check_the_document_and_static_files_stay_open() {
    let pkg = std::env::temp_dir().join(format!("vts-auth-pkg-{}", std::process::id()));
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("client.js"), "export {};").unwrap();
    let app = app_with(Settings {
        pkg_dir: pkg.clone(),
        ..keyed()
    })
    .await;

    let (status, _, json) = call(&app, test::TestRequest::get().uri("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json, serde_json::json!({"status": "ok", "auth": "bearer"}));
    let (status, _, _) = call(&app, test::TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/", "/index.html", "/app.js", "/pkg/client.js"] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // Paths no route has are the same 404 as without keys, not a 401.
    for path in ["/nope", "/pkg/missing.js", "/jobs/a/b"] {
        let (status, _, json) = call(&app, test::TestRequest::get().uri(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&json, "not_found");
    }
    std::fs::remove_dir_all(pkg).unwrap();
}

#[actix_web::test]
async fn preflights_pass_without_a_key_and_allow_the_authorization_header() {
    let app = app_with(keyed()).await;
    for (path, method) in [
        ("/jobs", "POST"),
        ("/jobs/watch", "POST"),
        ("/status", "GET"),
    ] {
        let preflight = test::TestRequest::default()
            .method(Method::OPTIONS)
            .uri(path)
            .insert_header((header::ORIGIN, "http://app.example"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, method))
            .insert_header((
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization, content-type",
            ))
            .to_request();
        let response = test::call_service(&app, preflight).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let allowed = header_text(response.headers(), header::ACCESS_CONTROL_ALLOW_HEADERS)
            .to_ascii_lowercase();
        assert!(allowed.contains("authorization"), "{path}: {allowed}");
    }

    // An OPTIONS that is no preflight is not refused for want of a key either: it gets the
    // route's 405, as without keys.
    let (status, _, _) = call(
        &app,
        test::TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/jobs"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn a_cross_origin_page_can_read_the_401_and_its_challenge() {
    let app = app_with(keyed()).await;
    let (status, headers, _) = call(
        &app,
        test::TestRequest::get()
            .uri("/status")
            .insert_header((header::ORIGIN, "http://app.example")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        header_text(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "http://app.example"
    );
    let exposed = header_text(&headers, header::ACCESS_CONTROL_EXPOSE_HEADERS).to_ascii_lowercase();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
}

#[actix_web::test]
async fn without_keys_everything_is_open_and_authorization_is_ignored() {
    let app = app_with(Settings::for_tests(Duration::from_secs(60))).await;
    let (status, _, json) = call(&app, test::TestRequest::get().uri("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json,
        serde_json::json!({"status": "ok"}),
        "as before keys existed"
    );
    let (_, headers, _) = call(&app, post_jobs("{}")).await;
    let location = header_text(&headers, header::LOCATION).to_owned();
    let id = location.trim_start_matches("/jobs/").to_owned();
    for authorization in [None, Some("Bearer anything"), Some("Basic eDp5")] {
        for (route, request) in api_requests(&id) {
            let request = match authorization {
                Some(value) => request.insert_header((header::AUTHORIZATION, value)),
                None => request,
            };
            let (status, _, _) = call(&app, request).await;
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "{route} {authorization:?}"
            );
        }
    }
}
