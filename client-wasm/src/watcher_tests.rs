//! The watcher against a simulated server, with a fake clock.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::time::Duration;

use video_translation_protocol::JobResult;

use super::*;
use crate::answer::{Invalid, ReplyHints};
use crate::poller::{PollError, WaitOutcome};
use video_translation_protocol::WatchAnswer;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn policy() -> PollPolicy {
    PollPolicy::default().with_jitter(0.0).with_max_wait(None)
}

/// A server's jobs: id, when it ends (`None`: unknown to the server).
struct SimServer {
    jobs: Vec<(String, Option<Duration>)>,
    has_watch_route: bool,
    /// Requests held at once, at most, seen by the server.
    most_held: usize,
    requests: usize,
}

impl SimServer {
    fn new(ends: &[(&str, u64)]) -> Self {
        SimServer {
            jobs: ends
                .iter()
                .map(|(id, end)| (id.to_string(), Some(ms(*end))))
                .collect(),
            has_watch_route: true,
            most_held: 0,
            requests: 0,
        }
    }

    fn status(&self, id: &str, now: Duration) -> Option<JobStatus> {
        let (_, end) = self.jobs.iter().find(|(known, _)| known == id)?;
        let end = (*end)?;
        Some(JobStatus {
            id: Some(id.to_owned()),
            result: if now >= end {
                JobResult::Completed
            } else {
                JobResult::Pending
            },
            progress: Some(0.0),
            eta_ms: Some(end.saturating_sub(now).as_millis() as u64),
            reason: None,
        })
    }

    fn end_of(&self, id: &str) -> Option<Duration> {
        self.jobs.iter().find(|(known, _)| known == id)?.1
    }

    /// When the server answers a request sent at `now`, and what.
    fn answer(&self, request: &Request, now: Duration) -> (Duration, Answer) {
        let hints = |wait: Option<Duration>| ReplyHints {
            retry_after: None,
            long_polled: wait.is_some(),
        };
        match request {
            Request::Status { id, wait } => {
                let id = id.clone().unwrap_or_default();
                let Some(end) = self.end_of(&id) else {
                    let answer = Answer::Error {
                        status: 404,
                        code: Some("not_found".into()),
                        message: "no such job".into(),
                        retry_after: None,
                    };
                    return (now, answer);
                };
                let at = match wait {
                    Some(wait) if now < end => (now + *wait).min(end),
                    _ => now,
                };
                (
                    at,
                    Answer::Status(Ok(self.status(&id, at).unwrap()), hints(*wait)),
                )
            }
            Request::Watch { ids, wait } => {
                if !self.has_watch_route {
                    let answer = Answer::Error {
                        status: 404,
                        code: Some("not_found".into()),
                        message: "no route".into(),
                        retry_after: None,
                    };
                    return (now, answer);
                }
                let first_end = ids.iter().map(|id| self.end_of(id).unwrap_or(now)).min();
                let at = match wait {
                    Some(wait) => (now + *wait).min(first_end.unwrap().max(now)),
                    None => now,
                };
                let statuses: Vec<JobStatus> =
                    ids.iter().filter_map(|id| self.status(id, at)).collect();
                let missing = ids
                    .iter()
                    .filter(|id| self.end_of(id).is_none())
                    .cloned()
                    .collect::<Vec<_>>();
                let ended: Vec<JobStatus> = statuses
                    .iter()
                    .filter(|status| status.result.is_final())
                    .cloned()
                    .collect();
                let jobs = if ended.is_empty() && missing.is_empty() {
                    statuses
                } else {
                    ended
                };
                (
                    at,
                    Answer::Watch(Ok(WatchAnswer { jobs, missing }), hints(*wait)),
                )
            }
            Request::Stream { .. } => {
                unreachable!("these watchers do not stream (streams_tests.rs)")
            }
        }
    }
}

