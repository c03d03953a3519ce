//! Every error answer, in the contract's one JSON shape:
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Handlers return [`ApiError`]. Errors raised by the framework itself (an oversized body,
//! a failed extractor) are rewritten into the same shape by [`json_error_bodies`], so no
//! caller ever sees a plain-text error.

use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError};
use video_translation_protocol::{ErrorBody, ErrorDetail, JobConflict, JobStatus};

use crate::store::StoreError;

/// What a handler can answer instead of a success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such job, file or route.
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed: the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// The route exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is declared as a type the route does not read (`Content-Type`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The API asks for a key (`--api-key`) and the request has none, or not an accepted one;
    /// answered with `WWW-Authenticate: Bearer`.
    #[error("{message}")]
    Unauthorized {
        /// What is missing or wrong; never the key itself.
        message: String,
        /// A Bearer key was sent but is not accepted (RFC 6750's `invalid_token`), as opposed
        /// to no Bearer key at all.
        invalid_key: bool,
    },
    /// The job is not in a state that allows this: cancelling a job that already ended by
    /// running its course. The body carries the job's status ([`JobConflict`]).
    #[error("{message}")]
    Conflict {
        /// Why it cannot be done.
        message: String,
        /// The job as it is.
        status: Box<JobStatus>,
    },
    /// The request is well-formed but contradicts an earlier one: an `Idempotency-Key` used
    /// before with another body.
    #[error("{0}")]
    Unprocessable(String),
    /// The caller may not do this: a browser page from an origin `--cors-origin` does not list.
    #[error("{0}")]
    Forbidden(String),
    /// The request's body did not arrive in time (`--body-timeout`).
    #[error("{0}")]
    RequestTimeout(String),
    /// The server is full (jobs or long-polls), or its job store does not answer;
    /// `Retry-After` says when to ask again.
    #[error("{message}")]
    Unavailable {
        /// What is full.
        message: String,
        /// When to ask again.
        retry_after: Duration,
    },
    /// This caller sent too many requests; `Retry-After` says when to ask again.
    #[error("{message}")]
    TooManyRequests {
        /// The limit.
        message: String,
        /// When to ask again.
        retry_after: Duration,
    },
}

/// What an answer says of a store failure: the store has its own words (see
/// [`StoreError`]'s `Display`); these are the contract's.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Busy {
                reason,
                retry_after,
            } => ApiError::Unavailable {
                message: reason,
                retry_after,
            },
            // Never the detail: it may name Redis's address, a script's hash or its error.
            StoreError::Unavailable(_) => ApiError::Unavailable {
                message: "the job store cannot serve this request now; ask again after \
                          Retry-After"
                    .to_owned(),
                retry_after: StoreError::UNAVAILABLE_RETRY_AFTER,
            },
            StoreError::KeyReused(key) => ApiError::Unprocessable(format!(
                "the Idempotency-Key {key:?} was used with another body; use a new key for \
                 another job"
            )),
        }
    }
}

impl ApiError {
    /// The stable, machine-readable `code` of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::TooManyRequests { .. } => "too_many_requests",
        }
    }

    /// When to ask again, for the errors that have an answer to that.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Unavailable { retry_after, .. }
            | ApiError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// `Retry-After` in whole seconds (RFC 9110), rounded up and at least 1: "0" would invite
/// an immediate retry of something that just failed.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(wait) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds(wait).to_string()));
        }
        if let ApiError::Unauthorized { invalid_key, .. } = self {
            // RFC 6750 §3: a bare challenge when no Bearer key came, `invalid_token` when one
            // did but is not accepted.
            let challenge = if *invalid_key {
                r#"Bearer error="invalid_token""#
            } else {
                "Bearer"
            };
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let ApiError::Conflict { status, .. } = self {
            return response.json(JobConflict {
                error: ErrorDetail {
                    code: self.code().to_owned(),
                    message: self.to_string(),
                },
                status: (**status).clone(),
            });
        }
        response.json(ErrorBody::new(self.code(), self.to_string()))
    }
}

/// Middleware that rewrites any error response that is not already JSON into the contract's
/// shape, keeping its status and the framework's own description as the message.
pub fn json_error_bodies<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(rewrite_as_json)
}

fn rewrite_as_json<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }

    let status = response.status();
    let message = response
        .response()
        .error()
        .map(|error| error.to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let body = ErrorBody::new(code_for(status), message);

    let (request, old) = response.into_parts();
    let mut rewritten = HttpResponse::build(status).json(body);
    // Keep headers the framework set for a reason (Allow, Retry-After, CORS), but not the
    // ones that described the old body.
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            // Appended: a header may come more than once (Vary).
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    let rewritten: HttpResponse<EitherBody<B, BoxBody>> = rewritten.map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(
        request, rewritten,
    )))
}

/// The error code for a status the framework produced on its own.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        status if status.is_client_error() => "bad_request",
        _ => "internal",
    }
}

/// The end of a gatekeeping middleware (origin, rate limit, API key): the request goes on to
/// what is behind, or is answered with `verdict`'s error in the JSON shape without it.
pub async fn pass_or_refuse<B: actix_web::body::MessageBody + 'static>(
    verdict: Result<(), ApiError>,
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    match verdict {
        Ok(()) => next
            .call(request)
            .await
            .map(actix_web::dev::ServiceResponse::map_into_left_body),
        Err(error) => Ok(request.error_response(error).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_never_zero() {
        assert_eq!(retry_after_seconds(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_seconds(Duration::from_millis(29_001)), 30);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
    }
}
