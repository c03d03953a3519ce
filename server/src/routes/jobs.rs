//! `POST /jobs` and `GET /jobs/{id}`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use video_translation_protocol::{
    job_path, CreateJob, ErrorBody, JobStatus, JOBS_PATH, JOB_ID_PARAM, JOB_PATH, MAX_JOB_DURATION,
};

use super::idempotency_key::idempotency_key;
use super::json_body::JsonBody;
use crate::error::ApiError;
use crate::long_poll::{self, WaitQuery};
use crate::store::front::Created;
use crate::store::{JobId, JobKey, JobStore, Keyed, NewJob};

/// The largest `POST /jobs` body accepted; a valid one is well under 100 bytes.
pub const MAX_CREATE_BODY_BYTES: usize = 4 * 1024;

/// The body of `POST /jobs`.
const CREATE_BODY: JsonBody = JsonBody {
    what: "job request",
    example: r#"{"duration_ms": 30000, "outcome": "completed"}"#,
};

#[utoipa::path(
    post,
    path = JOBS_PATH,
    tag = "jobs",
    security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the creation \
        safe to retry: 1 to 255 visible ASCII characters (a UUID, say), taken as sent. The same \
        key with the same request (compared by meaning: `{}` and no body are the same) within \
        24 hours answers `200` with the job the first one created, in its current status, \
        instead of creating another; with another request, `422`. The server remembers at \
        most `--max-jobs` keys, forgetting the oldest first.",
        // The rule of `idempotency_key::idempotency_key`: visible ASCII, `!` to `~`.
        min_length = 1, max_length = 255, pattern = r"^[!-~]{1,255}$")),
    request_body(
        content = CreateJob,
        content_type = "application/json",
        description = "Optional: every field, and the body itself, may be left out; a missing \
            one takes the server's default. One JSON object and nothing after it, declared \
            `application/json` even when empty (another type, or none, is `415`).",
    ),
    responses(
        (status = 201, description = "The job was created; it starts now.", body = JobStatus,
            headers(("Location" = String, description = "`/jobs/{id}`: where to poll it"))),
        (status = 200, description = "The `Idempotency-Key` was used before with the same \
            request: the job it created, in its status now; nothing new was created.", body = JobStatus,
            headers(("Location" = String, description = "`/jobs/{id}`: the same as the first answer's"))),
        (status = 400, description = "The body is not a job request, or the `Idempotency-Key` \
            is malformed; the message says why.", body = ErrorBody),
        (status = 404, description = "The `Idempotency-Key` was used before with the same \
            request, but the job it created has expired (`--job-ttl` after it ended).", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used before with another \
            request.", body = ErrorBody),
        (status = 413, description = "The body is over 4 KiB.", body = ErrorBody),
        (status = 415, description = "The request is not declared `application/json`.", body = ErrorBody),
        (status = 429, description = "Over the per-client rate limit (`--rate-limit`).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request may pass"))),
        (status = 503, description = "The fleet keeps its maximum of jobs (`--max-jobs`), or \
            the job store (Redis) does not answer, or is full. No job was created: the server \
            learns that before answering. The one exception is Redis going away in the instant \
            after it acted, the answer lost: sent again with the same `Idempotency-Key`, the \
            request then answers `200` with that job.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the oldest job expires, \
                or until the store may answer again"))),
    ),
)]
/// Creates a job: `201`, `Location: /jobs/{id}`, body `JobStatus`; `503` with
/// `Retry-After` when the server keeps its maximum of jobs. With an `Idempotency-Key` seen
/// before: `200` and the same job, or `422` if it came with another request.
///
/// The body is optional: without one, every field takes the server's default.
pub async fn create(
    request: HttpRequest,
    body: web::Bytes,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&request)?;
    let job_request: CreateJob = CREATE_BODY.read(&request, &body)?.unwrap_or_default();
    let keyed = key.map(|key| Keyed {
        key,
        request: &job_request,
    });
    match store.create(new_job(&job_request)?, keyed).await? {
        Created::New(status) => Ok(located(HttpResponse::Created(), status)),
        Created::Replayed(Some(status)) => Ok(located(HttpResponse::Ok(), status)),
        Created::Replayed(None) => Err(ApiError::NotFound(
            "the job this Idempotency-Key created has expired; use a new key for a new job"
                .to_owned(),
        )),
    }
}

/// The job a request asks for, its durations checked.
fn new_job(request: &CreateJob) -> Result<NewJob, ApiError> {
    Ok(NewJob {
        duration: request
            .duration_ms
            .map(|ms| checked_duration(ms, "duration_ms"))
            .transpose()?,
        estimate: request
            .estimate_ms
            .map(|ms| checked_duration(ms, "estimate_ms"))
            .transpose()?,
        outcome: request.outcome,
    })
}

/// An answer naming the job's place: `Location: /jobs/{id}`, body its status.
fn located(mut response: actix_web::HttpResponseBuilder, status: JobStatus) -> HttpResponse {
    response
        .insert_header((
            header::LOCATION,
            job_path(JOB_PATH, status.id.as_deref().unwrap_or_default()),
        ))
        .json(status)
}

#[utoipa::path(
    get,
    path = JOB_PATH,
    tag = "jobs",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The job's id, as POST /jobs gave it: 32 hex digits"), WaitQuery),
    responses(
        (status = 200, description = "The job's status. Pending answers carry `Retry-After` (the \
            estimate, in seconds); a request that asked to wait carries `Preference-Applied`.",
            body = JobStatus, headers(
                ("Retry-After" = u64, description = "While pending: seconds the job is expected to take still"),
                ("Preference-Applied" = String, description = "`wait=SECONDS`: the wait the server applied"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "A malformed `wait`.", body = ErrorBody),
        (status = 404, description = "No such job: never issued, or expired (`--job-ttl` after it ended).", body = ErrorBody),
        (status = 429, description = "Over the per-client rate limit.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request may pass"))),
        (status = 503, description = "Asked to wait while the server holds its maximum of long-polls \
            (`--max-waiters`; a plain poll is still answered), or the job store (Redis) does not \
            answer and this replica has not seen the job.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again"))),
    ),
)]
/// `200 JobStatus` (held while pending if `?wait=` or `Prefer: wait=` asks), or `404` for
/// an id the server never issued.
pub async fn get(
    request: HttpRequest,
    query: web::Query<WaitQuery>,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    // The segment as routed: actix has already decoded escapes of plain characters (`%61` is
    // `a`). `web::Path` would also decode reserved ones (`%2F`), which no id contains, at a
    // cost on every poll.
    let id = request.match_info().query(JOB_ID_PARAM);
    let not_found = || ApiError::NotFound(format!("no job with id {id:?}"));
    // One lookup per poll, in `answer`: the status endpoint is the server's hot path.
    let key = JobId::parse(id)
        .map(JobKey::Created)
        .ok_or_else(not_found)?;
    let wait = match long_poll::requested_wait(&request, &query) {
        Ok(wait) => wait,
        // No such job is the first thing to tell, whatever else is wrong with the request.
        Err(bad_wait) if store.find(id).await?.is_some() => return Err(bad_wait),
        Err(_) => return Err(not_found()),
    };
    long_poll::answer(&store, key, wait)
        .await?
        .ok_or_else(not_found)
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
