//! `GET /healthz`: answers while the server serves.

use actix_web::HttpResponse;

/// `200 {"status": "ok"}`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}
