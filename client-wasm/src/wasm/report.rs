//! Handing the watcher's events to each wait: its `onUpdate` and `onRetry`, the settling of
//! its promise, and a `waitForAll` set's progress. No borrow is held while user code runs:
//! callbacks may start or abort waits.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::errors;
use super::values::{self, Place};
use super::watch_loop::requests::Requests;
use super::watch_loop::{Hub, Member, Wait};
use crate::poller::WaitOutcome;
use crate::watcher::{Event, WaitKey};

impl Hub {
    /// Calls the wait's callbacks, or settles it.
    pub(super) fn report(&self, event: Event, requests: &mut Requests) {
        match event {
            Event::Update {
                key,
                status,
                progress,
            } => {
                let callback = self.callback_of(key, |wait| &wait.options.on_update);
                let update = callback
                    .as_ref()
                    .map(|(_, place)| values::update(&status, &progress, *place));
                if let Some(wait) = self
                    .waits
                    .borrow_mut()
                    .iter_mut()
                    .find(|wait| wait.key == key)
                {
                    wait.last_status = Some(status);
                }
                if let (Some((callback, _)), Some(update)) = (callback, update) {
                    self.call(key, &callback, &update, requests);
                }
            }
            Event::Retry {
                key,
                error,
                progress,
            } => {
                if let Some((callback, place)) =
                    self.callback_of(key, |wait| &wait.options.on_retry)
                {
                    let retry = values::retry(&error, &progress, place);
                    self.call(key, &callback, &retry, requests);
                }
            }
            Event::Done {
                key,
                outcome,
                error_code,
            } => {
                let Some(wait) = self.take_wait(key) else {
                    return;
                };
                let settled = match outcome {
                    WaitOutcome::Finished {
                        result,
                        attempts,
                        elapsed,
                    } => Ok(values::wait_result(
                        result,
                        attempts,
                        elapsed,
                        wait.last_status.as_ref(),
                    )),
                    WaitOutcome::Failed(error) => {
                        Err(errors::from_poll_error(&error, error_code.as_deref()))
                    }
                };
                let _ = wait.settle.send(settled);
            }
        }
    }

    /// The callback `pick` chooses of wait `key`, and the wait's place in its set.
    fn callback_of(
        &self,
        key: WaitKey,
        pick: impl Fn(&Wait) -> &Option<Function>,
    ) -> Option<(Function, Option<Place>)> {
        let waits = self.waits.borrow();
        let wait = waits.iter().find(|wait| wait.key == key)?;
        let callback = pick(wait).clone()?;
        Some((callback, wait.group.as_ref().map(place)))
    }

    /// Calls a user callback; what it throws rejects that wait, so bugs in it are not hidden.
    fn call(&self, key: WaitKey, callback: &Function, argument: &JsValue, requests: &mut Requests) {
        if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, argument) {
            self.stop_watching(key, requests);
            if let Some(wait) = self.take_wait(key) {
                let _ = wait.settle.send(Err(thrown));
            }
        }
    }

    /// Removes a wait whose promise is about to settle; its signal is no longer listened to.
    pub(super) fn take_wait(&self, key: WaitKey) -> Option<Wait> {
        let mut waits = self.waits.borrow_mut();
        let at = waits.iter().position(|wait| wait.key == key)?;
        let wait = waits.swap_remove(at);
        if let Some((group, _)) = &wait.group {
            group.settled.set(group.settled.get() + 1);
        }
        Some(wait)
    }
}

fn place((group, index): &Member) -> Place {
    Place {
        index: *index,
        settled: group.settled.get(),
        total: group.total,
    }
}
