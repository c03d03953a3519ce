//! The Watcher: every wait of one client, watched through as few requests as possible.
//!
//! Each wait keeps its own [`Poller`] (its budgets, schedule and deadline); the watcher
//! merges what the pollers ask for into requests, and hands each job its part of every
//! answer. Like the poller it is sans-IO: the driver sends what [`Watcher::plan`] lists,
//! feeds each answer to [`Watcher::on_answer`], and reports the [`Event`]s.
//!
//! # Requests
//!
//! Against a server with `POST /jobs/watch`:
//! - all the jobs that want to long-poll share **one** held watch. A job that joins while it
//!   is held has it cancelled and sent again with the newcomer (one request more for the
//!   jobs already in it, which does not count as an attempt of theirs: the new request
//!   goes on with the same wait). Newcomers within [`JOIN_EVERY`] of the last sending join
//!   together, so a crowd of jobs costs a few re-sends a second at most;
//! - the jobs that want a plain poll (a new wait, a retry, a sleep over) share a watch
//!   without a wait, answered at once;
//! - a held watch answered because another job ended goes on for the rest.
//!
//! A server that answers the watch route with `404` or `405` has none: from then on each job
//! has its own `GET /jobs/{id}`, with at most [`MAX_HELD_WITHOUT_WATCH`] long-polls held at
//! once. The server's default job (`GET /status`) is always watched that way.
//!
//! Before all this, a client streams (`watcher/streams.rs`): one held stream carries every job, and the
//! server sends each end as it happens. The watches above are what it falls back to.
//!
//! An *attempt* of a job is a request that answered for it: its status, or a failure.

use std::time::Duration;

use crate::answer::{
    failure_observation, same_id, status_observation, Answer, Invalid, ReplyHints,
};
use crate::policy::PollPolicy;
use crate::poller::{Action, Observation, Poller, WaitOutcome};
use video_translation_protocol::MAX_WATCHED_IDS;
use video_translation_protocol::{JobStatus, WatchAnswer};

// The streams' half of the watcher's methods (an `impl Watcher` of its own file).
mod streams;

/// Against a server without watches, the most long-polls held at once by one client: a
/// page keeps the rest of the browser's six connections per origin for everything else.
pub const MAX_HELD_WITHOUT_WATCH: usize = 2;

/// How long past a wait's deadline its last request may still be answered: the wait
/// settles by `maxWaitMs` plus this, however long `requestTimeoutMs` is.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(100);

/// A held watch is sent again to take in newcomers at most this often: jobs that want to
/// join within this time join together, so many jobs waking one by one cost a few re-sends a
/// second, not one each. A newcomer is unwatched for this long at most.
pub const JOIN_EVERY: Duration = Duration::from_millis(200);

/// The shortest wait a held watch asks for: the rest of a job's wait, once it is this close
/// to running out, is asked for as this (a wait of 0 would mean a plain poll).
const SHORTEST_WAIT: Duration = Duration::from_millis(1);

/// One wait the watcher watches (several waits may watch the same job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitKey(u32);

/// A request the watcher asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u32);

/// A request to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `POST /jobs/watch` with these ids, held up to `wait`.
    Watch {
        /// The ids.
        ids: Vec<String>,
        /// The wait to ask for (`?wait=`); `None` for an answer at once.
        wait: Option<Duration>,
    },
    /// `POST /jobs/watch` as `text/event-stream`: one stream for these ids.
    Stream {
        /// The ids.
        ids: Vec<String>,
        /// The cursor to resume after (`Last-Event-ID`), when reconnecting.
        last_event_id: Option<String>,
        /// The interval of the pending jobs' statuses to ask for.
        progress: Option<Duration>,
    },
    /// `GET /jobs/{id}` (or `GET /status` without an id), held up to `wait`.
    Status {
        /// The job's id; `None` for the server's default job.
        id: Option<String>,
        /// The wait to ask for.
        wait: Option<Duration>,
    },
}

impl Request {
    /// The wait asked for (none for a stream, which the server holds while it lives).
    pub fn wait(&self) -> Option<Duration> {
        match self {
            Request::Watch { wait, .. } | Request::Status { wait, .. } => *wait,
            Request::Stream { .. } => None,
        }
    }
}

