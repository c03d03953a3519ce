//! The watch loop of one client: a Rust future, run by `wasm_bindgen_futures::spawn_local`
//! while the client has waits, that carries out what the [`Watcher`] plans (requests,
//! cancels, timers) and hands its events to each wait ([`super::report`]).
//!
//! Every decision is the watcher's; this only does I/O. Each turn of the loop settles the
//! aborted waits, asks the watcher for a plan, starts its requests, then sleeps until the
//! first of: an answer, a wake-up (a new wait, an abort, coming back online or to the page),
//! or the time the plan asked to be woken at. No turn runs inside another: callbacks that
//! start or abort waits only queue a wake-up.

pub(super) mod requests;

use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::rc::Rc;

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_channel::oneshot;
use futures_util::future::{pending, select, Either};
use futures_util::StreamExt;
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use rand::rngs::SmallRng;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

use super::abort::AbortListener;
use super::bodies::answer_of;
use super::errors;
use super::event_stream::watch_stream;
use super::fetch::{exchange, json, timer_ms, Outgoing, RequestSetup};
use super::globals::{now, offline};
use super::options::{ClientSettings, WaitOptions};
use super::random::{next_seed, seeds};
use super::single;
use super::urls::{cancel_url, status_url, stream_url, watch_url};
use super::wakeups::Wakeups;
use crate::policy::PollPolicy;
use crate::watcher::{Event, Plan, Request, WaitKey, Watcher};
use requests::{Arrival, Requests};
use video_translation_protocol::{JobStatus, WatchRequest};

/// A wait's place in a `waitForAll` set: the set, and the index of its job.
pub type Member = (Rc<Group>, u32);

/// A set of waits started together by `waitForAll`: its updates say how far the set is.
#[derive(Debug)]
pub struct Group {
    /// Jobs in the set.
    pub total: u32,
    /// Waits of the set that are over.
    pub settled: Cell<u32>,
}

/// What a wait's promise settles with.
pub type Settled = Result<JsValue, JsValue>;

/// One wait: its options, its promise's settling end, and what it has seen.
#[derive(Debug)]
pub(super) struct Wait {
    pub key: WaitKey,
    pub options: WaitOptions,
    pub group: Option<Member>,
    /// Where to cancel the job if the wait is aborted (`cancelOnAbort`).
    pub cancel_url: Option<String>,
    pub settle: oneshot::Sender<Settled>,
    pub last_status: Option<JobStatus>,
    /// Wakes the loop when the wait's signal fires; stops listening when dropped.
    _abort_listener: Option<AbortListener>,
}

/// Why the loop was woken, besides an answer or its timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// Something changed (a new wait, an abort): plan again.
    Turn,
    /// Back online, or the page is visible again: any job may have ended, look at all.
    LookNow,
}

/// One client's watcher, its waits, and the wake-ups of its loop.
#[derive(Debug)]
pub struct Hub {
    base_url: String,
    policy: PollPolicy,
    setup: RequestSetup,
    watcher: RefCell<Watcher>,
    pub(super) waits: RefCell<Vec<Wait>>,
    seeds: RefCell<SmallRng>,
    wake: UnboundedSender<Wake>,
    /// The loop's end of `wake`, kept here while no loop runs.
    woken: RefCell<Option<UnboundedReceiver<Wake>>>,
}

