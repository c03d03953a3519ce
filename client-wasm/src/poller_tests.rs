//! The poller against scripted observations, with a fake clock.

// The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

const MS: Duration = Duration::from_millis(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// 1 s, ×2, capped at 8 s, no jitter, no limits: every gap is predictable.
fn exact_policy() -> PollPolicy {
    PollPolicy::default()
        .with_initial_delay(ms(1000))
        .with_backoff_factor(2.0)
        .with_max_delay(ms(8000))
        .with_jitter(0.0)
        .with_max_wait(None)
        .with_adaptive(false)
}

/// Drives a poller with a fake clock: each request takes `latency`, each sleep exactly
/// what was asked. `answer(attempt)` plays the server. Returns the poll times and the end.
fn run(
    policy: PollPolicy,
    latency: Duration,
    mut answer: impl FnMut(u32) -> Observation,
) -> (Vec<Duration>, WaitOutcome) {
    let mut now = Duration::ZERO;
    let mut poller = Poller::new(policy, 7, now);
    let mut polls = Vec::new();
    let mut action = poller.start();
    loop {
        match action {
            Action::Poll { attempt, .. } => {
                assert_eq!(attempt as usize, polls.len() + 1, "attempts count from 1");
                polls.push(now);
                assert!(polls.len() < 10_000, "runaway poller");
                now += latency;
                action = poller.observe(now, answer(attempt));
            }
            Action::Sleep(delay) => {
                now += delay;
                action = poller.wake(now);
            }
            Action::Done(outcome) => return (polls, outcome),
        }
    }
}

fn pending() -> Observation {
    Observation::status(JobResult::Pending)
}

fn http(status: u16) -> Observation {
    Observation::HttpStatus {
        status,
        message: format!("status {status}"),
        retry_after: None,
    }
}

#[test]
fn polls_on_the_exponential_schedule_until_completed() {
    let (polls, outcome) = run(exact_policy(), Duration::ZERO, |attempt| {
        if attempt < 7 {
            pending()
        } else {
            Observation::status(JobResult::Completed)
        }
    });
    let expected: Vec<_> = [0, 1000, 3000, 7000, 15_000, 23_000, 31_000].map(ms).into();
    assert_eq!(polls, expected);
    assert_eq!(
        outcome,
        WaitOutcome::Finished {
            result: JobResult::Completed,
            attempts: 7,
            elapsed: ms(31_000)
        }
    );
}

#[test]
fn an_error_result_is_final_too() {
    let (polls, outcome) = run(exact_policy(), 5 * MS, |_| {
        Observation::status(JobResult::Error)
    });
    assert_eq!(polls.len(), 1);
    assert_eq!(
        outcome,
        WaitOutcome::Finished {
            result: JobResult::Error,
            attempts: 1,
            elapsed: 5 * MS
        }
    );
}

#[test]
fn max_attempts_stops_after_exactly_that_many_requests() {
    let (polls, outcome) = run(
        exact_policy().with_max_attempts(Some(3)),
        Duration::ZERO,
        |_| pending(),
    );
    assert_eq!(polls.len(), 3);
    let WaitOutcome::Failed(PollError::TimedOut {
        budget, attempts, ..
    }) = outcome
    else {
        panic!("expected a timeout, got {outcome:?}");
    };
    assert_eq!((budget, attempts), (Budget::Attempts, 3));
}

#[test]
fn a_single_attempt_budget_makes_one_request() {
    let (polls, outcome) = run(
        exact_policy().with_max_attempts(Some(1)),
        Duration::ZERO,
        |_| pending(),
    );
    assert_eq!(polls, [Duration::ZERO]);
    assert!(matches!(
        outcome,
        WaitOutcome::Failed(PollError::TimedOut {
            budget: Budget::Attempts,
            ..
        })
    ));
}

#[test]
fn never_sleeps_past_the_deadline_and_polls_once_more_at_it() {
    // Schedule 0, 1, 3, 7 s; the next would be 15 s but the deadline is 10 s.
    let policy = exact_policy().with_max_wait(Some(ms(10_000)));
    let (polls, outcome) = run(policy, Duration::ZERO, |_| pending());
    assert_eq!(polls, [0, 1000, 3000, 7000, 10_000].map(ms));
    let WaitOutcome::Failed(PollError::TimedOut {
        budget,
        attempts,
        elapsed,
        ..
    }) = outcome
    else {
        panic!("expected a timeout, got {outcome:?}");
    };
    assert_eq!((budget, attempts, elapsed), (Budget::Time, 5, ms(10_000)));
}

#[test]
fn the_last_poll_at_the_deadline_can_still_succeed() {
    let policy = exact_policy().with_max_wait(Some(ms(10_000)));
    let (polls, outcome) = run(policy, Duration::ZERO, |attempt| {
        if attempt == 5 {
            Observation::status(JobResult::Completed)
        } else {
            pending()
        }
    });
    assert_eq!(polls.last(), Some(&ms(10_000)));
    assert!(matches!(
        outcome,
        WaitOutcome::Finished {
            result: JobResult::Completed,
            ..
        }
    ));
}

#[test]
fn slow_answers_count_against_the_deadline() {
    // Each answer takes 4 s: polls at 0 (answer at 4), sleep 1 → 5 (answer at 9),
    // sleep min(2, 1) → 10 (answer at 14, past the deadline) → timeout.
    let policy = exact_policy().with_max_wait(Some(ms(10_000)));
    let (polls, outcome) = run(policy, ms(4000), |_| pending());
    assert_eq!(polls, [0, 5000, 10_000].map(ms));
    assert!(matches!(
        outcome,
        WaitOutcome::Failed(PollError::TimedOut { budget: Budget::Time, elapsed, .. }) if elapsed == ms(14_000)
    ));
}

#[test]
fn a_zero_max_wait_polls_exactly_once() {
    let policy = exact_policy().with_max_wait(Some(Duration::ZERO));
    let (polls, outcome) = run(policy, Duration::ZERO, |_| pending());
    assert_eq!(polls.len(), 1);
    assert!(matches!(
        outcome,
        WaitOutcome::Failed(PollError::TimedOut {
            budget: Budget::Time,
            ..
        })
    ));
}

#[test]
fn transient_failures_are_retried_on_the_same_schedule() {
    let failures = [
        Observation::NetworkError("connection refused".into()),
        http(500),
        http(502),
        http(503),
        http(408),
        http(429),
        Observation::RequestTimedOut,
    ];
    let count = failures.len() as u32;
    let mut failures = failures.into_iter();
    let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| {
        failures
            .next()
            .unwrap_or(Observation::status(JobResult::Completed))
    });
    assert_eq!(polls.len() as u32, count + 1);
    assert_eq!(&polls[..4], &[0, 1000, 3000, 7000].map(ms));
    assert!(
        matches!(outcome, WaitOutcome::Finished { result: JobResult::Completed, attempts, .. } if attempts == count + 1)
    );
}

