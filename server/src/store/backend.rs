//! The backend chosen at start (`--store`), behind the one interface.

use std::time::Instant;

use super::error::StoreError;
use super::events::EventSink;
use super::id::JobId;
use super::idempotency::Keyed;
use super::job_backend::{Inserted, JobBackend, JobsByState, StoreLimits};
use super::memory::MemoryBackend;
use super::metrics::StoreMetrics;
use super::redis::RedisBackend;
use crate::job::{CancelOutcome, Job};

/// Where jobs live: `memory` or a `redis://HOST:PORT[/DB]` URL. Shown (`Display` and
/// `Debug` alike) without any credential the URL may hold.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// In this process only (`--store memory`).
    Memory,
    /// In the Redis server at this URL, shared by every replica given it.
    Redis(String),
}

impl std::str::FromStr for StoreKind {
    type Err = String;

    /// `memory`, or a `redis://` (TCP) or `redis+unix://` (socket) URL, checked now without
    /// connecting: a replica may start before its Redis. The error never quotes the text,
    /// which may hold a password.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "memory" {
            return Ok(StoreKind::Memory);
        }
        if !(text.starts_with("redis://") || text.starts_with("redis+unix://")) {
            return Err(
                "it is neither `memory` nor a redis://HOST:PORT[/DB] or redis+unix://PATH URL"
                    .to_owned(),
            );
        }
        match ::redis::Client::open(text) {
            Ok(_) => Ok(StoreKind::Redis(text.to_owned())),
            // redis-rs's reasons are fixed texts ("Invalid database number"), never the URL.
            Err(error) => Err(format!("it is not a Redis URL: {error}")),
        }
    }
}

impl std::fmt::Display for StoreKind {
    /// The kind as logs may show it: for Redis, the address and database only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreKind::Memory => f.write_str("memory"),
            StoreKind::Redis(url) => f.write_str(&redacted(url)),
        }
    }
}

impl std::fmt::Debug for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreKind::Memory => f.write_str("Memory"),
            StoreKind::Redis(url) => f.debug_tuple("Redis").field(&redacted(url)).finish(),
        }
    }
}

/// `url` rebuilt from what redis-rs reads of it, address and database: a password may sit
/// in the user-info (with `@` in it, so no split of the text is safe), in `?pass=`, or in a
/// `redis+unix://` URL's query, and none of those places is copied.
fn redacted(url: &str) -> String {
    use ::redis::ConnectionAddr;
    let Ok(client) = ::redis::Client::open(url) else {
        return "redis://(a URL that does not parse)".to_owned();
    };
    let info = client.get_connection_info();
    let db = info.redis_settings().db();
    match info.addr() {
        ConnectionAddr::Unix(path) => format!("redis+unix://{}?db={db}", path.display()),
        address => format!("redis://{address}/{db}"),
    }
}

/// The backend in use.
#[derive(Debug)]
pub enum Backend {
    /// `--store memory`.
    Memory(MemoryBackend),
    /// `--store redis://...`.
    Redis(RedisBackend),
}

impl Backend {
    /// Opens the backend `kind` names. A memory backend has no events to send: its cancels
    /// happen in this process, which wakes its own waiters.
    pub fn open(
        kind: &StoreKind,
        limits: StoreLimits,
        metrics: StoreMetrics,
        events: EventSink,
    ) -> Result<Self, String> {
        Ok(match kind {
            StoreKind::Memory => Backend::Memory(MemoryBackend::new(limits)),
            StoreKind::Redis(url) => {
                Backend::Redis(RedisBackend::open(url, limits, metrics, events)?)
            }
        })
    }
}

impl JobBackend for Backend {
    async fn insert(
        &self,
        id: JobId,
        job: Job,
        keyed: Option<Keyed<'_>>,
        now: Instant,
    ) -> Result<Inserted, StoreError> {
        match self {
            Backend::Memory(memory) => memory.insert(id, job, keyed, now).await,
            Backend::Redis(redis) => redis.insert(id, job, keyed, now).await,
        }
    }

    async fn get(&self, id: JobId, now: Instant) -> Result<Option<Job>, StoreError> {
        match self {
            Backend::Memory(memory) => memory.get(id, now).await,
            Backend::Redis(redis) => redis.get(id, now).await,
        }
    }

    async fn get_many(&self, ids: &[JobId], now: Instant) -> Result<Vec<Option<Job>>, StoreError> {
        match self {
            Backend::Memory(memory) => memory.get_many(ids, now).await,
            Backend::Redis(redis) => redis.get_many(ids, now).await,
        }
    }

    async fn cancel(
        &self,
        id: JobId,
        now: Instant,
    ) -> Result<Option<(CancelOutcome, Job)>, StoreError> {
        match self {
            Backend::Memory(memory) => memory.cancel(id, now).await,
            Backend::Redis(redis) => redis.cancel(id, now).await,
        }
    }

    async fn jobs_by_state(&self, now: Instant) -> Result<JobsByState, StoreError> {
        match self {
            Backend::Memory(memory) => memory.jobs_by_state(now).await,
            Backend::Redis(redis) => redis.jobs_by_state(now).await,
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Backend::Memory(memory) => memory.ping().await,
            Backend::Redis(redis) => redis.ping().await,
        }
    }

    async fn default_job(&self, candidate: Job, now: Instant) -> Result<Job, StoreError> {
        match self {
            Backend::Memory(memory) => memory.default_job(candidate, now).await,
            Backend::Redis(redis) => redis.default_job(candidate, now).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_memory_or_a_redis_url() {
        assert_eq!("memory".parse(), Ok(StoreKind::Memory));
        assert_eq!(
            "redis://127.0.0.1:6379/2".parse(),
            Ok(StoreKind::Redis("redis://127.0.0.1:6379/2".into()))
        );
        for bad in [
            "",
            "Memory",
            "postgres://db",
            "redis//host",
            "127.0.0.1:6379",
        ] {
            assert!(bad.parse::<StoreKind>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_redis_url_is_shown_without_any_credential_wherever_it_sits() {
        for (url, shown) in [
            ("redis://:secret@cache:6379", "redis://cache:6379/0"),
            ("redis://admin:secret@cache:6379/2", "redis://cache:6379/2"),
            ("redis://:se@cr@et@cache:6379", "redis://cache:6379/0"),
            ("redis://cache:6379/1?pass=secret", "redis://cache:6379/1"),
            (
                "redis+unix:///run/redis.sock?db=3&pass=secret",
                "redis+unix:///run/redis.sock?db=3",
            ),
            (
                "redis+unix:///run/redis.sock?pass=secret",
                "redis+unix:///run/redis.sock?db=0",
            ),
        ] {
            let kind: StoreKind = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(kind.to_string(), shown, "{url}");
            let debug = format!("{kind:?}");
            assert!(
                !debug.contains("secret") && !debug.contains("et@"),
                "{debug}"
            );
        }
    }

    #[test]
    fn a_bad_store_is_refused_without_quoting_it() {
        for bad in [
            "redis://admin:secret@cache:notaport",
            "redis://:secret@cache:6379/notadb",
            "rediss://admin:secret@cache:6379",
            "secret",
        ] {
            let error = bad.parse::<StoreKind>().unwrap_err();
            assert!(!error.contains("secret"), "{bad}: {error}");
        }
    }
}
