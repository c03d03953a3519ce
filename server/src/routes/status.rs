//! `GET /status`: the seeds' contract, the default job's `{"result": ...}` (plus the other
//! `JobStatus` fields, which the contract allows). Long-polls like `GET /jobs/{id}`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::long_poll::{self, LongPollLimits, WaitQuery};
use crate::error::ApiError;
use crate::store::{JobKey, JobStore};

/// The default job's status, once it ends or after the requested wait.
pub async fn default_job_status(
    request: HttpRequest,
    query: web::Query<WaitQuery>,
    store: web::Data<JobStore>,
    limits: web::Data<LongPollLimits>,
) -> Result<HttpResponse, ApiError> {
    let wait = long_poll::requested_wait(&request, &query)?;
    long_poll::answer(&store, JobKey::Default, wait, **limits).await
}
