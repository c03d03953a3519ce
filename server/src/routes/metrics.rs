//! `GET /metrics`: the server's metrics in the Prometheus text format (see
//! [`crate::metrics`] for the names).
//!
//! Open whatever `--api-key` says, like `/healthz`: scrapers run on the operators' private
//! network and are rarely given Bearer keys, and the metrics name no job and no key, only
//! counts. A server exposed to the internet should keep `/metrics` inside at its proxy.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use video_translation_protocol::METRICS_PATH;

use crate::metrics::Metrics;
use crate::store::JobStore;

#[utoipa::path(
    get,
    path = METRICS_PATH,
    tag = "operations",
    responses((status = 200, content_type = "text/plain; version=0.0.4",
        description = "Every metric in the Prometheus text format (version 0.0.4): \
            `vts_http_requests_total{route,status}`, `vts_http_request_duration_seconds{route}`, \
            `vts_jobs{state}`, `vts_held_requests{kind}`, `vts_wake_fanout`, \
            `vts_store_operations_total{operation}`, `vts_store_round_trips_total{operation}`, \
            `vts_store_errors_total{operation}`. Open, like `/healthz`.")),
)]
/// `200`, the metrics as Prometheus scrapes them; the job and held-request gauges are read
/// from the store now.
pub async fn metrics(metrics: web::Data<Metrics>, store: web::Data<JobStore>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus::TEXT_FORMAT),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(metrics.render(&store).await)
}
