//! `VideoTranslationClient`: the exported class, and the loop that carries out the poller's
//! actions with real requests, timers and callbacks.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::errors;
use super::globals::{millis, now};
use super::io::{self, Exchange, Failure};
use super::js::{nullable, quoted, Fields};
use super::options::{create_job_from_js, policy_from_js, WaitOptions};
use super::status::{parse_error_body, parse_status, read_reply, Status};
use super::typescript::{optional, ClientOptionsArg, CreateJobArg, JobIdArg, WaitOptionsArg};
use crate::number_text::number_text;
use crate::policy::PollPolicy;
use crate::poller::{Action, Observation, Outcome, Poller};
use video_translation_protocol::{format_wait, CreateJob, DEFAULT_JOB_ID, JOBS_PATH, WAIT_PARAM};

/// A client for one status server. Cheap to share: its methods take `&self`, and each call
/// is independent of the others.
#[wasm_bindgen]
#[derive(Debug)]
pub struct VideoTranslationClient {
    // Rc, not fields: an async method's future must own what it uses ('static), and must not
    // borrow `self` across an await (wasm-bindgen would throw "recursive use of an object").
    shared: Rc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Without a trailing slash, so paths append cleanly.
    base_url: String,
    policy: PollPolicy,
}

#[wasm_bindgen]
impl VideoTranslationClient {
    /// A client for the server at `baseUrl` (http or https; a path prefix is kept).
    /// Throws a `TypeError` or `RangeError` naming the bad argument.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = baseUrl, unchecked_param_type = "string")] base_url: JsValue,
        options: Option<ClientOptionsArg>,
    ) -> Result<VideoTranslationClient, JsValue> {
        let base_url = normalize_base_url(&base_url)?;
        let policy = policy_from_js(&optional(options))?;
        Ok(VideoTranslationClient {
            shared: Rc::new(Shared { base_url, policy }),
        })
    }

    /// The server's base URL, normalized.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Creates a simulated job (`POST /jobs`). Missing fields take the server's defaults.
    #[wasm_bindgen(js_name = createJob, unchecked_return_type = "Promise<JobStatus>")]
    pub fn create_job(&self, request: Option<CreateJobArg>) -> Promise {
        let shared = Rc::clone(&self.shared);
        future_to_promise(async move {
            let body = create_job_from_js(&optional(request))?;
            let json = js_sys::JSON::stringify(&wire_request(&body))?;
            let url = format!("{}{JOBS_PATH}", shared.base_url);
            let json = String::from(json);
            shared.request_status("POST", &url, Some(&json)).await
        })
    }

    /// One status request: `GET /jobs/{jobId}`, or `GET /status` without an id.
    #[wasm_bindgen(js_name = getStatus, unchecked_return_type = "Promise<JobStatus>")]
    pub fn get_status(&self, #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>) -> Promise {
        let shared = Rc::clone(&self.shared);
        future_to_promise(async move {
            let url = shared.status_url(&optional(job_id))?;
            shared.request_status("GET", &url, None).await
        })
    }

    /// Polls until the job is `completed` or `error`, calling `onUpdate` with each status.
    /// Without an id, waits for the server's default job (`GET /status`).
    #[wasm_bindgen(js_name = waitForCompletion, unchecked_return_type = "Promise<WaitResult>")]
    pub fn wait_for_completion(
        &self,
        #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>,
        options: Option<WaitOptionsArg>,
    ) -> Promise {
        let shared = Rc::clone(&self.shared);
        future_to_promise(async move {
            let url = shared.status_url(&optional(job_id))?;
            let options = WaitOptions::from_js(&optional(options))?;
            shared.wait(&url, &options).await
        })
    }
}

