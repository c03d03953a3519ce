//! `GET /healthz`: answers while the server serves.

use actix_web::HttpResponse;

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}` while the server serves")),
)]
/// `200 {"status": "ok"}`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}
