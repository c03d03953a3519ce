//! The `Idempotency-Key` header of `POST /jobs` (draft-ietf-httpapi-idempotency-key-header),
//! read from a request: what a key may be, and the `400` for one that is not that. What the
//! keys do, and how they are kept, is the store's: [`crate::store::idempotency`].

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use video_translation_protocol::IDEMPOTENCY_KEY_HEADER;

use crate::error::ApiError;

/// The longest key taken: room for any UUID or hash a client would use.
pub const MAX_KEY_LEN: usize = 255;

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible ASCII characters
/// (`!` to `~`), taken as they are (quotes included, if the client quotes it as the draft's
/// structured-field form does); anything else is `400`. One key only: two are `400` too.
pub fn idempotency_key(request: &HttpRequest) -> Result<Option<&str>, ApiError> {
    const HEADER: HeaderName = HeaderName::from_static(IDEMPOTENCY_KEY_HEADER);
    let mut values = request.headers().get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |why: &str| {
        ApiError::BadRequest(format!(
            "invalid Idempotency-Key: {why}; expected 1 to {MAX_KEY_LEN} visible ASCII \
             characters, such as a UUID"
        ))
    };
    if values.next().is_some() {
        return Err(invalid("sent more than once"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_LEN {
        return Err(invalid(&format!("{} characters", bytes.len())));
    }
    if !bytes.iter().all(|byte| (b'!'..=b'~').contains(byte)) {
        return Err(invalid("a character that is not visible ASCII"));
    }
    // All visible ASCII, so this never fails.
    value.to_str().map(Some).map_err(|_| invalid("not text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters_sent_once() {
        use actix_web::test::TestRequest;
        let key_of = |values: &[&str]| {
            let mut request = TestRequest::post();
            for value in values {
                request = request.append_header((IDEMPOTENCY_KEY_HEADER, *value));
            }
            idempotency_key(&request.to_http_request()).map(|key| key.map(str::to_owned))
        };
        assert_eq!(key_of(&[]).unwrap(), None);
        let longest = "k".repeat(255);
        for good in [
            "a",
            "\"quoted-uuid\"",
            "8e03978e-40d5-43e8-bc93-6894a57f9324",
            &longest,
        ] {
            assert_eq!(key_of(&[good]).unwrap().as_deref(), Some(good));
        }
        for bad in [
            &[""][..],
            &["two words"],
            &["tab\there"],
            &[&"k".repeat(256)],
            &["a", "b"],
        ] {
            assert!(
                matches!(key_of(bad), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
