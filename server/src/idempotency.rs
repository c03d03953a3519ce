//! `Idempotency-Key` on `POST /jobs` (draft-ietf-httpapi-idempotency-key-header): a client
//! that sends a key may retry a creation whose answer it never got without making a second
//! job. The same key with the same request within 24 hours names the same job; the same key
//! with another request is refused (422), since answering with a job the caller did not ask
//! for would be wrong either way.
//!
//! Requests are compared by meaning (the parsed [`CreateJob`]), not by their bytes: a retry
//! re-encoded by another serializer (key order, spacing, `{}` or no body at all) asks for the
//! same job, and must not be refused as "another body". The parsed request is also smaller
//! to keep than the bytes or as small as their hash.
//!
//! Memory is bounded: each key is kept [`KEY_TTL`], and at most `capacity` keys at once
//! (`--max-jobs`, as every key names a job); past the cap the oldest key is forgotten first.
//! A real client retries within seconds, so the keys forgotten are hours old.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use video_translation_protocol::{CreateJob, JobStatus, IDEMPOTENCY_KEY_HEADER};

use crate::error::ApiError;

/// How long a key is remembered: the draft's suggestion, and what the contract promises.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest key taken: room for any UUID or hash a client would use.
pub const MAX_KEY_LEN: usize = 255;

/// What a keyed creation came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Keyed {
    /// The key is new: the job was created now.
    Created(JobStatus),
    /// The key was used before with the same request: the id of the job it created.
    Replayed(String),
}

/// The keys seen by `POST /jobs`, each with the request it came with and the job it made.
#[derive(Debug)]
pub struct IdempotencyKeys {
    table: Mutex<KeyTable>,
}

#[derive(Debug)]
struct KeyTable {
    by_key: HashMap<String, Remembered>,
    /// Keys in the order they came, which is the order they expire in (one TTL for all).
    arrivals: VecDeque<(Instant, String)>,
    ttl: Duration,
    capacity: usize,
}

#[derive(Debug)]
struct Remembered {
    request: CreateJob,
    job_id: String,
}