impl Hub {
    /// A hub for the server at `base_url` (normalized, no trailing slash).
    pub fn new(base_url: String, settings: ClientSettings) -> Self {
        let (wake, woken) = unbounded();
        Hub {
            base_url,
            policy: settings.policy,
            setup: settings.setup,
            watcher: RefCell::new(Watcher::with_streams(settings.streams)),
            waits: RefCell::new(Vec::new()),
            seeds: RefCell::new(seeds()),
            wake,
            woken: RefCell::new(Some(woken)),
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How every request is made.
    pub fn setup(&self) -> &RequestSetup {
        &self.setup
    }

    /// The client's policy.
    pub fn policy(&self) -> &PollPolicy {
        &self.policy
    }

    /// A seed for one more jitter schedule.
    pub fn seed(&self) -> u64 {
        next_seed(&mut self.seeds.borrow_mut())
    }

    /// Held requests in flight (for tests and the demo page).
    pub fn held_requests(&self) -> usize {
        self.watcher.borrow().held_requests()
    }

    /// Starts watching job `id` (`None`: the server's default job); the promise settles as
    /// the wait does.
    pub fn add(
        self: &Rc<Self>,
        id: Option<String>,
        options: WaitOptions,
        group: Option<Member>,
    ) -> Promise {
        let (settle, settled) = oneshot::channel::<Settled>();
        let promise = future_to_promise(async move {
            settled
                .await
                .unwrap_or_else(|_| Err(errors::protocol("the client stopped")))
        });
        let cancel_url = id
            .as_deref()
            .filter(|_| options.cancel_on_abort)
            .map(|id| cancel_url(&self.base_url, id));
        let signal = options.signal.clone();
        if let Some(signal) = signal.as_ref().filter(|signal| signal.aborted()) {
            // Nothing is sent for a wait aborted before it starts, but the cancel it asks for.
            let _ = settle.send(Err(errors::aborted(Some(signal))));
            if let Some(url) = cancel_url {
                self.send_cancel(url);
            }
            return promise;
        }
        let key = self
            .watcher
            .borrow_mut()
            .add(now(), id, self.policy, self.seed());
        let abort_listener = signal.map(|signal| {
            let wake = self.wake.clone();
            AbortListener::new(&signal, move || drop(wake.unbounded_send(Wake::Turn)))
        });
        self.waits.borrow_mut().push(Wait {
            key,
            options,
            group,
            cancel_url,
            settle,
            last_status: None,
            _abort_listener: abort_listener,
        });
        self.start_or_wake();
        promise
    }

    /// `POST /jobs/{id}/cancel` at `url`, retried, its answer not awaited (the cancel an
    /// aborted wait asks for with `cancelOnAbort`).
    pub fn send_cancel(&self, url: String) {
        let outgoing = Outgoing {
            method: "POST",
            url,
            json_body: None,
            idempotency_key: None,
            last_event_id: None,
            event_stream: false,
        };
        let (setup, policy, seed) = (self.setup.clone(), self.policy, self.seed());
        spawn_local(async move {
            let _ = single::send(outgoing, &setup, &policy, seed, single::Kind::Retried).await;
        });
    }

    /// Starts the loop if it is not running, or wakes it for a turn.
    fn start_or_wake(self: &Rc<Self>) {
        match self.woken.borrow_mut().take() {
            Some(woken) => spawn_local(run(Rc::clone(self), woken)),
            None => drop(self.wake.unbounded_send(Wake::Turn)),
        }
    }

    /// Settles the waits whose signal fired: their requests are cut if they rode alone,
    /// and the cancel they ask for is sent.
    fn settle_aborted(&self, requests: &mut Requests) {
        let aborted: Vec<WaitKey> = self
            .waits
            .borrow()
            .iter()
            .filter(|wait| {
                wait.options
                    .signal
                    .as_ref()
                    .is_some_and(|signal| signal.aborted())
            })
            .map(|wait| wait.key)
            .collect();
        for key in aborted {
            self.stop_watching(key, requests);
            if let Some(wait) = self.take_wait(key) {
                let signal = wait.options.signal.as_ref();
                let _ = wait.settle.send(Err(errors::aborted(signal)));
                if let Some(url) = wait.cancel_url {
                    self.send_cancel(url);
                }
            }
        }
    }

    /// Removes a wait from the watcher, cutting its request if it rode alone.
    pub(super) fn stop_watching(&self, key: WaitKey, requests: &mut Requests) {
        if let Some(request) = self.watcher.borrow_mut().remove(key) {
            requests.cancel(request);
        }
    }

    /// Hands an answer or a stream's event to the watcher, then what it makes of it to the
    /// waits (once the watcher is released: callbacks may start or abort waits).
    fn deliver(&self, arrival: Arrival, requests: &mut Requests) {
        let mut events = Vec::new();
        let mut report = |event| events.push(event);
        match arrival {
            Arrival::Answer((request, answer)) => {
                self.watcher
                    .borrow_mut()
                    .on_answer(now(), request, answer, &mut report)
            }
            Arrival::Event((request, event, cursor)) => self.watcher.borrow_mut().on_stream_event(
                now(),
                request,
                event,
                cursor,
                &mut report,
            ),
        }
        self.report_all(events, requests);
    }

    /// Ends the waits whose deadline passed in a stream (which is not cut for them).
    fn expire(&self, requests: &mut Requests) {
        let mut events = Vec::new();
        self.watcher
            .borrow_mut()
            .expire(now(), &mut |event| events.push(event));
        self.report_all(events, requests);
    }

    fn report_all(&self, events: Vec<Event>, requests: &mut Requests) {
        for event in events {
            self.report(event, requests);
        }
    }

    /// Starts what the plan asks for, and cuts what it no longer wants.
    fn carry_out(&self, plan: Plan, requests: &mut Requests) {
        for request in plan.cancel {
            requests.cancel(request);
        }
        for (id, request) in plan.send {
            let (outgoing, is_watch) = self.outgoing(&request);
            let setup = self.setup.clone();
            if let Request::Stream { .. } = request {
                // Bounded by its first event's time, then by its heartbeats.
                let events = requests.events();
                requests.start(id, async move {
                    let mut sink = |event, cursor| drop(events.unbounded_send((id, event, cursor)));
                    (id, watch_stream(&outgoing, &setup, &mut sink).await)
                });
                continue;
            }
            let timeout = self.watcher.borrow().request_timeout(id, now());
            requests.start(id, async move {
                let answer = match exchange(&outgoing, &setup, timeout).await {
                    Ok(reply) => answer_of(reply, is_watch),
                    Err(error) => error.into(),
                };
                (id, answer)
            });
        }
    }

    /// The HTTP request for a watcher's request, and whether it is a watch.
    fn outgoing(&self, request: &Request) -> (Outgoing, bool) {
        match request {
            Request::Stream {
                ids,
                last_event_id,
                progress,
            } => {
                let body = WatchRequest { ids: ids.clone() };
                let outgoing = Outgoing {
                    method: "POST",
                    url: stream_url(&self.base_url, *progress),
                    json_body: Some(json(&body)),
                    idempotency_key: None,
                    event_stream: true,
                    last_event_id: last_event_id.clone(),
                };
                (outgoing, true)
            }
            Request::Watch { ids, wait } => {
                let body = WatchRequest { ids: ids.clone() };
                let outgoing = Outgoing {
                    method: "POST",
                    url: watch_url(&self.base_url, *wait),
                    json_body: Some(json(&body)),
                    idempotency_key: None,
                    last_event_id: None,
                    event_stream: false,
                };
                (outgoing, true)
            }
            Request::Status { id, wait } => {
                let outgoing = Outgoing {
                    method: "GET",
                    url: status_url(&self.base_url, id.as_deref(), *wait),
                    json_body: None,
                    idempotency_key: None,
                    last_event_id: None,
                    event_stream: false,
                };
                (outgoing, false)
            }
        }
    }
}

/// What ended a sleep of the loop.
enum Woken {
    Answer(Arrival),
    Wake(Wake),
    Timer,
}

/// The loop: runs until the client has no wait left, then hands the wake-ups back to the
/// hub for the next loop. Dropping `requests` at the end aborts any request still out.
async fn run(hub: Rc<Hub>, mut woken: UnboundedReceiver<Wake>) {
    let look = hub.wake.clone();
    let _wakeups = Wakeups::listen(move || drop(look.unbounded_send(Wake::LookNow)));
    let mut requests = Requests::default();
    let mut look_now = false;
    loop {
        while let Ok(wake) = woken.try_recv() {
            look_now |= wake == Wake::LookNow;
        }
        hub.settle_aborted(&mut requests);
        hub.expire(&mut requests);
        if hub.watcher.borrow().is_empty() {
            break;
        }
        if std::mem::take(&mut look_now) {
            hub.watcher.borrow_mut().look_now(now());
        }
        // Offline, no attempt is spent: no turn comes until `online` wakes the loop.
        let wake_in = if offline() {
            None
        } else {
            let plan = hub.watcher.borrow_mut().plan(now());
            let wake_in = plan.wake_in;
            hub.carry_out(plan, &mut requests);
            wake_in
        };
        let woke = {
            let answer = pin!(requests.next());
            let wake = pin!(woken.next());
            let timer = pin!(async {
                match wake_in {
                    Some(delay) => TimeoutFuture::new(timer_ms(delay)).await,
                    None => pending::<()>().await,
                }
            });
            match select(select(answer, wake), timer).await {
                Either::Left((Either::Left((answered, _)), _)) => Woken::Answer(answered),
                // The hub holds a sender, so the channel never ends while it runs.
                Either::Left((Either::Right((wake, _)), _)) => {
                    Woken::Wake(wake.unwrap_or(Wake::Turn))
                }
                Either::Right(((), _)) => Woken::Timer,
            }
        };
        match woke {
            Woken::Answer(answered) => hub.deliver(answered, &mut requests),
            Woken::Wake(wake) => look_now |= wake == Wake::LookNow,
            Woken::Timer => {}
        }
    }
    *hub.woken.borrow_mut() = Some(woken);
}
