//! Plain JS objects without serde: typed reads of fields, with errors that name them, and
//! objects built field by field.
//!
//! serde, serde-wasm-bindgen and serde_path_to_error made up a third of the wasm module for
//! a dozen fields; `Reflect` does the same in a few functions.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::errors;
use crate::number_text::number_text;
use crate::text::text;

/// `object[key]`; `None` when it is `undefined` or `null` (both mean "not given").
pub fn field(object: &js_sys::Object, key: &str) -> Result<Option<JsValue>, JsValue> {
    let value = js_sys::Reflect::get(object, &JsValue::from_str(key))?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// A number field; any other type is a `TypeError` naming `what.key`.
pub fn number_field(
    object: &js_sys::Object,
    what: &str,
    key: &str,
) -> Result<Option<f64>, JsValue> {
    typed_field(object, what, key, "a number", JsValue::as_f64)
}

/// A boolean field; any other type is a `TypeError` naming `what.key`.
pub fn bool_field(object: &js_sys::Object, what: &str, key: &str) -> Result<Option<bool>, JsValue> {
    typed_field(object, what, key, "a boolean", JsValue::as_bool)
}

/// A string field; any other type is a `TypeError` naming `what.key`.
pub fn string_field(
    object: &js_sys::Object,
    what: &str,
    key: &str,
) -> Result<Option<String>, JsValue> {
    typed_field(object, what, key, "a string", JsValue::as_string)
}

fn typed_field<T>(
    object: &js_sys::Object,
    what: &str,
    key: &str,
    expected: &str,
    read: impl Fn(&JsValue) -> Option<T>,
) -> Result<Option<T>, JsValue> {
    match field(object, key)? {
        None => Ok(None),
        Some(value) => read(&value).map(Some).ok_or_else(|| {
            errors::type_error(&text!(
                what,
                ": ",
                key,
                " must be ",
                expected,
                ", got ",
                describe(&value)
            ))
        }),
    }
}

/// A JS value for a message: its type, then the value itself where short (`string "soon"`).
pub fn describe(value: &JsValue) -> String {
    let kind = value.js_typeof().as_string().unwrap_or_default();
    match value.as_f64() {
        Some(number) => text!(kind, " ", number_text(number)),
        None if value.is_string() || value.as_bool().is_some() => {
            text!(kind, " ", quoted_value(value))
        }
        None => kind,
    }
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
