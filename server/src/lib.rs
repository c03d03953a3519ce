//! A simulated video-translation backend.
//!
//! Translation jobs take minutes; this server pretends to run them so that clients can be
//! built and measured against it. A job's state is a pure function of when it was created,
//! how long it runs and how it ends (see [`job`]), so the server holds no timer per job.
//!
//! | module | concern |
//! |---|---|
//! | [`api_key`] | the keys the API asks for (`--api-key`): 401 without one, compared in constant time |
//! | [`body_timeout`] | the deadline for a request's body (`--body-timeout`): 408, then close |
//! | [`config`] | command-line flags and `VTS_*` environment variables |
//! | [`job`] | one simulated job and its status at a given instant (a cancel included) |
//! | [`store`] | the jobs the server knows, by id, and the requests waiting on them (long-polls, watches); in memory or in Redis, shared by a fleet |
//! | [`stream`] | a watch as an event stream: ends, progress and heartbeats on one connection, resumable by event id |
//! | [`long_poll`] | the wait a status request asks for, and the hints its answer carries |
//! | [`idle_heap`] | a worker whose connections have all closed gives their memory back to the system |
//! | [`transitions`] | one timer thread that wakes a job's waiters when it ends |
//! | [`metrics`] | `GET /metrics`: requests, latency, jobs, held requests, wake fan-out, store operations |
//! | [`error`] | every error answer, in the contract's JSON shape |
//! | [`origin_guard`] | the `--cors-origin` list, enforced: unlisted origins get 403 |
//! | [`rate_limit`] | the per-client request limit (`--rate-limit`) |
//! | [`client_address`] | whose request it is behind a load balancer (`--trusted-proxy`, `X-Forwarded-For`) |
//! | [`routes`] | thin HTTP handlers |
//! | [`static_files`] | the demo page and the npm package, confined to their folders |
//! | [`startup`] | [`startup::Application`]: binds, wires middleware and routes, runs |
//! | [`telemetry`] | structured request logs |
#![deny(missing_docs, missing_debug_implementations)]

pub mod api_key;
pub mod body_timeout;
pub mod client_address;
pub mod config;
pub mod error;
pub mod idle_heap;
pub mod job;
pub mod long_poll;
pub mod metrics;
pub mod origin_guard;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod static_files;
pub mod store;
pub mod stream;
pub mod telemetry;
pub mod transitions;
