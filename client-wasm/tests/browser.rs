//! The JS API in a real browser against a real server.
//!
//! Run by `make test`, which starts the server on a free port and passes its URL at compile
//! time: `VTS_TEST_URL=http://127.0.0.1:PORT wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use futures_util::future::join;
use gloo_timers::future::sleep;
use js_sys::{Object, Reflect};
use video_translation_client::VideoTranslationClient;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// The server's port is only known once `make test` has started it, so the URL comes in at
// compile time; a run without it must fail loudly, which is what this lint warns about.
#[allow(clippy::option_env_unwrap)]
fn server_url() -> &'static str {
    option_env!("VTS_TEST_URL").expect(
        "VTS_TEST_URL must name a running video-translation-server at compile time, \
         e.g. VTS_TEST_URL=http://127.0.0.1:8080 wasm-pack test --headless --chrome (make test does this)",
    )
}

/// A plain JS object from key/value pairs.
fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap()
}

/// A client in plain mode that polls fast, so the tests take seconds.
fn fast_client(extra: &[(&str, JsValue)]) -> VideoTranslationClient {
    let mut options = vec![
        ("adaptive", false.into()),
        ("initialDelayMs", 50.into()),
        ("maxDelayMs", 200.into()),
        ("jitter", 0.into()),
    ];
    options.extend_from_slice(extra);
    VideoTranslationClient::new(server_url().into(), Some(object(&options).unchecked_into()))
        .expect("valid options")
}

async fn create_job(client: &VideoTranslationClient, duration_ms: u32, outcome: &str) -> String {
    let request = object(&[
        ("durationMs", duration_ms.into()),
        ("outcome", outcome.into()),
    ]);
    let job = JsFuture::from(client.create_job(Some(request.unchecked_into())))
        .await
        .expect("the job is created");
    assert_eq!(get(&job, "result"), "pending");
    get(&job, "id").as_string().expect("a job id")
}

/// Collects every `onUpdate` argument into a JS array.
fn recording_callback() -> (Closure<dyn FnMut(JsValue)>, js_sys::Array) {
    let updates = js_sys::Array::new();
    let sink = updates.clone();
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |update: JsValue| {
        sink.push(&update);
    });
    (callback, updates)
}

#[wasm_bindgen_test]
async fn a_job_is_watched_to_completed_with_progress_updates() {
    let client = fast_client(&[]);
    let id = create_job(&client, 600, "completed").await;
    let (callback, updates) = recording_callback();
    let options = object(&[("onUpdate", callback.as_ref().clone())]);

    let outcome = JsFuture::from(client.wait_for_completion(
        Some(JsValue::from(id.clone()).unchecked_into()),
        Some(options.unchecked_into()),
    ))
    .await
    .expect("resolves");

    assert_eq!(get(&outcome, "result"), "completed");
    let attempts = get(&outcome, "attempts").as_f64().unwrap();
    assert!(
        attempts >= 2.0,
        "a 600 ms job needs more than one poll, made {attempts}"
    );
    assert_eq!(updates.length() as f64, attempts, "one update per poll");

    let first = updates.get(0);
    assert_eq!(get(&first, "id"), id.as_str());
    assert_eq!(get(&first, "result"), "pending");
    assert_eq!(get(&first, "attempt"), 1);
    assert!(get(&first, "nextPollInMs").as_f64().unwrap() > 0.0);
    let last = updates.get(updates.length() - 1);
    assert_eq!(get(&last, "result"), "completed");
    assert_eq!(get(&last, "progress"), 1);
    assert!(get(&last, "nextPollInMs").is_null());
}

#[wasm_bindgen_test]
async fn a_failing_job_resolves_with_error() {
    let client = fast_client(&[]);
    let id = create_job(&client, 200, "error").await;
    let outcome =
        JsFuture::from(client.wait_for_completion(Some(JsValue::from(id).unchecked_into()), None))
            .await
            .expect("resolves");
    assert_eq!(get(&outcome, "result"), "error");
}

