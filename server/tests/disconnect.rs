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
fn closed_long_polls_and_watches_give_their_slots_back_at_once() {
    const SLOTS: usize = 20;
    let port = spawn_server(
        Settings {
            max_waiters: SLOTS as u32,
            ..Settings::for_tests(Duration::from_secs(600))
        },
        Duration::from_secs(60),
    );
    let ids: Vec<String> = (0..10).map(|_| created_job(port)).collect();
    let long_poll = format!("/jobs/{}?wait=30", ids[0]);
    let watch = serde_json::json!({ "ids": ids }).to_string();
    let probe = || exchange(port, "GET", &format!("/jobs/{}?wait=0.01", ids[0]), "");

    // Half the slots held by long-polls, half by watches of ten jobs each.
    let held: Vec<TcpStream> = (0..SLOTS)
        .map(|n| match n % 2 {
            0 => send(port, "GET", &long_poll, ""),
            _ => send(port, "POST", "/jobs/watch?wait=30", &watch),
        })
        .collect();
    // Every slot is taken once the server has read the held requests.
    let full_by = Instant::now() + Duration::from_secs(5);
    while probe().0 != 503 {
        assert!(
            Instant::now() < full_by,
            "the held requests never filled the slots"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // Closed with a FIN: the sockets have nothing unread, so close() sends no reset.
    drop(held);
    let closed = Instant::now();
    // The server learns of the FINs asynchronously: polled until it has, for at most half
    // the 30 s the abandoned waits would otherwise hold their slots (only that fails, not a
    // machine slow to deliver the FINs).
    let before_the_wait = Duration::from_secs(15);
    let (status, body) = loop {
        let answer = probe();
        if answer.0 != 503 || closed.elapsed() > before_the_wait {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        status,
        200,
        "slots still taken {:?} after the close: {body}",
        closed.elapsed()
    );
    // Every slot, not just one: as many new watches are all held (a refused one would
    // have its 503 to read), and then the slots are full again.
    let again: Vec<TcpStream> = (0..SLOTS)
        .map(|_| send(port, "POST", "/jobs/watch?wait=30", &watch))
        .collect();
    for mut stream in &again {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut byte = [0u8; 1];
        let read = stream.read(&mut byte);
        assert!(
            read.as_ref().is_err_and(|error| matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )),
            "a new watch was answered instead of held: {read:?}"
        );
    }
    assert_eq!(probe().0, 503, "the new watches hold every slot");
    drop(again);
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
