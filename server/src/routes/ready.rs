//! `GET /readyz`: whether this replica can serve jobs now, that is whether its job store
//! answers. `/healthz` says the process serves at all; a load balancer sends traffic by this
//! one, so that a replica cut off from Redis is skipped while it reconnects.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use video_translation_protocol::{ErrorBody, READY_PATH};

use crate::error::ApiError;
use crate::store::JobStore;

/// The readiness check's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// Always `"ready"`: the job store answered.
    #[schema(example = "ready")]
    pub status: &'static str,
}

#[utoipa::path(
    get,
    path = READY_PATH,
    tag = "operations",
    responses(
        (status = 200, body = Ready, description = "The job store answers (always, with \
            `--store memory`; with Redis, it answered a PING within 1 s and this replica hears \
            the fleet's cancels)."),
        (status = 503, body = ErrorBody, description = "The job store does not answer; the \
            replica reconnects by itself.",
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again"))),
    ),
)]
/// `200 {"status": "ready"}` when the store answers, else `503`.
pub async fn readyz(store: web::Data<JobStore>) -> Result<HttpResponse, ApiError> {
    store.ready().await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(Ready { status: "ready" }))
}
