//! Held requests (long-polls and watches): their bounds, in one place, and their count.
//! Held requests live in the replica that holds their connection, whatever the backend, so
//! these bounds are per replica.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::StoreError;

/// The bounds on held requests.
#[derive(Debug, Clone, Copy)]
pub struct LongPollLimits {
    /// The longest a request is held (`--max-wait`); zero turns long-polling off.
    pub max_wait: Duration,
    /// How many requests may be held at once, long-polls and watches together
    /// (`--max-waiters`).
    pub max_waiters: usize,
}

impl Default for LongPollLimits {
    fn default() -> Self {
        LongPollLimits {
            max_wait: Duration::from_secs(30),
            max_waiters: 20_000,
        }
    }
}

impl LongPollLimits {
    /// The wait the server applies to a request: the one asked, capped by `max_wait`;
    /// `None` when none (or zero) was asked.
    pub fn applied_wait(&self, requested: Option<Duration>) -> Option<Duration> {
        requested
            .map(|wait| wait.min(self.max_wait))
            .filter(|wait| !wait.is_zero())
    }
}

/// The requests held right now, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// `GET /jobs/{id}` and `GET /status` waiting.
    pub long_polls: usize,
    /// `POST /jobs/watch` waiting.
    pub watches: usize,
}

/// The count of held requests against their cap, and whether the server is stopping.
#[derive(Debug)]
pub(super) struct HeldRequests {
    limits: LongPollLimits,
    /// Held requests right now: long-polls and watches.
    all: AtomicUsize,
    /// Of those, watches.
    watches: AtomicUsize,
    /// Set once the server is stopping: nothing more is held.
    stopping: AtomicBool,
}

impl HeldRequests {
    pub(super) fn new(limits: LongPollLimits) -> Self {
        HeldRequests {
            limits,
            all: AtomicUsize::new(0),
            watches: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        }
    }

    pub(super) fn limits(&self) -> LongPollLimits {
        self.limits
    }

    pub(super) fn now(&self) -> Held {
        let all = self.all.load(Ordering::Relaxed);
        let watches = self.watches.load(Ordering::Relaxed);
        Held {
            long_polls: all.saturating_sub(watches),
            watches,
        }
    }

    pub(super) fn all(&self) -> usize {
        self.all.load(Ordering::Relaxed)
    }

    pub(super) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// A slot for one more held request, given back on drop; `Busy` past `max_waiters`.
    pub(super) fn slot(&self) -> Result<Slot<'_>, StoreError> {
        let held = self.all.fetch_add(1, Ordering::Relaxed);
        if held >= self.limits.max_waiters {
            self.all.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Busy {
                reason: format!(
                    "the server holds {} long-polls at most; poll without waiting, or later",
                    self.limits.max_waiters
                ),
                retry_after: Duration::from_secs(1),
            });
        }
        // At debug level (`RUST_LOG=video_translation_server::store=debug`), each held
        // request's start and end with the count held, timestamped: the tests read from it
        // how many requests a client keeps held at once, and for how long.
        tracing::debug!(held = held + 1, "held request starts");
        Ok(Slot(&self.all))
    }

    /// Counts a held request as a watch while the returned guard lives.
    pub(super) fn as_watch(&self) -> Slot<'_> {
        self.watches.fetch_add(1, Ordering::Relaxed);
        Slot(&self.watches)
    }

    /// [`HeldRequests::slot`] and [`HeldRequests::as_watch`] for a request whose guard
    /// cannot borrow the count: an event stream's body outlives its handler. Counted until
    /// [`HeldRequests::release_detached`], which its owner calls exactly once.
    pub(super) fn hold_detached(&self) -> Result<(), StoreError> {
        std::mem::forget((self.slot()?, self.as_watch()));
        Ok(())
    }

    /// Gives back a slot taken by [`HeldRequests::hold_detached`].
    pub(super) fn release_detached(&self) {
        drop((Slot(&self.watches), Slot(&self.all)));
    }
}

/// One held request, counted while it lives.
pub(super) struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let held = self.0.fetch_sub(1, Ordering::Relaxed) - 1;
        tracing::debug!(held, "held request ends");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_applied_wait_is_the_asked_one_capped_and_none_for_zero() {
        let limits = LongPollLimits {
            max_wait: Duration::from_secs(30),
            max_waiters: 1,
        };
        assert_eq!(
            limits.applied_wait(Some(Duration::from_secs(5))),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            limits.applied_wait(Some(Duration::from_secs(90))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(limits.applied_wait(Some(Duration::ZERO)), None);
        assert_eq!(limits.applied_wait(None), None);
    }

    #[test]
    fn past_max_waiters_a_slot_is_refused_until_one_is_given_back() {
        let held = HeldRequests::new(LongPollLimits {
            max_wait: Duration::from_secs(30),
            max_waiters: 1,
        });
        let first = held.slot().expect("room for one");
        let refused = held.slot().err().expect("full");
        assert!(matches!(refused, StoreError::Busy { .. }), "{refused:?}");
        let watch = held.as_watch();
        assert_eq!(
            held.now(),
            Held {
                long_polls: 0,
                watches: 1
            }
        );
        drop((watch, first));
        assert_eq!(held.all(), 0);
        assert!(held.slot().is_ok(), "given back");
    }

    #[test]
    fn a_detached_slot_counts_as_a_watch_until_released() {
        let held = HeldRequests::new(LongPollLimits {
            max_wait: Duration::from_secs(30),
            max_waiters: 1,
        });
        held.hold_detached().expect("room for one");
        assert_eq!(
            held.now(),
            Held {
                long_polls: 0,
                watches: 1
            }
        );
        assert!(held.hold_detached().is_err(), "full");
        assert!(held.slot().is_err(), "full for long-polls too");
        held.release_detached();
        assert_eq!(held.now(), Held::default());
        assert!(held.slot().is_ok(), "given back");
    }
}