/// Runs the watcher against the server until every job is done (or `until`). Returns the
/// events with their times.
fn run(watcher: &mut Watcher, server: &mut SimServer, until: Duration) -> Vec<(Duration, Event)> {
    let mut now = Duration::ZERO;
    // (answer time, request, answer)
    let mut pending: Vec<(Duration, RequestId, Answer, bool)> = Vec::new();
    let mut events = Vec::new();
    while !watcher.is_empty() && now <= until {
        let plan = watcher.plan(now);
        for cancelled in &plan.cancel {
            pending.retain(|(_, id, _, _)| id != cancelled);
        }
        for (id, request) in &plan.send {
            server.requests += 1;
            let (at, answer) = server.answer(request, now);
            pending.push((at, *id, answer, request.wait().is_some()));
        }
        let held = pending.iter().filter(|(.., held)| *held).count();
        server.most_held = server.most_held.max(held);
        let next_answer = pending.iter().map(|(at, ..)| *at).min();
        let next_wake = plan.wake_in.map(|wake| now + wake);
        let next = match (next_answer, next_wake) {
            (Some(a), Some(w)) => a.min(w),
            (Some(a), None) => a,
            (None, Some(w)) => w,
            (None, None) => panic!("the watcher waits for nothing: {watcher:?}"),
        };
        now = next;
        pending.sort_by_key(|(at, ..)| *at);
        while pending.first().is_some_and(|(at, ..)| *at <= now) {
            let (_, id, answer, _) = pending.remove(0);
            watcher.on_answer(now, id, answer, &mut |event| events.push((now, event)));
        }
    }
    events
}

/// `on_answer`'s events as a list.
fn feed(watcher: &mut Watcher, now: Duration, request: RequestId, answer: Answer) -> Vec<Event> {
    let mut events = Vec::new();
    watcher.on_answer(now, request, answer, &mut |event| events.push(event));
    events
}

fn done_at(events: &[(Duration, Event)], key: WaitKey) -> Option<(Duration, WaitOutcome)> {
    events.iter().find_map(|(at, event)| match event {
        Event::Done {
            key: done, outcome, ..
        } if *done == key => Some((*at, outcome.clone())),
        _ => None,
    })
}

#[test]
fn many_jobs_share_one_held_watch_and_each_end_is_seen_at_once() {
    let ends: Vec<(String, u64)> = (0..200)
        .map(|n| (format!("{n:032x}"), 5_000 + n * 97))
        .collect();
    let refs: Vec<(&str, u64)> = ends.iter().map(|(id, end)| (id.as_str(), *end)).collect();
    let mut server = SimServer::new(&refs);
    let mut watcher = Watcher::new();
    let keys: Vec<WaitKey> = ends
        .iter()
        .enumerate()
        .map(|(n, (id, _))| watcher.add(Duration::ZERO, Some(id.clone()), policy(), n as u64))
        .collect();
    let events = run(&mut watcher, &mut server, secs(3600));
    for (key, (_, end)) in keys.iter().zip(&ends) {
        let (at, outcome) = done_at(&events, *key).expect("every job ends");
        assert!(matches!(
            outcome,
            WaitOutcome::Finished {
                result: JobResult::Completed,
                ..
            }
        ));
        assert_eq!(at, ms(*end), "seen at its end");
    }
    assert_eq!(server.most_held, 1, "one held request at any time");
    // Far fewer requests than jobs: each end answers one held watch.
    assert!(
        server.requests < 2 * ends.len(),
        "{} requests",
        server.requests
    );
}

