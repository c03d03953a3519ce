//! `GET /metrics`: what the server does, in the Prometheus text format, from the `prometheus`
//! crate (a registry per app, so every test app counts alone).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `vts_http_requests_total` | counter | `route` (the route's pattern, as `/jobs/:id`; `other` for static files and unknown paths), `status` |
//! | `vts_http_request_duration_seconds` | histogram | `route` |
//! | `vts_jobs` | gauge, read from the store at scrape time | `state`: `pending`, `completed`, `error` |
//! | `vts_held_requests` | gauge, at scrape time | `kind`: `long_poll`, `watch` |
//! | `vts_wake_fanout` | histogram: held requests woken per fired notification | |
//! | `vts_store_operations_total` | counter | `operation`: `create`, `read`, `watch`, `cancel` |
//! | `vts_store_round_trips_total` | counter: requests sent to Redis (none with `--store memory`) | `operation`: `insert`, `get` (a poll, or a create's check after no answer), `get_many` (a watch), `cancel`, `count` (a scrape), `ping` (`/readyz`), `default` (a replica's first read of the default job) |
//! | `vts_store_errors_total` | counter: round trips that failed or timed out | `operation`, as above |
//!
//! Round trips divided by polls is what the local cache saves: 0 for a job this replica
//! has seen, 1 for the first poll of a job created elsewhere.
//!
//! What recording costs a request: when its route and status are those of the worker's
//! previous request (a job's end answers its held requests so), two short string comparisons,
//! one atomic add for the counter and three for the histogram (after a search of its buckets);
//! otherwise also the two label lookups, each an FNV hash of the label texts, a read lock of
//! the vector's map and an `Arc` clone, about 320 instructions in all (callgrind), and a copy of
//! the labels (see `last_labels`). One atomic add per store operation.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::store::{JobStore, StoreMetrics};

mod last_labels;

/// Latency buckets, in seconds: plain polls take well under a millisecond, held ones up to
/// `--max-wait` (30 s by default).
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// The server's metrics and the registry that renders them.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Tells this registry's metrics from another's (see `last_labels`); clones share it.
    id: u64,
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    jobs: IntGaugeVec,
    held: IntGaugeVec,
    /// Recorded by the store: its operations and its wake fan-out.
    pub store: StoreMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered in a registry of its own.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "vts_http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["route", "status"],
        )
        .expect("a valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "vts_http_request_duration_seconds",
                "Time from a request's arrival to its answer (held requests included), by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("a valid metric");
        let jobs = IntGaugeVec::new(
            Opts::new("vts_jobs", "Jobs kept by the store, by state"),
            &["state"],
        )
        .expect("a valid metric");
        let held = IntGaugeVec::new(
            Opts::new(
                "vts_held_requests",
                "Requests held waiting on jobs, by kind",
            ),
            &["kind"],
        )
        .expect("a valid metric");
        let (store, store_collectors) = StoreMetrics::with_collectors();
        let http_collectors: [Box<dyn prometheus::core::Collector>; 4] = [
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(jobs.clone()),
            Box::new(held.clone()),
        ];
        for collector in http_collectors.into_iter().chain(store_collectors) {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        // Unique within the process: an app, and its tests, may make many registries.
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Metrics {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            registry,
            requests,
            latency,
            jobs,
            held,
            store,
        }
    }

    /// Counts one answered request of `route` with `status`, taking `seconds`.
    pub fn record_request(&self, route: &str, status: &str, seconds: f64) {
        last_labels::with_metrics_of(
            self.id,
            route,
            status,
            || {
                (
                    self.requests.with_label_values(&[route, status]),
                    self.latency.with_label_values(&[route]),
                )
            },
            |requests, latency| {
                requests.inc();
                latency.observe(seconds);
            },
        );
    }

    /// The text format of every metric, the gauges read from `store` now. If the store
    /// cannot count its jobs (Redis is away), the job gauges keep their last values and the
    /// failure shows in `vts_store_errors_total`.
    pub async fn render(&self, store: &JobStore) -> String {
        if let Ok(jobs) = store.jobs_by_state().await {
            for (state, count) in [
                ("pending", jobs.pending),
                ("completed", jobs.completed),
                ("error", jobs.error),
            ] {
                self.jobs.with_label_values(&[state]).set(gauge(count));
            }
        }
        let held = store.held();
        self.held
            .with_label_values(&["long_poll"])
            .set(gauge(held.long_polls));
        self.held
            .with_label_values(&["watch"])
            .set(gauge(held.watches));
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .expect("the text encoder writes to a String")
    }
}

fn gauge(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Middleware (`actix_web::middleware::from_fn`) counting each answered request by its
/// route's pattern (the resource's name, see [`crate::startup`]) and status, and its latency.
pub async fn record_requests(
    metrics: web::Data<Metrics>,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let response = next.call(request).await?;
    // The name, not `match_pattern()`, which allocates a String per request.
    let route = response.request().match_name().unwrap_or("other");
    metrics.record_request(
        route,
        response.status().as_str(),
        started.elapsed().as_secs_f64(),
    );
    Ok(response)
}
