//! Coming back online, or a hidden page becoming visible: any job may have ended meanwhile,
//! so the watch loop looks at every job at once. Windows and workers have `online`; only
//! pages have `visibilitychange`; Node has neither, and then nothing is listened to.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

use super::globals::{global, page_hidden};

/// The listeners, removed when dropped.
#[derive(Debug)]
#[must_use = "the listeners are removed when this is dropped"]
pub struct Wakeups {
    targets: Vec<(EventTarget, &'static str)>,
    on_back: Closure<dyn FnMut()>,
}

impl Wakeups {
    /// Calls `on_back` when the environment comes back online or its page to view.
    pub fn listen(mut on_back: impl FnMut() + 'static) -> Self {
        let on_back = Closure::<dyn FnMut()>::new(move || {
            if !page_hidden() {
                on_back();
            }
        });
        let mut targets = Vec::new();
        let global_scope = Some(JsValue::from(js_sys::global()));
        for (target, event) in [
            (global_scope, "online"),
            (global("document"), "visibilitychange"),
        ] {
            let Some(target) = target.and_then(event_target) else {
                continue;
            };
            let callback = on_back.as_ref().unchecked_ref();
            if target
                .add_event_listener_with_callback(event, callback)
                .is_ok()
            {
                targets.push((target, event));
            }
        }
        Wakeups { targets, on_back }
    }
}

/// `value` if it can have listeners (`addEventListener` is a function: a window's, a
/// worker's and Deno's global scope can; Node's cannot).
fn event_target(value: JsValue) -> Option<EventTarget> {
    let add = js_sys::Reflect::get(&value, &JsValue::from_str("addEventListener")).ok()?;
    add.is_function().then(|| value.unchecked_into())
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        for (target, event) in &self.targets {
            let callback = self.on_back.as_ref().unchecked_ref();
            let _ = target.remove_event_listener_with_callback(event, callback);
        }
    }
}
