//! Waiting that an `AbortSignal` can cut short, with nothing left behind either way.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

/// The caller's signal fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

/// A future that resolves when `signal` fires, and never without a signal.
///
/// Its `abort` listener is removed when it is dropped, so a long-lived signal shared by many
/// waits does not collect listeners.
#[must_use = "the listener is removed on drop"]
pub struct AbortWatch {
    state: WatchState,
}

enum WatchState {
    NoSignal,
    AlreadyAborted,
    Listening {
        signal: AbortSignal,
        listener: Closure<dyn FnMut()>,
        fired: oneshot::Receiver<()>,
    },
}

impl AbortWatch {
    /// Starts watching `signal`.
    pub fn new(signal: Option<&AbortSignal>) -> Self {
        let state = match signal {
            None => WatchState::NoSignal,
            Some(signal) if signal.aborted() => WatchState::AlreadyAborted,
            Some(signal) => {
                let (sender, fired) = oneshot::channel();
                let mut sender = Some(sender);
                let listener = Closure::<dyn FnMut()>::new(move || {
                    if let Some(sender) = sender.take() {
                        let _ = sender.send(());
                    }
                });
                // Adding a listener to a live AbortSignal cannot throw.
                let _ = signal
                    .add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
                WatchState::Listening {
                    signal: signal.clone(),
                    listener,
                    fired,
                }
            }
        };
        AbortWatch { state }
    }

    /// Whether the signal had fired before watching began.
    pub fn is_aborted(&self) -> bool {
        match &self.state {
            WatchState::NoSignal => false,
            WatchState::AlreadyAborted => true,
            WatchState::Listening { signal, .. } => signal.aborted(),
        }
    }
}

impl Future for AbortWatch {
    type Output = Aborted;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Aborted> {
        match &mut self.state {
            WatchState::NoSignal => Poll::Pending,
            WatchState::AlreadyAborted => Poll::Ready(Aborted),
            // The sender lives in the listener we own, so it is never dropped unsent while
            // we wait: Err(Canceled) cannot happen, and would mean "not aborted" anyway.
            WatchState::Listening { fired, .. } => match Pin::new(fired).poll(cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Aborted),
                _ => Poll::Pending,
            },
        }
    }
}

impl Drop for AbortWatch {
    fn drop(&mut self) {
        if let WatchState::Listening {
            signal, listener, ..
        } = &self.state
        {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

/// Sleeps for `delay`, or less if `signal` fires first. The timer is cleared either way.
pub async fn sleep(delay: Duration, signal: Option<&AbortSignal>) -> Result<(), Aborted> {
    let abort = AbortWatch::new(signal);
    if abort.is_aborted() {
        return Err(Aborted);
    }
    let timer = TimeoutFuture::new(clamp_to_timer(delay));
    match select(pin!(timer), pin!(abort)).await {
        Either::Left(_) => Ok(()),
        Either::Right(_) => Err(Aborted),
    }
}

/// setTimeout takes a signed 32-bit delay; longer ones fire at once. Clamp to its maximum
/// (about 24.8 days), which no sane poll gap reaches.
pub fn clamp_to_timer(delay: Duration) -> u32 {
    u32::try_from(delay.as_millis())
        .unwrap_or(u32::MAX)
        .min(i32::MAX as u32)
}