#[test]
fn a_job_that_joins_while_a_watch_is_held_rides_a_new_one_at_once() {
    let server = SimServer::new(&[("a", 60_000), ("b", 2_000)]);
    let mut watcher = Watcher::new();
    let a = watcher.add(Duration::ZERO, Some("a".into()), policy(), 1);
    // a: plain poll at 0, sleeps 1 s (the first gap), then is held.
    let plan = watcher.plan(Duration::ZERO);
    let (first, _) = plan.send[0].clone();
    let (at, answer) = server.answer(&plan.send[0].1, Duration::ZERO);
    feed(&mut watcher, at, first, answer);
    let plan = watcher.plan(secs(1));
    assert_eq!(plan.send.len(), 1);
    let (held_id, held) = plan.send[0].clone();
    assert_eq!(
        held,
        Request::Watch {
            ids: vec!["a".into()],
            wait: Some(secs(30))
        }
    );

    let b = watcher.add(secs(1), Some("b".into()), policy(), 2);
    let plan = watcher.plan(secs(1));
    assert_eq!(
        plan.send,
        vec![(
            plan.send[0].0,
            Request::Watch {
                ids: vec!["b".into()],
                wait: None
            }
        )]
    );
    let (quick_id, quick) = plan.send[0].clone();
    let (at, answer) = server.answer(&quick, secs(1));
    feed(&mut watcher, at, quick_id, answer);
    // b may end within 0.75 s: it sleeps that long, then wants to be held, so the held
    // watch is sent again with both.
    assert_eq!(
        watcher.plan(secs(1)),
        Plan {
            wake_in: Some(ms(750)),
            ..Plan::default()
        }
    );
    let plan = watcher.plan(ms(1750));
    assert_eq!(plan.cancel, vec![held_id]);
    let [(_, Request::Watch { ids, wait: Some(_) })] = plan.send.as_slice() else {
        panic!("{plan:?}")
    };
    assert_eq!(ids.len(), 2);
    assert_eq!(watcher.held_requests(), 1);
    let _ = (a, b);
}

#[test]
fn another_jobs_end_is_no_attempt_for_the_jobs_still_pending() {
    let mut server = SimServer::new(&[("a", 10_000), ("b", 20_000), ("c", 20_500)]);
    let mut watcher = Watcher::new();
    let keys: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| watcher.add(Duration::ZERO, Some(id.to_string()), policy(), 3))
        .collect();
    let events = run(&mut watcher, &mut server, secs(600));
    let attempts = |key| {
        events.iter().rev().find_map(|(_, event)| match event {
            Event::Update {
                key: k, progress, ..
            } if *k == key => Some(progress.attempt),
            _ => None,
        })
    };
    // Each: one plain poll, one held watch (held from 1 s, answered at its end or at 31 s).
    assert_eq!(attempts(keys[0]), Some(2));
    assert_eq!(
        attempts(keys[1]),
        Some(2),
        "a's end at 10 s was not an attempt of b's"
    );
    assert_eq!(done_at(&events, keys[2]).unwrap().0, ms(20_500));
}

#[test]
fn without_a_watch_route_each_job_polls_alone_with_at_most_two_held() {
    let ends: Vec<(String, u64)> = (0..10)
        .map(|n| (format!("job{n}"), 3_000 + n * 1_000))
        .collect();
    let refs: Vec<(&str, u64)> = ends.iter().map(|(id, end)| (id.as_str(), *end)).collect();
    let mut server = SimServer::new(&refs);
    server.has_watch_route = false;
    let mut watcher = Watcher::new();
    let keys: Vec<WaitKey> = ends
        .iter()
        .map(|(id, _)| watcher.add(Duration::ZERO, Some(id.clone()), policy(), 5))
        .collect();
    let events = run(&mut watcher, &mut server, secs(600));
    for key in keys {
        let (_, outcome) = done_at(&events, key).expect("every job ends");
        assert!(matches!(
            outcome,
            WaitOutcome::Finished {
                result: JobResult::Completed,
                ..
            }
        ));
    }
    assert_eq!(server.most_held, MAX_HELD_WITHOUT_WATCH);
}

#[test]
fn an_unknown_id_fails_its_wait_alone_with_not_found() {
    let mut server = SimServer::new(&[("a", 3_000)]);
    let mut watcher = Watcher::new();
    let known = watcher.add(Duration::ZERO, Some("a".into()), policy(), 1);
    let unknown = watcher.add(Duration::ZERO, Some("zz".into()), policy(), 1);
    let events = run(&mut watcher, &mut server, secs(60));
    let missing = events.iter().find_map(|(_, event)| match event {
        Event::Done {
            key,
            outcome,
            error_code,
        } if *key == unknown => Some((outcome.clone(), error_code.clone())),
        _ => None,
    });
    let Some((WaitOutcome::Failed(PollError::Http { status: 404, .. }), Some(code))) = missing
    else {
        panic!("{missing:?}")
    };
    assert_eq!(code, "not_found");
    assert_eq!(done_at(&events, known).unwrap().0, ms(3_000));
}

