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
//!
//! Every route's path is here too ([`STATUS_PATH`], [`JOB_PATH`], ...: `paths.rs`), with the
//! header and query parameter names the contract uses.
#![deny(missing_docs, missing_debug_implementations)]

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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
mod tests {
    use super::*;

    #[test]
    fn job_status_serializes_snake_case_with_lowercase_result() {
        let status = JobStatus {
            id: Some("abc".into()),
            result: JobResult::Pending,
            progress: Some(0.25),
            eta_ms: Some(1500),
            reason: None,
        };
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(
            json,
            r#"{"id":"abc","result":"pending","progress":0.25,"eta_ms":1500}"#
        );
    }

    #[test]
    fn unknown_eta_serializes_as_null() {
        let status = JobStatus {
            id: Some("x".into()),
            result: JobResult::Completed,
            progress: Some(1.0),
            eta_ms: None,
            reason: None,
        };
        let json = serde_json::to_string(&status).unwrap();
        assert!(json.contains(r#""eta_ms":null"#), "{json}");
    }

    #[test]
    fn a_cancelled_job_says_why_and_the_reason_is_absent_otherwise() {
        let status = JobStatus {
            id: Some("c".into()),
            result: JobResult::Error,
            progress: Some(0.5),
            eta_ms: Some(0),
            reason: Some(EndReason::Cancelled),
        };
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(
            json,
            r#"{"id":"c","result":"error","progress":0.5,"eta_ms":0,"reason":"cancelled"}"#
        );
        assert_eq!(serde_json::from_str::<JobStatus>(&json).unwrap(), status);
        let plain: JobStatus =
            serde_json::from_str(r#"{"id":"c","result":"error","progress":1,"eta_ms":0}"#).unwrap();
        assert_eq!(plain.reason, None);
    }

    #[test]
    fn a_status_needs_only_a_result_and_a_bad_estimate_is_no_estimate() {
        let bare: JobStatus = serde_json::from_str(r#"{"result": "pending"}"#).unwrap();
        assert_eq!(
            (bare.id, bare.progress, bare.eta_ms, bare.reason),
            (None, None, None, None)
        );
        let nulls: JobStatus = serde_json::from_str(
            r#"{"id": null, "result": "completed", "progress": null, "eta_ms": null}"#,
        )
        .unwrap();
        assert_eq!((nulls.id, nulls.progress), (None, None));
        for (eta, read) in [
            ("1500.4", Some(1500)),
            ("-1", None),
            ("1e300", Some(1_000_000_000_000)),
        ] {
            let status: JobStatus =
                serde_json::from_str(&format!(r#"{{"result": "pending", "eta_ms": {eta}}}"#))
                    .unwrap();
            assert_eq!(status.eta_ms, read, "{eta}");
        }
    }

    #[test]
    fn job_result_parses_only_the_three_contract_values() {
        for result in [JobResult::Pending, JobResult::Completed, JobResult::Error] {
            assert_eq!(result.as_str().parse::<JobResult>(), Ok(result));
        }
        let err = "done".parse::<JobResult>().unwrap_err();
        assert!(err.to_string().contains("\"done\""), "{err}");
        assert!("Pending".parse::<JobResult>().is_err());
    }

    #[test]
    fn only_completed_and_error_are_final() {
        assert!(!JobResult::Pending.is_final());
        assert!(JobResult::Completed.is_final());
        assert!(JobResult::Error.is_final());
    }

    #[test]
    fn create_job_accepts_an_empty_object_and_rejects_unknown_fields() {
        let empty: CreateJob = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, CreateJob::default());

        let full: CreateJob = serde_json::from_str(
            r#"{"duration_ms": 5000, "outcome": "error", "estimate_ms": 4000}"#,
        )
        .unwrap();
        assert_eq!(full.duration_ms, Some(5000));
        assert_eq!(full.outcome, Some(Outcome::Error));
        assert_eq!(full.estimate_ms, Some(4000));

        let typo = serde_json::from_str::<CreateJob>(r#"{"durationMs": 5000}"#).unwrap_err();
        assert!(typo.to_string().contains("durationMs"), "{typo}");
    }

    #[test]
    fn create_job_takes_whole_numbers_however_written_and_nothing_else() {
        let read = |json: &str| serde_json::from_str::<CreateJob>(json);
        for (json, millis) in [
            (r#"{"duration_ms": 1000}"#, Some(1000)),
            (r#"{"duration_ms": 1000.0}"#, Some(1000)),
            (r#"{"duration_ms": 1e3}"#, Some(1000)),
            (r#"{"duration_ms": 0.0}"#, Some(0)),
            (r#"{"duration_ms": null}"#, None),
        ] {
            assert_eq!(read(json).unwrap().duration_ms, millis, "{json}");
        }
        assert_eq!(
            read(r#"{"estimate_ms": 250.0}"#).unwrap().estimate_ms,
            Some(250)
        );
        for json in [
            r#"{"duration_ms": 1.5}"#,
            r#"{"duration_ms": -1}"#,
            r#"{"duration_ms": -1.0}"#,
            r#"{"duration_ms": 1e20}"#,
            r#"{"duration_ms": "5000"}"#,
            r#"{"estimate_ms": true}"#,
        ] {
            let error = read(json).unwrap_err().to_string();
            assert!(
                error.contains("whole number of milliseconds"),
                "{json}: {error}"
            );
        }
    }

    #[test]
    fn watch_requests_and_answers_have_the_contract_shape() {
        let request: WatchRequest = serde_json::from_str(r#"{"ids": ["a", "b"]}"#).unwrap();
        assert_eq!(request.ids, ["a", "b"]);
        assert!(serde_json::from_str::<WatchRequest>(r#"{"ids": ["a"], "wait": 5}"#).is_err());
        assert!(serde_json::from_str::<WatchRequest>(r#"{"ids": [1]}"#).is_err());

        let answer = WatchAnswer {
            jobs: vec![JobStatus {
                id: Some("a".into()),
                result: JobResult::Completed,
                progress: Some(1.0),
                eta_ms: Some(0),
                reason: None,
            }],
            missing: vec!["b".into()],
        };
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"jobs":[{"id":"a","result":"completed","progress":1.0,"eta_ms":0}],"missing":["b"]}"#
        );
    }

    #[test]
    fn outcome_cannot_be_pending() {
        assert!(serde_json::from_str::<CreateJob>(r#"{"outcome": "pending"}"#).is_err());
    }

    #[test]
    fn waits_are_written_compactly_and_read_back() {
        for (wait, text) in [(30_000, "30"), (2_500, "2.5"), (125, "0.125"), (0, "0")] {
            let wait = Duration::from_millis(wait);
            assert_eq!(format_wait(wait), text);
            assert_eq!(parse_wait(text), Some(wait));
        }
        for bad in ["-1", "soon", "NaN", "inf", ""] {
            assert_eq!(parse_wait(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_wait("1e9"),
            Some(MAX_WIRE_WAIT),
            "absurd waits are clamped"
        );
    }

    #[test]
    fn the_wait_preference_is_found_among_others() {
        assert_eq!(wait_preference("wait=10"), Some(Duration::from_secs(10)));
        assert_eq!(
            wait_preference("respond-async, Wait = 2.5"),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(wait_preference("return=minimal"), None);
        assert_eq!(wait_preference("wait=soon"), None);
    }

    #[test]
    fn error_body_has_the_contract_shape() {
        let json = serde_json::to_string(&ErrorBody::new("not_found", "no job")).unwrap();
        assert_eq!(json, r#"{"error":{"code":"not_found","message":"no job"}}"#);
    }
}
