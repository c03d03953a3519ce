//! API keys (`--api-key`): when the server has any, its API routes answer only requests that
//! carry one in `Authorization: Bearer KEY`; the others get a JSON 401 with
//! `WWW-Authenticate: Bearer`.
//!
//! Keys are checked without leaking them through timing: the presented key is hashed
//! (SHA-256) and its digest compared with every configured key's digest in constant time
//! (`subtle`), without stopping at the first match. The time taken depends on the length of
//! what the caller sent and on the number of keys, never on the keys' bytes or lengths.
//!
//! Only the API routes are guarded ([`crate::startup`] wraps each one): the health check, the
//! OpenAPI document, the demo page and the npm package stay open, so the page can load and
//! learn (`GET /healthz`) that it must ask for a key. CORS preflights never reach the guard
//! (the CORS middleware answers them), and browsers send no credentials with them anyway.

use std::str::FromStr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::ApiError;

/// One key, as given to `--api-key`: a token68 (RFC 9110 §11.2), the only form a Bearer
/// credential may take, so any key the server accepts can be sent in a header.
///
/// Its `Debug` form hides the key, so logging the settings cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key as clients send it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<hidden>)")
    }
}

impl FromStr for ApiKey {
    type Err = String;

    /// Surrounding whitespace is dropped (`VTS_API_KEYS="k1, k2"`); what is left must be a
    /// token68: letters, digits, `-._~+/`, then any `=` padding. Messages never repeat the
    /// key.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let key = text.trim();
        if key.is_empty() {
            return Err("an API key cannot be empty".to_owned());
        }
        let body_end = key.trim_end_matches('=').len();
        if body_end == 0 {
            return Err("an API key cannot be only `=` padding".to_owned());
        }
        let is_token_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/');
        if let Some((at, c)) = key[..body_end]
            .char_indices()
            .find(|&(_, c)| !is_token_char(c))
        {
            return Err(format!(
                "an API key may hold only letters, digits and `-._~+/`, then `=` padding \
                 (a Bearer token68), so it can travel in a header; found {c:?} at byte {at}"
            ));
        }
        Ok(ApiKey(key.to_owned()))
    }
}

/// The keys the server accepts, kept only as digests; empty means the API is open.
#[derive(Clone, Default)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("count", &self.digests.len())
            .finish()
    }
}

impl ApiKeys {
    /// The verifier for `keys`, as `--api-key` parsed them.
    pub fn new(keys: &[ApiKey]) -> Self {
        ApiKeys {
            digests: keys
                .iter()
                .map(|key| digest(key.as_str().as_bytes()))
                .collect(),
        }
    }

    /// Whether any key is set; without one the API routes are open and the guard is left out.
    pub fn is_enabled(&self) -> bool {
        !self.digests.is_empty()
    }

