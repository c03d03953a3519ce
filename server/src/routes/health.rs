//! `GET /healthz`: answers while the server serves, and says whether the API asks for a key.
//!
//! Open whatever `--api-key` says, so health checks need no secret and the demo page can learn
//! whether to ask its user for a key before calling the API.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use video_translation_protocol::HEALTH_PATH;

use crate::api_key::ApiKeys;

/// The health check's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `"ok"`: any answer at all means the server serves.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// What the API routes ask for; absent when they ask for nothing, so an open server
    /// answers `{"status": "ok"}` exactly as before keys existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
}

/// What the API routes ask for, so a client knows it needs a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// `Authorization: Bearer KEY` with a key given to `--api-key`.
    Bearer,
}

#[utoipa::path(
    get,
    path = HEALTH_PATH,
    tag = "operations",
    responses((status = 200, body = Health,
        description = "The server serves. `\"auth\": \"bearer\"` when it runs with \
            `--api-key` and its API routes ask for a key; without `auth`, they ask for none.")),
)]
/// `200 {"status": "ok"}`, with `"auth": "bearer"` when the API asks for a key.
pub async fn healthz(keys: web::Data<ApiKeys>) -> HttpResponse {
    let auth = keys.is_enabled().then_some(Auth::Bearer);
    HttpResponse::Ok().json(Health { status: "ok", auth })
}
