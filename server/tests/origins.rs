//! `--cors-origin` over real TCP (issue 14, finding 5): a page from an unlisted origin can
//! neither create nor cancel a job, even with a request that needs no preflight; listed
//! origins, the server's own page and callers without `Origin` are served as before.

use std::net::SocketAddr;
use std::time::Duration;

use video_translation_server::config::Settings;

mod common;
use common::{assert_error, raw_body, raw_exchange, spawn_server};

const APP: &str = "https://app.example.com";

/// A server that lists `APP` and keeps one job at most, so a job created by a request that
/// should have been refused shows as a 503 on the next creation.
fn server() -> SocketAddr {
    spawn_server(Settings {
        cors_origins: vec![APP.to_owned()],
        max_jobs: 1,
        ..Settings::for_tests(Duration::from_secs(60))
    })
}

fn send(address: SocketAddr, head: &str, body: &str) -> String {
    let request = format!(
        "{head}\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw_exchange(address, request.as_bytes(), Duration::from_secs(5))
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next().unwrap();
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[test]
fn a_simple_post_from_an_unlisted_origin_is_403_and_creates_nothing() {
    let address = server();
    let answer = send(
        address,
        "POST /jobs HTTP/1.1\r\nOrigin: https://evil.example\r\nContent-Type: text/plain",
        r#"{"duration_ms": 1000}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_error(&raw_body(&answer), "forbidden");
    assert_eq!(header(&answer, "access-control-allow-origin"), None);

    // The only job slot is still free: the refused request created nothing.
    let answer = send(
        address,
        "POST /jobs HTTP/1.1\r\nContent-Type: application/json",
        r#"{"duration_ms": 1000}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

#[test]
fn a_cancel_from_an_unlisted_origin_is_403_and_the_job_runs_on() {
    // A bodiless POST needs no preflight: without the guard, any page could cancel jobs.
    let address = server();
    let created = send(
        address,
        "POST /jobs HTTP/1.1\r\nContent-Type: application/json",
        r#"{"duration_ms": 60000}"#,
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let id = raw_body(&created)["id"].as_str().unwrap().to_owned();
    let answer = send(
        address,
        &format!("POST /jobs/{id}/cancel HTTP/1.1\r\nOrigin: https://evil.example"),
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_error(&raw_body(&answer), "forbidden");

    let answer = send(address, &format!("GET /jobs/{id} HTTP/1.1"), "");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(raw_body(&answer)["result"], "pending", "{answer}");
}

#[test]
fn a_cancel_from_a_rebound_name_whose_origin_matches_host_is_403() {
    // DNS rebinding (issue 20, point 6): the attacker's page at evil.example:8080, its name
    // pointed at this server, sends Host and Origin that agree.
    let address = server();
    let created = send(
        address,
        "POST /jobs HTTP/1.1\r\nContent-Type: application/json",
        r#"{"duration_ms": 60000}"#,
    );
    let id = raw_body(&created)["id"].as_str().unwrap().to_owned();
    let request = format!(
        "POST /jobs/{id}/cancel HTTP/1.1\r\nHost: evil.example:8080\r\n\
         Origin: http://evil.example:8080\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let answer = raw_exchange(address, request.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_error(&raw_body(&answer), "forbidden");

    let answer = send(address, &format!("GET /jobs/{id} HTTP/1.1"), "");
    assert_eq!(raw_body(&answer)["result"], "pending", "{answer}");
}

#[test]
fn listed_origins_own_pages_and_callers_without_origin_are_served() {
    let address = server();
    let answer = send(
        address,
        &format!("OPTIONS /jobs HTTP/1.1\r\nOrigin: {APP}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type"),
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "preflight: {answer}");
    assert_eq!(header(&answer, "access-control-allow-origin"), Some(APP));

    let answer = send(
        address,
        &format!("GET /status HTTP/1.1\r\nOrigin: {APP}"),
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(header(&answer, "access-control-allow-origin"), Some(APP));

    // The demo page this server serves calls it from the server's own origin.
    let answer = send(
        address,
        &format!("GET /status HTTP/1.1\r\nOrigin: http://{address}"),
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "own origin: {answer}");

    let answer = send(address, "GET /status HTTP/1.1", "");
    assert!(answer.starts_with("HTTP/1.1 200"), "no Origin: {answer}");
}

#[test]
fn an_unlisted_origins_preflight_is_403_in_the_error_shape() {
    let address = server();
    let answer = send(
        address,
        "OPTIONS /jobs HTTP/1.1\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST",
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_error(&raw_body(&answer), "forbidden");
}
