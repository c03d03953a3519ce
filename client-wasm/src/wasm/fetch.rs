//! One HTTP exchange: the request built with web-sys (`Headers`, `RequestInit`), sent through
//! the *global* `fetch` as gloo-net binds it (so one build runs in a window, a Worker, Node,
//! Deno and Bun) or through the caller's `fetch` option, awaited as a `JsFuture`, and bounded
//! in time by a gloo-timers timeout. Dropping the future aborts the request.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, RequestRedirect, Response, ResponseType, Url};

use super::abort::AbortOnDrop;
use super::body::{cancel, read_bounded};
use super::errors::thrown_text;
use crate::answer::ExchangeError;
use crate::hints::{applies_wait, parse_retry_after};
use crate::millis::whole_millis;
use video_translation_protocol::stream::LAST_EVENT_ID_HEADER;
use video_translation_protocol::{
    IDEMPOTENCY_KEY_HEADER, PREFERENCE_APPLIED_HEADER, RETRY_AFTER_HEADER,
};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, wherever it lives: `window`, a worker's `self`, or a server-side
    /// runtime's `globalThis`.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

const JSON: &str = "application/json";
const STREAM_OR_JSON: &str = "text/event-stream, application/json;q=0.5";

/// Redirects followed within the same origin, at most, for one request.
pub const MAX_REDIRECTS: u32 = 3;

/// What to send, as often as it is sent.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// A JSON body.
    pub json_body: Option<String>,
    /// The `Idempotency-Key` that makes a repeated `POST /jobs` safe.
    pub idempotency_key: Option<String>,
    /// Ask for an event stream (`Accept: text/event-stream`) rather than JSON.
    pub event_stream: bool,
    /// The stream's cursor to resume after (`Last-Event-ID`).
    pub last_event_id: Option<String>,
}

/// A request body as JSON text: serde-wasm-bindgen to a JS value, then `JSON.stringify`.
pub fn json(body: &impl serde::Serialize) -> String {
    serde_wasm_bindgen::to_value(body)
        .ok()
        .and_then(|value| js_sys::JSON::stringify(&value).ok())
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// The client's `headers` and `fetch` options: how every request is made.
#[derive(Debug, Clone, Default)]
pub struct RequestSetup {
    /// Extra headers: an object, a `Headers`, `[name, value]` pairs, or a function called
    /// before each request, sync or async, returning one of those.
    pub headers: Option<JsValue>,
    /// A fetch-compatible function used instead of the global `fetch`.
    pub fetch: Option<Function>,
}

/// An HTTP answer, its body read in full.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The `Retry-After` header, in seconds, if present and well-formed.
    pub retry_after: Option<Duration>,
    /// `Preference-Applied` named the wait: the server long-polled.
    pub long_polled: bool,
}

/// Sends `outgoing` and reads its answer, within `timeout`; the request is aborted when the
/// time runs out or the returned future is dropped.
pub async fn exchange(
    outgoing: &Outgoing,
    setup: &RequestSetup,
    timeout: Duration,
) -> Result<Reply, ExchangeError> {
    let controller = AbortOnDrop::new().map_err(|error| network(&error))?;
    let sending = pin!(async {
        let response = respond(outgoing, setup, controller.signal()).await?;
        reply_of(&response).await
    });
    match select(sending, TimeoutFuture::new(timer_ms(timeout))).await {
        Either::Left((reply, _)) => reply,
        Either::Right(_) => Err(ExchangeError::TimedOut),
    }
}

/// Sends `outgoing`, following redirects within its origin, and gives the final response,
/// its body not read yet; `signal` aborts it.
pub async fn respond(
    outgoing: &Outgoing,
    setup: &RequestSetup,
    signal: AbortSignal,
) -> Result<Response, ExchangeError> {
    let headers = headers(outgoing, setup).await?;
    let init = RequestInit::new();
    init.set_method(outgoing.method);
    init.set_headers(&headers);
    if let Some(body) = &outgoing.json_body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_signal(Some(&signal));
    // Redirects are followed here, not by fetch: a loop or a hop to another origin is the
    // server's fault, to report at once rather than retry (fetch would follow 20 hops, and
    // a browser would report the loop as a network error). The same request goes to the new
    // place, as 307 and 308 ask; a status API has no use for the older codes' switch to GET.
    init.set_redirect(RequestRedirect::Manual);
    let origin = origin_of(&outgoing.url)?;
    let mut target = outgoing.url.clone();
    for hop in 0.. {
        let response = fetch(setup, &target, &init).await?;
        if response.type_() == ResponseType::Opaqueredirect {
            // A browser hides where a redirect goes: let it follow this one, then check where
            // it ended.
            init.set_redirect(RequestRedirect::Follow);
            return follow_in_browser(setup, &outgoing.url, &init, &origin).await;
        }
        let location = match response.status() {
            300..=399 => response.headers().get("location").ok().flatten(),
            _ => None,
        };
        let Some(location) = location else {
            return Ok(response);
        };
        cancel(&response);
        let next = Url::new_with_base(&location, &target).map_err(|_| {
            ExchangeError::NotTheContract(format!(
                "a redirect to a location that is not a URL: {location}"
            ))
        })?;
        if next.origin() != origin {
            return Err(ExchangeError::NotTheContract(format!(
                "redirected to another origin: {}",
                next.href()
            )));
        }
        if hop == MAX_REDIRECTS {
            return Err(ExchangeError::NotTheContract(format!(
                "more than {MAX_REDIRECTS} redirects, the last to {}",
                next.href()
            )));
        }
        target = next.href();
    }
    unreachable!("the loop returns by its last hop")
}

