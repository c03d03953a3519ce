//! Requests the HTTP parser refuses before the app sees them (issue 14, finding 6), over real
//! TCP. actix-http writes these answers itself, with an empty body and no hook to change it
//! (see docs/http-api.md), so this pins what callers get: the right status, an
//! empty body, and the connection closed. Everything the app answers is JSON (tests/fuzz.rs).

use std::time::Duration;

use video_translation_server::config::Settings;

mod common;
use common::{raw_exchange, spawn_server};

fn assert_bare_refusal(answer: &str, status: &str) {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status}")),
        "{answer}"
    );
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    assert!(
        head.to_ascii_lowercase().contains("content-length: 0"),
        "{head}"
    );
    assert!(body.is_empty(), "{body:?}");
}

#[test]
fn oversized_heads_are_431_and_malformed_request_lines_400_then_closed() {
    let address = spawn_server(Settings::for_tests(Duration::from_secs(60)));
    // More header lines than the parser takes (96): refused as too large, while the request
    // stays small enough to be read whole (no reset racing the answer).
    let headers: String = (0..200).map(|i| format!("X-Padding-{i}: a\r\n")).collect();
    let huge = format!("GET /status HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    // raw_exchange returns once the server closes the connection (or after 5 s of silence).
    let answer = raw_exchange(address, huge.as_bytes(), Duration::from_secs(5));
    assert_bare_refusal(&answer, "431");

    let answer = raw_exchange(
        address,
        b"GET\x01 / HTTP/1.1\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_bare_refusal(&answer, "400");
}