/// What the driver must do now.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Send these requests.
    pub send: Vec<(RequestId, Request)>,
    /// Cancel these requests in flight; their answers are no longer wanted.
    pub cancel: Vec<RequestId>,
    /// Call [`Watcher::plan`] again after this long at the latest (a job's sleep ends).
    pub wake_in: Option<Duration>,
}

/// What happened to a job, for the caller's callbacks.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A status was observed.
    Update {
        /// Whose.
        key: WaitKey,
        /// What the server said.
        status: JobStatus,
        /// Where the wait stands.
        progress: WaitProgress,
    },
    /// An attempt failed and will be retried.
    Retry {
        /// Whose.
        key: WaitKey,
        /// What went wrong.
        error: String,
        /// Where the wait stands (`next_poll_in` is always set).
        progress: WaitProgress,
    },
    /// The wait is over.
    Done {
        /// Whose.
        key: WaitKey,
        /// How it ended.
        outcome: WaitOutcome,
        /// The `code` of the last error answer, for an HTTP failure.
        error_code: Option<String>,
    },
}

/// Where one wait stands after an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitProgress {
    /// Attempts so far.
    pub attempt: u32,
    /// Time since the wait started.
    pub elapsed: Duration,
    /// When the job is next asked about: `None` if the wait is over, zero if at once.
    pub next_poll_in: Option<Duration>,
    /// The wait that next request asks for, if it long-polls (after a sleep too).
    pub next_poll_wait: Option<Duration>,
}

/// How a client streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamSettings {
    /// Try a stream first (the default); `false` long-polls watches as before streams.
    pub enabled: bool,
    /// Ask the server for every pending job's status at this interval.
    pub progress: Option<Duration>,
}

/// Where a reconnect may resume: the last event's cursor of a stream, and the waits it
/// carried. Only a stream of those waits alone (no newcomer, whose job may have ended before
/// the cursor) may send it.
#[derive(Debug, Clone, PartialEq)]
struct Resume {
    keys: Vec<WaitKey>,
    cursor: String,
}

/// What the client knows of the server's watch route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// Not tried yet.
    Unknown,
    /// It streams.
    Stream,
    /// It answered a watch, and does not stream (or something between keeps streams back).
    Watch,
    /// It answered `404`/`405`: one request per job.
    PerJob,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Its poller asked for a request, not sent yet. `hold_until`: when the wait it asked
    /// for runs out, for a long-poll.
    Due { hold_until: Option<Duration> },
    /// In the request `request`.
    Carried {
        request: RequestId,
        hold_until: Option<Duration>,
    },
    /// Its poller sleeps until then.
    Sleeping { until: Duration },
}

#[derive(Debug)]
struct Entry {
    key: WaitKey,
    /// `None` for the server's default job.
    id: Option<String>,
    poller: Poller,
    state: State,
    error_code: Option<String>,
}

impl Entry {
    fn watchable(&self, transport: Transport) -> bool {
        self.id.is_some() && transport != Transport::PerJob
    }
}

#[derive(Debug)]
struct InFlight {
    id: RequestId,
    jobs: Vec<WaitKey>,
    /// For a watch, the ids it listed: what its answer must name, even after a wait that
    /// was in it has been aborted.
    asked: Vec<String>,
    is_watch: bool,
    /// A stream: held while the server keeps it, its events read as they come.
    is_stream: bool,
    wait: Option<Duration>,
    sent_at: Duration,
}

/// Every wait of one client. See the [module docs](self).
#[derive(Debug)]
pub struct Watcher {
    transport: Transport,
    streams: StreamSettings,
    /// Where the next stream of the same waits may resume.
    resume: Option<Resume>,
    jobs: Vec<Entry>,
    in_flight: Vec<InFlight>,
    next_key: u32,
    next_request: u32,
}

impl Default for Watcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Watcher {
    /// A watcher with nothing to watch, which long-polls watches (no streams).
    pub fn new() -> Self {
        Self::with_streams(StreamSettings::default())
    }

    /// A watcher with nothing to watch, which streams as `streams` says.
    pub fn with_streams(streams: StreamSettings) -> Self {
        Watcher {
            transport: Transport::Unknown,
            streams,
            resume: None,
            jobs: Vec::new(),
            in_flight: Vec::new(),
            next_key: 0,
            next_request: 0,
        }
    }