#[test]
fn an_answer_about_another_job_never_settles_the_wait() {
    let mut watcher = Watcher::new();
    let key = watcher.add(Duration::ZERO, Some("aa".into()), policy(), 1);
    let plan = watcher.plan(Duration::ZERO);
    let status = JobStatus {
        id: Some("bb".into()),
        result: JobResult::Completed,
        progress: None,
        eta_ms: None,
        reason: None,
    };
    let events = feed(
        &mut watcher,
        ms(5),
        plan.send[0].0,
        Answer::Watch(
            Ok(WatchAnswer {
                jobs: vec![status.clone()],
                missing: vec![],
            }),
            ReplyHints::default(),
        ),
    );
    // A watch without a wait must list every job it was asked about.
    assert!(
        matches!(&events[0], Event::Retry { error, .. } if error.contains("names none of the jobs asked for"))
    );

    let mut watcher = Watcher::new();
    let _ = key;
    let key = watcher.add(Duration::ZERO, None, policy(), 1);
    let plan = watcher.plan(Duration::ZERO);
    assert_eq!(
        plan.send[0].1,
        Request::Status {
            id: None,
            wait: None
        },
        "the default job"
    );
    let events = feed(
        &mut watcher,
        ms(5),
        plan.send[0].0,
        Answer::Status(Ok(status.clone()), ReplyHints::default()),
    );
    assert!(
        matches!(events.last(), Some(Event::Done { key: k, outcome: WaitOutcome::Finished { .. }, .. }) if *k == key),
        "no id asked, any id answers: {events:?}"
    );

    let mut watcher = Watcher::new();
    watcher.transport = Transport::PerJob;
    let key = watcher.add(Duration::ZERO, Some("aa".into()), policy(), 1);
    let plan = watcher.plan(Duration::ZERO);
    let events = feed(
        &mut watcher,
        ms(5),
        plan.send[0].0,
        Answer::Status(Ok(status), ReplyHints::default()),
    );
    let [Event::Done {
        key: k,
        outcome: WaitOutcome::Failed(PollError::Protocol(message)),
        ..
    }] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(*k, key);
    assert!(message.contains("about job bb"), "{message}");
}

#[test]
fn removing_a_job_cancels_its_request_only_if_it_rode_alone() {
    let mut watcher = Watcher::new();
    let a = watcher.add(Duration::ZERO, Some("a".into()), policy(), 1);
    let b = watcher.add(Duration::ZERO, Some("b".into()), policy(), 1);
    let plan = watcher.plan(Duration::ZERO);
    assert_eq!(plan.send.len(), 1, "one watch for both");
    assert_eq!(watcher.remove(a), None, "b still rides it");
    assert_eq!(watcher.remove(b), Some(plan.send[0].0));
    assert!(watcher.is_empty());
}

#[test]
fn a_malformed_watch_answer_is_retried_then_a_protocol_error_for_each_job() {
    let mut watcher = Watcher::new();
    let key = watcher.add(Duration::ZERO, Some("a".into()), policy(), 1);
    let mut now = Duration::ZERO;
    let mut outcome = None;
    for _ in 0..3 {
        let plan = watcher.plan(now);
        if let Some((id, _)) = plan.send.first() {
            let answer = Answer::Watch(
                Err(Invalid::Malformed("not JSON".into())),
                ReplyHints::default(),
            );
            for event in feed(&mut watcher, now, *id, answer) {
                if let Event::Done { outcome: done, .. } = event {
                    outcome = Some(done);
                }
            }
        }
        now += secs(2);
    }
    assert!(
        matches!(outcome, Some(WaitOutcome::Failed(PollError::Protocol(_)))),
        "{outcome:?}"
    );
    let _ = key;
}

