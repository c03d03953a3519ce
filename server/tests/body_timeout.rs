//! Slow request bodies over real TCP (issue 14, finding 2): a body that stalls is answered 408
//! in the JSON error shape at `--body-timeout` (1 s here) and its connection closed; a slow
//! body that arrives in time is served.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use video_translation_server::config::Settings;

mod common;
use common::{assert_error, raw_body, spawn_server};

const BODY_TIMEOUT: Duration = Duration::from_secs(1);

fn server() -> SocketAddr {
    spawn_server(Settings {
        body_timeout: BODY_TIMEOUT,
        ..Settings::for_tests(Duration::from_secs(60))
    })
}

/// Sends `pieces` with `pause` between them, then reads until the server closes the
/// connection. Returns the answer and when the close came; fails if it does not within 10 s.
fn exchange(address: SocketAddr, pieces: &[&str], pause: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(pause);
        }
        stream.write_all(piece.as_bytes()).unwrap();
    }
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .expect("the server closes the connection");
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// A 408 (only the body timeout answers one) at this server's `--body-timeout`: not before
/// it, and before the default one (5 s) would have fired, so the setting is the one applied.
/// A busy machine may answer late by up to that margin, four times the timeout itself.
fn assert_timed_out(answer: &str, took: Duration) {
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_error(&raw_body(answer), "request_timeout");
    let default = Settings::for_tests(Duration::ZERO).body_timeout;
    assert!(
        took >= BODY_TIMEOUT && took < default,
        "closed after {took:?}: the timeout is {BODY_TIMEOUT:?}, the default {default:?}"
    );
}

#[test]
fn a_body_that_stalls_is_408_and_the_connection_closed() {
    let (answer, took) = exchange(
        server(),
        &["POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"],
        Duration::ZERO,
    );
    assert_timed_out(&answer, took);
}

#[test]
fn a_chunked_body_that_stalls_is_408_and_the_connection_closed() {
    let (answer, took) = exchange(
        server(),
        &["POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"],
        Duration::ZERO,
    );
    assert_timed_out(&answer, took);
}

#[test]
fn a_body_its_handler_does_not_read_does_not_hold_the_connection() {
    // The 405 is answered at once and the stalled chunked body is not waited for (drained):
    // the connection closes after actix's lingering close (1 s), long before the timeout.
    let address = spawn_server(Settings {
        body_timeout: Duration::from_secs(60),
        ..Settings::for_tests(Duration::from_secs(60))
    });
    let (answer, _) = exchange(
        address,
        &["PUT /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"],
        Duration::ZERO,
    );
    // Closed, which `exchange` waits for through 10 s of silence at most (ten times the
    // lingering close): a connection held for the stalled body fails there.
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
}

#[test]
fn a_slow_body_that_arrives_in_time_is_served() {
    // Three pauses of a fifth of BODY_TIMEOUT, against a timeout ten times BODY_TIMEOUT:
    // served however long a busy machine stretches the pauses, short of 9 s.
    let address = spawn_server(Settings {
        body_timeout: BODY_TIMEOUT * 10,
        ..Settings::for_tests(Duration::from_secs(60))
    });
    let body = r#"{"duration_ms": 1000}"#;
    let (answer, _) = exchange(
        address,
        &[
            &format!("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()),
            &body[..5],
            &body[5..12],
            &body[12..],
        ],
        BODY_TIMEOUT / 5,
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}