#[test]
fn transient_failures_share_the_attempt_budget_and_are_reported() {
    let policy = exact_policy().with_max_attempts(Some(2));
    let (polls, outcome) = run(policy, Duration::ZERO, |_| http(503));
    assert_eq!(polls.len(), 2);
    let WaitOutcome::Failed(error @ PollError::TimedOut { .. }) = outcome else {
        panic!("expected a timeout, got {outcome:?}");
    };
    let message = error.to_string();
    assert!(message.contains("maxAttempts"), "{message}");
    assert!(message.contains("HTTP 503"), "{message}");
}

#[test]
fn a_pending_answer_clears_the_last_failure() {
    let policy = exact_policy().with_max_attempts(Some(2));
    let (_, outcome) = run(policy, Duration::ZERO, |attempt| {
        if attempt == 1 {
            http(503)
        } else {
            pending()
        }
    });
    assert!(matches!(
        outcome,
        WaitOutcome::Failed(PollError::TimedOut {
            last_failure: None,
            ..
        })
    ));
}

#[test]
fn permanent_http_errors_fail_at_once() {
    for status in [400, 401, 403, 404, 405, 410, 422] {
        let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| http(status));
        assert_eq!(polls.len(), 1, "HTTP {status} must not be retried");
        assert_eq!(
            outcome,
            WaitOutcome::Failed(PollError::Http {
                status,
                message: format!("status {status}")
            })
        );
    }
}

#[test]
fn which_statuses_are_transient() {
    for status in [408, 429, 500, 502, 503, 504, 599] {
        assert!(is_transient_status(status), "{status}");
    }
    for status in [300, 304, 400, 401, 403, 404, 409, 451] {
        assert!(!is_transient_status(status), "{status}");
    }
}

