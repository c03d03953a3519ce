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
/// caller encodes `id` as a path segment first, if it needs to.
pub fn job_path(template: &str, id: &str) -> String {
    template.replace(&format!("{{{JOB_ID_PARAM}}}"), id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_path_is_its_template_with_the_id_in_place() {
        assert_eq!(job_path(JOB_PATH, "ab12"), "/jobs/ab12");
        assert_eq!(job_path(CANCEL_PATH, "ab12"), "/jobs/ab12/cancel");
        for template in [JOB_PATH, CANCEL_PATH] {
            assert!(template.starts_with(JOBS_PATH), "{template}");
        }
    }
}
