//! `POST /jobs/{id}/cancel`: ends a pending job now, as `error` with `"reason": "cancelled"`,
//! and answers every request held on it (long-polls and watches) at once.
//!
//! Idempotent, so a client may retry it blindly: cancelling a cancelled job answers `200`
//! with its status again. A job that ended by running its course cannot be cancelled: `409`,
//! with its status in the body, so the caller learns how it ended in the same answer.

use actix_web::{web, HttpRequest, HttpResponse};
use video_translation_protocol::{ErrorBody, JobConflict, JobStatus, CANCEL_PATH, JOB_ID_PARAM};

use crate::error::ApiError;
use crate::long_poll;
use crate::store::{CancelOutcome, JobStore};

/// The largest body read: a cancel has none, so any byte is refused (`400`), and past this
/// many it is not even read (`413`).
pub const MAX_CANCEL_BODY_BYTES: usize = 1024;

#[utoipa::path(
    post,
    path = CANCEL_PATH,
    tag = "jobs",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The job's id, as POST /jobs gave it: 32 hex digits")),
    responses(
        (status = 200, description = "The job is cancelled: it was pending and ended now, or had \
            been cancelled before (the same answer again). `result` is `error` and `reason` is \
            `cancelled`; every request held on the job has been answered.", body = JobStatus,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "The request has a body; a cancel takes none.", body = ErrorBody),
        (status = 404, description = "No such job: never issued, or expired.", body = ErrorBody),
        (status = 409, description = "The job ended by running its course (`completed`, or \
            `error` by its own outcome) and stays so. `error.code` is `conflict`; `status` is \
            the job as it ended.", body = JobConflict),
        (status = 413, description = "The body is over 1 KiB.", body = ErrorBody),
        (status = 429, description = "Over the per-client rate limit.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request may pass"))),
        (status = 503, description = "The job store (Redis) does not answer; the job was not \
            cancelled. The one exception is Redis going away in the instant after it acted, the \
            answer lost: a cancel is safe to send again, and then answers `200` (cancelled) or \
            `409` (it ended by itself).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again"))),
    ),
)]
/// `200 JobStatus` once the job is cancelled (now or before), `409 JobConflict` if it ended
/// otherwise, `404` if there is no such job.
///
/// Takes no body (so the document declares none: any `Content-Type`, or none, and no bytes).
pub async fn cancel(
    request: HttpRequest,
    body: web::Bytes,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let id = request.match_info().query(JOB_ID_PARAM);
    if !body.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "a cancel takes no body; send POST /jobs/{id}/cancel without one"
        )));
    }
    let (outcome, status) = store
        .cancel(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no job with id {id:?}")))?;
    match outcome {
        CancelOutcome::Cancelled | CancelOutcome::AlreadyCancelled => {
            Ok(long_poll::ok_with_wait_hints(None).json(status))
        }
        CancelOutcome::AlreadyEnded => Err(ApiError::Conflict {
            message: format!(
                "job {id} already ended as {} and cannot be cancelled",
                status.result
            ),
            status: Box::new(status),
        }),
    }
}
