//! `VideoTranslationClient`: the exported class. Arguments are checked here; every request
//! goes through the client's watch loop (`watching`).

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::errors;
use super::io::promise_with_resolvers;
use super::io::Io;
use super::js::{quoted, Fields};
use super::options::{client_options_from_js, create_job_from_js, WaitOptions};
use super::single::Outgoing;
use super::typescript::{
    optional, ClientOptionsArg, CreateJobArg, JobIdArg, JobIdsArg, WaitOptionsArg,
};
use super::urls::{cancel_url, jobs_url, status_url};
use super::watching::{Group, Hub, Member, WaitHandles};
use crate::text::text;
use video_translation_protocol::{CreateJob, DEFAULT_JOB_ID};

/// A client for one status server. Cheap to share: its methods take `&self`. Every wait of
/// one client is watched through one shared loop, with at most one held request at a time.
#[wasm_bindgen]
#[derive(Debug)]
pub struct VideoTranslationClient {
    // Rc: the watch loop keeps the hub while it runs, even if the page drops the client.
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
        let (policy, transport) = client_options_from_js(&optional(options))?;
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
    /// Sent with an `Idempotency-Key`, so a network failure, a timeout or a `5xx` is retried
    /// (three attempts in all) without ever making two jobs.
    #[wasm_bindgen(js_name = createJob, unchecked_return_type = "Promise<CreatedJob>")]
    pub fn create_job(&self, request: Option<CreateJobArg>) -> Promise {
        let json = create_job_from_js(&optional(request))
            .and_then(|body| js_sys::JSON::stringify(&wire_request(&body)));
        match json {
            Ok(json) => {
                let outgoing = Outgoing {
                    method: "POST",
                    url: jobs_url(self.hub.base_url()),
                    json_body: Some(json.into()),
                    idempotency_key: Some(Io::idempotency_key()),
                };
                self.hub.send_single(outgoing, true, true)
            }
            // Bad arguments reject, as an async function's would.
            Err(error) => Promise::reject(&error),
        }
    }

    /// One status request: `GET /jobs/{jobId}`, or `GET /status` without an id.
    #[wasm_bindgen(js_name = getStatus, unchecked_return_type = "Promise<JobStatus>")]
    pub fn get_status(&self, #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>) -> Promise {
        match job_id_of(&optional(job_id)) {
            Ok(id) => {
                let outgoing = Outgoing {
                    method: "GET",
                    url: status_url(self.hub.base_url(), id.as_deref(), None),
                    json_body: None,
                    idempotency_key: None,
                };
                self.hub.send_single(outgoing, false, false)
            }
            Err(error) => Promise::reject(&error),
        }
    }

    /// Cancels a pending job (`POST /jobs/{jobId}/cancel`): resolves its status, which says
    /// `error` with `reason: "cancelled"`; every wait on it ends that way. Idempotent, so
    /// failures are retried like `createJob`'s. A job that already ended on its own rejects
    /// with an `HttpError` 409 (`code: "conflict"`).
    #[wasm_bindgen(js_name = cancelJob, unchecked_return_type = "Promise<JobStatus>")]
    pub fn cancel_job(&self, #[wasm_bindgen(js_name = jobId)] job_id: JobIdArg) -> Promise {
        match job_id_of(&job_id.into()) {
            Ok(Some(id)) => {
                let (promise, resolve, reject) = promise_with_resolvers();
                let url = cancel_url(self.hub.base_url(), &id);
                self.hub.send_cancel(url, Some((resolve, reject)));
                promise
            }
            Ok(None) => Promise::reject(&errors::type_error(
                "jobId must be the id of a job made by createJob; the default job cannot be cancelled",
            )),
            Err(error) => Promise::reject(&error),
        }
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
        cancel_on_abort: options.cancel_on_abort,
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

fn normalize_base_url(base_url: &JsValue) -> Result<String, JsValue> {
    let Some(url_text) = base_url.as_string() else {
        return Err(errors::type_error(
            "baseUrl must be a string like \"http://127.0.0.1:8080\"",
        ));
    };
    let url = web_sys::Url::new(&url_text).map_err(|_| {
        errors::type_error(&text!(
            "baseUrl ",
            quoted(&url_text),
            " is not an absolute URL like \"http://127.0.0.1:8080\""
        ))
    })?;
    // Checked on the normalized href alone (scheme lower-cased, "?" and "#" only as
    // delimiters): one binding instead of four getters, which the package's size budget counts.
    let href = url.href();
    if !href.starts_with("http://") && !href.starts_with("https://") {
        return Err(errors::type_error(&text!(
            "baseUrl must use http or https: ",
            quoted(&url_text)
        )));
    }
    if href.bytes().any(|byte| byte == b'?' || byte == b'#') {
        return Err(errors::type_error(&text!(
            "baseUrl must not have a query or fragment: ",
            quoted(&url_text)
        )));
    }
    let mut base = href;
    while base.ends_with('/') {
        base.pop();
    }
    Ok(base)
}
