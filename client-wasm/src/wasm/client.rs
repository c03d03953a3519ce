//! `VideoTranslationClient`: the exported class, and the loop that carries out the poller's
//! actions with real requests, timers and callbacks.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use super::errors;
use super::globals::{millis, now};
use super::io::{Exchange, Failure};
use super::js::{quoted, Fields};
use super::options::{create_job_from_js, policy_from_js, transport_from_js, WaitOptions};
use super::status::{parse_error_body, parse_status, status_to_js};
use super::typescript::{
    optional, ClientOptionsArg, CreateJobArg, JobIdArg, JobIdsArg, WaitOptionsArg,
};
use super::watching::{promise_with_resolvers, Group, Hub, Member, WaitHandles};
use crate::number_text::number_text;
use video_translation_protocol::{CreateJob, DEFAULT_JOB_ID, JOBS_PATH};

/// A client for one status server. Cheap to share: its methods take `&self`. Every wait of
/// one client is watched through one shared loop, with at most one held request at a time.
#[wasm_bindgen]
#[derive(Debug)]
pub struct VideoTranslationClient {
    // Rc: an async method's future must own what it uses ('static), and must not borrow
    // `self` across an await (wasm-bindgen would throw "recursive use of an object").
    hub: Rc<Hub>,
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
        let options = optional(options);
        let policy = policy_from_js(&options)?;
        let transport = transport_from_js(&options)?;
        Ok(VideoTranslationClient {
            hub: Rc::new(Hub::new(base_url, policy, transport)),
        })
    }

    /// The server's base URL, normalized.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.hub.base_url().to_owned()
    }

    /// Requests this client holds open at the server right now (long-polls and watches):
    /// at most one against a server with `POST /jobs/watch`, two without.
    #[wasm_bindgen(getter, js_name = heldRequests)]
    pub fn held_requests(&self) -> u32 {
        self.hub.held_requests() as u32
    }

    /// Creates a simulated job (`POST /jobs`). Missing fields take the server's defaults.
    #[wasm_bindgen(js_name = createJob, unchecked_return_type = "Promise<CreatedJob>")]
    pub fn create_job(&self, request: Option<CreateJobArg>) -> Promise {
        let hub = Rc::clone(&self.hub);
        future_to_promise(async move {
            let body = create_job_from_js(&optional(request))?;
            let json = js_sys::JSON::stringify(&wire_request(&body))?;
            let url = format!("{}{JOBS_PATH}", hub.base_url());
            let json = String::from(json);
            request_status(&hub, "POST", &url, Some(&json), true).await
        })
    }

    /// One status request: `GET /jobs/{jobId}`, or `GET /status` without an id.
    #[wasm_bindgen(js_name = getStatus, unchecked_return_type = "Promise<JobStatus>")]
    pub fn get_status(&self, #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>) -> Promise {
        let hub = Rc::clone(&self.hub);
        future_to_promise(async move {
            let url = match job_id_of(&optional(job_id))? {
                Some(id) => format!(
                    "{}{JOBS_PATH}/{}",
                    hub.base_url(),
                    js_sys::encode_uri_component(&id)
                ),
                None => format!("{}/status", hub.base_url()),
            };
            request_status(&hub, "GET", &url, None, false).await
        })
    }

    /// Watches the job until it is `completed` or `error`, calling `onUpdate` with each
    /// status. Without an id, waits for the server's default job (`GET /status`).
    #[wasm_bindgen(js_name = waitForCompletion, unchecked_return_type = "Promise<WaitResult>")]
    pub fn wait_for_completion(
        &self,
        #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>,
        options: Option<WaitOptionsArg>,
    ) -> Promise {
        let (promise, resolve, reject) = promise_with_resolvers();
        let started = job_id_of(&optional(job_id)).and_then(|id| {
            let options = WaitOptions::from_js(&optional(options))?;
            Ok((id, options))
        });
        match started {
            Ok((id, options)) => self.hub.add(id, handles(resolve, reject, options, None)),
            Err(error) => drop(reject.call1(&JsValue::NULL, &error)),
        }
        promise
    }

    /// Watches every job in `jobIds` at once, through the same shared requests. Settles like
    /// `Promise.allSettled`: one `{ status: "fulfilled", value }` or `{ status: "rejected",
    /// reason }` per job, in order. Each update also carries `index` (the job's place in
    /// `jobIds`), `settled` (waits of the set that are over) and `total`.
    #[wasm_bindgen(js_name = waitForAll, unchecked_return_type = "Promise<WaitSettled[]>")]
    pub fn wait_for_all(
        &self,
        #[wasm_bindgen(js_name = jobIds)] job_ids: JobIdsArg,
        options: Option<WaitOptionsArg>,
    ) -> Result<Promise, JsValue> {
        let ids: JsValue = job_ids.into();
        if !js_sys::Array::is_array(&ids) {
            return Err(errors::type_error("jobIds must be an array of job ids"));
        }
        let ids: js_sys::Array = ids.unchecked_into();
        let options = WaitOptions::from_js(&optional(options))?;
        // Every id is checked before any wait starts: a bad one starts none.
        let mut checked = Vec::new();
        for id in ids.iter() {
            match job_id_of(&id)? {
                Some(id) => checked.push(id),
                None => return Err(errors::type_error("jobIds must be non-empty strings")),
            }
        }
        let group = Rc::new(Group {
            total: checked.len() as u32,
            settled: Default::default(),
        });
        let waits = js_sys::Array::new();
        for (index, id) in checked.into_iter().enumerate() {
            let (promise, resolve, reject) = promise_with_resolvers();
            let member = (Rc::clone(&group), index as u32);
            self.hub.add(
                Some(id),
                handles(resolve, reject, options.clone(), Some(member)),
            );
            waits.push(&promise);
        }
        Ok(Promise::all_settled(&waits))
    }
}