#[test]
fn a_thousand_and_one_jobs_never_put_more_than_a_thousand_ids_in_a_watch() {
    let mut watcher = Watcher::new();
    for n in 0..1001 {
        watcher.add(Duration::ZERO, Some(format!("{n}")), policy(), 1);
    }
    let plan = watcher.plan(Duration::ZERO);
    let sizes: Vec<usize> = plan
        .send
        .iter()
        .map(|(_, request)| match request {
            Request::Watch { ids, .. } | Request::Stream { ids, .. } => ids.len(),
            Request::Status { .. } => 1,
        })
        .collect();
    assert_eq!(sizes, [1000, 1]);
}

#[test]
fn no_request_outlives_the_deadline_of_a_job_it_carries() {
    let mut watcher = Watcher::new();
    let short = policy()
        .with_max_wait(Some(secs(10)))
        .with_request_timeout(secs(30));
    watcher.add(Duration::ZERO, Some("a".into()), short, 1);
    let plan = watcher.plan(Duration::ZERO);
    let (id, _) = plan.send[0].clone();
    assert_eq!(
        watcher.request_timeout(id, Duration::ZERO),
        secs(10) + DEADLINE_MARGIN
    );
    assert_eq!(
        watcher.request_timeout(id, secs(9)),
        secs(1) + DEADLINE_MARGIN
    );
    // Without a deadline, the usual limit.
    let mut watcher = Watcher::new();
    watcher.add(
        Duration::ZERO,
        Some("a".into()),
        policy().with_request_timeout(secs(30)),
        1,
    );
    let plan = watcher.plan(Duration::ZERO);
    assert_eq!(
        watcher.request_timeout(plan.send[0].0, Duration::ZERO),
        secs(30)
    );
}

#[test]
fn look_now_ends_every_sleep() {
    let server = SimServer::new(&[("a", 600_000), ("b", 600_000)]);
    let mut watcher = Watcher::new();
    for id in ["a", "b"] {
        watcher.add(Duration::ZERO, Some(id.into()), policy(), 1);
    }
    let plan = watcher.plan(Duration::ZERO);
    let (id, request) = plan.send[0].clone();
    let (at, answer) = server.answer(&request, Duration::ZERO);
    feed(&mut watcher, at, id, answer);
    let plan = watcher.plan(ms(10));
    assert!(plan.send.is_empty(), "both sleep: {plan:?}");
    watcher.look_now(ms(20));
    let plan = watcher.plan(ms(20));
    let [(_, Request::Watch { ids, .. })] = plan.send.as_slice() else {
        panic!("{plan:?}")
    };
    assert_eq!(ids.len(), 2, "both are asked about at once");
}

#[test]
fn newcomers_join_the_held_watch_together_at_most_every_join_period() {
    let server = SimServer::new(&[("a", 600_000), ("b", 600_000), ("c", 600_000)]);
    let mut watcher = Watcher::new();
    // a sleeps 0.9 s (90 % of its 1 s gap); b and c 0.945 s: they want to join 45 ms later.
    watcher.add(Duration::ZERO, Some("a".into()), policy(), 1);
    for id in ["b", "c"] {
        let later = policy()
            .with_initial_delay(ms(1050))
            .with_max_delay(secs(15));
        watcher.add(Duration::ZERO, Some(id.into()), later, 2);
    }
    let plan = watcher.plan(Duration::ZERO);
    let (id, request) = plan.send[0].clone();
    let (at, answer) = server.answer(&request, Duration::ZERO);
    feed(&mut watcher, at, id, answer);
    let plan = watcher.plan(ms(900));
    let (held, _) = plan.send[0].clone();
    let plan = watcher.plan(ms(945));
    assert!(
        plan.send.is_empty() && plan.cancel.is_empty(),
        "the held watch was sent 45 ms ago: {plan:?}"
    );
    assert_eq!(
        plan.wake_in,
        Some(ms(155)),
        "they join when it is 200 ms old"
    );
    let plan = watcher.plan(ms(1100));
    assert_eq!(plan.cancel, vec![held]);
    let [(_, Request::Watch { ids, wait: Some(_) })] = plan.send.as_slice() else {
        panic!("{plan:?}")
    };
    assert_eq!(ids.len(), 3, "both newcomers in one re-send");
}

