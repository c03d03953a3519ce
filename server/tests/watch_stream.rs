//! `POST /jobs/watch` with `Accept: text/event-stream`, against the real server on a socket:
//! the events in their order and content, the checks before a stream starts, the heartbeat,
//! the lifetime and shutdown closes, the `--max-waiters` slot, and resuming with
//! `Last-Event-ID`. No test passes or fails on a duration: each asserts what was sent, in
//! which order; timeouts are only safety nets.

mod common;

use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::{json, Value};
use video_translation_server::config::Settings;

use common::binary::ServerBinary;
use common::event_stream::{self, cancel, create, open, request, Item};
use common::{app, assert_error, call, post_watch, spawn_server, watch_body};

const UNKNOWN: &str = "0123456789abcdef0123456789abcdef";

fn settings() -> Settings {
    Settings::for_tests(Duration::from_secs(60))
}

/// A job lasting `millis`, ending `completed`.
fn job(millis: u64) -> String {
    format!(r#"{{"duration_ms": {millis}, "outcome": "completed"}}"#)
}

/// The event's name and the job it is about (`end`), or its data (others).
fn summary(item: &Item) -> (String, Value) {
    match item {
        Item::Event { event, data, .. } if event == "end" => (event.clone(), data["id"].clone()),
        Item::Event { event, data, .. } => (event.clone(), data.clone()),
        Item::Comment(text) => (":".into(), json!(text)),
    }
}

fn end(id: &str) -> (String, Value) {
    ("end".into(), json!(id))
}

/// The ids a `jobs` event lists, in its order.
fn pending_in(item: &Item) -> Vec<String> {
    let (name, data) = summary(item);
    assert_eq!(name, "jobs", "{item:?}");
    data["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            assert_eq!(job["result"], "pending", "{data}");
            job["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The next `end` event (the status events before it skipped).
fn next_end(stream: &mut event_stream::EventStream) -> Item {
    std::iter::from_fn(|| stream.next_event())
        .find(|event| event.name() == "end")
        .expect("an end before the stream's close")
}

fn id_of(item: &Item) -> &str {
    match item {
        Item::Event { id, .. } => id,
        Item::Comment(_) => panic!("a comment has no id"),
    }
}

#[test]
fn a_stream_sends_each_end_as_it_comes_in_order_and_closes_after_the_last() {
    let server = spawn_server(settings());
    let (late, early, middle) = (
        create(server, &job(900)),
        create(server, &job(200)),
        create(server, &job(500)),
    );
    let mut stream = open(
        server,
        &watch_body(&[&late, &early, &middle]),
        &[("Origin", "https://app.example")],
    )
    .stream();
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("cache-control"), Some("no-store"));
    assert_eq!(stream.header("x-accel-buffering"), Some("no"));
    assert_eq!(stream.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        stream.header("access-control-allow-origin"),
        Some("https://app.example"),
        "CORS as on every route"
    );
    let mut events = stream.rest_of_events();
    assert_eq!(
        pending_in(&events.remove(0)),
        [late.as_str(), early.as_str(), middle.as_str()],
        "first every pending job, in the order listed"
    );
    assert_eq!(
        events.iter().map(summary).collect::<Vec<_>>(),
        [end(&early), end(&middle), end(&late)]
    );
    for event in &events {
        let Item::Event { data, .. } = event else {
            unreachable!()
        };
        assert_eq!(data["result"], "completed", "{data}");
        assert_eq!(data["progress"], 1.0);
        assert_eq!(data["eta_ms"], 0);
    }
}

#[test]
fn unknown_ids_come_first_then_the_ends_already_there_then_the_rest() {
    let server = spawn_server(settings());
    let ended = create(server, &job(0));
    let pending = create(server, &job(300));
    let mut stream = open(
        server,
        &watch_body(&[&pending, UNKNOWN, &ended, "nope", UNKNOWN]),
        &[],
    )
    .stream();
    let events = stream.rest_of_events();
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(
        summary(&events[0]),
        ("missing".into(), json!({"ids": [UNKNOWN, "nope"]}))
    );
    assert_eq!(summary(&events[1]), end(&ended));
    assert_eq!(
        pending_in(&events[2]),
        [pending.as_str()],
        "then the rest's status"
    );
    assert_eq!(summary(&events[3]), end(&pending));

    let mut all_unknown = open(server, &watch_body(&["nope"]), &[]).stream();
    assert_eq!(
        all_unknown.rest().iter().map(summary).collect::<Vec<_>>(),
        [("missing".into(), json!({"ids": ["nope"]}))],
        "nothing to wait for: closed at once"
    );
}

#[test]
fn progress_events_list_the_pending_jobs_when_asked_and_never_otherwise() {
    let server = spawn_server(settings());
    let slow = create(server, &job(2_600));
    let quick = create(server, &job(1_300));
    let body = watch_body(&[&slow, &quick]);
    let events = event_stream::open_at(server, "/jobs/watch?progress_ms=1000", &body, &[])
        .stream()
        .rest_of_events();
    let names: Vec<&str> = events.iter().map(Item::name).collect();
    assert_eq!(names.last(), Some(&"end"), "{names:?}");
    let first_jobs = events
        .iter()
        .position(|e| e.name() == "jobs")
        .expect("a jobs event");
    let Item::Event { data, .. } = &events[first_jobs] else {
        unreachable!()
    };
    let listed: Vec<&Value> = data["jobs"].as_array().unwrap().iter().collect();
    assert_eq!(
        listed[0]["id"],
        slow.as_str(),
        "in the order listed: {data}"
    );
    assert!(
        listed.iter().all(|job| job["result"] == "pending"),
        "{data}"
    );
    let after_quick = events
        .iter()
        .position(|e| summary(e) == end(&quick))
        .unwrap();
    for event in &events[after_quick..] {
        if let Item::Event { event, data, .. } = event {
            if event == "jobs" {
                assert_eq!(
                    data["jobs"].as_array().unwrap().len(),
                    1,
                    "an ended job is no longer listed: {data}"
                );
            }
        }
    }

    let quick = create(server, &job(1_300));
    let events = open(server, &watch_body(&[&quick]), &[])
        .stream()
        .rest_of_events();
    assert_eq!(
        events.len(),
        2,
        "the opening status and the end: {events:?}"
    );
    assert_eq!(pending_in(&events[0]), [quick.as_str()]);
    assert_eq!(summary(&events[1]), end(&quick));
}

#[actix_web::test]
async fn progress_ms_and_last_event_id_are_checked_before_any_stream() {
    let app = app(Duration::from_secs(60)).await;
    let stream_at = |query: &str, body: &str| {
        post_watch(query, body).insert_header(("Accept", "text/event-stream"))
    };
    let stream = |body: &str| stream_at("", body);
    let one = watch_body(&["a"]);
    for (query, body, hint) in [
        ("?progress_ms=999", one.as_str(), "progress_ms"),
        ("?progress_ms=1000.5", one.as_str(), "progress_ms"),
        ("?progress_ms=soon", one.as_str(), "progress_ms"),
        ("?progress_ms=86400001", one.as_str(), "progress_ms"),
        ("", r#"{"ids": ["a"], "progress_ms": 1000}"#, "progress_ms"),
        ("", r#"{"ids": []}"#, "not 0"),
        ("", "{", "EOF"),
    ] {
        let (status, headers, json) = call(&app, stream_at(query, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query} {body}");
        assert_eq!(headers.get("content-type").unwrap(), "application/json");
        let message = assert_error(&json, "bad_request");
        assert!(message.contains(hint), "{query} {body}: {message}");
    }
    for cursor in ["yesterday", "12:xyz", "-1"] {
        let request = stream(&watch_body(&["a"])).insert_header(("Last-Event-ID", cursor));
        let (status, _, json) = call(&app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cursor}");
        assert!(assert_error(&json, "bad_request").contains("Last-Event-ID"));
    }
    let (status, _, json) = call(
        &app,
        stream(&watch_body(&["a"])).insert_header(("Content-Type", "text/plain")),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{json}");
}

#[actix_web::test]
async fn without_event_stream_in_accept_the_watch_is_the_json_one_progress_ms_ignored() {
    let app = app(Duration::from_secs(60)).await;
    for (accept, body) in [
        (None, watch_body(&[UNKNOWN])),
        (Some("*/*"), watch_body(&[UNKNOWN])),
        (Some("application/json"), watch_body(&[UNKNOWN])),
        (
            Some("text/event-stream;q=0, application/json"),
            watch_body(&[UNKNOWN]),
        ),
    ] {
        let mut request = post_watch("?wait=1&progress_ms=5000", &body);
        if let Some(accept) = accept {
            request = request.insert_header(("Accept", accept));
        }
        let (status, headers, answer) = call(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert_eq!(headers.get("content-type").unwrap(), "application/json");
        assert_eq!(
            answer,
            json!({"jobs": [], "missing": [UNKNOWN]}),
            "{accept:?}"
        );
    }
    let (status, _, json) = call(&app, post_watch("?progress_ms=10", &watch_body(&["a"]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "checked there too: {json}");
}

#[test]
fn a_comment_keeps_a_quiet_stream_alive() {
    let server = spawn_server(Settings {
        stream_heartbeat: Duration::from_millis(200),
        ..settings()
    });
    let pending = create(server, &job(60_000));
    let mut stream = open(server, &watch_body(&[&pending]), &[]).stream();
    assert_eq!(
        stream.heartbeat_ms, 200,
        "the open event tells the heartbeat"
    );
    assert_eq!(pending_in(&stream.next_item().unwrap()), [pending.as_str()]);
    assert_eq!(stream.next_item(), Some(Item::Comment("keep-alive".into())));
    assert_eq!(stream.next_item(), Some(Item::Comment("keep-alive".into())));
}

#[test]
fn at_its_lifetime_a_stream_sends_the_pending_jobs_and_closes() {
    let server = spawn_server(Settings {
        stream_lifetime: Duration::from_millis(500),
        ..settings()
    });
    let (pending, ended) = (create(server, &job(60_000)), create(server, &job(0)));
    let events = open(server, &watch_body(&[&pending, &ended]), &[])
        .stream()
        .rest_of_events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(summary(&events[0]), end(&ended));
    assert_eq!(
        pending_in(&events[1]),
        [pending.as_str()],
        "the opening status"
    );
    let (name, data) = summary(&events[2]);
    assert_eq!(name, "jobs");
    assert_eq!(data["jobs"].as_array().unwrap().len(), 1, "{data}");
    assert_eq!(data["jobs"][0]["id"], pending.as_str());
    assert_eq!(data["jobs"][0]["result"], "pending");
}

#[test]
fn at_shutdown_every_stream_gets_its_pending_jobs_and_a_clean_close() {
    let server = ServerBinary::start(&[]);
    let address = server.address;
    let (first, second) = (create(address, &job(60_000)), create(address, &job(60_000)));
    let mut streams = vec![
        open(address, &watch_body(&[&first]), &[]).stream(),
        open(address, &watch_body(&[&second, &first]), &[]).stream(),
    ];
    // SAFETY: kill(2) on the server binary, our own child.
    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    for (stream, expected) in streams
        .iter_mut()
        .zip([vec![&first], vec![&second, &first]])
    {
        let events = stream.rest_of_events();
        assert_eq!(
            events.len(),
            2,
            "the opening status, then the closing one: {events:?}"
        );
        let (name, data) = summary(&events[1]);
        assert_eq!(name, "jobs");
        let ids: Vec<&str> = data["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|job| job["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            expected.iter().map(|id| id.as_str()).collect::<Vec<_>>()
        );
    }
    for stream in streams {
        assert!(
            stream.closed_cleanly(),
            "a FIN after the last chunk, not a reset"
        );
    }
}

#[test]
fn a_stream_holds_one_waiter_slot_until_it_closes() {
    let server = spawn_server(Settings {
        max_waiters: 1,
        ..settings()
    });
    let ids: Vec<String> = (0..20).map(|_| create(server, &job(60_000))).collect();
    let mut first = open(server, &watch_body(&ids), &[]).stream();

    let (status, headers, json) = open(server, &watch_body(&ids[..1]), &[]).refused();
    assert_eq!(status, 503, "{json}");
    assert!(headers
        .iter()
        .any(|(name, value)| name == "retry-after" && value == "1"));
    assert_error(&json, "unavailable");
    let (status, json) = request(server, "GET", &format!("/jobs/{}?wait=5", ids[0]), "");
    assert_eq!(status, 503, "a long-poll is refused too: {json}");

    for id in &ids {
        cancel(server, id);
    }
    let mut events = first.rest_of_events();
    assert_eq!(
        pending_in(&events.remove(0)).len(),
        20,
        "the opening status"
    );
    assert_eq!(events.len(), 20, "every end: {events:?}");
    assert!(events.iter().all(|event| matches!(event,
        Item::Event { data, .. } if data["reason"] == "cancelled")));

    let pending = create(server, &job(60_000));
    let mut second = open(server, &watch_body(&[&pending]), &[]).stream();
    cancel(server, &pending);
    let events = second.rest_of_events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(summary(&events[1]), end(&pending));
}

#[test]
fn a_resumed_stream_misses_no_end_and_repeats_none() {
    let server = spawn_server(settings());
    let ended = create(server, &job(0));
    let soon = create(server, &job(300));
    let (later, last) = (create(server, &job(60_000)), create(server, &job(60_000)));
    let all = watch_body(&[&ended, &soon, &later, &last]);

    // Cut after the first end.
    let mut stream = open(server, &all, &[]).stream();
    let first = next_end(&mut stream);
    assert_eq!(summary(&first), end(&ended));
    drop(stream);

    // Resumed: the next end, not the first again.
    let mut stream = open(server, &all, &[("Last-Event-ID", id_of(&first))]).stream();
    let second = next_end(&mut stream);
    assert_eq!(summary(&second), end(&soon));
    drop(stream);

    // Resumed with fewer ids: the ended ones are not sent again, the others' ends come.
    let fewer = watch_body(&[&soon, &later, &last]);
    let mut stream = open(server, &fewer, &[("Last-Event-ID", id_of(&second))]).stream();
    cancel(server, &later);
    let third = next_end(&mut stream);
    assert_eq!(summary(&third), end(&later));
    drop(stream);

    cancel(server, &last);
    let mut stream = open(server, &fewer, &[("Last-Event-ID", id_of(&third))]).stream();
    let rest: Vec<Item> = stream
        .rest_of_events()
        .into_iter()
        .filter(|event| event.name() == "end")
        .collect();
    assert_eq!(
        rest.iter().map(summary).collect::<Vec<_>>(),
        [end(&last)],
        "only the end not yet received, then the close"
    );

    let mut stream = open(server, &fewer, &[("Last-Event-ID", id_of(&rest[0]))]).stream();
    assert!(
        stream.rest().is_empty(),
        "everything received: nothing more, closed at once"
    );
}

#[test]
fn bad_stream_requests_never_break_the_server() {
    let server = spawn_server(settings());
    for (body, cursor) in [
        ("{\"ids\": [\"\u{0}\"]}", "1"),
        (
            "{\"ids\": [\"a\"], \"progress_ms\": 18446744073709551615}",
            "",
        ),
        (
            "{\"ids\": [\"a\"], \"progress_ms\": 1e300}",
            "99999999999999999999",
        ),
        (
            "{\"ids\": [\"a\"]}",
            "18446744073709551615:00000000000000000000000000000000",
        ),
    ] {
        let headers: &[(&str, &str)] = &[("Last-Event-ID", cursor)];
        match open(server, body, headers) {
            event_stream::Opened::Stream(mut stream) => {
                stream.rest();
            }
            event_stream::Opened::Refused(status, _, json) => {
                assert!((400..500).contains(&status), "{body}: {status} {json}");
            }
        }
    }
    let (status, _) = request(server, "GET", "/healthz", "");
    assert_eq!(status, 200, "still serving");
}
