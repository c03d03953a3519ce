//! The jobs the server knows, by id, and the requests waiting on them. This file is the
//! index; every definition lives in the file of its concern.
//!
//! | file | concern |
//! |---|---|
//! | `job_backend.rs` | the store's interface ([`JobBackend`]) and what it takes and gives |
//! | `error.rs` | [`StoreError`]: what the store could not do |
//! | [`id`] | job ids |
//! | [`idempotency`] | the `Idempotency-Key`s of `POST /jobs`, as the store keeps them |
//! | [`memory`] | the embedded backend (`--store memory`): one process's tables |
//! | [`redis`] | the fleet's backend (`--store redis://...`): jobs in Redis, a local cache |
//! | `events.rs` | what a shared backend tells every replica |
//! | [`backend`] | the backend chosen at start, behind the one interface |
//! | `defaults.rs` | [`NewJob`], and [`JobDefaults`]: what a job is when its creator leaves things out |
//! | [`front`] | [`JobStore`]: a backend plus what stays in each replica (held requests, their wake-ups) |
//! | [`held`] | the bounds on held requests (long-polls and watches) and their count |
//! | `watch.rs` | many jobs in one held request; `watch/stream.rs`, their event stream's feed |
//! | `metrics.rs` | [`StoreMetrics`]: the store's operations, round trips and wake fan-out |
//! | `wall_clock.rs` | instants as wall-clock times, for jobs shared between processes |
//!
//! A job's definition ([`Job`]) is all a backend keeps: its status follows from it and the
//! clock, so a backend is asked nothing as time passes, and a job's waiters are woken in the
//! replica that holds them (see [`crate::transitions`]). A cancel is the one change to a
//! definition; the backend makes it atomically and tells every replica.
//!
//! The store knows nothing of HTTP: what its errors become in an answer is the HTTP side's
//! (`crate::error`), and reading an `Idempotency-Key` from a request is the routes'.

pub mod backend;
mod defaults;
mod error;
mod events;
pub mod front;
pub mod held;
pub mod id;
pub mod idempotency;
mod job_backend;
pub mod memory;
mod metrics;
pub mod redis;
pub(crate) mod wall_clock;
mod watch;

pub use backend::Backend;
pub use defaults::{JobDefaults, NewJob};
pub use error::StoreError;
pub use front::JobStore;
pub use held::{Held, LongPollLimits};
pub use id::{JobId, JobKey};
pub use idempotency::Keyed;
pub use job_backend::{Inserted, JobBackend, JobsByState, StoreLimits};
pub use metrics::StoreMetrics;
pub use watch::stream::{JobFeed, OpenedFeed};

pub use crate::job::{CancelOutcome, Job};