/// The request's headers: the caller's first, then the ones the contract needs.
async fn headers(outgoing: &Outgoing, setup: &RequestSetup) -> Result<Headers, ExchangeError> {
    let extra = match &setup.headers {
        Some(headers) => match headers.dyn_ref::<Function>() {
            // Called before each request, so rotating tokens are fresh; may be async.
            Some(make) => Some(settled(make.call0(&JsValue::UNDEFINED)).await?),
            None => Some(headers.clone()),
        },
        None => None,
    };
    let headers = match extra.filter(|extra| !extra.is_undefined() && !extra.is_null()) {
        // `new Headers(init)` takes an object, a Headers or pairs alike.
        Some(extra) => Headers::new_with_str_sequence_sequence(&extra),
        None => Headers::new(),
    }
    .map_err(|error| {
        ExchangeError::Network(format!("the headers option: {}", thrown_text(&error)))
    })?;
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|error| ExchangeError::Network(thrown_text(&error)))
    };
    // A stream is asked for with JSON as the second choice: a server without streams answers
    // the watch as it always has.
    set(
        "accept",
        if outgoing.event_stream {
            STREAM_OR_JSON
        } else {
            JSON
        },
    )?;
    if let Some(cursor) = &outgoing.last_event_id {
        set(LAST_EVENT_ID_HEADER, cursor)?;
    }
    if outgoing.json_body.is_some() {
        set("content-type", "application/json")?;
    }
    if let Some(key) = &outgoing.idempotency_key {
        set(IDEMPOTENCY_KEY_HEADER, key)?;
    }
    Ok(headers)
}

/// A value that may be a promise, awaited; what it throws or rejects with is a network error.
async fn settled(value: Result<JsValue, JsValue>) -> Result<JsValue, ExchangeError> {
    let value = value.map_err(|error| network(&error))?;
    JsFuture::from(Promise::resolve(&value))
        .await
        .map_err(|error| network(&error))
}

/// One request through the caller's `fetch` or the global one.
async fn fetch(
    setup: &RequestSetup,
    url: &str,
    init: &RequestInit,
) -> Result<Response, ExchangeError> {
    let sent = match &setup.fetch {
        // Called as a plain function: the global fetch itself, passed as the option, throws
        // when called on another `this`.
        Some(fetch) => fetch.call2(&JsValue::UNDEFINED, &JsValue::from_str(url), init),
        None => global_fetch(url, init).map(JsValue::from),
    };
    // Not checked with `instanceof`: a polyfill's or a test's Response is read alike.
    Ok(settled(sent).await?.unchecked_into())
}

async fn follow_in_browser(
    setup: &RequestSetup,
    url: &str,
    init: &RequestInit,
    origin: &str,
) -> Result<Response, ExchangeError> {
    let response = fetch(setup, url, init).await.map_err(|error| {
        ExchangeError::NotTheContract(format!(
            "redirects from {url} did not end (a loop?): {error}"
        ))
    })?;
    if origin_of(&response.url())? != origin {
        cancel(&response);
        return Err(ExchangeError::NotTheContract(format!(
            "redirected to another origin: {}",
            response.url()
        )));
    }
    Ok(response)
}

/// What the client reads of an answer: its status, its body (bounded) and two headers.
pub async fn reply_of(response: &Response) -> Result<Reply, ExchangeError> {
    let header = |name: &str| response.headers().get(name).ok().flatten();
    Ok(Reply {
        status: response.status(),
        retry_after: header(RETRY_AFTER_HEADER).and_then(|value| parse_retry_after(&value)),
        long_polled: header(PREFERENCE_APPLIED_HEADER).is_some_and(|value| applies_wait(&value)),
        body: read_bounded(response).await?,
    })
}

fn origin_of(url: &str) -> Result<String, ExchangeError> {
    Url::new(url)
        .map(|url| url.origin())
        .map_err(|_| ExchangeError::NotTheContract(format!("not a URL: {url}")))
}

pub fn network(error: &JsValue) -> ExchangeError {
    ExchangeError::Network(thrown_text(error))
}

/// `setTimeout` takes a signed 32-bit delay; longer ones fire at once. Clamped to its
/// maximum (about 24.8 days), which no sane poll gap reaches.
pub fn timer_ms(delay: Duration) -> u32 {
    u32::try_from(whole_millis(delay))
        .unwrap_or(u32::MAX)
        .min(i32::MAX as u32)
}
