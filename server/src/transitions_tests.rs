//! The notifier on a real thread: waiters woken at their job's end, or when fired, not before.
use std::time::Duration;

use futures_util::FutureExt as _;

use super::*;

/// Runs `future` to its end on a runtime of its own, with timers.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
}

/// When `notify` fired, if it did within `limit`.
fn notified_within(notify: &Notify, limit: Duration) -> Option<Instant> {
    block_on(async {
        tokio::time::timeout(limit, notify.notified())
            .await
            .ok()
            .map(|()| Instant::now())
    })
}

/// How long a test waits for a notification due within a second: a safety net that only
/// a notification that never comes (or waits for a later job) reaches. How late they come
/// is `make bench`'s (bench/watch-fanout.mjs), not a pass condition a busy machine can break.
const NEVER: Duration = Duration::from_secs(5);

#[test]
fn fires_at_the_jobs_end_not_before() {
    let transitions = Transitions::<u32>::start();
    let ends_at = Instant::now() + Duration::from_millis(300);
    let notify = transitions.watch(1, ends_at);
    let fired = notified_within(&notify, NEVER).expect("fired");
    assert!(fired >= ends_at, "fired {:?} early", ends_at - fired);
}

#[test]
fn waiters_on_one_job_share_one_notification() {
    let transitions = Transitions::<u32>::start();
    let ends_at = Instant::now() + Duration::from_secs(60);
    let first = transitions.watch(7, ends_at);
    let second = transitions.watch(7, ends_at);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(transitions.watched_jobs(), 1);
    transitions.watch(8, ends_at);
    assert_eq!(transitions.watched_jobs(), 2);
}

#[test]
fn watching_many_shares_the_notifications_of_jobs_already_watched() {
    let transitions = Transitions::<u32>::start();
    let ends_at = Instant::now() + Duration::from_secs(60);
    let one = transitions.watch(1, ends_at);
    let many = transitions.watch_many([(1, ends_at), (2, ends_at), (3, ends_at)]);
    assert_eq!(many.len(), 3);
    assert!(Arc::ptr_eq(&one, &many[0]));
    assert_eq!(transitions.watched_jobs(), 3);
    let soon = Instant::now() + Duration::from_millis(200);
    let fired = transitions.watch_many([(4, soon)]);
    assert!(
        notified_within(&fired[0], NEVER).expect("fired") >= soon,
        "a job ending sooner than all others wakes the thread"
    );
}

#[test]
fn a_job_ending_sooner_than_the_earliest_is_still_on_time() {
    let transitions = Transitions::<u32>::start();
    let _late = transitions.watch(1, Instant::now() + Duration::from_secs(3600));
    let ends_at = Instant::now() + Duration::from_millis(300);
    let soon = transitions.watch(2, ends_at);
    // Within NEVER, not at the hour-later job's turn: the new earliest woke the thread.
    let fired = notified_within(&soon, NEVER).expect("fired before the later job's end");
    assert!(fired >= ends_at, "fired {:?} early", ends_at - fired);
    assert_eq!(transitions.watched_jobs(), 1, "a fired job is forgotten");
}

#[test]
fn fire_wakes_a_jobs_waiters_before_its_end_and_reports_how_many() {
    let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let transitions = Transitions::<u32>::start_observed({
        let woken = Arc::clone(&woken);
        move |count| {
            woken.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let ends_at = Instant::now() + Duration::from_secs(3600);
    // Two held requests on one job, each with its clone of the notification, waiting.
    let first = transitions.watch(1, ends_at);
    let second = transitions.watch(1, ends_at);
    let (first_waits, second_waits) = (first.notified(), second.notified());
    tokio::pin!(first_waits, second_waits);
    first_waits.as_mut().enable();
    second_waits.as_mut().enable();
    transitions.fire(1);
    // Woken by the call itself: ready when next polled, with no time to pass.
    assert!(
        first_waits.now_or_never().is_some() && second_waits.now_or_never().is_some(),
        "both woken at once, an hour before the job's end"
    );
    assert_eq!(transitions.watched_jobs(), 0, "a fired job is forgotten");
    assert_eq!(
        transitions.planned_turns(),
        0,
        "and so is its turn at its end, an hour away"
    );
    assert_eq!(woken.load(std::sync::atomic::Ordering::Relaxed), 2);
    transitions.fire(1);
    assert_eq!(
        woken.load(std::sync::atomic::Ordering::Relaxed),
        2,
        "firing an unwatched job wakes nobody"
    );
}

#[test]
fn wake_all_wakes_every_waiter_and_keeps_serving_new_ones() {
    let transitions = Transitions::<u32>::start();
    let far = Instant::now() + Duration::from_secs(3600);
    let (one, two) = (transitions.watch(1, far), transitions.watch(2, far));
    let (one_waits, two_waits) = (one.notified(), two.notified());
    tokio::pin!(one_waits, two_waits);
    one_waits.as_mut().enable();
    two_waits.as_mut().enable();
    transitions.wake_all();
    assert_eq!(transitions.watched_jobs(), 0);
    assert_eq!(transitions.planned_turns(), 0, "no turn kept for them");
    assert!(
        one_waits.now_or_never().is_some() && two_waits.now_or_never().is_some(),
        "both woken at once, an hour before their jobs' end"
    );
    let soon = Instant::now() + Duration::from_millis(100);
    let later = transitions.watch(3, soon);
    assert!(
        notified_within(&later, NEVER).expect("fired") >= soon,
        "not stopped: a job watched afterwards is still woken at its end"
    );
}

#[test]
fn wake_all_wakes_every_waiter_at_once() {
    let transitions = Transitions::<u32>::start();
    let notify = transitions.watch(1, Instant::now() + Duration::from_secs(3600));
    let (ready, is_ready) = std::sync::mpsc::channel();
    let waiter = {
        let notify = Arc::clone(&notify);
        thread::spawn(move || {
            block_on(async {
                let notified = notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                ready.send(()).unwrap();
                tokio::time::timeout(Duration::from_secs(5), notified)
                    .await
                    .is_ok()
            })
        })
    };
    is_ready.recv().unwrap();
    transitions.wake_all_and_stop();
    assert!(waiter.join().unwrap(), "the waiter was woken");
    assert_eq!(transitions.watched_jobs(), 0);
}