/// `POST /jobs`'s body on the wire (snake_case), with only the fields given.
fn wire_request(request: &CreateJob) -> JsValue {
    let mut fields = Fields::new();
    if let Some(ms) = request.duration_ms {
        fields = fields.set("duration_ms", ms as f64);
    }
    if let Some(outcome) = request.outcome {
        fields = fields.set(
            "outcome",
            video_translation_protocol::JobResult::from(outcome).as_str(),
        );
    }
    if let Some(ms) = request.estimate_ms {
        fields = fields.set("estimate_ms", ms as f64);
    }
    fields.into_value()
}

impl Shared {
    fn status_url(&self, job_id: &JsValue) -> Result<String, JsValue> {
        if job_id.is_undefined() || job_id.is_null() {
            return Ok(format!("{}/status", self.base_url));
        }
        match job_id.as_string() {
            Some(id) if !id.is_empty() && id != DEFAULT_JOB_ID => Ok(format!(
                "{}{JOBS_PATH}/{}",
                self.base_url,
                js_sys::encode_uri_component(&id)
            )),
            Some(id) if id == DEFAULT_JOB_ID => Ok(format!("{}/status", self.base_url)),
            _ => Err(errors::type_error(
                "jobId must be a non-empty string, or undefined for the server's default job",
            )),
        }
    }

    /// One request whose success body is a status; any failure rejects at once.
    async fn request_status(
        &self,
        method: &'static str,
        url: &str,
        json_body: Option<&str>,
    ) -> Result<JsValue, JsValue> {
        let exchange = Exchange {
            method,
            url,
            json_body,
            timeout: self.policy.request_timeout,
        };
        let started = now();
        let reply = exchange.send(None).await.map_err(|failure| match failure {
            Failure::Network(message) => errors::network(&message),
            Failure::TimedOut => errors::timeout(
                &format!(
                    "no answer within requestTimeoutMs ({} ms)",
                    number_text(millis(self.policy.request_timeout))
                ),
                1,
                now().saturating_sub(started),
            ),
            Failure::Aborted => errors::aborted(None),
        })?;
        if !(200..300).contains(&reply.status) {
            let (code, message) = parse_error_body(&reply.body);
            return Err(errors::http(reply.status, code.as_deref(), &message));
        }
        let status =
            parse_status(&reply.body).map_err(|invalid| errors::protocol(invalid.message()))?;
        Ok(status.to_js())
    }

