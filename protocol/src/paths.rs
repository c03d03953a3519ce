//! The path of every route the server serves, one constant each, for the server that routes
//! them and the clients that build URLs from them. The two paths of one job are templates
//! with an `{id}` in them, as the server's router and the OpenAPI document write them.

/// The seeds' status route, for the server's default job: `GET /status`.
pub const STATUS_PATH: &str = "/status";

/// Where jobs are created: `POST /jobs` with an optional `CreateJob`. Also the prefix of
/// every job's own paths.
pub const JOBS_PATH: &str = "/jobs";

/// A job's status: `GET /jobs/{id}`. A template: [`job_path`] puts an id in it.
pub const JOB_PATH: &str = "/jobs/{id}";

/// Cancels a job: `POST /jobs/{id}/cancel`. A template: [`job_path`] puts an id in it.
pub const CANCEL_PATH: &str = "/jobs/{id}/cancel";

/// Where many jobs are watched in one request: `POST /jobs/watch` with a `WatchRequest`.
pub const WATCH_PATH: &str = "/jobs/watch";

/// The liveness check: `GET /healthz`, `200` while the server serves.
pub const HEALTH_PATH: &str = "/healthz";

/// The readiness check: `GET /readyz`, `200` while the job store answers.
pub const READY_PATH: &str = "/readyz";

/// The server's metrics in the Prometheus text format: `GET /metrics`.
pub const METRICS_PATH: &str = "/metrics";

/// The OpenAPI document of every route: `GET /openapi.json`.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The name of the job id's path parameter in [`JOB_PATH`] and [`CANCEL_PATH`].
pub const JOB_ID_PARAM: &str = "id";

/// `template` ([`JOB_PATH`] or [`CANCEL_PATH`]) with `id` in place of its `{id}`: the
/// caller encodes `id` as a path segment first, if it needs to. Any other path comes back as
/// it is.
pub fn job_path(template: &str, id: &str) -> String {
    // Every job template is JOB_PATH and a tail (the tests say so), so it is put together
    // rather than searched for `{id}`: the wasm client builds its URLs with this, and a search
    // costs its module more (gzipped: 1.5 KB with `str::replace`, 0.3 KB with `split_once`).
    match template.strip_prefix(JOB_PATH) {
        Some(tail) => format!("{JOBS_PATH}/{id}{tail}"),
        None => template.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_path_is_its_template_with_the_id_in_place() {
        assert_eq!(job_path(JOB_PATH, "ab12"), "/jobs/ab12");
        assert_eq!(job_path(CANCEL_PATH, "ab12"), "/jobs/ab12/cancel");
        for path in [STATUS_PATH, JOBS_PATH, WATCH_PATH] {
            assert_eq!(job_path(path, "ab12"), path, "no template");
        }
    }

    #[test]
    fn every_job_template_is_the_jobs_path_the_id_then_a_tail() {
        assert_eq!(JOB_PATH, format!("{JOBS_PATH}/{{{JOB_ID_PARAM}}}"));
        assert!(CANCEL_PATH.starts_with(JOB_PATH));
    }
}