#[wasm_bindgen_test]
async fn a_job_longer_than_max_wait_rejects_with_timeout_error() {
    let client = fast_client(&[("maxWaitMs", 400.into())]);
    let id = create_job(&client, 60_000, "completed").await;
    let error =
        JsFuture::from(client.wait_for_completion(Some(JsValue::from(id).unchecked_into()), None))
            .await
            .expect_err("times out");
    let error: js_sys::Error = error.dyn_into().expect("a real Error");
    assert_eq!(error.name(), "TimeoutError");
    let elapsed = get(&error, "elapsedMs").as_f64().unwrap();
    assert!(
        elapsed >= 400.0,
        "gave up at {elapsed} ms, before maxWaitMs"
    );
}

#[wasm_bindgen_test]
async fn aborting_rejects_with_abort_error_and_stops_polling() {
    let client = fast_client(&[]);
    let id = create_job(&client, 60_000, "completed").await;
    let controller = web_sys::AbortController::new().unwrap();
    let (callback, updates) = recording_callback();
    let options = object(&[
        ("onUpdate", callback.as_ref().clone()),
        ("signal", controller.signal().into()),
    ]);
    let waiting = JsFuture::from(client.wait_for_completion(
        Some(JsValue::from(id).unchecked_into()),
        Some(options.unchecked_into()),
    ));

    let abort_later = async {
        sleep(Duration::from_millis(300)).await;
        controller.abort();
    };
    let (result, ()) = join(waiting, abort_later).await;
    let error: js_sys::Error = result
        .expect_err("aborted")
        .dyn_into()
        .expect("a real Error");
    assert_eq!(error.name(), "AbortError");

    let updates_at_abort = updates.length();
    assert!(updates_at_abort >= 1);
    sleep(Duration::from_millis(500)).await;
    assert_eq!(
        updates.length(),
        updates_at_abort,
        "no poll after the abort"
    );
}

#[wasm_bindgen_test]
async fn an_unknown_job_rejects_with_http_error_404() {
    let client = fast_client(&[]);
    let error = JsFuture::from(
        client.wait_for_completion(Some(JsValue::from("no-such-job").unchecked_into()), None),
    )
    .await
    .expect_err("404");
    let error: js_sys::Error = error.dyn_into().expect("a real Error");
    assert_eq!(error.name(), "HttpError");
    assert_eq!(get(&error, "status"), 404);
    assert_eq!(get(&error, "code"), "not_found");
}

#[wasm_bindgen_test]
async fn get_status_without_an_id_reads_the_default_job() {
    let client = fast_client(&[]);
    let status = JsFuture::from(client.get_status(None))
        .await
        .expect("status");
    assert_eq!(get(&status, "id"), "default");
    let result = get(&status, "result").as_string().unwrap();
    assert!(
        ["pending", "completed", "error"].contains(&result.as_str()),
        "{result}"
    );
}

#[wasm_bindgen_test]
fn bad_options_throw_errors_that_name_the_option() {
    let cases: [(JsValue, &str, &str); 4] = [
        (object(&[("jitter", 2.into())]), "RangeError", "jitter"),
        (object(&[("maxDelay", 5.into())]), "TypeError", "maxDelay"),
        (
            object(&[("initialDelayMs", "soon".into())]),
            "TypeError",
            "initialDelayMs",
        ),
        (
            object(&[("maxAttempts", 0.into())]),
            "RangeError",
            "maxAttempts",
        ),
    ];
    for (options, name, mentions) in cases {
        let error =
            VideoTranslationClient::new(server_url().into(), Some(options.unchecked_into()))
                .expect_err(mentions);
        let error: js_sys::Error = error.dyn_into().unwrap();
        assert_eq!(error.name(), name, "{mentions}");
        let message = String::from(error.message());
        assert!(
            message.contains(mentions),
            "{message:?} should name {mentions}"
        );
    }
    let error = VideoTranslationClient::new("not a url".into(), None).expect_err("bad URL");
    assert_eq!(
        error.dyn_into::<js_sys::Error>().unwrap().name(),
        "TypeError"
    );
}