#[test]
fn one_malformed_answer_is_retried_but_two_in_a_row_fail() {
    let (polls, outcome) = run(exact_policy(), Duration::ZERO, |attempt| match attempt {
        1 => Observation::Malformed("not JSON".into()),
        2 => pending(),
        3 => Observation::Malformed("not JSON".into()),
        _ => Observation::status(JobResult::Completed),
    });
    assert_eq!(polls.len(), 4);
    assert!(matches!(outcome, WaitOutcome::Finished { .. }));

    let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| {
        Observation::Malformed("body is <html>".into())
    });
    assert_eq!(polls.len(), 2);
    assert_eq!(
        outcome,
        WaitOutcome::Failed(PollError::Protocol("body is <html>".into()))
    );
}

#[test]
fn an_unknown_result_fails_at_once_with_the_value() {
    let (polls, outcome) = run(exact_policy(), Duration::ZERO, |_| {
        Observation::NotTheContract("unknown result \"done\"".into())
    });
    assert_eq!(polls.len(), 1);
    let WaitOutcome::Failed(PollError::Protocol(message)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(message.contains("\"done\""));
}

#[test]
fn retry_after_lengthens_the_gap_up_to_the_max_delay() {
    let with_hint = |seconds| Observation::HttpStatus {
        status: 503,
        message: "busy".into(),
        retry_after: Some(Duration::from_secs(seconds)),
    };
    // 5 s asked, scheduled gap 1 s: waits 5 s.
    let (polls, _) = run(exact_policy(), Duration::ZERO, |attempt| {
        if attempt == 1 {
            with_hint(5)
        } else {
            Observation::status(JobResult::Completed)
        }
    });
    assert_eq!(polls, [0, 5000].map(ms));
    // An absurd hour is clamped to maxDelay (8 s).
    let (polls, _) = run(exact_policy(), Duration::ZERO, |attempt| {
        if attempt == 1 {
            with_hint(3600)
        } else {
            Observation::status(JobResult::Completed)
        }
    });
    assert_eq!(polls, [0, 8000].map(ms));
    // ... and to the deadline.
    let policy = exact_policy().with_max_wait(Some(ms(3000)));
    let (polls, _) = run(policy, Duration::ZERO, |_| with_hint(3600));
    assert_eq!(polls, [0, 3000].map(ms));
}

#[test]
fn jittered_runs_are_reproducible_from_the_seed_and_stay_in_range() {
    let policy = PollPolicy::default()
        .with_jitter(0.5)
        .with_max_wait(Some(ms(120_000)))
        .with_adaptive(false);
    let (a, _) = run(policy, Duration::ZERO, |_| pending());
    let (b, _) = run(policy, Duration::ZERO, |_| pending());
    assert_eq!(a, b);
    // Default schedule: 1 s × 1.5 up to 15 s; with jitter 0.5 each gap is in [d/2, d].
    let mut nominal = 1000.0_f64;
    for pair in a.windows(2).take(a.len() - 2) {
        let gap = (pair[1] - pair[0]).as_secs_f64() * 1000.0;
        assert!(
            gap <= nominal + 0.5 && gap >= nominal / 2.0 - 0.5,
            "gap {gap} vs {nominal}"
        );
        nominal = (nominal * 1.5).min(15_000.0);
    }
    assert_eq!(
        a.last(),
        Some(&ms(120_000)),
        "the last poll is at the deadline"
    );
}

#[test]
fn elapsed_and_attempts_are_observable() {
    let mut poller = Poller::new(exact_policy(), 1, ms(500));
    assert_eq!(poller.attempts(), 0);
    poller.start();
    assert_eq!(poller.attempts(), 1);
    assert_eq!(poller.elapsed(ms(1500)), ms(1000));
    assert_eq!(
        poller.elapsed(ms(100)),
        Duration::ZERO,
        "a clock that steps back reads as zero"
    );
}

/// A simulated server for one job: it truly ends at `ends_at`, reports `estimate` as its
/// length, and long-polls (holding a request up to its wait) if `long_polls`.
#[derive(Clone, Copy)]
struct SimServer {
    ends_at: Duration,
    estimate: Duration,
    long_polls: bool,
    eta_hints: bool,
}

/// The (time, long-poll wait) of each poll.
type Polls = Vec<(Duration, Option<Duration>)>;

/// One simulated wait. Returns (time, wait) of every poll, when the final result was
/// seen (if it was), and the outcome.
fn simulate(policy: PollPolicy, server: SimServer) -> (Polls, Option<Duration>, WaitOutcome) {
    simulate_seeded(policy, server, 11)
}

fn simulate_seeded(
    policy: PollPolicy,
    server: SimServer,
    seed: u64,
) -> (Polls, Option<Duration>, WaitOutcome) {
    let mut now = Duration::ZERO;
    let mut poller = Poller::new(policy, seed, now);
    let mut polls = Vec::new();
    let mut action = poller.start();
    loop {
        match action {
            Action::Poll { wait, .. } => {
                polls.push((now, wait));
                assert!(polls.len() < 10_000, "runaway poller");
                let held = match wait {
                    Some(wait) if server.long_polls => wait.min(server.ends_at.saturating_sub(now)),
                    _ => Duration::ZERO,
                };
                now += held;
                let observation = if now >= server.ends_at {
                    Observation::status(JobResult::Completed)
                } else {
                    let hints = StatusHints {
                        eta: server
                            .eta_hints
                            .then(|| server.estimate.saturating_sub(now)),
                        progress: server
                            .eta_hints
                            .then(|| (now.as_secs_f64() / server.estimate.as_secs_f64()).min(0.99)),
                        retry_after: None,
                        long_polled: wait.is_some() && server.long_polls,
                    };
                    Observation::Status {
                        result: JobResult::Pending,
                        hints,
                    }
                };
                action = poller.observe(now, observation);
            }
            Action::Sleep(delay) => {
                now += delay;
                action = poller.wake(now);
            }
            Action::Done(outcome) => {
                let seen = matches!(outcome, WaitOutcome::Finished { .. }).then_some(now);
                return (polls, seen, outcome);
            }
        }
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn long_polling_server(ends_at: u64, estimate: u64) -> SimServer {
    SimServer {
        ends_at: secs(ends_at),
        estimate: secs(estimate),
        long_polls: true,
        eta_hints: true,
    }
}

#[test]
fn adaptive_sees_the_end_the_moment_it_comes_with_few_requests() {
    for ends_at in [480, 600, 720] {
        // Estimated 600 s, truly 480 to 720 s: the ±20 % of the benchmark.
        let (polls, seen, outcome) =
            simulate(PollPolicy::default(), long_polling_server(ends_at, 600));
        assert_eq!(seen, Some(secs(ends_at)), "detected at the end itself");
        assert!(matches!(
            outcome,
            WaitOutcome::Finished {
                result: JobResult::Completed,
                ..
            }
        ));
        // Plain backoff makes about 50 requests here, and sees the end up to 15 s late.
        // Listening with 30 s long-polls between sleeps no longer than plain's gaps costs
        // about one request per 45 s far from the end, one per 30 s near it.
        assert!(
            polls.len() <= 22,
            "{ends_at}: {} requests: {polls:?}",
            polls.len()
        );
    }
}

/// When each request of a simulated wait ended: a long-poll is held until the job ends
/// or its wait runs out.
fn uncovered_gaps(polls: &Polls, ends_at: Duration) -> Vec<Duration> {
    let returned = |(at, wait): &(Duration, Option<Duration>)| {
        (*at + wait.unwrap_or_default()).min(ends_at.max(*at))
    };
    polls
        .windows(2)
        .map(|pair| pair[1].0.saturating_sub(returned(&pair[0])))
        .collect()
}

#[test]
fn far_from_the_end_no_gap_is_longer_than_plain_backoff_would_leave() {
    let policy = PollPolicy::default().with_jitter(0.0);
    let (polls, _, _) = simulate(policy, long_polling_server(600, 600));
    assert_eq!(
        polls[0],
        (Duration::ZERO, None),
        "the first request is plain"
    );
    let gaps = uncovered_gaps(&polls, secs(600));
    // The plain schedule (1 s, 1.5 s, 2.25 s, ... up to 15 s) in time: the gap it is in
    // when the sleep starts.
    let plain = Backoff::new(&policy, 0);
    for (pair, gap) in polls.windows(2).zip(&gaps) {
        let slept_from = pair[1].0 - *gap;
        let plain_gap = plain.gap_at(slept_from);
        assert!(*gap <= plain_gap, "{gap:?} > {plain_gap:?} in {polls:?}");
    }
    // At most 90 % of it: 13.5 s once plain's gap is at its 15 s cap.
    assert!(gaps.iter().any(|gap| *gap == ms(13_500)), "{gaps:?}");
    // Between the sleeps it listens: every request after the first is a long-poll.
    assert!(polls[1..].iter().all(|(_, wait)| *wait == Some(secs(30))));
}

/// Detection lateness and requests of `runs` simulated waits with different seeds.
fn lateness_and_requests(policy: PollPolicy, server: SimServer, runs: u64) -> (Vec<Duration>, f64) {
    let mut lateness = Vec::new();
    let mut requests = 0;
    for seed in 0..runs {
        let (polls, seen, _) = simulate_seeded(policy, server, seed);
        lateness.push(seen.expect("no deadline here") - server.ends_at);
        requests += polls.len();
    }
    lateness.sort();
    (lateness, requests as f64 / runs as f64)
}

#[test]
fn whatever_the_estimate_adaptive_is_never_later_than_plain_with_at_most_two_more_requests() {
    let policy = PollPolicy::default().with_max_wait(None);
    for true_secs in [2, 10, 30, 120, 600] {
        let ends_at = secs(true_secs);
        let plain_server = long_polling_server(true_secs, true_secs);
        let (plain_lateness, plain_requests) =
            lateness_and_requests(policy.with_adaptive(false), plain_server, 40);
        let plain_worst = *plain_lateness.last().unwrap();
        // The job ends at 0.1× to 3× what the server estimates.
        for factor in [0.1, 0.25, 0.5, 0.8, 1.0, 1.2, 2.0, 3.0] {
            let estimate = Duration::from_secs_f64(true_secs as f64 / factor);
            let server = SimServer {
                ends_at,
                estimate,
                ..plain_server
            };
            let (lateness, requests) = lateness_and_requests(policy, server, 40);
            let worst = *lateness.last().unwrap();
            assert!(
                worst <= plain_worst,
                "D = {true_secs} s at {factor}×: {worst:?} late, plain {plain_worst:?}"
            );
            assert!(
                requests <= plain_requests + 2.0,
                "D = {true_secs} s at {factor}×: {requests} requests, plain {plain_requests}"
            );
        }
    }
}

#[test]
fn a_short_job_is_long_polled_after_one_gap() {
    let policy = PollPolicy::default().with_jitter(0.0);
    let (polls, seen, _) = simulate(policy, long_polling_server(2, 2));
    assert_eq!(polls.len(), 2);
    assert_eq!(
        polls[1],
        (ms(900), Some(secs(30))),
        "90 % of plain's first gap, then listen"
    );
    assert_eq!(seen, Some(secs(2)));
}

#[test]
fn without_long_polling_it_polls_near_the_end_with_short_gaps() {
    let server = SimServer {
        long_polls: false,
        ..long_polling_server(480, 600)
    };
    let (polls, seen, _) = simulate(PollPolicy::default(), server);
    let asked_waits = polls.iter().filter(|(_, wait)| wait.is_some()).count();
    assert_eq!(asked_waits, 1, "one wait asked, unanswered: never again");
    let lateness = seen.unwrap() - secs(480);
    assert!(lateness < secs(15), "late by {lateness:?}");
    // Far from the end no sleep outlasts plain backoff's gap (about 36 requests to
    // 480 s), then short gaps near it.
    assert!(polls.len() < 55, "{} requests", polls.len());
}

#[test]
fn without_any_hints_adaptive_is_the_plain_schedule() {
    let server = SimServer {
        long_polls: false,
        eta_hints: false,
        ..long_polling_server(100, 100)
    };
    let policy = PollPolicy::default().with_jitter(0.0);
    let (adaptive, _, _) = simulate(policy, server);
    let (plain, _, _) = simulate(policy.with_adaptive(false), server);
    let times = |polls: &[(Duration, Option<Duration>)]| {
        polls.iter().map(|(at, _)| *at).collect::<Vec<_>>()
    };
    assert_eq!(times(&adaptive), times(&plain));
    assert!(plain.iter().all(|(_, wait)| wait.is_none()));
    assert_eq!(
        adaptive[1].1,
        Some(secs(30)),
        "it asks once whether the server long-polls"
    );
    assert!(adaptive[2..].iter().all(|(_, wait)| wait.is_none()));
}

#[test]
fn a_long_polling_server_without_eta_is_long_polled_back_to_back() {
    let server = SimServer {
        eta_hints: false,
        ..long_polling_server(200, 200)
    };
    let (polls, seen, _) = simulate(PollPolicy::default(), server);
    assert_eq!(seen, Some(secs(200)));
    assert!(
        polls[2..].iter().all(|(_, wait)| *wait == Some(secs(30))),
        "{polls:?}"
    );
    assert!(polls.len() <= 10, "{} requests", polls.len());
}

#[test]
fn plain_mode_ignores_every_hint() {
    let policy = PollPolicy::default().with_jitter(0.0).with_adaptive(false);
    let (polls, _, _) = simulate(policy, long_polling_server(30, 30));
    let times: Vec<_> = polls.iter().map(|(at, _)| at.as_millis()).collect();
    assert_eq!(times, [0, 1000, 2500, 4750, 8125, 13_187, 20_781, 32_171]);
    assert!(polls.iter().all(|(_, wait)| wait.is_none()));
}

#[test]
fn long_polls_shrink_to_the_deadline_and_none_runs_past_it() {
    let policy = PollPolicy::default().with_max_wait(Some(secs(100)));
    let (polls, seen, outcome) = simulate(policy, long_polling_server(1000, 1000));
    assert_eq!(seen, None);
    for (at, wait) in &polls {
        assert!(
            *at + wait.unwrap_or_default() <= secs(100),
            "poll at {at:?} waits {wait:?}"
        );
    }
    let WaitOutcome::Failed(PollError::TimedOut {
        budget, elapsed, ..
    }) = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((budget, elapsed), (Budget::Time, secs(100)));
}

#[test]
fn a_pessimistic_estimate_never_sleeps_past_the_plain_schedules_longest_gap() {
    let policy = PollPolicy::default().with_max_attempts(Some(40));
    let (polls, _, _) = simulate(policy, long_polling_server(36_000, 36_000));
    let gaps = uncovered_gaps(&polls, secs(36_000));
    assert!(gaps.iter().all(|gap| *gap <= policy.max_delay), "{gaps:?}");
}

#[test]
fn a_long_poll_answered_at_once_counts_as_a_plain_poll() {
    // A server that claims to hold requests but answers at once (`--max-wait 0.001`).
    let policy = PollPolicy::default().with_jitter(0.0);
    let mut poller = Poller::new(policy, 1, Duration::ZERO);
    poller.start();
    let pending = |long_polled| Observation::Status {
        result: JobResult::Pending,
        hints: StatusHints {
            long_polled,
            ..StatusHints::NONE
        },
    };
    let mut now = ms(10);
    let mut action = poller.observe(now, pending(false));
    let mut requests = 1;
    while now < secs(60) {
        match action {
            Action::Sleep(delay) => {
                now += delay;
                action = poller.wake(now);
            }
            Action::Poll { .. } => {
                requests += 1;
                now += ms(2);
                action = poller.observe(now, pending(true));
            }
            Action::Done(outcome) => panic!("{outcome:?}"),
        }
    }
    // The backoff schedule's 1 s, 1.5 s, ... up to 15 s: about a dozen in a minute.
    assert!(requests <= 12, "{requests} requests in 60 s");
}

#[test]
fn a_zero_long_poll_wait_never_long_polls() {
    let policy = PollPolicy::default().with_long_poll_wait(Duration::ZERO);
    let (polls, seen, _) = simulate(policy, long_polling_server(60, 60));
    assert!(polls.iter().all(|(_, wait)| wait.is_none()));
    assert!(seen.is_some());
}

#[test]
fn retry_after_on_a_pending_answer_is_an_estimate_within_the_coverage_gap() {
    let mut poller = Poller::new(PollPolicy::default().with_jitter(0.0), 1, Duration::ZERO);
    poller.start();
    let hints = StatusHints {
        retry_after: Some(secs(120)),
        ..StatusHints::NONE
    };
    let action = poller.observe(
        Duration::ZERO,
        Observation::Status {
            result: JobResult::Pending,
            hints,
        },
    );
    assert_eq!(
        action,
        Action::Sleep(ms(900)),
        "90 % of plain's first gap, not 120 s"
    );
}
