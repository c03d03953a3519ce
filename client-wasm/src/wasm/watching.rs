//! The watch loop of one client: carries out what the [`Watcher`] plans (requests, timers,
//! cancels) and hands its events to each wait's callbacks and promise.
//!
//! The loop runs in turns ([`Hub::turn`]) while the client has waits or single requests:
//! `js/io.js` calls a turn when the sleep the last one asked for runs out, or sooner when an
//! answer, a new wait or an abort kicks it. Every decision is the watcher's; this only does
//! I/O. No Rust future is involved: an executor and its wakers cost more of the package's
//! size budget than the whole loop.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::errors;
use super::globals::now;
use super::io::{promise_with_resolvers, timer_ms, Io, Reply};
use super::js::Fields;
use super::single::{Outgoing, SingleRequest};
use super::status::answer_of;
use super::urls::{cancel_url, status_url, watch_url};
use crate::answer::{Failure, JobStatus};
use crate::policy::PollPolicy;
use crate::retry::Retry;
use crate::watcher::{JobKey, Plan, Request, RequestId, Watcher};

mod report;

/// A wait's place in a `waitForAll` set: the set, and the index of its job.
pub type Member = (Rc<Group>, u32);

/// The callbacks and promise of one wait.
#[derive(Debug)]
pub struct WaitHandles {
    /// Settles the wait's promise.
    pub resolve: Function,
    /// Rejects it.
    pub reject: Function,
    /// `onUpdate`.
    pub on_update: Option<Function>,
    /// `onRetry`.
    pub on_retry: Option<Function>,
    /// Its `AbortSignal`.
    pub signal: Option<AbortSignal>,
    /// When the signal aborts the wait, ask the server to cancel the job too.
    pub cancel_on_abort: bool,
    /// The set it belongs to (`waitForAll`), and its place in it.
    pub group: Option<Member>,
}

/// A set of waits started together by `waitForAll`: its updates say how far the set is.
#[derive(Debug)]
pub struct Group {
    /// Jobs in the set.
    pub total: u32,
    /// Waits of the set that are over.
    pub settled: Cell<u32>,
}

#[derive(Debug)]
struct Wait {
    key: JobKey,
    /// Where to cancel the job if the wait is aborted (`cancelOnAbort`).
    cancel_url: Option<String>,
    handles: WaitHandles,
    stop_listening: Option<Function>,
    last_status: Option<JobStatus>,
}

/// Whose answer a request in flight is waited for.
#[derive(Debug)]
enum Sender {
    /// The watcher's, for a watch or a status request.
    Watcher { request: RequestId, is_watch: bool },
    /// A single request's (`createJob`, `getStatus`).
    Single(SingleRequest),
}

/// One client's watch loop and everything it watches.
#[derive(Debug)]
pub struct Hub {
    base_url: String,
    policy: PollPolicy,
    /// The client's `{ headers, fetch }`, for every request.
    transport: JsValue,
    watcher: RefCell<Watcher>,
    waits: RefCell<Vec<Wait>>,
    /// Requests in flight, by the number `io` knows them by.
    in_flight: RefCell<Vec<(u32, Sender)>>,
    next_request: Cell<u32>,
    /// Single requests waiting to be sent again, and when.
    retrying: RefCell<Vec<(Duration, SingleRequest)>>,
    io: Io,
    /// What `io` calls for a turn, while the loop runs. It holds the hub, so that a client
    /// dropped by its page still settles its waits; the loop's end drops it.
    tick: RefCell<Option<Closure<dyn Fn()>>>,
}

