//! Answers for requests no route takes.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;

/// `404` for a path the server does not have.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    ApiError::NotFound(format!(
        "no route for {} {}",
        request.method(),
        request.path()
    ))
    .error_response()
}

/// `404` as a raw service, for the static-file services' default handler.
pub async fn not_found_service(request: ServiceRequest) -> actix_web::Result<ServiceResponse> {
    let (request, _) = request.into_parts();
    let response = not_found(request.clone()).await;
    Ok(ServiceResponse::new(request, response))
}

/// `405` with an `Allow` header, for a known path asked with the wrong method.
pub fn method_not_allowed(
    allowed: &'static str,
) -> impl Fn(HttpRequest) -> std::future::Ready<HttpResponse> + Clone {
    move |request: HttpRequest| {
        let mut response = ApiError::MethodNotAllowed(format!(
            "{} is not allowed on {}; use {allowed}",
            request.method(),
            request.path()
        ))
        .error_response();
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allowed),
        );
        std::future::ready(response)
    }
}
