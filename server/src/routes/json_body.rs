//! Reading a request body as JSON, the same way on every route that takes one: first its
//! declared `Content-Type`, then exactly one JSON object and nothing after it.
//!
//! Strict because a lenient reader answers requests nobody meant: `{} xyz` or two objects
//! back to back used to create a job from the first and silently drop the rest.

use actix_web::{HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// How a route reads its body: what it calls the body in messages and an example of a good
/// one.
///
/// The body must be declared `application/json` (parameters such as `; charset=utf-8`
/// allowed), even when empty: a `text/plain` or undeclared `POST` is a "simple" request that
/// a page of any origin may send without a CORS preflight, so accepting one would let such a
/// page change things here even when `--cors-origin` refuses its preflights.
#[derive(Debug, Clone, Copy)]
pub struct JsonBody {
    /// The body's name in error messages: "job request".
    pub what: &'static str,
    /// A valid body, shown in error messages.
    pub example: &'static str,
}

impl JsonBody {
    /// The body as one `T`, or `None` if it is empty (whitespace only). `415` for a type
    /// the route does not read; `400` for anything but a single JSON object of `T`'s shape,
    /// with a message naming the offending field when there is one.
    pub fn read<T: DeserializeOwned>(
        &self,
        request: &HttpRequest,
        body: &[u8],
    ) -> Result<Option<T>, ApiError> {
        self.check_declared_type(request)?;
        let body = body.trim_ascii();
        if body.is_empty() {
            return Ok(None);
        }
        // serde would also read a struct from a JSON array; the contract says object.
        if !body.starts_with(b"{") {
            return Err(self.invalid("the body is not a JSON object"));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        // The path names the offending field: "duration_ms: invalid type: string ...".
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if path == "." {
                self.invalid(inner)
            } else {
                self.invalid(format!("{path}: {inner}"))
            }
        })?;
        // Whitespace may follow the object; anything else is a second value or garbage.
        deserializer.end().map_err(|error| self.invalid(error))?;
        Ok(Some(value))
    }

    /// `400` saying what is wrong with the body and what a good one looks like.
    pub fn invalid(&self, reason: impl std::fmt::Display) -> ApiError {
        ApiError::BadRequest(format!(
            "invalid {}: {reason}; expected a JSON object like {}",
            self.what, self.example
        ))
    }

    fn check_declared_type(&self, request: &HttpRequest) -> Result<(), ApiError> {
        // Parsed, so case, spacing and parameters (`; charset=utf-8`) do not matter.
        let mime = request.mime_type().ok().flatten();
        if mime.is_some_and(|mime| mime.essence_str() == "application/json") {
            return Ok(());
        }
        let declared = match request.headers().get(actix_web::http::header::CONTENT_TYPE) {
            None => "none".to_owned(),
            Some(value) => format!("{:?}", value.to_str().unwrap_or("(not text)")),
        };
        Err(ApiError::UnsupportedMediaType(format!(
            "the {} must be declared Content-Type: application/json (declared: {declared})",
            self.what
        )))
    }
}