impl Hub {
    /// A hub for the server at `base_url` (normalized, no trailing slash).
    pub fn new(base_url: String, policy: PollPolicy, transport: JsValue) -> Self {
        Hub {
            base_url,
            policy,
            transport,
            watcher: RefCell::new(Watcher::new()),
            waits: RefCell::new(Vec::new()),
            in_flight: RefCell::new(Vec::new()),
            next_request: Cell::new(0),
            retrying: RefCell::new(Vec::new()),
            io: Io::new(),
            tick: RefCell::new(None),
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Starts watching job `id` (`None`: the server's default job); the wait settles
    /// through `handles`.
    pub fn add(self: &Rc<Self>, id: Option<String>, handles: WaitHandles) {
        let cancel_url = id
            .as_deref()
            .filter(|_| handles.cancel_on_abort)
            .map(|id| cancel_url(&self.base_url, id));
        if let Some(signal) = handles.signal.as_ref().filter(|signal| signal.aborted()) {
            // Nothing is sent for a wait aborted before it starts, but the cancel it asks for.
            let _ = handles
                .reject
                .call1(&JsValue::NULL, &errors::aborted(Some(signal)));
            if let Some(url) = cancel_url {
                self.send_cancel(url, None);
            }
            return;
        }
        let key = self
            .watcher
            .borrow_mut()
            .add(now(), id, self.policy, seed());
        let stop_listening = handles.signal.as_ref().map(|signal| self.io.listen(signal));
        self.waits.borrow_mut().push(Wait {
            key,
            cancel_url,
            handles,
            stop_listening,
            last_status: None,
        });
        self.wake();
    }

    /// Sends one request whose answer settles the returned promise (`createJob`,
    /// `getStatus`, `cancelJob`); a `retried` one is repeated where that is safe.
    pub fn send_single(
        self: &Rc<Self>,
        outgoing: Outgoing,
        needs_id: bool,
        retried: bool,
    ) -> Promise {
        let (promise, resolve, reject) = promise_with_resolvers();
        self.start_single(outgoing, Some((resolve, reject)), needs_id, retried);
        promise
    }

    /// `POST /jobs/{id}/cancel` at `url`, retried; `settle` gets the answer, if anyone waits.
    pub fn send_cancel(self: &Rc<Self>, url: String, settle: Option<(Function, Function)>) {
        let outgoing = Outgoing {
            method: "POST",
            url,
            json_body: None,
            idempotency_key: None,
        };
        self.start_single(outgoing, settle, false, true);
    }

    fn start_single(
        self: &Rc<Self>,
        outgoing: Outgoing,
        settle: Option<(Function, Function)>,
        needs_id: bool,
        retried: bool,
    ) {
        let single = SingleRequest {
            outgoing,
            settle,
            needs_id,
            timeout: self.policy.request_timeout,
            sent_at: now(),
            retry: retried.then(|| Retry::new(&self.policy, seed())),
        };
        self.send_attempt(single);
        self.wake();
    }

    /// Held requests in flight (for tests and the demo page).
    pub fn held_requests(&self) -> usize {
        self.watcher.borrow().held_requests()
    }

    /// Starts the loop if it is not running, and asks for a turn.
    fn wake(self: &Rc<Self>) {
        let mut tick = self.tick.borrow_mut();
        if tick.is_none() {
            let hub = Rc::clone(self);
            let closure = tick.insert(Closure::new(move || hub.turn()));
            self.io.start(closure.as_ref().unchecked_ref());
        } else {
            self.io.kick();
        }
    }

    /// One turn of the loop: settles what is over, sends what the watcher plans and the
    /// single requests due for another attempt, and asks for the next turn when one of
    /// them wants to act again.
    fn turn(self: &Rc<Self>) {
        self.settle_aborted();
        self.deliver_answers();
        if self.watcher.borrow().is_empty()
            && self.in_flight.borrow().is_empty()
            && self.retrying.borrow().is_empty()
        {
            self.io.stop();
            // Dropped while it runs this turn: wasm-bindgen frees it once the call returns.
            drop(self.tick.borrow_mut().take());
            return;
        }
        if self.io.take_urgent() {
            self.watcher.borrow_mut().look_now(now());
        }
        // Offline, no attempt is spent: no turn comes until `online` kicks one.
        let wake_in = if self.io.offline() {
            None
        } else {
            let plan = self.watcher.borrow_mut().plan(now());
            let wake_in = plan.wake_in;
            self.carry_out(plan);
            match (wake_in, self.resend_due()) {
                (Some(plan), Some(resend)) => Some(plan.min(resend)),
                (plan, resend) => plan.or(resend),
            }
        };
        self.io.sleep(wake_in);
    }

    /// Sends the single requests whose next attempt is due; returns when the next is.
    fn resend_due(&self) -> Option<Duration> {
        let now = now();
        let due = {
            let mut retrying = self.retrying.borrow_mut();
            let mut due = Vec::new();
            let mut at = 0;
            while at < retrying.len() {
                if retrying[at].0 <= now {
                    due.push(retrying.swap_remove(at).1);
                } else {
                    at += 1;
                }
            }
            due
        };
        for single in due {
            self.send_attempt(single);
        }
        let mut next: Option<Duration> = None;
        for (resend_at, _) in self.retrying.borrow().iter() {
            let resend_in = resend_at.saturating_sub(now);
            next = Some(next.map_or(resend_in, |next| next.min(resend_in)));
        }
        next
    }

    fn settle_aborted(self: &Rc<Self>) {
        let mut aborted = Vec::new();
        for wait in self.waits.borrow().iter() {
            if wait
                .handles
                .signal
                .as_ref()
                .is_some_and(AbortSignal::aborted)
            {
                aborted.push(wait.key);
            }
        }
        for key in aborted {
            if let Some(request) = self.watcher.borrow_mut().remove(key) {
                self.cancel(request);
            }
            if let Some(wait) = self.take_wait(key) {
                let error = errors::aborted(wait.handles.signal.as_ref());
                let _ = wait.handles.reject.call1(&JsValue::NULL, &error);
                if let Some(url) = wait.cancel_url {
                    self.send_cancel(url, None);
                }
            }
        }
    }

    fn deliver_answers(&self) {
        for (number, answer) in self.io.take_answers() {
            let sender = {
                let mut in_flight = self.in_flight.borrow_mut();
                let Some(at) = in_flight.iter().position(|(id, _)| *id == number) else {
                    continue;
                };
                in_flight.swap_remove(at).1
            };
            match sender {
                Sender::Single(mut single) => {
                    if let Some(gap) = single.on_answer(answer) {
                        self.retrying.borrow_mut().push((now() + gap, single));
                    }
                }
                Sender::Watcher { request, is_watch } => self.deliver(request, is_watch, answer),
            }
        }
    }

    fn deliver(&self, request: RequestId, is_watch: bool, answer: Result<Reply, Failure>) {
        let answer = match answer {
            Ok(reply) => answer_of(reply, is_watch),
            Err(failure) => failure.into(),
        };
        // Reported once the watcher is released: callbacks may start or abort waits.
        let mut events = Vec::new();
        self.watcher
            .borrow_mut()
            .on_answer(now(), request, answer, &mut |event| events.push(event));
        for event in events {
            self.report(event);
        }
    }

    fn cancel(&self, request: RequestId) {
        let mut in_flight = self.in_flight.borrow_mut();
        let carried = |sender: &Sender| matches!(sender, Sender::Watcher { request: id, .. } if *id == request);
        if let Some(at) = in_flight.iter().position(|(_, sender)| carried(sender)) {
            self.io.cancel(in_flight.swap_remove(at).0);
        }
    }

    fn carry_out(&self, plan: Plan) {
        for request in plan.cancel {
            self.cancel(request);
        }
        for (id, request) in plan.send {
            let timeout = self.watcher.borrow().request_timeout(id, now());
            let (url, body, is_watch) = self.http_request(&request);
            let method = if is_watch { "POST" } else { "GET" };
            let number = self.next_number();
            let timeout_ms = timer_ms(timeout);
            let transport = &self.transport;
            let body = body.as_deref();
            (self.io).send(number, method, &url, body, None, timeout_ms, transport);
            let sender = Sender::Watcher {
                request: id,
                is_watch,
            };
            self.in_flight.borrow_mut().push((number, sender));
        }
    }

    /// Sends a single request's next attempt.
    fn send_attempt(&self, mut single: SingleRequest) {
        single.sent_at = now();
        let number = self.next_number();
        let Outgoing {
            method,
            url,
            json_body,
            idempotency_key,
        } = &single.outgoing;
        let (body, key) = (json_body.as_deref(), idempotency_key.as_deref());
        let timeout_ms = timer_ms(single.timeout);
        (self.io).send(number, method, url, body, key, timeout_ms, &self.transport);
        self.in_flight
            .borrow_mut()
            .push((number, Sender::Single(single)));
    }

    /// The number of the next request sent, as `io` knows it.
    fn next_number(&self) -> u32 {
        let number = self.next_request.get();
        self.next_request.set(number.wrapping_add(1));
        number
    }

    /// URL, JSON body and whether it is a watch.
    fn http_request(&self, request: &Request) -> (String, Option<String>, bool) {
        match request {
            Request::Watch { ids, wait } => {
                let ids = ids
                    .iter()
                    .map(|id| JsValue::from_str(id))
                    .collect::<js_sys::Array>();
                let body = Fields::new().set("ids", ids).into_value();
                let body = js_sys::JSON::stringify(&body)
                    .ok()
                    .and_then(|text| text.as_string());
                (watch_url(&self.base_url, *wait), body, true)
            }
            Request::Status { id, wait } => (
                status_url(&self.base_url, id.as_deref(), *wait),
                None,
                false,
            ),
        }
    }
}

/// A seed for a jitter draw: it only needs to differ between waits, not to be secret.
fn seed() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}
