//! The watcher's streams: every job of the client in one held `text/event-stream` watch
//! (one per [`MAX_WATCHED_IDS`] jobs), which stays open for as long as the server keeps it.
//!
//! A stream is tried first, and kept while the server streams:
//! - a server that answers the stream's request with a plain watch answer (JSON) does not
//!   stream: from then on the client long-polls watches (and that answer is used);
//! - one whose stream brings no event within
//!   [`FIRST_EVENT_WITHIN`](crate::stream::FIRST_EVENT_WITHIN) is behind a proxy that
//!   buffers, and one whose stream is unreadable (garbage, an endless line) has something
//!   between that breaks streams: long-poll watches too, the jobs keeping their attempt for the
//!   first and counting a malformed answer for the second;
//! - a stream that breaks (the network, a silence past its heartbeats, a `5xx`) is a failed
//!   attempt of each of its jobs: each sleeps its backoff gap and the stream is opened again,
//!   after the last event seen (`Last-Event-ID`) when no job has joined since;
//! - a stream the server closes (its lifetime, a shutdown) is opened again at once; one closed
//!   within a second counts as a plain poll, so no server can make the client spin.
//!
//! Newcomers reopen a stream as they re-send a held watch: together, at most every
//! [`JOIN_EVERY`], and without an attempt more for the jobs already in it. A job whose
//! deadline passes while streamed ends then; the stream goes on for the others.

use std::time::Duration;

use video_translation_protocol::{JobStatus, MAX_WATCHED_IDS};

use super::{
    apply, observe, read_for, Entry, Event, InFlight, Request, RequestId, Resume, State, Transport,
    WaitKey, WaitProgress, Watcher, JOIN_EVERY,
};
use crate::answer::{same_id, Answer, ReplyHints};
use crate::poller::Action;
use crate::stream::StreamEvent;

impl Watcher {
    /// Whether this client's watched jobs go in streams now.
    pub(super) fn streaming(&self) -> bool {
        self.streams.enabled && matches!(self.transport, Transport::Unknown | Transport::Stream)
    }

    /// Jobs due join a stream: a new one, or one reopened with them (sent again, at most every
    /// [`JOIN_EVERY`]). Returns when to plan again for newcomers waiting to join.
    pub(super) fn plan_streams(
        &mut self,
        now: Duration,
        plan: &mut super::Plan,
    ) -> Option<Duration> {
        let transport = self.transport;
        // A stream left with no job (their waits aborted or timed out) is closed.
        let mut emptied = Vec::new();
        for flight in &self.in_flight {
            if flight.is_stream && flight.jobs.is_empty() {
                emptied.push(flight.id);
            }
        }
        self.in_flight
            .retain(|flight| !emptied.contains(&flight.id));
        plan.cancel.extend(emptied);

        let due =
            |entry: &Entry| entry.watchable(transport) && matches!(entry.state, State::Due { .. });
        if !self.jobs.iter().any(due) {
            return None;
        }
        // The stream with the most room takes the newcomers: reopened, unless it was opened a
        // moment ago (they join it together a little later).
        let mut roomiest: Option<usize> = None;
        for (at, flight) in self.in_flight.iter().enumerate() {
            if flight.is_stream
                && flight.jobs.len() < MAX_WATCHED_IDS
                && roomiest.is_none_or(|best| flight.jobs.len() < self.in_flight[best].jobs.len())
            {
                roomiest = Some(at);
            }
        }
        if let Some(at) = roomiest {
            let rejoin_at = self.in_flight[at].sent_at + JOIN_EVERY;
            if rejoin_at > now {
                return Some(rejoin_at - now);
            }
            let flight = self.in_flight.swap_remove(at);
            plan.cancel.push(flight.id);
            self.put_back(&flight.jobs);
        }
        let mut keys = Vec::new();
        for entry in &self.jobs {
            if due(entry) {
                keys.push(entry.key);
            }
        }
        for chunk in keys.chunks(MAX_WATCHED_IDS) {
            let last_event_id = self
                .resume
                .as_ref()
                .filter(|resume| chunk.iter().all(|key| resume.keys.contains(key)))
                .map(|resume| resume.cursor.clone());
            let request = Request::Stream {
                ids: self.ids(chunk),
                last_event_id,
                progress: self.streams.progress,
            };
            let id = self.start_stream(chunk.to_vec(), now);
            plan.send.push((id, request));
        }
        None
    }

    /// A stream in flight carrying `jobs`, each keeping the attempt it began when it was due:
    /// a request as any other, marked as a stream.
    fn start_stream(&mut self, jobs: Vec<WaitKey>, now: Duration) -> RequestId {
        let id = self.start_request(jobs, true, None, None, now);
        if let Some(flight) = self.in_flight.last_mut() {
            flight.is_stream = true;
        }
        id
    }

    /// The time until the first deadline of a job carried by a stream: a stream is not cut
    /// at a deadline, so the driver must come back then ([`Watcher::expire`]).
    pub(super) fn first_streamed_deadline(&self, now: Duration) -> Option<Duration> {
        let mut first: Option<Duration> = None;
        for entry in &self.jobs {
            if let State::Carried { request, .. } = entry.state {
                if self.is_stream(request) {
                    if let Some(left) = entry.poller.time_left(now) {
                        first = Some(first.map_or(left, |first| first.min(left)));
                    }
                }
            }
        }
        first
    }

    fn is_stream(&self, request: RequestId) -> bool {
        self.in_flight
            .iter()
            .any(|flight| flight.id == request && flight.is_stream)
    }

