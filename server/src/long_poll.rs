//! Status answers, held while the job is pending if the caller asks (long-polling), with the
//! timing hints every pending answer carries.
//!
//! A caller asks to wait with the `wait` query parameter (no CORS preflight) or the RFC 7240
//! header `Prefer: wait=N`; the server holds the request until the job leaves `pending` or
//! the wait (capped by `--max-wait`) ends, and names the wait it applied in
//! `Preference-Applied`, which tells the caller that long-polling is on offer.

use std::time::Duration;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Deserialize;
use video_translation_protocol::{
    format_wait, parse_wait, wait_preference, JobResult, JobStatus, PREFERENCE_APPLIED_HEADER,
    PREFER_HEADER,
};

use crate::error::{retry_after_seconds, ApiError};
use crate::store::{JobKey, JobStore};

pub(crate) mod final_body;

/// `Content-Type` of a status answer, as `HttpResponseBuilder::json` sets it.
const JSON: &str = "application/json";

/// The query string of a status request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Hold the request up to this many seconds (fractions allowed; capped by `--max-wait`)
    /// until the job leaves `pending`. The header `Prefer: wait=SECONDS` (RFC 7240) does the
    /// same; the query wins when both are given.
    #[param(value_type = Option<f64>, minimum = 0)]
    wait: Option<String>,
}

/// The wait a request asks for: the `wait` query parameter, else `Prefer: wait=N`.
///
/// A malformed query parameter is the caller's explicit mistake and a `400`; a malformed
/// or unknown preference is ignored, as RFC 7240 asks.
pub fn requested_wait(
    request: &HttpRequest,
    query: &WaitQuery,
) -> Result<Option<Duration>, ApiError> {
    if let Some(text) = &query.wait {
        return parse_wait(text).map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "wait must be a number of seconds, 0 or more, got {text:?}"
            ))
        });
    }
    // A `HeaderName`, not the `&str`: looking up by string parses the name on every call.
    const PREFER: HeaderName = HeaderName::from_static(PREFER_HEADER);
    Ok(request
        .headers()
        .get_all(PREFER)
        .filter_map(|value| value.to_str().ok())
        .find_map(wait_preference))
}

/// Answers with job `key`'s status, first holding the request for up to the requested wait
/// (capped by `--max-wait`) while the job is pending; `None` if there is no such job.
pub async fn answer(
    store: &JobStore,
    key: JobKey,
    requested: Option<Duration>,
) -> Result<Option<HttpResponse>, ApiError> {
    let applied = store.long_poll_limits().applied_wait(requested);
    let status = match applied {
        // Boxed: a held request's future (timer, notification) is several times the size of
        // a plain poll's, and every poll would otherwise carry, and move, that space.
        Some(wait) => Box::pin(store.status_after(key, wait)).await?,
        None => store.status(key).await?,
    };
    Ok(status.map(|status| status_response(&status, applied)))
}

/// `200 JobStatus` with the hints: `Retry-After` while pending, and those of
/// [`ok_with_wait_hints`].
pub fn status_response(status: &JobStatus, applied_wait: Option<Duration>) -> HttpResponse {
    let mut response = ok_with_wait_hints(applied_wait);
    if status.result == JobResult::Pending {
        // The time the job is expected to take still; 1 s without an estimate.
        let eta = Duration::from_millis(status.eta_ms.unwrap_or(1000));
        response.insert_header((
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_seconds(eta)),
        ));
    }
    response
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(JSON)))
        .body(final_body::json_body(status))
}

/// A `200` that is never cached (the answer changes with time) and names the wait applied,
/// if any, in `Preference-Applied`.
///
/// No `Vary: Prefer`, though `Prefer` shapes the answer: `no-store` already keeps every cache
/// from reusing it, which is all `Vary` would ask.
pub fn ok_with_wait_hints(applied_wait: Option<Duration>) -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    if let Some(wait) = applied_wait {
        // A `HeaderName`, not the `&str`, which would be parsed again for every answer; the
        // value built in one string, not through `format!`. Both on every held answer.
        const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static(PREFERENCE_APPLIED_HEADER);
        let mut value = String::from("wait=");
        value.push_str(&format_wait(wait));
        let value = HeaderValue::try_from(value).expect("wait=, digits and a dot are valid");
        response.insert_header((PREFERENCE_APPLIED, value));
    }
    response
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn wait_of(query: Option<&str>, prefer: Option<&str>) -> Result<Option<Duration>, ApiError> {
        let mut request = TestRequest::get();
        if let Some(prefer) = prefer {
            request = request.insert_header((PREFER_HEADER, prefer));
        }
        let query = WaitQuery {
            wait: query.map(str::to_owned),
        };
        requested_wait(&request.to_http_request(), &query)
    }

    #[test]
    fn the_query_parameter_takes_seconds_with_fractions() {
        assert_eq!(
            wait_of(Some("30"), None).unwrap(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            wait_of(Some("0.25"), None).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(wait_of(None, None).unwrap(), None);
    }

    #[test]
    fn a_malformed_query_parameter_is_a_bad_request() {
        for bad in ["-1", "soon", "NaN", "inf", ""] {
            assert!(
                matches!(wait_of(Some(bad), None), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_prefer_header_is_read_among_other_preferences() {
        assert_eq!(
            wait_of(None, Some("wait=10")).unwrap(),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            wait_of(None, Some("respond-async, Wait = 5")).unwrap(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(wait_of(None, Some("return=minimal")).unwrap(), None);
        assert_eq!(
            wait_of(None, Some("wait=soon")).unwrap(),
            None,
            "bad preferences are ignored"
        );
        assert_eq!(
            wait_of(Some("2"), Some("wait=10")).unwrap(),
            Some(Duration::from_secs(2)),
            "the query wins"
        );
    }
}
