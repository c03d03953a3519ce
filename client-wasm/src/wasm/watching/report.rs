//! Handing the watcher's events to each wait: its `onUpdate` and `onRetry`, the settling of
//! its promise, and a `waitForAll` set's progress. No borrow is held while user code runs:
//! callbacks may start or abort waits.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::{Hub, Member, Wait, WaitHandles};
use crate::answer::JobStatus;
use crate::poller::WaitOutcome;
use crate::wasm::errors;
use crate::wasm::globals::js_millis;
use crate::wasm::js::{nullable, Fields};
use crate::wasm::status::{status_fields, status_to_js};
use crate::watcher::{Event, JobKey, WaitProgress};

impl Hub {
    /// Calls the wait's callbacks (no borrow is held: they may start or abort waits).
    pub(super) fn report(&self, event: Event) {
        match event {
            Event::Update {
                key,
                status,
                progress,
            } => {
                let Some((callback, group)) = self.callback_of(key, |handles| &handles.on_update)
                else {
                    return self.remember(key, status);
                };
                let update = with_progress(status_fields(&status), &progress);
                self.remember(key, status);
                self.call(key, &callback, group, update);
            }
            Event::Retry {
                key,
                error,
                progress,
            } => {
                if let Some((callback, group)) = self.callback_of(key, |handles| &handles.on_retry)
                {
                    let retry = with_progress(Fields::new().set("error", error), &progress);
                    self.call(key, &callback, group, retry);
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
                    } => {
                        let value = Fields::new()
                            .set("result", result.as_str())
                            .set("attempts", attempts)
                            .set("elapsedMs", js_millis(elapsed))
                            .set(
                                "status",
                                wait.last_status
                                    .as_ref()
                                    .map_or(JsValue::NULL, status_to_js),
                            );
                        wait.handles
                            .resolve
                            .call1(&JsValue::NULL, &value.into_value())
                    }
                    WaitOutcome::Failed(error) => {
                        let error = errors::from_poll_error(&error, error_code.as_deref());
                        wait.handles.reject.call1(&JsValue::NULL, &error)
                    }
                };
                let _ = settled;
            }
        }
    }

    fn callback_of(
        &self,
        key: JobKey,
        pick: impl Fn(&WaitHandles) -> &Option<Function>,
    ) -> Option<(Function, Option<Member>)> {
        let waits = self.waits.borrow();
        let wait = waits.iter().find(|wait| wait.key == key)?;
        let callback = pick(&wait.handles).clone()?;
        Some((callback, wait.handles.group.clone()))
    }

    fn remember(&self, key: JobKey, status: JobStatus) {
        if let Some(wait) = self
            .waits
            .borrow_mut()
            .iter_mut()
            .find(|wait| wait.key == key)
        {
            wait.last_status = Some(status);
        }
    }

    /// Calls a user callback; what it throws rejects that wait, so bugs in it are not hidden.
    fn call(&self, key: JobKey, callback: &Function, group: Option<Member>, argument: Fields) {
        let argument = match group {
            Some((group, index)) => argument
                .set("index", index)
                .set("settled", group.settled.get())
                .set("total", group.total),
            None => argument,
        };
        if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, &argument.into_value()) {
            if let Some(request) = self.watcher.borrow_mut().remove(key) {
                self.cancel(request);
            }
            if let Some(wait) = self.take_wait(key) {
                let _ = wait.handles.reject.call1(&JsValue::NULL, &thrown);
            }
        }
    }

    /// Removes a wait whose promise is about to settle, and stops listening to its signal.
    pub(super) fn take_wait(&self, key: JobKey) -> Option<Wait> {
        let mut waits = self.waits.borrow_mut();
        let at = waits.iter().position(|wait| wait.key == key)?;
        let wait = waits.swap_remove(at);
        drop(waits);
        if let Some(stop) = &wait.stop_listening {
            let _ = stop.call0(&JsValue::NULL);
        }
        if let Some((group, _)) = &wait.handles.group {
            group.settled.set(group.settled.get() + 1);
        }
        Some(wait)
    }
}

/// The fields every callback gets about where its wait stands.
fn with_progress(fields: Fields, progress: &WaitProgress) -> Fields {
    fields
        .set("attempt", progress.attempt)
        .set("elapsedMs", js_millis(progress.elapsed))
        .set(
            "nextPollInMs",
            nullable(progress.next_poll_in.map(js_millis)),
        )
        .set(
            "nextPollWaitMs",
            nullable(progress.next_poll_wait.map(js_millis)),
        )
}
