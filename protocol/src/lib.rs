//! The wire contract between the video-translation status server and its clients.
//!
//! Everything here is plain data with `serde` derives: the server serializes it, the
//! clients deserialize it. The JSON is snake_case (`eta_ms`); the JS API of the client
//! presents the same data in camelCase.
//!
//! | type | where it appears |
//! |---|---|
//! | [`JobResult`] | the `result` field: `"pending"`, `"completed"` or `"error"` |
//! | [`JobStatus`] | body of `GET /status`, `GET /jobs/{id}` and `POST /jobs` |
//! | [`CreateJob`] | optional body of `POST /jobs` |
//! | [`WatchRequest`] | body of `POST /jobs/watch` |
//! | [`WatchAnswer`] | answer of `POST /jobs/watch` |
//! | [`EndReason`] | the `reason` field: why a job ended other than by running its course |
//! | [`ErrorBody`] | body of every 4xx/5xx answer |
//! | [`JobConflict`] | body of `409` from `POST /jobs/{id}/cancel`: the error and the job's status |
//! | [`stream`] | the event stream of `POST /jobs/watch` with `Accept: text/event-stream`: its events and headers |
//!
//! Every route's path is here too ([`STATUS_PATH`], [`JOB_PATH`], ...: `paths.rs`), with the
//! header and query parameter names the contract uses.
#![deny(missing_docs, missing_debug_implementations)]

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod stream;

mod paths;

pub use paths::{
    job_path, CANCEL_PATH, HEALTH_PATH, JOBS_PATH, JOB_ID_PARAM, JOB_PATH, METRICS_PATH,
    OPENAPI_PATH, READY_PATH, STATUS_PATH, WATCH_PATH,
};

/// The state of a translation job as the status endpoint reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobResult {
    /// Still running: ask again later.
    Pending,
    /// Finished successfully. Final.
    Completed,
    /// Finished with a failure. Final.
    Error,
}

impl JobResult {
    /// The exact string used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobResult::Pending => "pending",
            JobResult::Completed => "completed",
            JobResult::Error => "error",
        }
    }

    /// `true` for `completed` and `error`: the job will not change any more.
    pub const fn is_final(self) -> bool {
        !matches!(self, JobResult::Pending)
    }
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string was not one of `pending`, `completed`, `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownJobResult(pub String);

impl fmt::Display for UnknownJobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown result {:?}: expected \"pending\", \"completed\" or \"error\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownJobResult {}

impl FromStr for JobResult {
    type Err = UnknownJobResult;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(JobResult::Pending),
            "completed" => Ok(JobResult::Completed),
            "error" => Ok(JobResult::Error),
            other => Err(UnknownJobResult(other.to_owned())),
        }
    }
}

/// How a simulated job ends: the final [`JobResult`] it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The job ends `completed`.
    Completed,
    /// The job ends `error`.
    Error,
}

impl From<Outcome> for JobResult {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Completed => JobResult::Completed,
            Outcome::Error => JobResult::Error,
        }
    }
}

/// The status of one job.
///
/// Our server always sends every field but `reason`. Reading is lenient, as the contract is
/// (only `result` is required, since the seeds' plain `GET /status` sends nothing else):
/// `id`, `progress` and `eta_ms` may be missing or `null`, and an `eta_ms` that is not a
/// whole number of milliseconds, 0 or more, reads as no estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStatus {
    /// The job's id; `"default"` for the job behind `GET /status`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true))]
    pub id: Option<String>,
    /// Where the job is.
    pub result: JobResult,
    /// Fraction done, from 0 to 1.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = f64, required = true))]
    pub progress: Option<f64>,
    /// Milliseconds until the job is expected to leave `pending`; `0` once it has,
    /// `null` when the server cannot tell.
    #[serde(default, deserialize_with = "estimate_millis")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub eta_ms: Option<u64>,
    /// Why the job ended, when it did not end by running its course: `"cancelled"` after
    /// `POST /jobs/{id}/cancel` (then `result` is `"error"`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EndReason>,
}

/// The longest estimate read from the wire, in milliseconds (about 31 years): larger ones
/// are clamped to it.
const MAX_ESTIMATE_MS: f64 = 1e12;

/// `eta_ms` as any JSON number: rounded to whole milliseconds and clamped, or no estimate
/// when negative (a client must not fail a job because a server's clock ran backwards).
fn estimate_millis<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let ms = Option::<f64>::deserialize(deserializer)?;
    Ok(ms
        .filter(|ms| *ms >= 0.0)
        .map(|ms| ms.min(MAX_ESTIMATE_MS).round() as u64))
}

/// Why a job ended other than by running its course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Cancelled by `POST /jobs/{id}/cancel` while pending; the job's result is `error`.
    Cancelled,
    /// A reason this version of the contract does not know (a newer server's): read as
    /// this rather than refused, since the job's `result` is what a client acts on.
    #[serde(other)]
    Unknown,
}

/// The longest job anyone may ask for, in `duration_ms` and `estimate_ms`: a day. Longer is
/// surely a unit mistake. (The OpenAPI schema's `maximum` below spells it in milliseconds,
/// as utoipa takes only a literal; the server's document test checks they agree.)
pub const MAX_JOB_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Body of `POST /jobs`. Every field is optional; a missing one takes the server's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// How long the simulated job stays `pending`, in milliseconds: at most a day.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_millis"
    )]
    #[cfg_attr(feature = "openapi", schema(maximum = 86_400_000))]
    pub duration_ms: Option<u64>,
    /// How the job ends. Without it the server draws from its `--error-rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The duration the server *reports* (`eta_ms` and `progress` count it down), in
    /// milliseconds, at most a day. Real estimates are imperfect: without it the server strays
    /// from `duration_ms` by up to its `--eta-error`. Benchmarks set it to know the truth.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_millis"
    )]
    #[cfg_attr(feature = "openapi", schema(maximum = 86_400_000))]
    pub estimate_ms: Option<u64>,
}

