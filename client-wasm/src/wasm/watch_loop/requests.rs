//! The watcher's requests in flight: each a future, cancellable one by one, their answers
//! taken in the order they come, and the events of the streams among them.
//!
//! A stream's events arrive through a channel while its future runs; its future's output is
//! how it ended. Every event a stream sent is handed out before its end, so the watcher never
//! hears a stream end before its last ends.

use std::collections::VecDeque;
use std::future::{pending, Future};
use std::pin::{pin, Pin};

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::future::{select, AbortHandle, Abortable, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::answer::Answer;
use crate::stream::StreamEvent;
use crate::watcher::RequestId;

/// A request's outcome, with the watcher's name for it.
pub type Answered = (RequestId, Answer);

/// An event of stream `RequestId`, with the cursor it leaves.
pub type Streamed = (RequestId, StreamEvent, Option<String>);

/// What came in.
#[derive(Debug)]
pub enum Arrival {
    /// A request ended.
    Answer(Answered),
    /// A stream sent an event.
    Event(Streamed),
}

type Exchange = Pin<Box<dyn Future<Output = Answered>>>;

/// Requests in flight. Dropping this drops their futures, which aborts them.
pub struct Requests {
    running: FuturesUnordered<Abortable<Exchange>>,
    handles: Vec<(RequestId, AbortHandle)>,
    events: UnboundedSender<Streamed>,
    heard: UnboundedReceiver<Streamed>,
    /// Ends that came while their streams' events were still queued.
    ended: VecDeque<Answered>,
}

impl Default for Requests {
    fn default() -> Self {
        let (events, heard) = unbounded();
        Requests {
            running: FuturesUnordered::new(),
            handles: Vec::new(),
            events,
            heard,
            ended: VecDeque::new(),
        }
    }
}

impl std::fmt::Debug for Requests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requests")
            .field("in_flight", &self.handles.len())
            .finish()
    }
}

impl Requests {
    /// Starts `exchange`, known to the watcher as `id`.
    pub fn start(&mut self, id: RequestId, exchange: impl Future<Output = Answered> + 'static) {
        let (handle, registration) = AbortHandle::new_pair();
        let exchange: Exchange = Box::pin(exchange);
        self.running.push(Abortable::new(exchange, registration));
        self.handles.push((id, handle));
    }

    /// Where a stream sends its events.
    pub fn events(&self) -> UnboundedSender<Streamed> {
        self.events.clone()
    }

    /// Cuts request `id`: its answer is no longer wanted, and its connection is closed.
    pub fn cancel(&mut self, id: RequestId) {
        if let Some(at) = self.handles.iter().position(|(known, _)| *known == id) {
            self.handles.swap_remove(at).1.abort();
        }
    }

    /// The next event or answer of a request that was not cancelled (a cancelled stream's
    /// queued events still come: the watcher knows them for a stream it cut). Never resolves
    /// while nothing is in flight.
    pub async fn next(&mut self) -> Arrival {
        loop {
            if let Ok(event) = self.heard.try_recv() {
                return Arrival::Event(event);
            }
            if let Some(answered) = self.ended.pop_front() {
                return Arrival::Answer(answered);
            }
            let running = &mut self.running;
            let finished = pin!(async {
                if running.is_empty() {
                    pending::<()>().await;
                }
                running.next().await
            });
            match select(self.heard.next(), finished).await {
                // The loop's own sender keeps the channel open.
                Either::Left((Some(event), _)) => return Arrival::Event(event),
                Either::Left((None, _)) => pending::<()>().await,
                Either::Right((Some(Ok(answered)), _)) => {
                    self.handles.retain(|(id, _)| *id != answered.0);
                    // Its stream's events may have been queued meanwhile: they go first.
                    self.ended.push_back(answered);
                }
                // Aborted, or (never, as it is checked) none in flight.
                Either::Right(_) => {}
            }
        }
    }
}
