//! `POST /jobs` and `GET /jobs/{id}`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use video_translation_protocol::{CreateJob, JOBS_PATH};

use crate::config::MAX_JOB_DURATION;
use crate::error::ApiError;
use crate::store::JobStore;

/// The largest `POST /jobs` body accepted; a valid one is well under 100 bytes.
pub const MAX_CREATE_BODY_BYTES: usize = 4 * 1024;

/// Creates a job: `201`, `Location: /jobs/{id}`, body `JobStatus`.
///
/// The body is optional and read as JSON whatever its `Content-Type`, so that
/// `curl -d '{"duration_ms": 5000}'` works as written.
pub async fn create(
    body: web::Bytes,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let request = parse_create_job(&body)?;
    let duration = request.duration_ms.map(checked_duration).transpose()?;
    let status = store.create(duration, request.outcome);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{JOBS_PATH}/{}", status.id)))
        .json(status))
}

/// `200 JobStatus`, or `404` for an id the server never issued.
pub async fn get(
    id: web::Path<String>,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let status = store
        .status(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no job with id {:?}", id.as_str())))?;
    Ok(HttpResponse::Ok().json(status))
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

fn checked_duration(duration_ms: u64) -> Result<Duration, ApiError> {
    let duration = Duration::from_millis(duration_ms);
    if duration > MAX_JOB_DURATION {
        return Err(ApiError::BadRequest(format!(
            "duration_ms must be at most {} (one day), got {duration_ms}",
            MAX_JOB_DURATION.as_millis()
        )));
    }
    Ok(duration)
}