/// A JSON integer as JSON Schema counts them: `1000` and `1000.0` are the same number, and the
/// document (`type: integer`) admits both, so the server must take both. A fraction, a
/// negative number or one past `u64` is refused, `null` is absent.
fn whole_millis<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    use serde::de::{Error, Unexpected, Visitor};

    struct WholeMillis;
    impl<'de> Visitor<'de> for WholeMillis {
        type Value = Option<u64>;
        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a whole number of milliseconds, 0 or more")
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(
            self,
            inner: D,
        ) -> Result<Self::Value, D::Error> {
            inner.deserialize_any(self)
        }
        fn visit_u64<E: Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(value))
        }
        fn visit_i64<E: Error>(self, value: i64) -> Result<Self::Value, E> {
            u64::try_from(value)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }
        fn visit_f64<E: Error>(self, value: f64) -> Result<Self::Value, E> {
            // 2^64 is the first float past u64; every float below it that is whole fits.
            if value.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&value) {
                Ok(Some(value as u64))
            } else {
                Err(E::invalid_value(Unexpected::Float(value), &self))
            }
        }
    }
    deserializer.deserialize_option(WholeMillis)
}

/// The most job ids one `POST /jobs/watch` may list.
pub const MAX_WATCHED_IDS: usize = 1_000;

/// Body of `POST /jobs/watch`: the jobs to watch in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WatchRequest {
    /// Job ids as `POST /jobs` gave them, 1 to 1,000 (`MAX_WATCHED_IDS`). A repeated id
    /// is answered once; an id the server does not know comes back in `missing`.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub ids: Vec<String>,
}

/// Answer of `POST /jobs/watch`.
///
/// When some listed job has ended (or is unknown), `jobs` holds only the ended ones;
/// otherwise (no wait asked, the wait ran out, or the server is stopping) it holds every
/// listed job's current status, in the order listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WatchAnswer {
    /// Statuses of listed jobs, each job once, in the order listed.
    pub jobs: Vec<JobStatus>,
    /// The listed ids the server does not know (never issued, malformed or expired),
    /// exactly as the request spelled them, each once.
    pub missing: Vec<String>,
}

/// Body of every error answer: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine-readable, stable: `not_found`, `bad_request`, `method_not_allowed`, ...
    pub code: String,
    /// Human-readable: says what to change.
    pub message: String,
}

/// Body of the `409` that `POST /jobs/{id}/cancel` answers for a job that ended otherwise
/// (completed, or failed by its own outcome): the usual error, plus the job's status, so the
/// caller learns how it ended without asking again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobConflict {
    /// `code` is `conflict`.
    pub error: ErrorDetail,
    /// The job as it ended.
    pub status: JobStatus,
}

impl ErrorBody {
    /// An error body with the given code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// Query parameter asking a status request to wait, up to this many seconds (fractions
/// allowed), until the job leaves `pending`: `GET /jobs/{id}?wait=30`. Unlike the `Prefer`
/// header it needs no CORS preflight.
pub const WAIT_PARAM: &str = "wait";

/// The RFC 7240 preference asking a request to be held, in `Prefer` and named back in
/// `Preference-Applied`: `wait=30`.
pub const WAIT_PREFERENCE: &str = "wait";

/// Request header of RFC 7240 with the same meaning: `Prefer: wait=30`.
pub const PREFER_HEADER: &str = "prefer";

/// Response header naming the wait the server applied: `Preference-Applied: wait=30`. Its
/// presence tells a client that the server long-polls.
pub const PREFERENCE_APPLIED_HEADER: &str = "preference-applied";

/// Response header on every `pending` answer: seconds until the job is expected to end.
pub const RETRY_AFTER_HEADER: &str = "retry-after";

/// The longest wait either side reads from the wire; larger values are clamped to it.
const MAX_WIRE_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A wait as the wire writes it, in `?wait=` and `Preference-Applied`: seconds with at most
/// millisecond precision and no trailing zeros (`30`, `2.5`, `0.125`).
pub fn format_wait(wait: Duration) -> String {
    let (seconds, millis) = (wait.as_secs(), wait.subsec_millis());
    if millis == 0 {
        return seconds.to_string();
    }
    let fraction = format!("{millis:03}");
    format!("{seconds}.{}", fraction.trim_end_matches('0'))
}

/// A wait in seconds as the wire writes it: finite and not negative (fractions allowed).
pub fn parse_wait(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().trim_matches('"').parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(MAX_WIRE_WAIT.as_secs_f64())))
}

/// The `wait` among RFC 7240 preferences, as in `Prefer: respond-async, wait=10` or
/// `Preference-Applied: wait=10`; `None` if absent or malformed.
pub fn wait_preference(header_value: &str) -> Option<Duration> {
    header_value.split(',').find_map(|preference| {
        let (name, value) = preference.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case(WAIT_PREFERENCE)
            .then(|| parse_wait(value))?
    })
}

/// Request header of `POST /jobs` making it idempotent: the same key and the same body within
/// 24 hours return the same job (draft-ietf-httpapi-idempotency-key-header).
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The id under which `GET /status` reports the server's default job.
pub const DEFAULT_JOB_ID: &str = "default";

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
