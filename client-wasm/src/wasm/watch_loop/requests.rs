//! The watcher's requests in flight: each an [`exchange`] future, cancellable one by one,
//! their answers taken in the order they come.

use std::future::{pending, Future};
use std::pin::Pin;

use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::answer::ExchangeError;
use crate::wasm::fetch::Reply;
use crate::watcher::RequestId;

/// A request's outcome, with the watcher's name for it and whether it was a watch.
pub type Answered = (RequestId, bool, Result<Reply, ExchangeError>);

type Exchange = Pin<Box<dyn Future<Output = Answered>>>;

/// Requests in flight. Dropping this drops their futures, which aborts them.
#[derive(Default)]
pub struct Requests {
    running: FuturesUnordered<Abortable<Exchange>>,
    handles: Vec<(RequestId, AbortHandle)>,
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

    /// Cuts request `id`: its answer is no longer wanted, and its connection is closed.
    pub fn cancel(&mut self, id: RequestId) {
        if let Some(at) = self.handles.iter().position(|(known, _)| *known == id) {
            self.handles.swap_remove(at).1.abort();
        }
    }

    /// The next answer of a request that was not cancelled; never resolves while none is in
    /// flight.
    pub async fn next(&mut self) -> Answered {
        loop {
            if self.running.is_empty() {
                pending::<()>().await;
            }
            if let Some(Ok(answered)) = self.running.next().await {
                self.handles.retain(|(id, _)| *id != answered.0);
                return answered;
            }
        }
    }
}
