//! Held requests whose caller has gone give their `--max-waiters` slot back at once, over
//! real TCP: a caller closing its socket (a plain FIN, as an aborted browser `fetch` sends)
//! must not leave the server refusing long-polls until the abandoned waits run out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use video_translation_server::config::Settings;
use video_translation_server::startup::Application;

/// Starts the real server on a free port, in a thread of its own that stops after `life`.
fn spawn_server(settings: Settings, life: Duration) -> u16 {
    let app = Application::build(settings).expect("the server binds a free port");
    let port = app.port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let _ = actix_web::rt::time::timeout(life, app.run_until_stopped()).await;
        })
    });
    port
}

/// Sends one request on a new connection and returns the socket, unanswered.
fn send(port: u16, method: &str, target: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

/// The status code and body of the answer to one request.
fn exchange(port: u16, method: &str, target: &str, body: &str) -> (u16, String) {
    let mut answer = String::new();
    send(port, method, target, body)
        .read_to_string(&mut answer)
        .unwrap();
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or_else(String::new, |(_, body)| body.to_owned());
    (status, body)
}

fn created_job(port: u16) -> String {
    let (status, body) = exchange(port, "POST", "/jobs", r#"{"duration_ms": 600000}"#);
    assert_eq!(status, 201, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    job["id"].as_str().unwrap().to_owned()
}

#[test]
fn closed_long_polls_give_their_slots_back_at_once() {
    const SLOTS: usize = 20;
    let port = spawn_server(
        Settings {
            max_waiters: SLOTS as u32,
            ..Settings::for_tests(Duration::from_secs(600))
        },
        Duration::from_secs(60),
    );
    let id = created_job(port);
    let long_poll = format!("/jobs/{id}?wait=30");

    let held: Vec<TcpStream> = (0..SLOTS)
        .map(|_| send(port, "GET", &long_poll, ""))
        .collect();
    // Every slot is taken once the server has read the held requests.
    let full_by = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _) = exchange(port, "GET", &format!("/jobs/{id}?wait=0.01"), "");
        if status == 503 {
            break;
        }
        assert!(
            Instant::now() < full_by,
            "the held long-polls never filled the slots"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // Closed with a FIN: the sockets have nothing unread, so close() sends no reset.
    drop(held);
    let closed = Instant::now();
    // The server learns of the FINs asynchronously; allow it a moment, far below the 30 s
    // the abandoned waits would otherwise hold their slots.
    let (status, body) = loop {
        let answer = exchange(port, "GET", &format!("/jobs/{id}?wait=0.01"), "");
        if answer.0 != 503 || closed.elapsed() > Duration::from_secs(2) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status, 200, "{body}");
    assert!(
        closed.elapsed() < Duration::from_secs(2),
        "slots came back only after {:?}",
        closed.elapsed()
    );
}

/// The price of the rule above, kept small: a caller that half-closes its socket right after
/// its request still gets an answer that is ready at once; only a held one is given up.
#[test]
fn a_request_answered_at_once_is_answered_even_to_a_half_closed_socket() {
    let port = spawn_server(
        Settings::for_tests(Duration::from_secs(600)),
        Duration::from_secs(20),
    );
    let id = created_job(port);
    for (method, target, body) in [
        ("GET", format!("/jobs/{id}"), ""),
        ("GET", "/status".to_owned(), ""),
        ("POST", "/jobs".to_owned(), "{}"),
    ] {
        let mut stream = send(port, method, &target, body);
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 20"),
            "{method} {target}: {answer:?}"
        );
    }
}
