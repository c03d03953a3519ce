//! Reading a request body as JSON, the same way on every route that takes one: first its
//! declared `Content-Type`, then exactly one JSON object and nothing after it.
//!
//! Strict because a lenient reader answers requests nobody meant: `{} xyz` or two objects
//! back to back used to create a job from the first and silently drop the rest.

use actix_web::{HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Which declared body types a route reads as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// `application/json` (parameters such as `; charset=utf-8` allowed), nothing else.
    JsonOnly,
    /// `application/json`, and, for callers older than that rule, also `text/plain` (what
    /// `fetch` declares for a string body, as the repository's own scripts send) or no
    /// `Content-Type` at all.
    JsonOrUndeclared,
}

/// How a route reads its body: what it calls the body in messages, an example of a good
/// one, and which declared types it accepts.
#[derive(Debug, Clone, Copy)]
pub struct JsonBody {
    /// The body's name in error messages: "job request".
    pub what: &'static str,
    /// A valid body, shown in error messages.
    pub example: &'static str,
    /// The declared types read as JSON; any other is `415`.
    pub declared: Declared,
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
        let refused = |declared: &str| {
            let accepted = match self.declared {
                Declared::JsonOnly => "application/json",
                Declared::JsonOrUndeclared => "application/json (or no Content-Type)",
            };
            ApiError::UnsupportedMediaType(format!(
                "the {} must be sent as {accepted}, not {declared:?}",
                self.what
            ))
        };
        let raw = || {
            request
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .map_or("", |value| value.to_str().unwrap_or("(not text)"))
                .to_owned()
        };
        // Parsed, so case, spacing and parameters (`; charset=utf-8`) do not matter.
        let mime = request.mime_type().map_err(|_| refused(&raw()))?;
        let accepted = match (&mime, self.declared) {
            (Some(mime), _) if mime.essence_str() == "application/json" => true,
            (None, Declared::JsonOrUndeclared) => true,
            (Some(mime), Declared::JsonOrUndeclared) => mime.essence_str() == "text/plain",
            (None, Declared::JsonOnly) => false,
            (Some(_), Declared::JsonOnly) => false,
        };
        if accepted {
            Ok(())
        } else {
            Err(refused(&raw()))
        }
    }
}