    /// Starts watching job `id` (`None`: the server's default job) at `now`, under `policy`
    /// (which must be valid), its jitter drawn from `seed`.
    pub fn add(
        &mut self,
        now: Duration,
        id: Option<String>,
        policy: PollPolicy,
        seed: u64,
    ) -> WaitKey {
        let key = WaitKey(self.next_key);
        self.next_key = self.next_key.wrapping_add(1);
        let mut poller = Poller::new(policy, seed, now);
        let Action::Poll { wait, .. } = poller.start() else {
            unreachable!("a poller starts with a poll")
        };
        self.jobs.push(Entry {
            key,
            id,
            poller,
            state: State::Due {
                hold_until: wait.map(|wait| now + wait),
            },
            error_code: None,
        });
        key
    }

    /// Stops watching a job (its wait was aborted). Returns the request to cancel if it
    /// carried that job alone.
    pub fn remove(&mut self, key: WaitKey) -> Option<RequestId> {
        let at = self.jobs.iter().position(|entry| entry.key == key)?;
        let entry = self.jobs.swap_remove(at);
        let State::Carried { request, .. } = entry.state else {
            return None;
        };
        let flight = self
            .in_flight
            .iter_mut()
            .find(|flight| flight.id == request)?;
        flight.jobs.retain(|job| *job != key);
        if !flight.jobs.is_empty() {
            return None;
        }
        self.in_flight.retain(|flight| flight.id != request);
        Some(request)
    }

    /// How long request `request`, sent at `now`, may take: `requestTimeoutMs` on top of
    /// its wait, but never past the deadline of a job it carries (plus [`DEADLINE_MARGIN`]).
    pub fn request_timeout(&self, request: RequestId, now: Duration) -> Duration {
        let Some(flight) = self.in_flight.iter().find(|flight| flight.id == request) else {
            return Duration::ZERO;
        };
        if flight.is_stream {
            // Cut by its silence, not by a time limit; deadlines end their waits alone.
            return Duration::MAX;
        }
        let mut timeout = Duration::MAX;
        for entry in flight.jobs.iter().filter_map(|key| self.entry(*key)) {
            let usual = entry.poller.policy().request_timeout + flight.wait.unwrap_or_default();
            let by_deadline = entry
                .poller
                .time_left(now)
                .map_or(usual, |left| left + DEADLINE_MARGIN);
            timeout = timeout.min(usual).min(by_deadline);
        }
        timeout
    }

    /// Jobs watched.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Nothing to watch.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Requests in flight that ask the server to hold them (long-polls, held watches and
    /// streams).
    pub fn held_requests(&self) -> usize {
        self.in_flight
            .iter()
            // A stream left without waits is being closed (at the next plan, or with the loop).
            .filter(|flight| flight.wait.is_some() || (flight.is_stream && !flight.jobs.is_empty()))
            .count()
    }

    /// Ends every sleep now: the client came back online, or its page became visible, and
    /// any job may have ended meanwhile. The next [`Watcher::plan`] asks about them all.
    pub fn look_now(&mut self, now: Duration) {
        for entry in &mut self.jobs {
            if let State::Sleeping { until } = &mut entry.state {
                *until = (*until).min(now);
            }
        }
    }

    /// What to do now: wakes the jobs whose sleep is over and sends what they ask for.
    pub fn plan(&mut self, now: Duration) -> Plan {
        let mut plan = Plan::default();
        for entry in &mut self.jobs {
            if let State::Sleeping { until } = entry.state {
                if until <= now {
                    let Action::Poll { wait, .. } = entry.poller.wake(now) else {
                        unreachable!("a poller polls when its sleep is over")
                    };
                    entry.state = State::Due {
                        hold_until: wait.map(|wait| now + wait),
                    };
                }
            }
        }
        self.plan_single_requests(now, &mut plan);
        let rejoin_in = if self.streaming() {
            self.plan_streams(now, &mut plan)
        } else if self.transport != Transport::PerJob {
            self.plan_watches(now, &mut plan)
        } else {
            None
        };
        // Plain loops rather than iterator chains here and below: each chain's adapters are
        // their own code in the wasm module, which has a size budget (`make bench`).
        let mut wake_in = rejoin_in;
        if let Some(deadline) = self.first_streamed_deadline(now) {
            wake_in = Some(wake_in.map_or(deadline, |wake_in| wake_in.min(deadline)));
        }
        for entry in &self.jobs {
            if let State::Sleeping { until } = entry.state {
                let sleep = until.saturating_sub(now);
                wake_in = Some(wake_in.map_or(sleep, |wake_in| wake_in.min(sleep)));
            }
        }
        plan.wake_in = wake_in;
        plan
    }