    /// Whether `presented` is one of the keys. Every key is compared, in constant time, even
    /// after a match: the answer's timing tells nothing about which key, or how much of one,
    /// matched.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        let presented = digest(presented);
        let matched = self.digests.iter().fold(Choice::from(0), |matched, key| {
            matched | key.ct_eq(&presented)
        });
        matched.into()
    }

    /// `Ok` when the request's `Authorization` header carries an accepted Bearer key, else the
    /// 401 that says what is missing.
    fn check(&self, authorization: Option<&header::HeaderValue>) -> Result<(), ApiError> {
        let Some(value) = authorization else {
            return Err(ApiError::Unauthorized {
                message: "this server needs an API key: send `Authorization: Bearer KEY`"
                    .to_owned(),
                invalid_key: false,
            });
        };
        let value = value.as_bytes();
        // `Bearer <token68>`: the scheme is case-insensitive, then one or more spaces. A token68
        // holds no whitespace, so any around it is not part of the key.
        let (scheme, rest) = value
            .iter()
            .position(|&byte| byte == b' ')
            .map_or((value, &[][..]), |space| value.split_at(space));
        let key = rest.trim_ascii();
        if !scheme.eq_ignore_ascii_case(b"Bearer") || key.is_empty() {
            return Err(ApiError::Unauthorized {
                message: "the Authorization header is not `Bearer KEY`, the only scheme this \
                    server takes"
                    .to_owned(),
                invalid_key: false,
            });
        }
        if !self.accepts(key) {
            return Err(ApiError::Unauthorized {
                message: "the API key is not one this server accepts".to_owned(),
                invalid_key: true,
            });
        }
        Ok(())
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Middleware body for the API routes (`actix_web::middleware::from_fn` with a closure that
/// hands it `keys`): answers 401 to a request without an accepted key in
/// `Authorization: Bearer KEY`, when `keys` hold any. The keys are passed in, not looked up in
/// the app data, so a route cannot be left open by a missing registration. `OPTIONS` passes:
/// browsers send no credentials with it, and it changes nothing (CORS answers preflights
/// before they get here; any other `OPTIONS` gets a 405).
pub async fn require_api_key<B: MessageBody + 'static>(
    keys: web::Data<ApiKeys>,
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let verdict = if keys.is_enabled() && request.method() != Method::OPTIONS {
        keys.check(request.headers().get(header::AUTHORIZATION))
    } else {
        Ok(())
    };
    crate::error::pass_or_refuse(verdict, request, next).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(keys: &[&str]) -> ApiKeys {
        let keys: Vec<ApiKey> = keys.iter().map(|key| key.parse().unwrap()).collect();
        ApiKeys::new(&keys)
    }

    fn check(keys: &ApiKeys, authorization: Option<&str>) -> Result<(), ApiError> {
        let value = authorization.map(|text| header::HeaderValue::from_str(text).unwrap());
        keys.check(value.as_ref())
    }

    #[test]
    fn token68_keys_parse_and_surrounding_whitespace_is_dropped() {
        for (text, key) in [
            ("s3cr3t", "s3cr3t"),
            (" k1 ", "k1"),
            ("a-b.c_d~e+f/g==", "a-b.c_d~e+f/g=="),
        ] {
            assert_eq!(text.parse::<ApiKey>().unwrap().as_str(), key);
        }
    }

    #[test]
    fn keys_that_cannot_travel_as_a_bearer_token_are_refused_without_echoing_them() {
        for bad in [
            "",
            "   ",
            "==",
            "two words",
            "k=ey",
            "ké",
            "a,b",
            "quote\"d",
            "tab\tkey",
        ] {
            let message = bad.parse::<ApiKey>().unwrap_err();
            assert!(message.starts_with("an API key"), "{bad:?}: {message}");
        }
        let message = "secret value".parse::<ApiKey>().unwrap_err();
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn debug_output_hides_the_keys() {
        let key: ApiKey = "hunter2".parse().unwrap();
        assert!(!format!("{key:?}").contains("hunter2"));
        assert!(!format!("{:?}", ApiKeys::new(&[key])).contains("hunter2"));
    }

    #[test]
    fn every_configured_key_is_accepted_and_nothing_else() {
        let keys = keys(&["first-key", "second-key"]);
        assert!(keys.accepts(b"first-key"));
        assert!(keys.accepts(b"second-key"));
        for wrong in [
            &b""[..],
            b"first",
            b"first-key ",
            b"FIRST-KEY",
            b"second-keyx",
        ] {
            assert!(!keys.accepts(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn without_keys_nothing_is_enabled() {
        let keys = ApiKeys::default();
        assert!(!keys.is_enabled());
        assert!(!keys.accepts(b""), "no key matches when there are none");
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_may_take_several_spaces() {
        let keys = keys(&["k1"]);
        for good in ["Bearer k1", "bearer k1", "BEARER   k1", "Bearer k1 "] {
            assert!(check(&keys, Some(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn missing_other_schemes_and_wrong_keys_are_told_apart() {
        let keys = keys(&["k1"]);
        let refusal = |authorization| match check(&keys, authorization) {
            Err(ApiError::Unauthorized { invalid_key, .. }) => invalid_key,
            other => panic!("{authorization:?}: expected 401, got {other:?}"),
        };
        assert!(!refusal(None));
        for not_bearer in [
            "Basic azE6",
            "k1",
            "Bearer",
            "Bearer ",
            "Bearerk1",
            "Token k1",
        ] {
            assert!(!refusal(Some(not_bearer)), "{not_bearer}");
        }
        for wrong in ["Bearer k2", "Bearer k1x", "Bearer K1", "Bearer k1 k1"] {
            assert!(refusal(Some(wrong)), "{wrong}");
        }
    }
}
