//! One GET with reqwest, its body returned as text: a size peer for the client package.

use wasm_bindgen::prelude::*;

/// `GET url`, the body as text.
#[wasm_bindgen]
pub async fn get(url: String) -> Result<String, JsValue> {
    let response = reqwest::get(&url)
        .await
        .map_err(|error| JsValue::from_str(&error.to_string()))?;
    response
        .text()
        .await
        .map_err(|error| JsValue::from_str(&error.to_string()))
}
