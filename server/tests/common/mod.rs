//! What the HTTP suites share: the real app (middleware and routes) under actix's test
//! utilities, and checks of the contract's shapes.
#![allow(dead_code)] // each suite uses its own share of these

pub mod binary;
pub mod event_stream;
pub mod redis_server;
pub mod replica;

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::test;
use video_translation_protocol::ErrorBody;
use video_translation_server::config::Settings;
use video_translation_server::startup::{build_app, AppState};

/// How soon a held request (asking `?wait=30`, the cap of `Settings::for_tests`) must answer
/// when something else should end it first: a job's end, a cancel, a stop, a closed
/// connection, a shorter cap. Half its wait: only a request that waits its wait out fails,
/// never one a busy machine answered late. How soon answers really come is `make bench`'s
/// (bench/watch-fanout.mjs, bench/server.mjs), not a pass condition.
pub const BEFORE_THE_WAIT: Duration = Duration::from_secs(15);

/// The app under test as actix's test utilities give it: one name for the long bound every
/// suite's helpers take.
pub trait TestApp:
    Service<actix_http::Request, Response = ServiceResponse<Self::Body>, Error = actix_web::Error>
{
    /// The type of its answers' bodies.
    type Body: MessageBody;
}

impl<S, B> TestApp for S
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Body = B;
}

pub async fn app(default_duration: Duration) -> impl TestApp {
    app_with(Settings::for_tests(default_duration)).await
}

pub async fn app_with(settings: Settings) -> impl TestApp {
    test::init_service(build_app(
        &AppState::new(&settings).expect("the app state builds"),
    ))
    .await
}

/// Sends `request` and returns the status, the headers and the body parsed as JSON.
pub async fn call(
    app: &impl TestApp,
    request: test::TestRequest,
) -> (StatusCode, header::HeaderMap, serde_json::Value) {
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, json)
}

/// Asserts the contract's error shape and returns the message.
pub fn assert_error(json: &serde_json::Value, code: &str) -> String {
    let body: ErrorBody = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("not an error body ({e}): {json}"));
    assert_eq!(body.error.code, code, "{json}");
    assert!(!body.error.message.is_empty());
    body.error.message
}

pub fn header_text(headers: &header::HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        .to_str()
        .unwrap()
}

pub fn post_jobs(body: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/jobs")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_owned())
}

/// `POST /jobs/watch` (with `query`, e.g. `?wait=5`, or empty) of `body`, declared JSON.
pub fn post_watch(query: &str, body: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri(&format!("/jobs/watch{query}"))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_owned())
}

/// The body of a watch of `ids`.
pub fn watch_body<S: AsRef<str>>(ids: &[S]) -> String {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    serde_json::json!({ "ids": ids }).to_string()
}

/// Starts the real server ([`Application`](video_translation_server::startup::Application))
/// with `settings` on a free loopback port, in its own thread, and returns its address. It
/// serves for at most `SERVED_FOR`, so a test that goes wrong cannot hang the suite.
pub fn spawn_server(settings: Settings) -> std::net::SocketAddr {
    const SERVED_FOR: Duration = Duration::from_secs(120);
    let app = video_translation_server::startup::Application::build(settings).unwrap();
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], app.port()));
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let _ = actix_web::rt::time::timeout(SERVED_FOR, app.run_until_stopped()).await;
        })
    });
    address
}

/// Sends `request` as raw bytes on a new connection and returns everything the server
/// writes until it closes the connection (or `timeout` passes without a byte).
pub fn raw_exchange(address: std::net::SocketAddr, request: &[u8], timeout: Duration) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The JSON body of a raw HTTP/1.1 answer (whatever follows the blank line after its head).
pub fn raw_body(answer: &str) -> serde_json::Value {
    let body = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head/body separator in {answer:?}"))
        .1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {answer:?}"))
}

/// Creates a job through `app` with `body` (JSON); its id.
pub async fn create(app: &impl TestApp, body: &str) -> String {
    let (status, _, json) = call(app, post_jobs(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    json["id"].as_str().unwrap().to_owned()
}

/// `GET /jobs/{id}`.
pub fn get(id: &str) -> test::TestRequest {
    test::TestRequest::get().uri(&format!("/jobs/{id}"))
}

/// `POST /jobs/{id}/cancel`.
pub fn cancel(id: &str) -> test::TestRequest {
    test::TestRequest::post().uri(&format!("/jobs/{id}/cancel"))
}

/// Waits until `/metrics` counts `count` held requests of `kind` (`long_poll`, `watch`): at
/// most 10 s, however busy the machine, rather than a fixed sleep that a slow one outlasts.
pub async fn until_held(app: &impl TestApp, kind: &str, count: u64) {
    let sample = format!("vts_held_requests{{kind=\"{kind}\"}} {count}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = test::TestRequest::get().uri("/metrics").to_request();
        let body = test::read_body(test::call_service(app, metrics).await).await;
        let text = String::from_utf8_lossy(&body);
        if text.lines().any(|line| line == sample) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no `{sample}` in /metrics within 10 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
