//! `VideoTranslationClient`: the exported class. Arguments are checked here; waits go
//! through the client's watch loop ([`super::watch_loop`]), single requests are async
//! functions of their own ([`super::single`]).

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use super::bodies::quoted;
use super::errors;
use super::fetch::{json, Outgoing};
use super::options::{client_options, create_job, WaitOptions};
use super::random::idempotency_key;
use super::single::{self, Kind};
use super::typescript::{
    optional, ClientOptionsArg, CreateJobArg, JobIdArg, JobIdsArg, WaitOptionsArg,
};
use super::urls::{cancel_url, jobs_url, status_url};
use super::watch_loop::{Group, Hub};
use video_translation_protocol::DEFAULT_JOB_ID;

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
        let settings = client_options(&optional(options))?;
        Ok(VideoTranslationClient {
            hub: Rc::new(Hub::new(base_url, settings)),
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
        let outgoing = create_job(&optional(request)).and_then(|body| {
            let idempotency_key = idempotency_key().map_err(|message| errors::network(&message))?;
            Ok(Outgoing {
                method: "POST",
                url: jobs_url(self.hub.base_url()),
                json_body: Some(json(&body)),
                idempotency_key: Some(idempotency_key),
                last_event_id: None,
                event_stream: false,
            })
        });
        self.single(outgoing, Kind::Created)
    }

    /// One status request: `GET /jobs/{jobId}`, or `GET /status` without an id.
    #[wasm_bindgen(js_name = getStatus, unchecked_return_type = "Promise<JobStatus>")]
    pub fn get_status(&self, #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>) -> Promise {
        let outgoing = job_id_of(&optional(job_id)).map(|id| Outgoing {
            method: "GET",
            url: status_url(self.hub.base_url(), id.as_deref(), None),
            json_body: None,
            idempotency_key: None,
            last_event_id: None,
            event_stream: false,
        });
        self.single(outgoing, Kind::Once)
    }

    /// Cancels a pending job (`POST /jobs/{jobId}/cancel`): resolves its status, which says
    /// `error` with `reason: "cancelled"`; every wait on it ends that way. Idempotent, so
    /// failures are retried like `createJob`'s. A job that already ended on its own rejects
    /// with an `HttpError` 409 (`code: "conflict"`).
    #[wasm_bindgen(js_name = cancelJob, unchecked_return_type = "Promise<JobStatus>")]
    pub fn cancel_job(&self, #[wasm_bindgen(js_name = jobId)] job_id: JobIdArg) -> Promise {
        let outgoing = match job_id_of(&job_id.into()) {
            Ok(Some(id)) => Ok(Outgoing {
                method: "POST",
                url: cancel_url(self.hub.base_url(), &id),
                json_body: None,
                idempotency_key: None,
                last_event_id: None,
                event_stream: false,
            }),
            Ok(None) => Err(errors::type_error(
                "jobId must be the id of a job made by createJob; the default job cannot be cancelled",
            )),
            Err(error) => Err(error),
        };
        self.single(outgoing, Kind::Retried)
    }

    /// Watches the job until it is `completed` or `error`, calling `onUpdate` with each
    /// status. Without an id, waits for the server's default job (`GET /status`).
    #[wasm_bindgen(js_name = waitForCompletion, unchecked_return_type = "Promise<WaitResult>")]
    pub fn wait_for_completion(
        &self,
        #[wasm_bindgen(js_name = jobId)] job_id: Option<JobIdArg>,
        options: Option<WaitOptionsArg>,
    ) -> Promise {
        let started = job_id_of(&optional(job_id))
            .and_then(|id| Ok((id, WaitOptions::from_js(&optional(options))?)));
        match started {
            Ok((id, options)) => self.hub.add(id, options, None),
            // Bad arguments reject, as an async function's would.
            Err(error) => Promise::reject(&error),
        }
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
        let Some(ids) = ids.dyn_ref::<js_sys::Array>() else {
            return Err(errors::type_error("jobIds must be an array of job ids"));
        };
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
        let waits: js_sys::Array = checked
            .into_iter()
            .enumerate()
            .map(|(index, id)| {
                let member = (Rc::clone(&group), index as u32);
                JsValue::from(self.hub.add(Some(id), options.clone(), Some(member)))
            })
            .collect();
        Ok(Promise::all_settled(&waits))
    }
}

impl VideoTranslationClient {
    /// A promise of one request's status; arguments that failed their check reject it.
    fn single(&self, outgoing: Result<Outgoing, JsValue>, kind: Kind) -> Promise {
        let outgoing = match outgoing {
            Ok(outgoing) => outgoing,
            Err(error) => return Promise::reject(&error),
        };
        let (setup, policy, seed) = (
            self.hub.setup().clone(),
            *self.hub.policy(),
            self.hub.seed(),
        );
        future_to_promise(async move { single::send(outgoing, &setup, &policy, seed, kind).await })
    }
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
    if !matches!(url.protocol().as_str(), "http:" | "https:") {
        let message = format!("baseUrl must use http or https: {}", quoted(&text));
        return Err(errors::type_error(&message));
    }
    // On the normalized href: "?" and "#" stand there only as delimiters, even when empty.
    if url.href().contains(['?', '#']) {
        let message = format!(
            "baseUrl must not have a query or fragment: {}",
            quoted(&text)
        );
        return Err(errors::type_error(&message));
    }
    Ok(url.href().trim_end_matches('/').to_owned())
}
