//! One GET with gloo-net, its body returned as text: a size peer for the client package.

use wasm_bindgen::prelude::*;

/// `GET url`, the body as text.
#[wasm_bindgen]
pub async fn get(url: String) -> Result<String, JsValue> {
    let response = gloo_net::http::Request::get(&url)
        .send()
        .await
        .map_err(|error| JsValue::from_str(&error.to_string()))?;
    response
        .text()
        .await
        .map_err(|error| JsValue::from_str(&error.to_string()))
}