fn handles(
    resolve: js_sys::Function,
    reject: js_sys::Function,
    options: WaitOptions,
    group: Option<Member>,
) -> WaitHandles {
    WaitHandles {
        resolve,
        reject,
        on_update: options.on_update,
        on_retry: options.on_retry,
        signal: options.signal,
        group,
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

/// A job id argument: `None` (undefined, null or "default") for the server's default job.
fn job_id_of(job_id: &JsValue) -> Result<Option<String>, JsValue> {
    if job_id.is_undefined() || job_id.is_null() {
        return Ok(None);
    }
    match job_id.as_string() {
        Some(id) if id == DEFAULT_JOB_ID => Ok(None),
        Some(id) if !id.is_empty() => Ok(Some(id)),
        _ => Err(errors::type_error(
            "jobId must be a non-empty string, or undefined for the server's default job",
        )),
    }
}

/// One request whose success body is a status (with an id, if `needs_id`); any failure
/// rejects at once.
async fn request_status(
    hub: &Hub,
    method: &'static str,
    url: &str,
    json_body: Option<&str>,
    needs_id: bool,
) -> Result<JsValue, JsValue> {
    let timeout = hub.policy().request_timeout;
    let exchange = Exchange {
        method,
        url,
        json_body,
        timeout,
        transport: hub.transport(),
    };
    let started = now();
    let reply = exchange.send(None).await.map_err(|failure| match failure {
        Failure::Network(message) => errors::network(&message),
        Failure::TimedOut => errors::timeout(
            &format!(
                "no answer within requestTimeoutMs ({} ms)",
                number_text(millis(timeout))
            ),
            1,
            now().saturating_sub(started),
        ),
        Failure::Aborted => errors::aborted(None),
        Failure::Unreadable(message) | Failure::Violation(message) => errors::protocol(&message),
    })?;
    if !(200..300).contains(&reply.status) {
        let (code, message) = parse_error_body(&reply.body);
        return Err(errors::http(reply.status, code.as_deref(), &message));
    }
    let status = parse_status(&reply.body).map_err(|invalid| match invalid {
        crate::answer::Invalid::Malformed(message)
        | crate::answer::Invalid::UnknownResult(message) => errors::protocol(&message),
    })?;
    if needs_id && status.id.is_none() {
        return Err(errors::protocol("the new job's status has no id"));
    }
    Ok(status_to_js(&status))
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
