//! The server's bounds under load, through the real app: the job cap, the long-poll cap,
//! the per-client rate limit and the CORS allow-list, each answering in the contract's shape.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use video_translation_server::config::Settings;

mod common;
use common::{app_with, assert_error, call, header_text, post_jobs, until_held, TestApp};

fn settings() -> Settings {
    Settings::for_tests(Duration::from_secs(60))
}

fn retry_after_seconds(headers: &header::HeaderMap) -> u64 {
    header_text(headers, header::RETRY_AFTER)
        .parse()
        .expect("Retry-After in whole seconds")
}

#[actix_web::test]
async fn past_max_jobs_creating_answers_503_with_retry_after_until_one_expires() {
    let app = app_with(Settings {
        max_jobs: 2,
        job_ttl: Duration::from_secs(5),
        ..settings()
    })
    .await;
    for _ in 0..2 {
        let (status, _, _) = call(&app, post_jobs(r#"{"duration_ms": 1000}"#)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, headers, json) = call(&app, post_jobs(r#"{"duration_ms": 1000}"#)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let message = assert_error(&json, "unavailable");
    assert!(message.contains("2 jobs at most"), "{message}");
    assert_eq!(
        retry_after_seconds(&headers),
        6,
        "the first job ends at 1 s and is kept 5 s more"
    );
}

#[actix_web::test]
async fn past_max_waiters_a_long_poll_answers_503_and_a_plain_poll_200() {
    let app = app_with(Settings {
        max_waiters: 1,
        ..settings()
    })
    .await;
    let (_, headers, _) = call(&app, post_jobs(r#"{"duration_ms": 60000}"#)).await;
    let location = header_text(&headers, header::LOCATION).to_owned();

    let held = call(
        &app,
        test::TestRequest::get().uri(&format!("{location}?wait=1")),
    );
    let refused = async {
        // Once the first long-poll holds the only slot, as the server counts it.
        until_held(&app, "long_poll", 1).await;
        call(
            &app,
            test::TestRequest::get().uri(&format!("{location}?wait=1")),
        )
        .await
    };
    let ((held_status, _, held_json), (status, headers, json)) = tokio::join!(held, refused);
    assert_eq!(held_status, StatusCode::OK);
    assert_eq!(held_json["result"], "pending");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(assert_error(&json, "unavailable").contains("long-polls at most"));
    assert_eq!(retry_after_seconds(&headers), 1);

    let (status, _, _) = call(&app, test::TestRequest::get().uri(&location)).await;
    assert_eq!(status, StatusCode::OK, "a plain poll is never refused");
}

fn from(address: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri("/status")
        .peer_addr(address.parse::<SocketAddr>().unwrap())
}

#[actix_web::test]
async fn over_the_rate_limit_a_client_gets_429_with_retry_after_and_cors_headers() {
    let app = app_with(Settings {
        rate_limit: 3,
        ..settings()
    })
    .await;
    for _ in 0..3 {
        let (status, _, _) = call(&app, from("10.0.0.1:5000")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, json) = call(
        &app,
        from("10.0.0.1:5001").insert_header((header::ORIGIN, "https://app.example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(assert_error(&json, "too_many_requests").contains("more than 3 requests a second"));
    assert_eq!(retry_after_seconds(&headers), 1);
    assert_eq!(
        header_text(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "https://app.example.com",
        "a browser can read the 429"
    );

    let (status, _, _) = call(&app, from("10.0.0.2:5000")).await;
    assert_eq!(status, StatusCode::OK, "another client is not limited");
    let (status, _, _) = call(
        &app,
        test::TestRequest::get()
            .uri("/healthz")
            .peer_addr("10.0.0.1:5002".parse().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "health checks are exempt");
}

/// 3 requests a second per client, behind a proxy on 127.0.0.1.
async fn limited_behind_a_loopback_proxy() -> impl TestApp {
    app_with(Settings {
        rate_limit: 3,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..settings()
    })
    .await
}

fn through(proxy: &str, client: &str) -> test::TestRequest {
    from(proxy).insert_header(("x-forwarded-for", client))
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_it_forwards_for_has_its_own_limit() {
    let app = limited_behind_a_loopback_proxy().await;
    for _ in 0..3 {
        let (status, _, _) = call(&app, through("127.0.0.1:40000", "203.0.113.7")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, json) = call(&app, through("127.0.0.1:40001", "203.0.113.7")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let message = assert_error(&json, "too_many_requests");
    assert!(message.contains("from 203.0.113.7"), "{message}");
    for client in ["203.0.113.8", "2001:db8::8"] {
        let (status, _, _) = call(&app, through("127.0.0.1:40002", client)).await;
        assert_eq!(status, StatusCode::OK, "{client} is not limited by another");
    }
}

#[actix_web::test]
async fn an_untrusted_caller_cannot_escape_the_limit_by_writing_x_forwarded_for() {
    let app = limited_behind_a_loopback_proxy().await;
    for (n, claimed) in ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]
        .into_iter()
        .enumerate()
    {
        let (status, _, json) = call(&app, through("198.51.100.1:5000", claimed)).await;
        if n < 3 {
            assert_eq!(status, StatusCode::OK);
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            let message = assert_error(&json, "too_many_requests");
            assert!(message.contains("from 198.51.100.1"), "{message}");
        }
    }
}

#[actix_web::test]
async fn without_a_rate_limit_nobody_is_limited() {
    let app = app_with(settings()).await;
    for _ in 0..200 {
        let (status, _, _) = call(&app, from("10.0.0.1:5000")).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn with_an_allow_list_only_listed_origins_are_answered_and_get_cors_headers() {
    let app = app_with(Settings {
        cors_origins: vec!["https://app.example.com".to_owned()],
        ..settings()
    })
    .await;
    let (status, headers, _) = call(
        &app,
        test::TestRequest::get()
            .uri("/status")
            .insert_header((header::ORIGIN, "https://app.example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_text(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "https://app.example.com"
    );

    // A request from an unlisted origin is refused before any handler runs, in the contract's
    // error shape and without a grant (tests/origins.rs checks it changes nothing).
    let (status, headers, json) = call(
        &app,
        test::TestRequest::get()
            .uri("/status")
            .insert_header((header::ORIGIN, "https://evil.example.net")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&json, "forbidden");
    assert!(
        headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
        "no CORS grant for an unlisted origin"
    );

    // So is its preflight.
    let (status, headers, json) = call(
        &app,
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/jobs")
            .insert_header((header::ORIGIN, "https://evil.example.net"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_error(&json, "forbidden");

    // Without an Origin (curl, servers), nothing changes.
    let (status, _, _) = call(&app, test::TestRequest::get().uri("/status")).await;
    assert_eq!(status, StatusCode::OK);
}
