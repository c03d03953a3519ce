//! The watcher's streams, event by event, with a fake clock.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::time::Duration;

use video_translation_protocol::{JobResult, JobStatus, WatchAnswer, MAX_WATCHED_IDS};

use super::super::StreamSettings;
use super::super::{Event, Plan, Request, RequestId, WaitKey, Watcher};
use crate::answer::{Answer, Invalid, ReplyHints};
use crate::policy::PollPolicy;
use crate::poller::{Budget, PollError, WaitOutcome};
use crate::stream::StreamEvent;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn streaming() -> Watcher {
    Watcher::with_streams(StreamSettings {
        enabled: true,
        progress: None,
    })
}

fn policy() -> PollPolicy {
    PollPolicy::default().with_jitter(0.0).with_max_wait(None)
}

fn status(id: &str, result: JobResult) -> JobStatus {
    JobStatus {
        id: Some(id.to_owned()),
        result,
        progress: Some(0.5),
        eta_ms: Some(60_000),
        reason: None,
    }
}

fn add(watcher: &mut Watcher, now: Duration, id: &str) -> WaitKey {
    watcher.add(now, Some(id.to_owned()), policy(), 7)
}

/// The plan's one stream: its request id and what it asks for.
fn the_stream(plan: &Plan) -> (RequestId, Vec<String>, Option<String>) {
    let streams: Vec<_> = plan
        .send
        .iter()
        .filter_map(|(id, request)| match request {
            Request::Stream {
                ids, last_event_id, ..
            } => Some((*id, ids.clone(), last_event_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(streams.len(), 1, "one stream in {plan:?}");
    streams.into_iter().next().unwrap()
}

fn event(
    watcher: &mut Watcher,
    now: Duration,
    request: RequestId,
    event: StreamEvent,
    cursor: &str,
) -> Vec<Event> {
    let mut events = Vec::new();
    watcher.on_stream_event(now, request, event, Some(cursor.to_owned()), &mut |e| {
        events.push(e)
    });
    events
}

fn answer(watcher: &mut Watcher, now: Duration, request: RequestId, answer: Answer) -> Vec<Event> {
    let mut events = Vec::new();
    watcher.on_answer(now, request, answer, &mut |e| events.push(e));
    events
}

fn open() -> StreamEvent {
    StreamEvent::Open {
        heartbeat: secs(15),
    }
}

#[test]
fn every_job_rides_one_stream_and_each_end_settles_its_wait_alone() {
    let mut watcher = streaming();
    let a = add(&mut watcher, ms(0), "a");
    let b = add(&mut watcher, ms(0), "b");
    let plan = watcher.plan(ms(0));
    let (stream, ids, resume) = the_stream(&plan);
    assert_eq!((ids, resume), (vec!["a".to_owned(), "b".to_owned()], None));
    assert_eq!(watcher.held_requests(), 1);

    assert!(event(&mut watcher, ms(10), stream, open(), "0").is_empty());
    let pending = StreamEvent::Jobs(vec![
        status("a", JobResult::Pending),
        status("b", JobResult::Pending),
    ]);
    let updates = event(&mut watcher, ms(20), stream, pending, "0");
    assert_eq!(updates.len(), 2);
    for update in &updates {
        let Event::Update { progress, .. } = update else {
            panic!("{update:?}")
        };
        assert_eq!(
            (progress.attempt, progress.next_poll_in),
            (1, Some(Duration::ZERO))
        );
    }
    let end = StreamEvent::End(status("a", JobResult::Completed));
    let events = event(&mut watcher, secs(90), stream, end, "90000-a");
    assert!(
        matches!(
            events.as_slice(),
            [Event::Update { key, .. }, Event::Done { key: done, outcome: WaitOutcome::Finished { result: JobResult::Completed, attempts: 1, .. }, .. }]
                if *key == a && *done == a
        ),
        "{events:?}"
    );
    // The stream goes on for b: nothing to send, nothing to cancel.
    let plan = watcher.plan(secs(90));
    assert!(plan.send.is_empty() && plan.cancel.is_empty(), "{plan:?}");
    assert_eq!(watcher.len(), 1);
    let events = event(
        &mut watcher,
        secs(120),
        stream,
        StreamEvent::End(status("b", JobResult::Error)),
        "120000-b",
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Done { key, .. } if *key == b)));
    assert!(watcher.is_empty());
    assert_eq!(
        watcher.held_requests(),
        0,
        "a stream with no wait left is not counted"
    );
}

#[test]
fn a_newcomer_reopens_the_stream_without_an_attempt_for_the_jobs_in_it() {
    let mut watcher = streaming();
    add(&mut watcher, ms(0), "a");
    let (first, ..) = the_stream(&watcher.plan(ms(0)));
    event(&mut watcher, ms(5), first, open(), "0");
    add(&mut watcher, ms(50), "b");
    // Opened a moment ago: the newcomer waits to join, so a crowd costs few reopenings.
    let plan = watcher.plan(ms(50));
    assert!(plan.send.is_empty());
    assert_eq!(plan.wake_in, Some(ms(150)));
    let plan = watcher.plan(ms(200));
    assert_eq!(plan.cancel, vec![first]);
    let (second, ids, resume) = the_stream(&plan);
    assert_eq!(ids, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(resume, None, "b's job may have ended before the cursor");
    let updates = event(
        &mut watcher,
        ms(300),
        second,
        StreamEvent::Jobs(vec![status("a", JobResult::Pending)]),
        "0",
    );
    let [Event::Update { progress, .. }] = updates.as_slice() else {
        panic!("{updates:?}")
    };
    assert_eq!(progress.attempt, 1);
    // The first stream's late events are not heard.
    assert!(event(
        &mut watcher,
        ms(310),
        first,
        StreamEvent::End(status("a", JobResult::Completed)),
        "9"
    )
    .is_empty());
    assert_eq!(watcher.len(), 2);
}

#[test]
fn an_unknown_id_ends_its_wait_with_not_found() {
    let mut watcher = streaming();
    let a = add(&mut watcher, ms(0), "a");
    add(&mut watcher, ms(0), "b");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    let events = event(
        &mut watcher,
        ms(10),
        stream,
        StreamEvent::Missing(vec!["A".to_owned()]),
        "0",
    );
    assert!(
        matches!(
            events.as_slice(),
            [Event::Done { key, outcome: WaitOutcome::Failed(PollError::Http { status: 404, .. }), error_code: Some(code) }]
                if *key == a && code == "not_found"
        ),
        "{events:?}"
    );
    assert_eq!(watcher.len(), 1);
}

#[test]
fn a_stream_the_server_closes_is_opened_again_at_once_after_its_last_event() {
    let mut watcher = streaming();
    add(&mut watcher, ms(0), "a");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    event(&mut watcher, ms(10), stream, open(), "0");
    event(
        &mut watcher,
        secs(3600),
        stream,
        StreamEvent::Jobs(vec![status("a", JobResult::Pending)]),
        "0",
    );
    assert!(answer(&mut watcher, secs(3600), stream, Answer::StreamClosed).is_empty());
    let (_, ids, resume) = the_stream(&watcher.plan(secs(3600)));
    assert_eq!((ids, resume.as_deref()), (vec!["a".to_owned()], Some("0")));
}

#[test]
fn a_stream_closed_within_a_second_counts_as_a_plain_poll_so_no_server_makes_it_spin() {
    let mut watcher = streaming();
    add(&mut watcher, ms(0), "a");
    let mut requests = 0;
    let mut now = ms(0);
    while now < secs(60) {
        let plan = watcher.plan(now);
        for (id, _) in &plan.send {
            requests += 1;
            event(&mut watcher, now, *id, open(), "0");
            answer(&mut watcher, now + ms(5), *id, Answer::StreamClosed);
        }
        now += plan.wake_in.unwrap_or(ms(5)).max(ms(5));
    }
    // Backoff from 1 s by 1.5 up to 15 s: about a dozen in a minute, not thousands.
    assert!(
        (5..=15).contains(&requests),
        "{requests} streams in a minute"
    );
}

#[test]
fn a_stream_held_back_by_a_buffering_proxy_falls_back_to_long_polled_watches() {
    let mut watcher = streaming();
    add(&mut watcher, ms(0), "a");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    assert!(answer(&mut watcher, secs(5), stream, Answer::StreamBuffered).is_empty());
    let plan = watcher.plan(secs(5));
    assert!(
        matches!(
            plan.send.as_slice(),
            [(_, Request::Watch { wait: None, .. })]
        ),
        "{plan:?}"
    );
    let (watch, _) = &plan.send[0];
    let body = WatchAnswer {
        jobs: vec![status("a", JobResult::Pending)],
        missing: vec![],
    };
    let events = answer(
        &mut watcher,
        secs(5),
        *watch,
        Answer::Watch(Ok(body), ReplyHints::default()),
    );
    let [Event::Update { progress, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        progress.attempt, 1,
        "the buffered stream was not an attempt"
    );
}

#[test]
fn a_server_without_streams_answers_the_watch_and_is_long_polled_from_then_on() {
    let mut watcher = streaming();
    let a = add(&mut watcher, ms(0), "a");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    let body = WatchAnswer {
        jobs: vec![status("a", JobResult::Completed)],
        missing: vec![],
    };
    let events = answer(
        &mut watcher,
        ms(5),
        stream,
        Answer::Watch(Ok(body), ReplyHints::default()),
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Done { key, .. } if *key == a)));
    add(&mut watcher, ms(10), "b");
    let plan = watcher.plan(ms(10));
    assert!(
        matches!(plan.send.as_slice(), [(_, Request::Watch { .. })]),
        "{plan:?}"
    );
}

#[test]
fn a_broken_stream_is_a_failed_attempt_then_resumed_after_its_last_event() {
    let mut watcher = streaming();
    add(&mut watcher, ms(0), "a");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    event(&mut watcher, ms(10), stream, open(), "17-x");
    let events = answer(
        &mut watcher,
        secs(30),
        stream,
        Answer::NetworkError("reset".into()),
    );
    let [Event::Retry { progress, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    let gap = progress.next_poll_in.unwrap();
    assert!(gap >= secs(1), "{gap:?}");
    assert!(watcher.plan(secs(30)).send.is_empty());
    let (_, _, resume) = the_stream(&watcher.plan(secs(30) + gap));
    assert_eq!(resume.as_deref(), Some("17-x"));
}

#[test]
fn an_unreadable_stream_counts_as_malformed_and_the_client_long_polls_instead() {
    let mut watcher = streaming();
    add(&mut watcher, ms(0), "a");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    let garbage = Answer::Watch(
        Err(Invalid::Malformed("not an event".into())),
        ReplyHints::default(),
    );
    let events = answer(&mut watcher, ms(10), stream, garbage);
    let [Event::Retry { progress, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    let plan = watcher.plan(ms(10) + progress.next_poll_in.unwrap());
    assert!(
        matches!(plan.send.as_slice(), [(_, Request::Watch { .. })]),
        "{plan:?}"
    );
}

#[test]
fn a_deadline_ends_its_wait_alone_and_the_stream_goes_on_for_the_others() {
    let mut watcher = streaming();
    let short = watcher.add(
        ms(0),
        Some("a".into()),
        policy().with_max_wait(Some(secs(10))),
        1,
    );
    add(&mut watcher, ms(0), "b");
    let plan = watcher.plan(ms(0));
    let (stream, ..) = the_stream(&plan);
    assert_eq!(plan.wake_in, Some(secs(10)), "comes back at the deadline");
    let mut events = Vec::new();
    watcher.expire(secs(10), &mut |e| events.push(e));
    assert!(
        matches!(
            events.as_slice(),
            [Event::Done { key, outcome: WaitOutcome::Failed(PollError::TimedOut { budget: Budget::Time, .. }), .. }] if *key == short
        ),
        "{events:?}"
    );
    let plan = watcher.plan(secs(10));
    assert!(plan.send.is_empty() && plan.cancel.is_empty(), "{plan:?}");
    // Its job's end, if the server sends it after all, is not heard.
    assert!(event(
        &mut watcher,
        secs(11),
        stream,
        StreamEvent::End(status("a", JobResult::Completed)),
        "1"
    )
    .is_empty());
}

#[test]
fn a_stream_left_with_no_wait_is_closed() {
    let mut watcher = streaming();
    let a = add(&mut watcher, ms(0), "a");
    let (stream, ..) = the_stream(&watcher.plan(ms(0)));
    assert_eq!(watcher.remove(a), Some(stream));
    assert_eq!(watcher.held_requests(), 0);
}

#[test]
fn more_than_a_thousand_jobs_take_more_than_one_stream() {
    let mut watcher = streaming();
    for n in 0..MAX_WATCHED_IDS + 1 {
        add(&mut watcher, ms(0), &format!("{n:032x}"));
    }
    let plan = watcher.plan(ms(0));
    let sizes: Vec<usize> = plan
        .send
        .iter()
        .map(|(_, request)| match request {
            Request::Stream { ids, .. } => ids.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, vec![MAX_WATCHED_IDS, 1]);
    assert_eq!(watcher.held_requests(), 2);
}

#[test]
fn streams_off_long_polls_watches_as_before() {
    let mut watcher = Watcher::with_streams(StreamSettings {
        enabled: false,
        progress: None,
    });
    add(&mut watcher, ms(0), "a");
    let plan = watcher.plan(ms(0));
    assert!(
        matches!(plan.send.as_slice(), [(_, Request::Watch { .. })]),
        "{plan:?}"
    );
}

#[test]
fn the_progress_interval_asked_for_goes_with_every_stream() {
    let mut watcher = Watcher::with_streams(StreamSettings {
        enabled: true,
        progress: Some(secs(5)),
    });
    add(&mut watcher, ms(0), "a");
    let plan = watcher.plan(ms(0));
    assert!(matches!(
        plan.send.as_slice(),
        [(_, Request::Stream { progress: Some(every), .. })] if *every == secs(5)
    ));
}