    /// Ends the waits whose deadline has passed while a stream carried them (their stream
    /// goes on for the others, or is closed by the next plan if they were its last).
    pub fn expire(&mut self, now: Duration, report: &mut dyn FnMut(Event)) {
        let mut at = 0;
        while at < self.jobs.len() {
            let streamed = match self.jobs[at].state {
                State::Carried { request, .. } => self.is_stream(request),
                _ => false,
            };
            let entry = &mut self.jobs[at];
            if streamed {
                if let Some(Action::Done(outcome)) = entry.poller.deadline_passed(now) {
                    let key = entry.key;
                    report(Event::Done {
                        key,
                        outcome,
                        error_code: None,
                    });
                    self.forget(key);
                    continue;
                }
            }
            at += 1;
        }
    }

    /// An event of stream `request` (ignored if that stream was cut), and the cursor it
    /// leaves. Reports what it tells each job carried.
    pub fn on_stream_event(
        &mut self,
        now: Duration,
        request: RequestId,
        event: StreamEvent,
        cursor: Option<String>,
        report: &mut dyn FnMut(Event),
    ) {
        let Some(flight) = self.in_flight.iter().find(|flight| flight.id == request) else {
            return;
        };
        self.transport = Transport::Stream;
        if let Some(cursor) = cursor {
            self.resume = Some(Resume {
                keys: flight.jobs.clone(),
                cursor,
            });
        }
        match event {
            StreamEvent::Open { .. } => {}
            StreamEvent::Missing(ids) => {
                for id in &ids {
                    let missing = Answer::Error {
                        status: 404,
                        code: Some("not_found".to_owned()),
                        message: format!("no job with id {id}"),
                        retry_after: None,
                    };
                    self.tell_carried(now, request, id, &missing, report);
                }
            }
            StreamEvent::End(status) => self.tell_status(now, request, status, report),
            StreamEvent::Jobs(statuses) => {
                for status in statuses {
                    self.tell_status(now, request, status, report);
                }
            }
        }
    }

    /// A status a stream brought: the end of the waits on that job, or news for them.
    fn tell_status(
        &mut self,
        now: Duration,
        request: RequestId,
        status: JobStatus,
        report: &mut dyn FnMut(Event),
    ) {
        let Some(id) = status.id.clone() else {
            return;
        };
        if status.result.is_final() {
            let answer = Answer::Status(Ok(status), ReplyHints::default());
            return self.tell_carried(now, request, &id, &answer, report);
        }
        for entry in &mut self.jobs {
            let carried =
                matches!(entry.state, State::Carried { request: by, .. } if by == request);
            if !carried || !entry.id.as_deref().is_some_and(|asked| same_id(asked, &id)) {
                continue;
            }
            entry.poller.observe_streamed();
            let progress = WaitProgress {
                attempt: entry.poller.attempts(),
                elapsed: entry.poller.elapsed(now),
                next_poll_in: Some(Duration::ZERO),
                next_poll_wait: None,
            };
            report(Event::Update {
                key: entry.key,
                status: status.clone(),
                progress,
            });
        }
    }

    /// Hands `answer`, about job `id`, to every wait on it that stream `request` carries:
    /// each wait is over (an end, or an unknown job).
    fn tell_carried(
        &mut self,
        now: Duration,
        request: RequestId,
        id: &str,
        answer: &Answer,
        report: &mut dyn FnMut(Event),
    ) {
        let mut at = 0;
        while at < self.jobs.len() {
            let entry = &mut self.jobs[at];
            let carried =
                matches!(entry.state, State::Carried { request: by, .. } if by == request);
            if carried && entry.id.as_deref().is_some_and(|asked| same_id(asked, id)) {
                if let Some((observation, status)) = read_for(entry, answer, true) {
                    let key = entry.key;
                    if observe(entry, now, observation, status, report) {
                        self.forget(key);
                        continue;
                    }
                }
            }
            at += 1;
        }
    }

    /// The end of stream `flight`: see the [module docs](self) for each way it can end.
    pub(super) fn on_stream_answer(
        &mut self,
        now: Duration,
        flight: InFlight,
        answer: Answer,
        report: &mut dyn FnMut(Event),
    ) {
        match &answer {
            Answer::StreamClosed => {
                for key in flight.jobs {
                    let Some(at) = self.jobs.iter().position(|entry| entry.key == key) else {
                        continue;
                    };
                    let entry = &mut self.jobs[at];
                    let action = entry.poller.stream_closed(now);
                    if apply(entry, now, action, report) {
                        self.jobs.swap_remove(at);
                    }
                }
            }
            Answer::StreamBuffered | Answer::Error { status: 406, .. } => {
                // Not streamed here: the same jobs long-poll, with the attempt they began.
                self.transport = Transport::Watch;
                self.put_back(&flight.jobs);
            }
            Answer::Error {
                status: 404 | 405, ..
            } => {
                self.transport = Transport::PerJob;
                self.put_back(&flight.jobs);
            }
            Answer::Watch(Ok(_), _) => {
                // A server without streams answered the watch at once.
                self.transport = Transport::Watch;
                self.answer_each(now, flight.jobs, &answer, true, report);
            }
            Answer::Watch(Err(_), _) | Answer::Malformed(_) => {
                // Something between breaks streams; watches may pass.
                if self.transport == Transport::Unknown || self.transport == Transport::Stream {
                    self.transport = Transport::Watch;
                }
                self.answer_each(now, flight.jobs, &answer, true, report);
            }
            _ => self.answer_each(now, flight.jobs, &answer, true, report),
        }
    }

    /// Removes a wait from the watcher and from the stream that carried it.
    fn forget(&mut self, key: WaitKey) {
        self.jobs.retain(|entry| entry.key != key);
        for flight in &mut self.in_flight {
            flight.jobs.retain(|job| *job != key);
        }
    }
}

#[cfg(test)]
#[path = "streams_tests.rs"]
mod tests;
