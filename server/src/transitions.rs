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
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

use futures_util::stream::FuturesUnordered;
use tokio::sync::futures::Notified;
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

/// The notifications of `notifies`, each enabled now (so a wake-up from here on is not
/// missed, even before the set is first polled), gathered to wait for the first of them.
pub fn enabled_all(notifies: &[Arc<Notify>]) -> FuturesUnordered<Pin<Box<Notified<'_>>>> {
    notifies
        .iter()
        .map(|notify| {
            // Boxed so that it can be enabled in place and then moved into the set.
            let mut notified = Box::pin(notify.notified());
            notified.as_mut().enable();
            notified
        })
        .collect()
}

#[cfg(test)]
#[path = "transitions_tests.rs"]
mod tests;