/// A hostile server: every watch, held or not, is answered at once with `body`.
fn answer_every_watch_at_once_with(body: &str) -> (usize, Vec<Event>) {
    let parsed = serde_json::from_str::<WatchAnswer>(body)
        .map_err(|error| Invalid::Malformed(error.to_string()));
    let mut watcher = Watcher::new();
    // Adaptive: the first request of each wait is a plain poll, later ones long-polls.
    for id in ["aa", "bb"] {
        watcher.add(Duration::ZERO, Some(id.into()), policy(), 1);
    }
    let (mut now, mut requests, mut events) = (Duration::ZERO, 0, Vec::new());
    while !watcher.is_empty() && requests < 100 {
        let plan = watcher.plan(now);
        for (id, request) in plan.send {
            assert!(matches!(request, Request::Watch { .. }), "{request:?}");
            requests += 1;
            let answer = Answer::Watch(parsed.clone(), ReplyHints::default());
            watcher.on_answer(now, id, answer, &mut |event| events.push(event));
        }
        now += plan.wake_in.unwrap_or(ms(1));
    }
    (requests, events)
}

#[test]
fn a_watch_answer_that_names_no_job_asked_for_counts_against_every_job_in_it() {
    // Each shape, answered at once to every watch: none may keep the client re-sending.
    for body in [r#"{"jobs":[],"missing":[]}"#, "{}", r#"{"jobs":[]}"#] {
        let (requests, events) = answer_every_watch_at_once_with(body);
        let failed = events
            .iter()
            .filter(|event| {
                matches!(
                    event,
                    Event::Done {
                        outcome: WaitOutcome::Failed(PollError::Protocol(_)),
                        ..
                    }
                )
            })
            .count();
        assert_eq!(failed, 2, "{body}: both waits end in a ProtocolError");
        assert_eq!(
            requests, 2,
            "{body}: one retry after the first unreadable answer, then the error"
        );
    }
}

#[test]
fn a_held_watch_answered_only_for_an_aborted_job_goes_on_for_the_rest() {
    let mut watcher = Watcher::new();
    let policy = policy().with_initial_delay(ms(10));
    let stays = watcher.add(Duration::ZERO, Some("aa".into()), policy, 1);
    let leaves = watcher.add(Duration::ZERO, Some("bb".into()), policy, 1);
    // Both first polls, answered pending with an estimate close to the end: long-polls next.
    let first = watcher.plan(Duration::ZERO);
    let pending = |id: &str| JobStatus {
        id: Some(id.into()),
        result: JobResult::Pending,
        progress: Some(0.9),
        eta_ms: Some(10),
        reason: None,
    };
    let body = WatchAnswer {
        jobs: vec![pending("aa"), pending("bb")],
        missing: vec![],
    };
    feed(
        &mut watcher,
        ms(1),
        first.send[0].0,
        Answer::Watch(Ok(body), ReplyHints::default()),
    );
    let held = watcher.plan(ms(1));
    let [(held_id, Request::Watch { wait: Some(_), .. })] = held.send.as_slice() else {
        panic!("one held watch for both: {held:?}")
    };
    assert_eq!(
        watcher.remove(leaves),
        None,
        "the watch still carries the other"
    );
    let mut ended = pending("bb");
    ended.result = JobResult::Completed;
    let answer = WatchAnswer {
        jobs: vec![ended],
        missing: vec![],
    };
    let events = feed(
        &mut watcher,
        ms(5),
        *held_id,
        Answer::Watch(Ok(answer), ReplyHints::default()),
    );
    assert!(
        events.is_empty(),
        "nothing happened to the wait left: {events:?}"
    );
    let again = watcher.plan(ms(5));
    assert_eq!(again.send.len(), 1, "its watch is sent again: {again:?}");
    assert_eq!(watcher.len(), 1);
    let _ = stays;
}
