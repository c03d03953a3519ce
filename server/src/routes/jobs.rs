//! `POST /jobs` and `GET /jobs/{id}`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use video_translation_protocol::{CreateJob, JOBS_PATH};

use super::long_poll::{self, LongPollLimits, WaitQuery};
use crate::config::MAX_JOB_DURATION;
use crate::error::ApiError;
use crate::store::{JobStore, NewJob};

/// The largest `POST /jobs` body accepted; a valid one is well under 100 bytes.
pub const MAX_CREATE_BODY_BYTES: usize = 4 * 1024;

/// Creates a job: `201`, `Location: /jobs/{id}`, body `JobStatus`; `503` with
/// `Retry-After` when the server keeps its maximum of jobs.
///
/// The body is optional and read as JSON whatever its `Content-Type`, so that
/// `curl -d '{"duration_ms": 5000}'` works as written.
pub async fn create(
    body: web::Bytes,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let request = parse_create_job(&body)?;
    let status = store.create(NewJob {
        duration: request
            .duration_ms
            .map(|ms| checked_duration(ms, "duration_ms"))
            .transpose()?,
        estimate: request
            .estimate_ms
            .map(|ms| checked_duration(ms, "estimate_ms"))
            .transpose()?,
        outcome: request.outcome,
    })?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{JOBS_PATH}/{}", status.id)))
        .json(status))
}

/// `200 JobStatus` (held while pending if `?wait=` or `Prefer: wait=` asks), or `404` for
/// an id the server never issued.
pub async fn get(
    request: HttpRequest,
    id: web::Path<String>,
    query: web::Query<WaitQuery>,
    store: web::Data<JobStore>,
    limits: web::Data<LongPollLimits>,
) -> Result<HttpResponse, ApiError> {
    let key = store
        .find(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no job with id {:?}", id.as_str())))?;
    let wait = long_poll::requested_wait(&request, &query)?;
    long_poll::answer(&store, key, wait, **limits).await
}

fn parse_create_job(body: &[u8]) -> Result<CreateJob, ApiError> {
    let body = body.trim_ascii();
    if body.is_empty() {
        return Ok(CreateJob::default());
    }
    let invalid = |reason: String| {
        ApiError::BadRequest(format!(
            "invalid job request: {reason}; expected a JSON object like \
             {{\"duration_ms\": 30000, \"outcome\": \"completed\"}}"
        ))
    };
    // serde would also read a struct from a JSON array; the contract says object.
    if !body.starts_with(b"{") {
        return Err(invalid("the body is not a JSON object".to_owned()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    // The path names the offending field: "duration_ms: invalid type: string ...".
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." {
            invalid(inner.to_string())
        } else {
            invalid(format!("{path}: {inner}"))
        }
    })
}

fn checked_duration(millis: u64, field: &str) -> Result<Duration, ApiError> {
    let duration = Duration::from_millis(millis);
    if duration > MAX_JOB_DURATION {
        return Err(ApiError::BadRequest(format!(
            "{field} must be at most {} (one day), got {millis}",
            MAX_JOB_DURATION.as_millis()
        )));
    }
    Ok(duration)
}
