//! Wakes long-poll waiters at the moment their job leaves `pending`.
//!
//! Jobs have no timers of their own: a job's state is a function of time. Only when someone
//! waits on a job does it get a notification, shared by all of that job's waiters, and one
//! thread for the whole server fires each notification at its job's end. A thousand waiters
//! on one job cost one entry here and one wake-up call.
//!
//! A cancel is the one event that ends a job before its time: [`Transitions::fire`] wakes
//! that job's waiters at once, through the same notification the thread would have fired,
//! and forgets the job's turn: nothing of a fired job stays here until its original end.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

use tokio::sync::Notify;

/// Fires one shared notification per watched job when it ends. Stops its thread on drop,
/// waking every waiter first.
#[derive(Debug)]
pub struct Transitions<K: Copy + Ord + Hash + Send + 'static> {
    shared: Arc<Shared<K>>,
}

struct Shared<K> {
    state: Mutex<State<K>>,
    changed: Condvar,
    /// Told how many held requests each fired notification woke (the wake fan-out).
    on_fire: Box<dyn Fn(usize) + Send + Sync>,
}

impl<K> std::fmt::Debug for Shared<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct State<K> {
    /// The one notification of each job somebody waits on, and when that job ends.
    watched: HashMap<K, (Instant, Arc<Notify>)>,
    /// When each watched job ends, earliest first. A set rather than a heap, so that a job
    /// fired early (a cancelled one-day job) leaves it at once instead of at its old end.
    due: BTreeSet<(Instant, K)>,
    stopping: bool,
}

impl<K: Copy + Ord + Hash + Send + 'static> Transitions<K> {
    /// Starts the notifier thread.
    pub fn start() -> Self {
        Self::start_observed(|_| {})
    }

    /// Starts the notifier thread; `on_fire` learns how many held requests each fired
    /// notification woke. It runs under the lock, so it must be cheap (a metric's increment).
    pub fn start_observed(on_fire: impl Fn(usize) + Send + Sync + 'static) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                watched: HashMap::new(),
                due: BTreeSet::new(),
                stopping: false,
            }),
            changed: Condvar::new(),
            on_fire: Box::new(on_fire),
        });
        let worker = Arc::clone(&shared);
        thread::Builder::new()
            .name("job-transitions".into())
            .spawn(move || worker.run())
            .expect("the OS lets the server start one thread");
        Transitions { shared }
    }

    /// The notification fired when job `key` ends at `ends_at`, shared by every waiter of
    /// that job. Enable the `Notified` future, then check the job again before awaiting:
    /// a job that ended in between will not be notified again.
    pub fn watch(&self, key: K, ends_at: Instant) -> Arc<Notify> {
        let mut state = self.shared.lock();
        let (notify, sooner) = state.watch(key, ends_at);
        if sooner {
            self.shared.changed.notify_one();
        }
        notify
    }

    /// [`Transitions::watch`] for many jobs at once, under one lock: each job's
    /// notification, in the order given.
    pub fn watch_many(&self, jobs: impl IntoIterator<Item = (K, Instant)>) -> Vec<Arc<Notify>> {
        let mut state = self.shared.lock();
        let mut sooner = false;
        let notifies = jobs
            .into_iter()
            .map(|(key, ends_at)| {
                let (notify, earliest) = state.watch(key, ends_at);
                sooner |= earliest;
                notify
            })
            .collect();
        if sooner {
            self.shared.changed.notify_one();
        }
        notifies
    }

    /// Wakes job `key`'s waiters now, as its end would: for an event (a cancel) that ends
    /// it before its time. The thread's later turn for it finds nothing to fire.
    pub fn fire(&self, key: K) {
        let mut state = self.shared.lock();
        if let Some((ends_at, notify)) = state.watched.remove(&key) {
            state.due.remove(&(ends_at, key));
            self.shared.wake(&notify);
        }
    }

    /// How many jobs have waiters right now.
    pub fn watched_jobs(&self) -> usize {
        self.shared.lock().watched.len()
    }

    /// How many turns the thread has planned: one per watched job, none for fired ones.
    #[cfg(test)]
    fn planned_turns(&self) -> usize {
        self.shared.lock().due.len()
    }

    /// Wakes every waiter now (they answer with the job's current status) and stops the
    /// thread. Later `watch` calls still return notifications, which are never fired.
    pub fn wake_all_and_stop(&self) {
        let mut state = self.shared.lock();
        state.stopping = true;
        for (_, (_, notify)) in state.watched.drain() {
            notify.notify_waiters();
        }
        state.due.clear();
        self.shared.changed.notify_one();
    }

    /// Wakes every waiter now, and goes on: for when events may have been missed (a shared
    /// backend's event stream was cut), so each held request looks its jobs up again. The
    /// thread's later turns for these jobs find nothing to fire.
    pub fn wake_all(&self) {
        let mut state = self.shared.lock();
        state.due.clear();
        for (_, (_, notify)) in state.watched.drain() {
            self.shared.wake(&notify);
        }
    }
}

impl<K: Copy + Ord + Hash + Send + 'static> Drop for Transitions<K> {
    fn drop(&mut self) {
        self.wake_all_and_stop();
    }
}

impl<K: Copy + Ord + Hash> State<K> {
    /// Job `key`'s notification, and whether the thread must wake sooner than it planned
    /// because the job ends before every other watched one.
    fn watch(&mut self, key: K, ends_at: Instant) -> (Arc<Notify>, bool) {
        if let Some((_, notify)) = self.watched.get(&key) {
            return (Arc::clone(notify), false);
        }
        let notify = Arc::new(Notify::new());
        self.watched.insert(key, (ends_at, Arc::clone(&notify)));
        let was_earliest = self.due.first().map(|(at, _)| *at);
        self.due.insert((ends_at, key));
        (
            notify,
            was_earliest.is_none_or(|earliest| ends_at < earliest),
        )
    }
}

impl<K: Copy + Ord + Hash> Shared<K> {
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // Every critical section leaves the state consistent, so a poisoned lock is usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes every holder of `notify`, once it has left the watched map: each held request
    /// keeps one clone while it waits, so the others count the requests woken.
    fn wake(&self, notify: &Arc<Notify>) {
        (self.on_fire)(Arc::strong_count(notify) - 1);
        notify.notify_waiters();
    }

    fn run(&self) {
        let mut state = self.lock();
        loop {
            if state.stopping {
                return;
            }
            let now = Instant::now();
            let next = state.due.first().copied();
            state = match next {
                Some((at, key)) if at <= now => {
                    state.due.pop_first();
                    if let Some((_, notify)) = state.watched.remove(&key) {
                        self.wake(&notify);
                    }
                    state
                }
                // Condvar waits may end early (spuriously or on a new earlier job); the loop
                // re-reads the clock, so a notification never fires before its job ends.
                Some((at, _)) => self
                    .changed
                    .wait_timeout(state, at - now)
                    .map_or_else(|p| p.into_inner().0, |r| r.0),
                None => self
                    .changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
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
}
