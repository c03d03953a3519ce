//! Where things live in Redis, and the Lua scripts that change them: `insert.lua`
//! (create a job, the fleet's cap and an `Idempotency-Key` checked in the same step),
//! `cancel.lua` (cancel a pending job and publish it) and `default.lua` (the fleet's default
//! job, stored by the first replica to ask). Their arguments are built and their
//! answers read here, so the backend deals in jobs, not in strings.

use std::sync::{Arc, OnceLock};

use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};
use video_translation_protocol::CreateJob;

use super::record::{Record, FIELDS};
use crate::store::JobId;

/// A job's hash, followed by its id.
pub const JOB_PREFIX: &str = "{vts}:job:";
/// Every job id, scored by its expiry in Unix milliseconds.
pub const EXPIRIES: &str = "{vts}:expiries";
/// An `Idempotency-Key`'s hash, followed by the key.
pub const KEY_PREFIX: &str = "{vts}:key:";
/// Every key, scored by its arrival in Unix milliseconds.
pub const KEYS: &str = "{vts}:keys";
/// The pub/sub channel every cancel is published on, with the job's id.
pub const CANCELS: &str = "{vts}:cancels";
/// The default job's hash (`GET /status`), expiring like a job's.
pub const DEFAULT_JOB: &str = "{vts}:default";

/// A script call: its keys and arguments, owned, so the call can run on another thread.
#[derive(Debug, Clone)]
pub struct Call {
    script: Arc<Script>,
    keys: Vec<String>,
    args: Vec<String>,
}

impl Call {
    /// Runs the script (EVALSHA, or EVAL the first time this Redis lacks it).
    pub async fn run<T: redis::FromRedisValue>(
        self,
        connection: &mut ConnectionManager,
    ) -> RedisResult<T> {
        let mut invocation = self.script.prepare_invoke();
        for key in self.keys {
            invocation.key(key);
        }
        for arg in self.args {
            invocation.arg(arg);
        }
        invocation.invoke_async(connection).await
    }
}

/// The times of a creation, in Unix milliseconds, and the fleet's cap.
#[derive(Debug, Clone, Copy)]
pub struct InsertAt {
    /// Now: jobs expired by then are forgotten first.
    pub now_ms: u64,
    /// When the new job expires (its end plus `--job-ttl`).
    pub expires_ms: u64,
    /// `--max-jobs`, which also caps the keys.
    pub max_jobs: usize,
    /// How long a key is kept.
    pub key_ttl_ms: u64,
    /// Past this Unix microsecond, by Redis's clock, the script changes nothing.
    pub deadline_us: u64,
}

/// `insert.lua` for job `id` with `record`, and the key with its request (as JSON) if any.
pub fn insert(id: JobId, record: Record, at: InsertAt, keyed: Option<(&str, String)>) -> Call {
    static SCRIPT: OnceLock<Arc<Script>> = OnceLock::new();
    let [created, duration, estimate, outcome] = record.definition;
    let is_keyed = if keyed.is_some() { "1" } else { "0" };
    let (key, request) = keyed.map_or((String::new(), String::new()), |(key, request)| {
        (key.to_owned(), request)
    });
    Call {
        script: Arc::clone(
            SCRIPT.get_or_init(|| Arc::new(Script::new(include_str!("insert.lua")))),
        ),
        keys: vec![
            format!("{JOB_PREFIX}{id}"),
            EXPIRIES.to_owned(),
            format!("{KEY_PREFIX}{key}"),
            KEYS.to_owned(),
        ],
        args: vec![
            id.to_hex(),
            at.now_ms.to_string(),
            at.expires_ms.to_string(),
            at.max_jobs.to_string(),
            created,
            duration,
            estimate,
            outcome,
            is_keyed.to_owned(),
            request,
            at.key_ttl_ms.to_string(),
            KEY_PREFIX.to_owned(),
            key,
            at.deadline_us.to_string(),
        ],
    }
}

/// What `insert.lua` answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// The job is stored.
    New,
    /// The fleet keeps `max_jobs`; the earliest expires at this Unix millisecond.
    Full {
        /// When a place frees up.
        earliest_expiry_ms: u64,
    },
    /// The key was used before, with `request`, and made `job_id`.
    Replayed {
        /// The first request with the key.
        request: CreateJob,
        /// The job it made.
        job_id: JobId,
    },
    /// Redis ran the script past its deadline, so it did nothing.
    Late(Late),
}

/// A script that Redis ran past its deadline, and so did nothing: Redis's clock then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Late {
    /// When Redis ran it, in Unix microseconds by Redis's clock.
    pub redis_now_us: u64,
}

impl Late {
    /// Reads a script's `{'late', seconds, microseconds}` (after its `'late'`).
    fn read(seconds: &str, micros: &str) -> Option<Self> {
        let seconds: u64 = seconds.parse().ok()?;
        let micros: u64 = micros.parse().ok()?;
        Some(Late {
            redis_now_us: seconds.checked_mul(1_000_000)?.checked_add(micros)?,
        })
    }
}

/// Reads `insert.lua`'s answer.
pub fn inserted(answer: &[String]) -> Result<Inserted, String> {
    match answer {
        [new] if new == "new" => Ok(Inserted::New),
        [full, earliest] if full == "full" => Ok(Inserted::Full {
            // A sorted set's score: Redis may write it as a float.
            earliest_expiry_ms: earliest.parse::<f64>().map_or(0, |ms| ms.max(0.0) as u64),
        }),
        [replayed, job_id, request] if replayed == "replayed" => {
            match (JobId::parse(job_id), serde_json::from_str(request)) {
                (Some(job_id), Ok(request)) => Ok(Inserted::Replayed { request, job_id }),
                _ => Err("an Idempotency-Key record in Redis is garbled".to_owned()),
            }
        }
        [late, seconds, micros] if late == "late" => Late::read(seconds, micros)
            .map(Inserted::Late)
            .ok_or_else(|| format!("the create script answered late at {seconds:?} {micros:?}")),
        other => Err(format!("the create script answered {other:?}")),
    }
}

