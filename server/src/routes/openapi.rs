//! `GET /openapi.json`: the API as an OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the protocol's types, so it cannot drift from the code.

use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use video_translation_protocol::{
    CreateJob, EndReason, ErrorBody, ErrorDetail, JobConflict, JobResult, JobStatus, Outcome,
    WatchAnswer, WatchRequest,
};

use super::health::{self, Auth, Health};
use super::ready::{self, Ready};
use super::{cancel, jobs, metrics, status, watch};

/// The name of the Bearer scheme in the document; the API operations' `security(...)` name it.
pub const API_KEY_SCHEME: &str = "api_key";

/// The name of the shared 401 answer in the document's components.
const UNAUTHORIZED_RESPONSE: &str = "Unauthorized";

/// The document's source: every route and every wire type.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "video-translation-server",
        description = "A simulated video-translation backend. Jobs take a while; poll their \
            status, or long-poll it with `?wait=` or `Prefer: wait=`, or watch many jobs in \
            one request with `POST /jobs/watch`. Every error is \
            `{\"error\": {\"code\", \"message\"}}`. A server started with `--api-key` \
            asks for `Authorization: Bearer KEY` on the job routes; `GET /healthz` says \
            whether it does."
    ),
    paths(status::default_job_status, jobs::create, jobs::get, cancel::cancel, watch::watch, health::healthz, ready::readyz, metrics::metrics, openapi_json),
    components(schemas(JobStatus, JobResult, EndReason, CreateJob, Outcome, WatchRequest, WatchAnswer, ErrorBody, ErrorDetail, JobConflict, Health, Auth, Ready)),
    modifiers(&BearerKeys),
    tags(
        (name = "jobs", description = "Create jobs and watch them"),
        (name = "operations", description = "For operators and tools"),
    )
)]
pub struct ApiDoc;

/// Declares the Bearer scheme, and gives every operation that names it (`security(...)` on
/// its handler) the 401 it can then answer, in one place rather than on each handler.
#[derive(Debug)]
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A key given to the server's `--api-key` (or `VTS_API_KEYS`). Asked for \
                         only when the server has keys; `GET /healthz` says so with \
                         `\"auth\": \"bearer\"`.",
                    ))
                    .build(),
            ),
        );
        components.responses.insert(
            UNAUTHORIZED_RESPONSE.to_owned(),
            ResponseBuilder::new()
                .description(
                    "The server has API keys and the request carries none of them in \
                     `Authorization: Bearer KEY` (none at all, another scheme, or an unknown key).",
                )
                .header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .description(Some(
                            "`Bearer`, or `Bearer error=\"invalid_token\"` when the key sent is \
                             not accepted",
                        ))
                        .build(),
                )
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
                .into(),
        );
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    operation.responses.responses.insert(
                        "401".to_owned(),
                        Ref::from_response_name(UNAUTHORIZED_RESPONSE).into(),
                    );
                }
            }
        }
    }
}

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
