//! `GET /status`: the seeds' contract, the default job's `{"result": ...}` (plus the other
//! `JobStatus` fields, which the contract allows).

use actix_web::{web, HttpResponse};

use crate::store::JobStore;

/// The default job's status now.
pub async fn default_job_status(store: web::Data<JobStore>) -> HttpResponse {
    HttpResponse::Ok().json(store.default_status())
}
