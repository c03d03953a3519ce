//! `GET /openapi.json`: the API as an OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the protocol's types, so it cannot drift from the code.
//!
//! The document describes the server that serves it: with `--api-key`, the API operations
//! require a Bearer key and may answer `401`; without, a key is optional (any is ignored)
//! and no `401` is listed, since none is ever sent.

use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use video_translation_protocol::stream::{JobsEvent, MissingEvent, OpenEvent};
use video_translation_protocol::{
    CreateJob, EndReason, ErrorBody, ErrorDetail, JobConflict, JobResult, JobStatus, Outcome,
    WatchAnswer, WatchRequest, OPENAPI_PATH,
};

use super::health::{self, Auth, Health};
use super::ready::{self, Ready};
use super::{cancel, jobs, metrics, status, watch};
use crate::api_key::ApiKeys;

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
            one request with `POST /jobs/watch`, or have their ends streamed as server-sent \
            events (`POST /jobs/watch` with `Accept: text/event-stream`). Every error is \
            `{\"error\": {\"code\", \"message\"}}`. A server started with `--api-key` \
            asks for `Authorization: Bearer KEY` on the job routes; `GET /healthz` says \
            whether it does."
    ),
    paths(status::default_job_status, jobs::create, jobs::get, cancel::cancel, watch::watch, health::healthz, ready::readyz, metrics::metrics, openapi_json),
    components(schemas(JobStatus, JobResult, EndReason, CreateJob, Outcome, WatchRequest, WatchAnswer, OpenEvent, MissingEvent, JobsEvent, ErrorBody, ErrorDetail, JobConflict, Health, Auth, Ready)),
    tags(
        (name = "jobs", description = "Create jobs and watch them"),
        (name = "operations", description = "For operators and tools"),
    )
)]
pub struct ApiDoc;

/// The document of a server with API keys (`keys_required`) or without.
pub fn document(keys_required: bool) -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    BearerKeys { keys_required }.modify(&mut openapi);
    openapi
}

/// Declares the Bearer scheme. On a server with keys, every operation that names it
/// (`security(...)` on its handler) requires it and gets the 401 it can then answer, in one
/// place rather than on each handler; on a server without, those operations take a key or
/// none (`[{}, {"api_key": []}]`), and list no 401.
#[derive(Debug)]
struct BearerKeys {
    keys_required: bool,
}

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
        if self.keys_required {
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
        }
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
                let Some(security) = operation.security.as_mut().filter(|s| !s.is_empty()) else {
                    continue;
                };
                if self.keys_required {
                    operation.responses.responses.insert(
                        "401".to_owned(),
                        Ref::from_response_name(UNAUTHORIZED_RESPONSE).into(),
                    );
                } else {
                    // The empty requirement first: no key at all satisfies it.
                    security.insert(0, SecurityRequirement::default());
                }
            }
        }
    }
}

#[utoipa::path(
    get,
    path = OPENAPI_PATH,
    tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json")),
)]
/// The document of this server (with or without API keys), rendered once for each.
pub async fn openapi_json(keys: web::Data<ApiKeys>) -> HttpResponse {
    static WITH_KEYS: OnceLock<String> = OnceLock::new();
    static WITHOUT_KEYS: OnceLock<String> = OnceLock::new();
    let keys_required = keys.is_enabled();
    let rendered = if keys_required {
        &WITH_KEYS
    } else {
        &WITHOUT_KEYS
    };
    let rendered = rendered.get_or_init(|| {
        document(keys_required)
            .to_pretty_json()
            .expect("the generated document serializes")
    });
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(rendered.as_str())
}