    /// One request per job: the default job, or every job against a server without watches.
    fn plan_single_requests(&mut self, now: Duration, plan: &mut Plan) {
        let transport = self.transport;
        let mut held = self.held_requests();
        for at in 0..self.jobs.len() {
            let entry = &self.jobs[at];
            let State::Due { hold_until } = entry.state else {
                continue;
            };
            if entry.watchable(transport) {
                continue;
            }
            let wait = hold_until.map(|until| until.saturating_sub(now).max(SHORTEST_WAIT));
            if wait.is_some() {
                if held >= MAX_HELD_WITHOUT_WATCH {
                    continue;
                }
                held += 1;
            }
            let request = Request::Status {
                id: entry.id.clone(),
                wait,
            };
            let key = entry.key;
            let id = self.start_request(vec![key], false, wait, hold_until, now);
            plan.send.push((id, request));
        }
    }

    /// The shared watches: one at once for the plain polls, one held for the long-polls.
    /// Returns when to plan again for newcomers that wait to join the held watch.
    fn plan_watches(&mut self, now: Duration, plan: &mut Plan) -> Option<Duration> {
        let transport = self.transport;
        let due = |entry: &Entry, held: bool| {
            entry.watchable(transport)
                && matches!(entry.state, State::Due { hold_until } if hold_until.is_some() == held)
        };
        let mut quick = Vec::new();
        for entry in &self.jobs {
            if due(entry, false) {
                quick.push(entry.key);
            }
        }
        for chunk in quick.chunks(MAX_WATCHED_IDS) {
            let ids = self.ids(chunk);
            let id = self.start_request(chunk.to_vec(), true, None, None, now);
            plan.send.push((id, Request::Watch { ids, wait: None }));
        }

        if !self.jobs.iter().any(|entry| due(entry, true)) {
            return None;
        }
        // Joining the held watch: cancel it and send it again with the newcomers, unless it
        // was sent a moment ago (they join it together a little later).
        if let Some(at) = self
            .in_flight
            .iter()
            .position(|flight| flight.is_watch && flight.wait.is_some())
        {
            let rejoin_at = self.in_flight[at].sent_at + JOIN_EVERY;
            if rejoin_at > now {
                return Some(rejoin_at - now);
            }
            let flight = self.in_flight.swap_remove(at);
            plan.cancel.push(flight.id);
            for key in flight.jobs {
                if let Some(entry) = self.entry_mut(key) {
                    if let State::Carried { hold_until, .. } = entry.state {
                        entry.state = State::Due { hold_until };
                    }
                }
            }
        }
        // Past the per-request limit, the rest go when this one is answered. (No sort: a
        // sort's code would be a sizeable part of the wasm module.)
        // The wait is that of the job whose wait runs out first: none is held past its deadline.
        let mut keys = Vec::new();
        let mut first_end: Option<Duration> = None;
        for entry in &self.jobs {
            if keys.len() == MAX_WATCHED_IDS {
                break;
            }
            if let (
                true,
                State::Due {
                    hold_until: Some(until),
                },
            ) = (due(entry, true), entry.state)
            {
                keys.push(entry.key);
                first_end = Some(first_end.map_or(until, |first| first.min(until)));
            }
        }
        let wait = first_end
            .unwrap_or(now)
            .saturating_sub(now)
            .max(SHORTEST_WAIT);
        let ids = self.ids(&keys);
        let id = self.start_request_keeping_holds(keys, wait, now);
        plan.send.push((
            id,
            Request::Watch {
                ids,
                wait: Some(wait),
            },
        ));
        None
    }

    fn ids(&self, keys: &[WaitKey]) -> Vec<String> {
        let mut ids = Vec::new();
        for key in keys {
            if let Some(id) = self.entry(*key).and_then(|entry| entry.id.clone()) {
                ids.push(id);
            }
        }
        ids
    }