#[wasm_bindgen_test]
async fn adaptive_mode_long_polls_across_origins() {
    // The test page is another origin than the server: this only works if CORS exposes
    // Preference-Applied, without which the client would conclude there is no long-polling.
    let client = VideoTranslationClient::new(
        server_url().into(),
        // Plain backoff's first gap (3 s) longer than the sleep the estimate asks for: the
        // estimate never makes the client later than plain backoff, so this lets it sleep.
        Some(
            object(&[
                ("longPollWaitMs", 200.into()),
                ("jitter", 0.into()),
                ("initialDelayMs", 3000.into()),
                // Long-polls, not the stream a client asks for first.
                ("stream", false.into()),
            ])
            .unchecked_into(),
        ),
    )
    .unwrap();
    // A job estimated at 3 s that truly runs a minute: its earliest end by the estimate's
    // tolerance (a quarter) is at 2,250 ms, and it is still pending after the long-poll that
    // follows the sleep however late a busy machine's timers fire. Once the client has
    // reported that long-poll, the job is cancelled, which ends the wait.
    let request = object(&[("durationMs", 60_000.into()), ("estimateMs", 3000.into())]);
    let job = JsFuture::from(client.create_job(Some(request.unchecked_into())))
        .await
        .unwrap();
    let id = get(&job, "id");
    let (callback, updates) = recording_callback();
    let options = object(&[("onUpdate", callback.as_ref().clone())]);
    let waiting = JsFuture::from(client.wait_for_completion(
        Some(id.clone().unchecked_into()),
        Some(options.unchecked_into()),
    ));
    let cancel_after_the_long_poll = async {
        while updates.length() < 2 {
            sleep(Duration::from_millis(50)).await;
        }
        JsFuture::from(client.cancel_job(id.clone().unchecked_into()))
            .await
            .expect("cancelled");
    };
    let (outcome, ()) = join(waiting, cancel_after_the_long_poll).await;
    let outcome = outcome.expect("resolves");
    assert_eq!(get(&outcome, "result"), "error");
    assert_eq!(get(&get(&outcome, "status"), "reason"), "cancelled");

    // A sleep toward 2,250 ms (planned at the first answer), then 200 ms long-polls back to back.
    let first = updates.get(0);
    assert!(get(&first, "nextPollInMs").as_f64().unwrap() >= 1000.0);
    assert_eq!(
        get(&first, "nextPollWaitMs"),
        200,
        "after the sleep, a long-poll"
    );
    let after_a_long_poll = updates.get(1);
    assert_eq!(get(&after_a_long_poll, "result"), "pending");
    assert_eq!(
        get(&after_a_long_poll, "nextPollInMs"),
        0,
        "long-polls follow one another"
    );
    assert_eq!(get(&after_a_long_poll, "nextPollWaitMs"), 200);
}

#[wasm_bindgen_test]
async fn a_stream_carries_a_job_to_its_end_across_origins() {
    // The test page is another origin than the server: the stream's request (its Accept, its
    // JSON body) passes CORS, and its events are read from the body as they come.
    let client = VideoTranslationClient::new(
        server_url().into(),
        Some(object(&[("progressIntervalMs", 1000.into())]).unchecked_into()),
    )
    .unwrap();
    let id = create_job(&client, 1500, "completed").await;
    let (callback, updates) = recording_callback();
    let options = object(&[("onUpdate", callback.as_ref().clone())]);
    let outcome = JsFuture::from(client.wait_for_completion(
        Some(JsValue::from(id.clone()).unchecked_into()),
        Some(options.unchecked_into()),
    ))
    .await
    .expect("resolves");
    assert_eq!(get(&outcome, "result"), "completed");
    assert_eq!(get(&outcome, "attempts"), 1, "one request: the stream");
    let first = updates.get(0);
    assert_eq!(
        get(&first, "result"),
        "pending",
        "the stream's opening status"
    );
    assert_eq!(get(&first, "nextPollInMs"), 0, "carried by the stream");
    assert!(get(&first, "nextPollWaitMs").is_null());
    let last = updates.get(updates.length() - 1);
    assert_eq!(get(&last, "result"), "completed");
}
