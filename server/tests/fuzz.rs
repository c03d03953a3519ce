//! Arbitrary requests against the real app: any method, path, query, headers and body.
//! Whatever comes in, the server answers without a 5xx or a panic, and every error is in
//! the contract's shape, `{"error": {"code", "message"}}`. Bounded: a fixed number of cases,
//! each on an in-process app (no network).

use std::time::Duration;

use actix_web::http::{header, Method};
use actix_web::test as actix_test;
use proptest::prelude::*;
use video_translation_protocol::ErrorBody;
use video_translation_server::config::Settings;

mod common;
use common::app_with;

/// Pieces real paths are made of, mixed with arbitrary text so that both known routes with
/// odd parameters and unknown routes are tried.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("jobs".to_owned()),
        Just("status".to_owned()),
        Just("healthz".to_owned()),
        Just("pkg".to_owned()),
        Just("openapi.json".to_owned()),
        "[0-9a-f]{32}",
        "[a-zA-Z0-9._~%-]{0,40}",
        "%[0-9A-F]{2}",
        Just("..".to_owned()),
    ];
    prop::collection::vec(segment, 0..5).prop_map(|segments| format!("/{}", segments.join("/")))
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "wait=[0-9.e+-]{0,12}".prop_map(|q| format!("?{q}")),
        "[a-z=&%0-9.]{0,30}".prop_map(|q| format!("?{q}")),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::PATCH),
        Just(Method::OPTIONS),
        Just(Method::HEAD),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..200),
        r#"\{"duration_ms": ?-?[0-9]{0,25}(\.[0-9]+)?, ?"outcome": ?"[a-z]{0,10}"\}"#
            .prop_map(String::into_bytes),
        r#"\{"estimate_ms": ?[0-9e.+-]{0,20}\}"#.prop_map(String::into_bytes),
        Just(vec![b'{'; 5_000]),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let one = prop_oneof![
        "[ -~]{0,40}".prop_map(|v| ("prefer", v)),
        "wait=[0-9.e+-]{0,10}".prop_map(|v| ("prefer", v)),
        "[ -~]{0,40}".prop_map(|v| ("content-type", v)),
        "https?://[a-z.]{1,20}(:[0-9]{1,5})?".prop_map(|v| ("origin", v)),
        "[A-Z]{3,7}".prop_map(|v| ("access-control-request-method", v)),
        "[ -~]{0,40}".prop_map(|v| ("accept", v)),
    ];
    prop::collection::vec(one, 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_non_5xx_answer_and_errors_in_the_contract_shape(
        method in method(),
        path in path(),
        query in query(),
        headers in headers(),
        body in body(),
    ) {
        let (status, content_type, bytes) = actix_web::rt::System::new().block_on(async {
            let app = app_with(Settings {
                // Short enough that a long-poll in a case ends quickly.
                max_wait: Duration::from_millis(20),
                ..Settings::for_tests(Duration::from_millis(10))
            })
            .await;
            let mut request = actix_test::TestRequest::default()
                .method(method.clone())
                .uri(&format!("{path}{query}"))
                .set_payload(body);
            for (name, value) in &headers {
                if let Ok(value) = header::HeaderValue::from_str(value) {
                    request = request.insert_header((*name, value));
                }
            }
            let response = actix_test::call_service(&app, request.to_request()).await;
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (status, content_type, actix_test::read_body(response).await)
        });
        prop_assert!(!status.is_server_error(), "{method} {path}{query}: {status}");
        if (status.is_client_error()) && method != Method::HEAD {
            prop_assert!(content_type.starts_with("application/json"), "{method} {path}{query}: {status} as {content_type:?}");
            let error: Result<ErrorBody, _> = serde_json::from_slice(&bytes);
            prop_assert!(error.is_ok(), "{method} {path}{query}: {status}: {}", String::from_utf8_lossy(&bytes));
        }
    }
}
