//! The store's own metrics ([`StoreMetrics`]): its operations, its round trips to a shared
//! backend and their failures, and the wake fan-out of its held requests. `crate::metrics`
//! registers them in the app's registry beside the HTTP ones and renders them all.

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};

/// Fan-out buckets: how many held requests one job's end (or cancel) wakes.
const FANOUT_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 100.0, 1_000.0, 10_000.0];

/// The store's own counters, resolved once so that each operation costs one atomic add.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    /// Jobs created.
    pub creates: IntCounter,
    /// Jobs looked up by id (polls, long-polls, lookups after a wait).
    pub reads: IntCounter,
    /// Watches resolved (each resolution of a watch's list).
    pub watches: IntCounter,
    /// Cancels asked.
    pub cancels: IntCounter,
    /// Held requests woken per fired notification.
    pub wake_fanout: Histogram,
    /// Round trips to a shared backend, by operation.
    round_trips: IntCounterVec,
    /// Of those, the ones that failed or timed out.
    errors: IntCounterVec,
}

impl Default for StoreMetrics {
    /// Counters registered nowhere: for a store nobody scrapes (unit tests).
    fn default() -> Self {
        Self::with_collectors().0
    }
}

impl StoreMetrics {
    /// The store's metrics, and the collectors that render them once registered (by
    /// `crate::metrics`, in the app's registry).
    pub fn with_collectors() -> (Self, Vec<Box<dyn Collector>>) {
        let operations = store_operations();
        let wake_fanout = fanout_histogram();
        let (round_trips, errors) = round_trip_counters();
        let metrics = StoreMetrics::from_vec(
            &operations,
            wake_fanout.clone(),
            round_trips.clone(),
            errors.clone(),
        );
        let collectors: Vec<Box<dyn Collector>> = vec![
            Box::new(operations),
            Box::new(wake_fanout),
            Box::new(round_trips),
            Box::new(errors),
        ];
        (metrics, collectors)
    }

    fn from_vec(
        operations: &IntCounterVec,
        wake_fanout: Histogram,
        round_trips: IntCounterVec,
        errors: IntCounterVec,
    ) -> Self {
        StoreMetrics {
            creates: operations.with_label_values(&["create"]),
            reads: operations.with_label_values(&["read"]),
            watches: operations.with_label_values(&["watch"]),
            cancels: operations.with_label_values(&["cancel"]),
            wake_fanout,
            round_trips,
            errors,
        }
    }

    /// Counts one round trip to the backend for `operation`.
    pub fn round_trip(&self, operation: &str) {
        self.round_trips.with_label_values(&[operation]).inc();
    }

    /// How many round trips of `operation` were counted: what a benchmark divides by polls.
    pub fn round_trips_of(&self, operation: &str) -> u64 {
        self.round_trips.with_label_values(&[operation]).get()
    }

    /// Counts one failed round trip for `operation`.
    pub fn store_error(&self, operation: &str) {
        self.errors.with_label_values(&[operation]).inc();
    }
}

fn round_trip_counters() -> (IntCounterVec, IntCounterVec) {
    let counter = |name: &str, help: &str| {
        IntCounterVec::new(Opts::new(name, help), &["operation"]).expect("a valid metric")
    };
    (
        counter(
            "vts_store_round_trips_total",
            "Requests sent to the shared job store (Redis), by operation",
        ),
        counter(
            "vts_store_errors_total",
            "Requests to the shared job store that failed or timed out, by operation",
        ),
    )
}

fn store_operations() -> IntCounterVec {
    IntCounterVec::new(
        Opts::new(
            "vts_store_operations_total",
            "Operations on the job store, by kind",
        ),
        &["operation"],
    )
    .expect("a valid metric")
}

fn fanout_histogram() -> Histogram {
    Histogram::with_opts(
        HistogramOpts::new(
            "vts_wake_fanout",
            "Held requests (long-polls and watches) woken per job end or cancel",
        )
        .buckets(FANOUT_BUCKETS.to_vec()),
    )
    .expect("a valid metric")
}