/// `cancel.lua` for job `id` at `now_us` (Unix microseconds), unless Redis runs it past
/// `deadline_us`; a cancelled job expires `ttl_ms` after its cancel.
pub fn cancel(id: JobId, now_us: u64, deadline_us: u64, ttl_ms: u64) -> Call {
    static SCRIPT: OnceLock<Arc<Script>> = OnceLock::new();
    Call {
        script: Arc::clone(
            SCRIPT.get_or_init(|| Arc::new(Script::new(include_str!("cancel.lua")))),
        ),
        keys: vec![format!("{JOB_PREFIX}{id}"), EXPIRIES.to_owned()],
        args: vec![
            id.to_hex(),
            now_us.to_string(),
            deadline_us.to_string(),
            ttl_ms.to_string(),
            CANCELS.to_owned(),
        ],
    }
}

/// What `cancel.lua` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// No such job (or none readable).
    Missing,
    /// Redis ran it past its deadline, so it did nothing.
    Late(Late),
    /// The job's fields as they are now, and whether this call cancelled it.
    Job {
        /// This call cancelled it.
        changed: bool,
        /// In [`FIELDS`] order.
        fields: Vec<Option<String>>,
    },
}

/// Reads `cancel.lua`'s answer.
pub fn cancelled(answer: Option<Vec<String>>) -> Result<Cancelled, String> {
    let Some(answer) = answer else {
        return Ok(Cancelled::Missing);
    };
    match answer.as_slice() {
        [late, seconds, micros] if late == "late" => Late::read(seconds, micros)
            .map(Cancelled::Late)
            .ok_or_else(|| format!("the cancel script answered {answer:?}")),
        [changed, fields @ ..] if fields.len() == FIELDS.len() => Ok(Cancelled::Job {
            changed: changed == "1",
            // The script writes an absent field as "".
            fields: fields
                .iter()
                .map(|field| Some(field.clone()).filter(|text| !text.is_empty()))
                .collect(),
        }),
        _ => Err(format!("the cancel script answered {answer:?}")),
    }
}

/// `default.lua`: the fleet's default job, `candidate` (expiring at `expires_ms`, Unix
/// milliseconds) if there was none; the answer's fields are read as [`hmget`]'s.
pub fn default_job(candidate: Record, expires_ms: u64) -> Call {
    static SCRIPT: OnceLock<Arc<Script>> = OnceLock::new();
    let mut args = candidate.definition.to_vec();
    args.push(expires_ms.to_string());
    Call {
        script: Arc::clone(
            SCRIPT.get_or_init(|| Arc::new(Script::new(include_str!("default.lua")))),
        ),
        keys: vec![DEFAULT_JOB.to_owned()],
        args,
    }
}

/// `HMGET` of job `id`'s fields, in [`FIELDS`] order.
pub fn hmget(id: JobId) -> redis::Cmd {
    let mut command = redis::cmd("HMGET");
    command.arg(format!("{JOB_PREFIX}{id}")).arg(&FIELDS[..]);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn every_answer_of_the_create_script_is_read_and_anything_else_is_an_error() {
        assert_eq!(inserted(&strings(&["new"])), Ok(Inserted::New));
        assert_eq!(
            inserted(&strings(&["full", "1700000000123"])),
            Ok(Inserted::Full {
                earliest_expiry_ms: 1_700_000_000_123
            })
        );
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            inserted(&strings(&["replayed", id, r#"{"duration_ms":5}"#])),
            Ok(Inserted::Replayed {
                request: CreateJob {
                    duration_ms: Some(5),
                    ..CreateJob::default()
                },
                job_id: JobId::parse(id).unwrap(),
            })
        );
        assert_eq!(
            inserted(&strings(&["late", "1700000000", "000123"])),
            Ok(Inserted::Late(Late {
                redis_now_us: 1_700_000_000_000_123
            }))
        );
        for bad in [
            &[][..],
            &["maybe"],
            &["late", "soon", "1"],
            &["replayed", "x", "{}"],
            &["replayed", id, "{"],
        ] {
            assert!(inserted(&strings(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_cancel_scripts_answer_says_who_cancelled_and_the_fields_now() {
        assert_eq!(cancelled(None), Ok(Cancelled::Missing));
        let answer = strings(&["1", "10", "20", "20", "completed", "15"]);
        let Ok(Cancelled::Job { changed, fields }) = cancelled(Some(answer)) else {
            panic!("a job");
        };
        assert!(changed);
        assert_eq!(fields[4].as_deref(), Some("15"));
        let answer = strings(&["0", "10", "20", "20", "completed", ""]);
        let Ok(Cancelled::Job { changed, fields }) = cancelled(Some(answer)) else {
            panic!("a job");
        };
        assert!(!changed);
        assert_eq!(fields[4], None, "never cancelled");
        assert_eq!(
            cancelled(Some(strings(&["late", "2", "5"]))),
            Ok(Cancelled::Late(Late {
                redis_now_us: 2_000_005
            }))
        );
        assert!(cancelled(Some(strings(&["1", "10"]))).is_err());
    }
}
