//! The request counter and latency histogram of the last route and status a worker thread
//! recorded, kept so that the next answer with the same labels skips the label lookups.
//!
//! `with_label_values` hashes the label texts, takes the vector's read lock (shared by every
//! worker) and clones an `Arc`, and each answer looked up two metrics: about 320 of the
//! 13,000 instructions an answered long-poll costs (callgrind). When a job ends, its 10,000
//! held requests answer with one route and one status, and a poller's requests mostly do too.
//!
//! Per thread, as actix runs each worker's requests on one thread: no lock, and nothing the
//! workers write in common but the metrics themselves. Other labels cost one lookup as before.

use std::cell::RefCell;

use prometheus::{Histogram, IntCounter};

thread_local! {
    static LAST: RefCell<Option<Resolved>> = const { RefCell::new(None) };
}

/// One route and status's metrics, resolved.
struct Resolved {
    /// The registry they belong to: tests run many apps, each with its own, on one thread.
    registry: u64,
    route: String,
    status: String,
    requests: IntCounter,
    latency: Histogram,
}

/// Calls `record` with the counter and histogram of `route` and `status` in `registry`,
/// those of the last call on this thread if its labels were the same, else `resolve`'s.
pub(super) fn with_metrics_of(
    registry: u64,
    route: &str,
    status: &str,
    resolve: impl FnOnce() -> (IntCounter, Histogram),
    record: impl FnOnce(&IntCounter, &Histogram),
) {
    LAST.with_borrow_mut(|last| {
        let same = last.as_ref().is_some_and(|kept| {
            kept.registry == registry && kept.status == status && kept.route == route
        });
        if !same {
            let (requests, latency) = resolve();
            match last {
                // The label texts' buffers reused: labels that alternate allocate nothing.
                Some(kept) => {
                    kept.registry = registry;
                    kept.route.clear();
                    kept.route.push_str(route);
                    kept.status.clear();
                    kept.status.push_str(status);
                    kept.requests = requests;
                    kept.latency = latency;
                }
                None => {
                    *last = Some(Resolved {
                        registry,
                        route: route.to_owned(),
                        status: status.to_owned(),
                        requests,
                        latency,
                    });
                }
            }
        }
        if let Some(kept) = last.as_ref() {
            record(&kept.requests, &kept.latency);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::Metrics;

    #[test]
    fn each_answer_counts_under_its_own_labels_and_registry() {
        let (one, two) = (Metrics::new(), Metrics::new());
        for (metrics, route, status) in [
            (&one, "/jobs/:id", "200"),
            (&one, "/jobs/:id", "200"),
            (&one, "/jobs/:id", "404"),
            (&two, "/jobs/:id", "200"),
            (&one, "/status", "200"),
            (&one, "/jobs/:id", "200"),
        ] {
            metrics.record_request(route, status, 0.001);
        }
        let count = |metrics: &Metrics, route, status| {
            metrics.requests.with_label_values(&[route, status]).get()
        };
        assert_eq!(count(&one, "/jobs/:id", "200"), 3);
        assert_eq!(count(&one, "/jobs/:id", "404"), 1);
        assert_eq!(count(&one, "/status", "200"), 1);
        assert_eq!(count(&two, "/jobs/:id", "200"), 1);
        let latency = |metrics: &Metrics, route| {
            metrics
                .latency
                .with_label_values(&[route])
                .get_sample_count()
        };
        assert_eq!(latency(&one, "/jobs/:id"), 4);
        assert_eq!(latency(&two, "/jobs/:id"), 1);
    }
}