    fn start_request(
        &mut self,
        jobs: Vec<WaitKey>,
        is_watch: bool,
        wait: Option<Duration>,
        hold_until: Option<Duration>,
        now: Duration,
    ) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request = self.next_request.wrapping_add(1);
        for key in &jobs {
            if let Some(entry) = self.entry_mut(*key) {
                entry.state = State::Carried {
                    request: id,
                    hold_until,
                };
            }
        }
        let asked = if is_watch {
            self.ids(&jobs)
        } else {
            Vec::new()
        };
        self.in_flight.push(InFlight {
            id,
            jobs,
            asked,
            is_watch,
            is_stream: false,
            wait,
            sent_at: now,
        });
        id
    }

    /// A held watch: each job keeps the end of its own wait.
    fn start_request_keeping_holds(
        &mut self,
        jobs: Vec<WaitKey>,
        wait: Duration,
        now: Duration,
    ) -> RequestId {
        let id = self.start_request(Vec::new(), true, Some(wait), None, now);
        for key in &jobs {
            if let Some(entry) = self.entry_mut(*key) {
                if let State::Due { hold_until } = entry.state {
                    entry.state = State::Carried {
                        request: id,
                        hold_until,
                    };
                }
            }
        }
        let asked = self.ids(&jobs);
        if let Some(flight) = self.in_flight.last_mut() {
            flight.jobs = jobs;
            flight.asked = asked;
        }
        id
    }

    fn entry(&self, key: WaitKey) -> Option<&Entry> {
        self.jobs.iter().find(|entry| entry.key == key)
    }

    fn entry_mut(&mut self, key: WaitKey) -> Option<&mut Entry> {
        self.jobs.iter_mut().find(|entry| entry.key == key)
    }

    /// The answer to request `request` (ignored if it was cancelled). Reports what happened
    /// to each job it carried to `report`; jobs whose wait is over are no longer watched.
    pub fn on_answer(
        &mut self,
        now: Duration,
        request: RequestId,
        answer: Answer,
        report: &mut dyn FnMut(Event),
    ) {
        let Some(at) = self
            .in_flight
            .iter()
            .position(|flight| flight.id == request)
        else {
            return;
        };
        let flight = self.in_flight.swap_remove(at);
        if flight.is_stream {
            return self.on_stream_answer(now, flight, answer, report);
        }
        if flight.is_watch {
            match &answer {
                Answer::Error {
                    status: 404 | 405, ..
                } => {
                    // No watch route: the same jobs, one request each, same attempt.
                    self.transport = Transport::PerJob;
                    self.put_back(&flight.jobs);
                    return;
                }
                Answer::Watch(Ok(body), _) => {
                    self.transport = Transport::Watch;
                    if !names_any(body, &flight.asked) {
                        // Not an answer to this watch: every job it carried counts it as a
                        // malformed answer (two in a row end the wait), so that no server
                        // can keep the client re-sending at once.
                        let invalid = Invalid::Malformed(
                            "the watch answer names none of the jobs asked for".to_owned(),
                        );
                        let answer = Answer::Watch(Err(invalid), ReplyHints::default());
                        return self.answer_each(now, flight.jobs, &answer, true, report);
                    }
                }
                _ => {}
            }
        }
        self.answer_each(now, flight.jobs, &answer, flight.wait.is_none(), report);
    }

    /// Hands `answer` to each of the waits `jobs` that is still watched.
    fn answer_each(
        &mut self,
        now: Duration,
        jobs: Vec<WaitKey>,
        answer: &Answer,
        asked_at_once: bool,
        report: &mut dyn FnMut(Event),
    ) {
        for key in jobs {
            let Some(at) = self.jobs.iter().position(|entry| entry.key == key) else {
                continue;
            };
            let entry = &mut self.jobs[at];
            match read_for(entry, answer, asked_at_once) {
                Some((observation, status)) => {
                    if observe(entry, now, observation, status, report) {
                        self.jobs.swap_remove(at);
                    }
                }
                None => self.put_back(&[key]),
            }
        }
    }

    /// Jobs whose request ended without news for them: due again, with the same wait.
    fn put_back(&mut self, keys: &[WaitKey]) {
        for key in keys {
            if let Some(entry) = self.entry_mut(*key) {
                if let State::Carried { hold_until, .. } = entry.state {
                    entry.state = State::Due { hold_until };
                }
            }
        }
    }
}

