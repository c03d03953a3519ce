//! A response body, read in Rust from the response's stream reader, never past
//! [`MAX_BODY_BYTES`]: a server (or a proxy's error page) cannot make the client hold more.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult, Response};

use super::errors::thrown_text;
use crate::answer::ExchangeError;

/// The most of an answer's body that is read: 1 MiB is generous for 1,000 watched jobs.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The body as text (invalid UTF-8 replaced, as `TextDecoder` does), or
/// [`ExchangeError::Malformed`] past [`MAX_BODY_BYTES`], the read cancelled.
pub async fn read_bounded(response: &Response) -> Result<String, ExchangeError> {
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        cancel(response);
        return Err(too_large());
    }
    let Some(stream) = response.body() else {
        return Ok(String::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(|error| ExchangeError::Network(thrown_text(&error)))?
            .unchecked_into();
        if chunk.get_done().unwrap_or(true) {
            break;
        }
        let chunk: Uint8Array = chunk.get_value().unchecked_into();
        let at = bytes.len();
        let end = at + chunk.length() as usize;
        if end > MAX_BODY_BYTES {
            // The rest is not wanted: cancelling also releases the connection.
            settle_quietly(reader.cancel());
            return Err(too_large());
        }
        bytes.resize(end, 0);
        chunk.copy_to(&mut bytes[at..]);
    }
    Ok(decode(bytes))
}

/// Drops a body that will not be read.
pub fn cancel(response: &Response) {
    if let Some(stream) = response.body() {
        settle_quietly(stream.cancel());
    }
}

/// Lets a cancel's promise settle with nobody the wiser: on a stream that has already failed
/// it rejects, and an unhandled rejection would end a Node process.
pub fn settle_quietly(promise: Promise) {
    spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
}

fn too_large() -> ExchangeError {
    ExchangeError::Malformed(format!("the answer is larger than {MAX_BODY_BYTES} bytes"))
}

/// UTF-8 as `TextDecoder` reads it: a leading byte-order mark dropped, invalid sequences
/// replaced by U+FFFD.
fn decode(mut bytes: Vec<u8>) -> String {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned())
}
