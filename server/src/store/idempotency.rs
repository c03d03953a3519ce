//! The `Idempotency-Key`s of `POST /jobs` as the store keeps them: a client that sends a key
//! may retry a creation whose answer it never got without making a second job. The same key
//! with the same request within [`KEY_TTL`] names the same job; the same key with another
//! request is refused ([`StoreError::KeyReused`](super::StoreError::KeyReused)), since
//! answering with a job the caller did not ask for would be wrong either way. (Reading the
//! key from a request is HTTP's part: `crate::routes::idempotency_key`.)
//!
//! Requests are compared by meaning (the parsed [`CreateJob`]), not by their bytes: a retry
//! re-encoded by another serializer (key order, spacing, `{}` or no body at all) asks for the
//! same job, and must not be refused as "another body". The parsed request is also smaller
//! to keep than the bytes or as small as their hash.
//!
//! Memory is bounded: each key is kept [`KEY_TTL`], and at most `capacity` keys at once
//! (`--max-jobs`, as every key names a job); past the cap the oldest key is forgotten first.
//! A real client retries within seconds, so the keys forgotten are hours old.
//!
//! Where keys live follows `--store`: this module's [`KeyTable`] in the memory store, Redis
//! for a fleet (`store/redis`), so a retry answered by another replica finds its key. Both
//! create the job and remember its key in one atomic step, and the comparison of requests is
//! made once, by [`JobStore::create`](super::JobStore::create).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use video_translation_protocol::CreateJob;

use super::id::JobId;

/// How long a key is remembered: the draft's suggestion, and what the contract promises.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A keyed creation: the key and the request it came with.
#[derive(Debug, Clone, Copy)]
pub struct Keyed<'a> {
    /// The `Idempotency-Key`.
    pub key: &'a str,
    /// The parsed body, compared by meaning with the first request of the same key.
    pub request: &'a CreateJob,
}

/// A key seen before: the request it first came with and the job that made.
#[derive(Debug, Clone, PartialEq)]
pub struct Remembered {
    /// The first request with this key.
    pub request: CreateJob,
    /// The job it created.
    pub job_id: JobId,
}

/// The keys seen by `POST /jobs` in one process (the memory store's share of them), each
/// with the request it came with and the job it made. The caller holds it under the same lock
/// as the jobs, so two requests racing with one key make one job.
#[derive(Debug)]
pub struct KeyTable {
    by_key: HashMap<String, Remembered>,
    /// Keys in the order they came, which is the order they expire in (one TTL for all).
    arrivals: VecDeque<(Instant, String)>,
    ttl: Duration,
    capacity: usize,
}

impl KeyTable {
    /// An empty table keeping each key `ttl`, and at most `capacity` keys.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        KeyTable {
            by_key: HashMap::new(),
            arrivals: VecDeque::new(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// What `key` was first used for, unless it is unknown or expired by `now`.
    pub fn seen(&mut self, key: &str, now: Instant) -> Option<&Remembered> {
        self.forget_expired(now);
        self.by_key.get(key)
    }

    /// Remembers `key` as having made `job_id` for `request`; past the cap, the oldest key
    /// is forgotten first.
    pub fn remember(&mut self, key: &str, request: CreateJob, job_id: JobId, now: Instant) {
        while self.by_key.len() >= self.capacity {
            let Some((_, oldest)) = self.arrivals.pop_front() else {
                break;
            };
            self.by_key.remove(&oldest);
        }
        self.by_key
            .insert(key.to_owned(), Remembered { request, job_id });
        self.arrivals.push_back((now, key.to_owned()));
    }

    /// How many keys are remembered, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn forget_expired(&mut self, now: Instant) {
        while let Some((arrived, _)) = self.arrivals.front() {
            if now.saturating_duration_since(*arrived) < self.ttl {
                break;
            }
            if let Some((_, key)) = self.arrivals.pop_front() {
                self.by_key.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use video_translation_protocol::Outcome;

    use super::*;

    fn lasting(ms: u64) -> CreateJob {
        CreateJob {
            duration_ms: Some(ms),
            ..CreateJob::default()
        }
    }

    fn id(n: u128) -> JobId {
        JobId::parse(&format!("{n:032x}")).unwrap()
    }

    #[test]
    fn a_key_is_remembered_with_its_request_and_job() {
        let mut keys = KeyTable::new(KEY_TTL, 10);
        let now = Instant::now();
        assert!(keys.seen("k", now).is_none());
        keys.remember("k", lasting(5), id(1), now);
        let seen = keys.seen("k", now).cloned();
        assert_eq!(
            seen,
            Some(Remembered {
                request: lasting(5),
                job_id: id(1)
            })
        );
        let other = CreateJob {
            outcome: Some(Outcome::Error),
            ..lasting(5)
        };
        assert_ne!(seen.unwrap().request, other, "compared by meaning");
    }

    #[test]
    fn a_key_is_forgotten_after_its_ttl() {
        let mut keys = KeyTable::new(Duration::from_secs(10), 10);
        let start = Instant::now();
        keys.remember("k", lasting(5), id(1), start);
        assert!(keys.seen("k", start + Duration::from_secs(9)).is_some());
        assert!(keys.seen("k", start + Duration::from_secs(10)).is_none());
        assert!(keys.is_empty());
    }

    #[test]
    fn past_the_cap_the_oldest_key_is_forgotten_first() {
        let mut keys = KeyTable::new(KEY_TTL, 2);
        let now = Instant::now();
        for (n, key) in ["k1", "k2", "k3"].into_iter().enumerate() {
            keys.remember(key, lasting(5), id(n as u128), now);
        }
        assert_eq!(keys.len(), 2);
        assert!(keys.seen("k1", now).is_none());
        assert_eq!(keys.seen("k3", now).map(|r| r.job_id), Some(id(2)));
    }
}