impl IdempotencyKeys {
    /// An empty table keeping each key `ttl`, and at most `capacity` keys.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        IdempotencyKeys {
            table: Mutex::new(KeyTable {
                by_key: HashMap::new(),
                arrivals: VecDeque::new(),
                ttl,
                capacity: capacity.max(1),
            }),
        }
    }

    /// Creates a job with `create` unless `key` was used before: then the job it made, if it
    /// came with the same `request`, else `422`. Under one lock, so two requests racing with
    /// one key make one job.
    pub fn create_once(
        &self,
        key: &str,
        request: &CreateJob,
        now: Instant,
        create: impl FnOnce() -> Result<JobStatus, ApiError>,
    ) -> Result<Keyed, ApiError> {
        let mut table = self
            .table
            .lock()
            // Every critical section leaves the table consistent.
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        table.forget_expired(now);
        if let Some(remembered) = table.by_key.get(key) {
            if remembered.request != *request {
                return Err(ApiError::Unprocessable(format!(
                    "the Idempotency-Key {key:?} was used with another body; use a new key for \
                     another job"
                )));
            }
            return Ok(Keyed::Replayed(remembered.job_id.clone()));
        }
        let status = create()?;
        table.remember(key, request.clone(), status.id.clone(), now);
        Ok(Keyed::Created(status))
    }

    /// How many keys are remembered, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .by_key
            .len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl KeyTable {
    fn remember(&mut self, key: &str, request: CreateJob, job_id: String, now: Instant) {
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

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible ASCII characters
/// (`!` to `~`), taken as they are (quotes included, if the client quotes it as the draft's
/// structured-field form does); anything else is `400`. One key only: two are `400` too.
pub fn idempotency_key(request: &HttpRequest) -> Result<Option<&str>, ApiError> {
    const HEADER: HeaderName = HeaderName::from_static(IDEMPOTENCY_KEY_HEADER);
    let mut values = request.headers().get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |why: &str| {
        ApiError::BadRequest(format!(
            "invalid Idempotency-Key: {why}; expected 1 to {MAX_KEY_LEN} visible ASCII \
             characters, such as a UUID"
        ))
    };
    if values.next().is_some() {
        return Err(invalid("sent more than once"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_LEN {
        return Err(invalid(&format!("{} characters", bytes.len())));
    }
    if !bytes.iter().all(|byte| (b'!'..=b'~').contains(byte)) {
        return Err(invalid("a character that is not visible ASCII"));
    }
    // All visible ASCII, so this never fails.
    value.to_str().map(Some).map_err(|_| invalid("not text"))
}

#[cfg(test)]
mod tests {
    use video_translation_protocol::{JobResult, Outcome};

    use super::*;

    fn status(id: &str) -> JobStatus {
        JobStatus {
            id: id.to_owned(),
            result: JobResult::Pending,
            progress: 0.0,
            eta_ms: Some(1000),
            reason: None,
        }
    }

    fn lasting(ms: u64) -> CreateJob {
        CreateJob {
            duration_ms: Some(ms),
            ..CreateJob::default()
        }
    }

    #[test]
    fn a_key_replays_its_job_for_the_same_request_and_refuses_another() {
        let keys = IdempotencyKeys::new(KEY_TTL, 10);
        let now = Instant::now();
        let first = keys.create_once("k", &lasting(5), now, || Ok(status("a")));
        assert_eq!(first.unwrap(), Keyed::Created(status("a")));
        let again = keys.create_once("k", &lasting(5), now, || panic!("not created twice"));
        assert_eq!(again.unwrap(), Keyed::Replayed("a".into()));
        let other = CreateJob {
            outcome: Some(Outcome::Error),
            ..lasting(5)
        };
        let refused = keys.create_once("k", &other, now, || panic!("not created"));
        assert!(matches!(refused, Err(ApiError::Unprocessable(_))));
    }

    #[test]
    fn a_failed_creation_leaves_the_key_unused() {
        let keys = IdempotencyKeys::new(KEY_TTL, 10);
        let now = Instant::now();
        let busy = keys.create_once("k", &lasting(5), now, || {
            Err(ApiError::BadRequest("no".into()))
        });
        assert!(busy.is_err());
        assert!(keys.is_empty());
        let retried = keys.create_once("k", &lasting(5), now, || Ok(status("b")));
        assert_eq!(retried.unwrap(), Keyed::Created(status("b")));
    }

    #[test]
    fn a_key_is_forgotten_after_its_ttl() {
        let keys = IdempotencyKeys::new(Duration::from_secs(10), 10);
        let start = Instant::now();
        keys.create_once("k", &lasting(5), start, || Ok(status("a")))
            .unwrap();
        let within = keys.create_once("k", &lasting(5), start + Duration::from_secs(9), || {
            panic!("still remembered")
        });
        assert_eq!(within.unwrap(), Keyed::Replayed("a".into()));
        let after = keys.create_once("k", &lasting(6), start + Duration::from_secs(10), || {
            Ok(status("b"))
        });
        assert_eq!(
            after.unwrap(),
            Keyed::Created(status("b")),
            "a new job, any body"
        );
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn past_the_cap_the_oldest_key_is_forgotten_first() {
        let keys = IdempotencyKeys::new(KEY_TTL, 2);
        let now = Instant::now();
        for (key, id) in [("k1", "a"), ("k2", "b"), ("k3", "c")] {
            keys.create_once(key, &lasting(5), now, || Ok(status(id)))
                .unwrap();
        }
        assert_eq!(keys.len(), 2);
        let oldest = keys.create_once("k1", &lasting(5), now, || Ok(status("d")));
        assert_eq!(oldest.unwrap(), Keyed::Created(status("d")));
        let newest = keys.create_once("k3", &lasting(5), now, || panic!("remembered"));
        assert_eq!(newest.unwrap(), Keyed::Replayed("c".into()));
    }

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters_sent_once() {
        use actix_web::test::TestRequest;
        let key_of = |values: &[&str]| {
            let mut request = TestRequest::post();
            for value in values {
                request = request.append_header((IDEMPOTENCY_KEY_HEADER, *value));
            }
            idempotency_key(&request.to_http_request()).map(|key| key.map(str::to_owned))
        };
        assert_eq!(key_of(&[]).unwrap(), None);
        let longest = "k".repeat(255);
        for good in [
            "a",
            "\"quoted-uuid\"",
            "8e03978e-40d5-43e8-bc93-6894a57f9324",
            &longest,
        ] {
            assert_eq!(key_of(&[good]).unwrap().as_deref(), Some(good));
        }
        for bad in [
            &[""][..],
            &["two words"],
            &["tab\there"],
            &[&"k".repeat(256)],
            &["a", "b"],
        ] {
            assert!(
                matches!(key_of(bad), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
