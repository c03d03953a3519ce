//! One option's value as a serde field: the JS value as it is (serde-wasm-bindgen's
//! `preserve`), checked to be of its kind. A value of another kind is kept as what was seen,
//! not refused here: serde does not know the field's name, the reader does, and names it
//! ([`Given::named`]: `options: maxDelayMs must be a number, got string "5"`).
//! `undefined` and `null` never get here: an `Option` field reads them as "not given".

use serde::de::{Deserialize, Deserializer};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::wasm::bodies::quoted;

/// A value given for an option of kind `T`: the value, or what was given instead.
#[derive(Debug, Clone)]
pub enum Given<T> {
    /// A value of the right kind.
    Valid(T),
    /// A value of another kind, described for a message (`string "5"`).
    Invalid {
        /// What was given.
        seen: String,
        /// What it must be: `a number`.
        expected: &'static str,
    },
}

impl<T> Given<T> {
    /// The value of the option called `name` in the options object called `what`, or the
    /// `TypeError` that names it.
    pub fn named(given: Option<Self>, what: &str, name: &str) -> Result<Option<T>, JsValue> {
        match given {
            None => Ok(None),
            Some(Given::Valid(value)) => Ok(Some(value)),
            Some(Given::Invalid { seen, expected }) => Err(crate::wasm::errors::type_error(
                &format!("{what}: {name} must be {expected}, got {seen}"),
            )),
        }
    }
}

/// What a value of an option may be.
pub trait Kind: Sized {
    /// What it must be, for a message: "a number".
    const EXPECTED: &'static str;
    /// The value, if it is of this kind.
    fn from_js(value: JsValue) -> Option<Self>;
}

impl<'de, T: Kind> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value: JsValue = serde_wasm_bindgen::preserve::deserialize(deserializer)?;
        let seen = describe(&value);
        Ok(T::from_js(value).map_or(
            Given::Invalid {
                seen,
                expected: T::EXPECTED,
            },
            Given::Valid,
        ))
    }
}

impl Kind for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_js(value: JsValue) -> Option<Self> {
        value.as_f64()
    }
}

impl Kind for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_js(value: JsValue) -> Option<Self> {
        value.as_bool()
    }
}

impl Kind for String {
    const EXPECTED: &'static str = "a string";
    fn from_js(value: JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl Kind for js_sys::Function {
    const EXPECTED: &'static str = "a function";
    fn from_js(value: JsValue) -> Option<Self> {
        value.dyn_into().ok()
    }
}

impl Kind for web_sys::AbortSignal {
    const EXPECTED: &'static str = "an AbortSignal";
    fn from_js(value: JsValue) -> Option<Self> {
        value.dyn_into().ok()
    }
}

/// The `headers` option: an object (a record, a `Headers`, pairs) or a function returning
/// one. Its contents are checked by `new Headers(...)` when a request is made.
#[derive(Debug, Clone)]
pub struct HeadersValue(pub JsValue);

impl Kind for HeadersValue {
    const EXPECTED: &'static str = "an object or a function returning one";
    fn from_js(value: JsValue) -> Option<Self> {
        (value.is_object() || value.is_function()).then_some(HeadersValue(value))
    }
}

/// The `fetch` option: a function like the global `fetch`.
#[derive(Debug, Clone)]
pub struct FetchFunction(pub js_sys::Function);

impl Kind for FetchFunction {
    const EXPECTED: &'static str = "a function like the global fetch";
    fn from_js(value: JsValue) -> Option<Self> {
        value.dyn_into().ok().map(FetchFunction)
    }
}

/// A value for a message: its type, then the value itself where short (`string "soon"`).
pub fn describe(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return format!("string {}", quoted(&text));
    }
    if let Some(number) = value.as_f64() {
        return format!("number {}", crate::millis::JsNumber(number));
    }
    if let Some(flag) = value.as_bool() {
        return format!("boolean {flag}");
    }
    if js_sys::Array::is_array(value) {
        return "an array".to_owned();
    }
    value.js_typeof().as_string().unwrap_or_default()
}
