//! Plain JS objects without serde: fields read, objects built field by field, strings
//! quoted for messages.
//!
//! serde, serde-wasm-bindgen and serde_path_to_error made up a third of the wasm module for
//! a dozen fields; `Reflect` does the same in a few functions.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `object[key]`; `None` when it is `undefined` or `null` (both mean "not given"), or when
/// reading it throws (a getter's or a proxy's doing: what cannot be read is not given).
pub fn field(object: &js_sys::Object, key: &str) -> Option<JsValue> {
    let value = js_sys::Reflect::get(object, &JsValue::from_str(key)).ok()?;
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// A string as a JSON string literal, quotes and escapes included, for messages.
pub fn quoted(text: &str) -> String {
    quoted_value(&JsValue::from_str(text))
}

fn quoted_value(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// `null` for `None`, as the JSON-like objects we hand to JS use it.
pub fn nullable<T: Into<JsValue>>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::NULL, Into::into)
}

/// Builds a plain object field by field: `Fields::new().set("a", 1).into_value()`.
#[derive(Debug)]
pub struct Fields(js_sys::Object);

impl Fields {
    /// An empty plain object.
    pub fn new() -> Self {
        Fields(js_sys::Object::new())
    }

    /// Sets `key` to `value`.
    pub fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        self.set_value(key, &value.into())
    }

    // One copy of the call, not one per value type (`set` is generic): the wasm is smaller.
    #[inline(never)]
    fn set_value(self, key: &str, value: &JsValue) -> Self {
        // Defining a data property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(key), value);
        self
    }

    /// The object.
    pub fn into_value(self) -> JsValue {
        self.0.unchecked_into()
    }
}
