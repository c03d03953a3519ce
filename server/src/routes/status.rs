//! `GET /status`: the seeds' contract, the default job's `{"result": ...}` (plus the other
//! `JobStatus` fields, which the contract allows). Long-polls like `GET /jobs/{id}`.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::long_poll::{self, WaitQuery};
use crate::store::{JobKey, JobStore};
use video_translation_protocol::{ErrorBody, JobStatus, STATUS_PATH};

#[utoipa::path(
    get,
    path = STATUS_PATH,
    tag = "jobs",
    security(("api_key" = [])),
    params(WaitQuery),
    responses(
        (status = 200, description = "The default job's status: the seeds' `{\"result\": ...}` plus \
            the other `JobStatus` fields. Hints as for GET /jobs/{id}.", body = JobStatus),
        (status = 400, description = "A malformed `wait`.", body = ErrorBody),
        (status = 503, description = "Asked to wait while the server holds its maximum of long-polls \
            (`--max-waiters`; a plain poll is still answered), or the job store (Redis) does not \
            answer and this replica has not read the default job yet.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again"))),
    ),
)]
/// The default job's status, once it ends or after the requested wait.
pub async fn default_job_status(
    request: HttpRequest,
    query: web::Query<WaitQuery>,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let wait = long_poll::requested_wait(&request, &query)?;
    long_poll::answer(&store, JobKey::Default, wait)
        .await?
        // The default job is never forgotten; were it ever, 404 would be the honest answer.
        .ok_or_else(|| ApiError::NotFound("the default job is gone".to_owned()))
}
