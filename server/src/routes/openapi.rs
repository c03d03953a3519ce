//! `GET /openapi.json`: the API as an OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the protocol's types, so it cannot drift from the code.

use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::HttpResponse;
use utoipa::OpenApi;
use video_translation_protocol::{
    CreateJob, ErrorBody, ErrorDetail, JobResult, JobStatus, Outcome, WatchAnswer, WatchRequest,
};

use super::{health, jobs, status, watch};

/// The document's source: every route and every wire type.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "video-translation-server",
        description = "A simulated video-translation backend. Jobs take a while; poll their \
            status, or long-poll it with `?wait=` or `Prefer: wait=`, or watch many jobs in \
            one request with `POST /jobs/watch`. Every error is \
            `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(status::default_job_status, jobs::create, jobs::get, watch::watch, health::healthz, openapi_json),
    components(schemas(JobStatus, JobResult, CreateJob, Outcome, WatchRequest, WatchAnswer, ErrorBody, ErrorDetail)),
    tags(
        (name = "jobs", description = "Create jobs and watch them"),
        (name = "operations", description = "For operators and tools"),
    )
)]
pub struct ApiDoc;

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json")),
)]
/// The document, rendered once.
pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let document = DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the generated document serializes")
    });
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(document.as_str())
}