    /// The wait loop: the poller decides, this carries it out.
    async fn wait(&self, url: &str, options: &WaitOptions) -> Result<JsValue, JsValue> {
        let signal = options.signal.as_ref();
        // The jitter only needs to differ between clients, not to be secret.
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let mut poller = Poller::new(self.policy, seed, now());
        let mut last_status: Option<Status> = None;
        let mut last_error_code: Option<String> = None;

        let mut action = poller.start();
        loop {
            action = match action {
                Action::Poll { attempt, wait } => {
                    let url = match wait {
                        Some(wait) => format!("{url}?{WAIT_PARAM}={}", format_wait(wait)),
                        None => url.to_owned(),
                    };
                    let exchange = Exchange {
                        method: "GET",
                        url: &url,
                        json_body: None,
                        // A long-poll is allowed its wait on top of the usual limit.
                        timeout: self.policy.request_timeout + wait.unwrap_or_default(),
                    };
                    let (observation, status) = match exchange.send(signal).await {
                        Ok(reply) => {
                            let reading = read_reply(reply);
                            last_error_code = reading.error_code;
                            (reading.observation, reading.status)
                        }
                        Err(Failure::Aborted) => return Err(errors::aborted(signal)),
                        Err(Failure::TimedOut) => (Observation::RequestTimedOut, None),
                        Err(Failure::Network(message)) => {
                            (Observation::NetworkError(message), None)
                        }
                    };
                    let failure = failure_text(&observation);
                    let observed_at = now();
                    let next = poller.observe(observed_at, observation);
                    let (next_poll_in_ms, next_poll_wait_ms) = match next {
                        Action::Sleep(delay) => (Some(millis(delay)), None),
                        Action::Poll { wait, .. } => (Some(0.0), wait.map(millis)),
                        Action::Done(_) => (None, None),
                    };
                    let elapsed_ms = millis(poller.elapsed(observed_at));
                    if let Some(status) = status {
                        // What `onUpdate` receives: the status and where the wait stands.
                        let update = status
                            .fields()
                            .set("attempt", attempt)
                            .set("elapsedMs", elapsed_ms)
                            .set("nextPollInMs", nullable(next_poll_in_ms))
                            .set("nextPollWaitMs", nullable(next_poll_wait_ms));
                        call(options.on_update.as_ref(), &update.into_value())?;
                        last_status = Some(status);
                    } else if let (Some(error), Some(next_poll_in_ms)) = (failure, next_poll_in_ms)
                    {
                        // What `onRetry` receives.
                        let retry = Fields::new()
                            .set("attempt", attempt)
                            .set("elapsedMs", elapsed_ms)
                            .set("error", error)
                            .set("nextPollInMs", next_poll_in_ms);
                        call(options.on_retry.as_ref(), &retry.into_value())?;
                    }
                    next
                }
                Action::Sleep(delay) => {
                    io::sleep(delay, signal)
                        .await
                        .map_err(|_| errors::aborted(signal))?;
                    poller.wake(now())
                }
                Action::Done(Outcome::Finished {
                    result,
                    attempts,
                    elapsed,
                }) => {
                    // What `waitForCompletion` resolves with.
                    let result = Fields::new()
                        .set("result", result.as_str())
                        .set("attempts", attempts)
                        .set("elapsedMs", millis(elapsed))
                        .set(
                            "status",
                            last_status.as_ref().map_or(JsValue::NULL, Status::to_js),
                        );
                    return Ok(result.into_value());
                }
                Action::Done(Outcome::Failed(error)) => {
                    return Err(errors::from_poll_error(&error, last_error_code.as_deref()));
                }
            };
        }
    }
}

/// The text `onRetry` gets for a failed attempt; `None` for a status.
fn failure_text(observation: &Observation) -> Option<String> {
    match observation {
        Observation::Status { .. } => None,
        Observation::HttpStatus {
            status, message, ..
        } => Some(format!("HTTP {status}: {message}")),
        Observation::NetworkError(message)
        | Observation::Malformed(message)
        | Observation::UnknownResult(message) => Some(message.clone()),
        Observation::RequestTimedOut => Some("no answer within requestTimeoutMs".to_owned()),
    }
}

/// Calls a user callback; what it throws rejects the wait, so bugs in it are not hidden.
fn call(callback: Option<&js_sys::Function>, argument: &JsValue) -> Result<(), JsValue> {
    match callback {
        Some(callback) => callback.call1(&JsValue::UNDEFINED, argument).map(drop),
        None => Ok(()),
    }
}

fn normalize_base_url(base_url: &JsValue) -> Result<String, JsValue> {
    let Some(text) = base_url.as_string() else {
        return Err(errors::type_error(
            "baseUrl must be a string like \"http://127.0.0.1:8080\"",
        ));
    };
    let url = web_sys::Url::new(&text).map_err(|_| {
        errors::type_error(&format!(
            "baseUrl {} is not an absolute URL like \"http://127.0.0.1:8080\"",
            quoted(&text)
        ))
    })?;
    // Checked on the normalized href alone (scheme lower-cased, "?" and "#" only as
    // delimiters): one binding instead of four getters, which the package's size budget counts.
    let href = url.href();
    if !href.starts_with("http://") && !href.starts_with("https://") {
        return Err(errors::type_error(&format!(
            "baseUrl must use http or https: {}",
            quoted(&text)
        )));
    }
    if href.bytes().any(|byte| byte == b'?' || byte == b'#') {
        return Err(errors::type_error(&format!(
            "baseUrl must not have a query or fragment: {}",
            quoted(&text)
        )));
    }
    let mut base = href;
    while base.ends_with('/') {
        base.pop();
    }
    Ok(base)
}
