//! `GET /healthz`: answers while the server serves, and says whether the API asks for a key.
//!
//! Open whatever `--api-key` says, so health checks need no secret and the demo page can learn
//! whether to ask its user for a key before calling the API.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api_key::ApiKeys;

/// The health check's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `"ok"`: any answer at all means the server serves.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// What the API routes ask for.
    pub auth: Auth,
}

/// What the API routes ask for, so a client knows whether it needs a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// Nothing: the server runs without `--api-key`.
    None,
    /// `Authorization: Bearer KEY` with a key given to `--api-key`.
    Bearer,
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, body = Health,
        description = "The server serves. `auth` says what the API routes ask for: `\"none\"`, \
            or `\"bearer\"` when the server runs with `--api-key`.")),
)]
/// `200 {"status": "ok", "auth": "none" | "bearer"}`.
pub async fn healthz(keys: web::Data<ApiKeys>) -> HttpResponse {
    let auth = if keys.is_enabled() {
        Auth::Bearer
    } else {
        Auth::None
    };
    HttpResponse::Ok().json(Health { status: "ok", auth })
}
