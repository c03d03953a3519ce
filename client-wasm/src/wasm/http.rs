//! One HTTP exchange through the global `fetch`, bounded in time and abortable.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, Request, RequestInit, Response};

use super::abort::{clamp_to_timer, AbortWatch};
use super::globals::fetch_with_request;
use crate::hints::parse_retry_after;
use video_translation_protocol::{wait_preference, PREFERENCE_APPLIED_HEADER, RETRY_AFTER_HEADER};

/// An HTTP answer, its body read in full.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The `Retry-After` header, in seconds, if present and well-formed.
    pub retry_after: Option<Duration>,
    /// The wait named by `Preference-Applied`: the server long-polled.
    pub wait_applied: Option<Duration>,
}

/// Why no [`Reply`] came.
#[derive(Debug)]
pub enum Failure {
    /// The network failed (refused, reset, DNS, CORS): the message says how.
    Network(String),
    /// No complete answer within the time limit; the request was cancelled.
    TimedOut,
    /// The caller's signal fired; the request was cancelled (or never sent).
    Aborted,
}

/// A request to send.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: &'a str,
    /// A JSON body, for `POST`.
    pub json_body: Option<&'a str>,
    /// Limit for the whole exchange, body included.
    pub timeout: Duration,
}

impl Exchange<'_> {
    /// Sends the request and reads the whole answer, unless `timeout` passes or `signal`
    /// fires first; in both cases the request is cancelled. Nothing is sent if `signal`
    /// has already fired.
    pub async fn send(self, signal: Option<&AbortSignal>) -> Result<Reply, Failure> {
        let abort = AbortWatch::new(signal);
        if abort.is_aborted() {
            return Err(Failure::Aborted);
        }
        let controller =
            AbortController::new().map_err(|e| Failure::Network(describe_js_error(&e)))?;
        let request = self
            .build_request(&controller.signal())
            .map_err(|e| Failure::Network(describe_js_error(&e)))?;

        let fetching = JsFuture::from(fetch_with_request(&request));
        let exchange = async move {
            let response: Response = fetching.await?.dyn_into()?;
            let body = JsFuture::from(response.text()?)
                .await?
                .as_string()
                .unwrap_or_default();
            Ok::<_, JsValue>((response, body))
        };
        let deadline = TimeoutFuture::new(clamp_to_timer(self.timeout));

        match select(pin!(exchange), select(pin!(deadline), pin!(abort))).await {
            Either::Left((Ok((response, body)), _)) => {
                let headers = response.headers();
                let header = |name: &str| headers.get(name).ok().flatten();
                Ok(Reply {
                    status: response.status(),
                    retry_after: header(RETRY_AFTER_HEADER).and_then(|v| parse_retry_after(&v)),
                    wait_applied: header(PREFERENCE_APPLIED_HEADER)
                        .and_then(|v| wait_preference(&v)),
                    body,
                })
            }
            Either::Left((Err(error), _)) => Err(Failure::Network(describe_js_error(&error))),
            Either::Right((Either::Left(_), _)) => {
                controller.abort();
                Err(Failure::TimedOut)
            }
            Either::Right((Either::Right(_), _)) => {
                controller.abort();
                Err(Failure::Aborted)
            }
        }
    }

    fn build_request(&self, signal: &AbortSignal) -> Result<Request, JsValue> {
        let init = RequestInit::new();
        init.set_method(self.method);
        init.set_signal(Some(signal));
        let headers = Headers::new()?;
        headers.set("accept", "application/json")?;
        if let Some(body) = self.json_body {
            headers.set("content-type", "application/json")?;
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        Request::new_with_str_and_init(self.url, &init)
    }
}

/// A readable description of a thrown JS value, with its `cause` when there is one (Node's
/// "fetch failed" says why only in its cause: "connect ECONNREFUSED 127.0.0.1:8080").
pub fn describe_js_error(value: &JsValue) -> String {
    let Some(error) = value.dyn_ref::<js_sys::Error>() else {
        return value
            .as_string()
            .unwrap_or_else(|| "unknown error".to_owned());
    };
    let mut text = String::from(error.message());
    let cause = error.cause();
    if let Some(cause) = cause.dyn_ref::<js_sys::Error>() {
        text.push_str(": ");
        text.push_str(&String::from(cause.message()));
    }
    text
}