/// Whether a watch answer names at least one of the ids asked for, as ended or missing. A
/// held watch is answered when a job in it ends, or with every job when its wait runs out;
/// one that names none of them answers nothing.
fn names_any(body: &WatchAnswer, asked: &[String]) -> bool {
    let asked_for = |id: &str| asked.iter().any(|asked| same_id(asked, id));
    body.jobs
        .iter()
        .any(|status| status.id.as_deref().is_some_and(asked_for))
        || body.missing.iter().any(|id| asked_for(id))
}

/// What `answer` says of `entry`'s job: the observation and the status it carried, or
/// `None` if it says nothing of it (a held watch answered for another job).
fn read_for(
    entry: &mut Entry,
    answer: &Answer,
    asked_at_once: bool,
) -> Option<(Observation, Option<JobStatus>)> {
    let asked = entry.id.as_deref().unwrap_or_default();
    entry.error_code = None;
    let (status, hints) = match answer {
        Answer::Watch(Ok(body), hints) => {
            let listed = body
                .jobs
                .iter()
                .find(|status| status.id.as_deref().is_some_and(|id| same_id(asked, id)));
            match listed {
                Some(status) => (status, *hints),
                None if body.missing.iter().any(|id| same_id(asked, id)) => {
                    entry.error_code = Some("not_found".to_owned());
                    let observation = Observation::HttpStatus {
                        status: 404,
                        message: format!("no job with id {asked}"),
                        retry_after: None,
                    };
                    return Some((observation, None));
                }
                None if asked_at_once => {
                    let message = format!("the watch answer does not mention job {asked}");
                    return Some((Observation::Malformed(message), None));
                }
                None => return None,
            }
        }
        Answer::Status(Ok(status), hints) => (status, *hints),
        Answer::Watch(Err(invalid), _) | Answer::Status(Err(invalid), _) => {
            return Some((invalid.clone().observation(), None))
        }
        Answer::Error { code, .. } => {
            entry.error_code.clone_from(code);
            return Some((failure_observation(answer)?, None));
        }
        Answer::NetworkError(_)
        | Answer::Malformed(_)
        | Answer::NotTheContract(_)
        | Answer::TimedOut => return Some((failure_observation(answer)?, None)),
        Answer::StreamClosed | Answer::StreamBuffered => return None,
    };
    if let (Some(asked), Some(answered)) = (entry.id.as_deref(), status.id.as_deref()) {
        if !same_id(asked, answered) {
            // Never resolve a wait with another job's result.
            let message = format!("asked for job {asked}, the answer is about job {answered}");
            return Some((Observation::NotTheContract(message), None));
        }
    }
    Some((status_observation(status, hints), Some(status.clone())))
}

/// Feeds one observation to a job's poller and reports the events it makes; whether the
/// wait is over.
fn observe(
    entry: &mut Entry,
    now: Duration,
    observation: Observation,
    status: Option<JobStatus>,
    report: &mut dyn FnMut(Event),
) -> bool {
    let failure = observation.failure_text();
    let action = entry.poller.observe(now, observation);
    let (next_poll_in, next_poll_wait) = match &action {
        Action::Sleep(delay) => (Some(*delay), entry.poller.wait_after_sleep(now + *delay)),
        Action::Poll { wait, .. } => (Some(Duration::ZERO), *wait),
        Action::Done(_) => (None, None),
    };
    let progress = WaitProgress {
        attempt: entry.poller.attempts(),
        elapsed: entry.poller.elapsed(now),
        next_poll_in,
        next_poll_wait,
    };
    let key = entry.key;
    if let Some(status) = status {
        report(Event::Update {
            key,
            status,
            progress,
        });
    } else if let (Some(error), Some(_)) = (failure, next_poll_in) {
        report(Event::Retry {
            key,
            error,
            progress,
        });
    }
    apply(entry, now, action, report)
}

/// Carries out what a job's poller decided: its next state, or the end of its wait (then
/// reported); whether the wait is over.
fn apply(entry: &mut Entry, now: Duration, action: Action, report: &mut dyn FnMut(Event)) -> bool {
    match action {
        Action::Sleep(delay) => entry.state = State::Sleeping { until: now + delay },
        Action::Poll { wait, .. } => {
            entry.state = State::Due {
                hold_until: wait.map(|wait| now + wait),
            }
        }
        Action::Done(outcome) => {
            report(Event::Done {
                key: entry.key,
                outcome,
                error_code: entry.error_code.take(),
            });
            return true;
        }
    }
    false
}

#[cfg(test)]
#[path = "watcher_tests.rs"]
mod tests;
