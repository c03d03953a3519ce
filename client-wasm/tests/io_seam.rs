//! The seam between `js/io.js` and Rust: the headers it reads and sends are the protocol's,
//! and every failure kind it reports is one Rust reads. Both sides name them in their own
//! language, so this test is what keeps the two names one.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use video_translation_client::answer::Failure;
use video_translation_protocol::{
    IDEMPOTENCY_KEY_HEADER, PREFERENCE_APPLIED_HEADER, RETRY_AFTER_HEADER,
};

const IO_JS: &str = include_str!("../js/io.js");

/// Every `"..."` that follows `marker` in io.js.
fn quoted_after<'a>(marker: &str) -> BTreeSet<&'a str> {
    IO_JS
        .match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &IO_JS[at + marker.len()..];
            rest.split('"').next()
        })
        .collect()
}

#[test]
fn io_js_reads_and_sends_the_protocols_headers() {
    let read = quoted_after("headers.get(\"");
    assert!(read.contains(RETRY_AFTER_HEADER), "{read:?}");
    assert!(read.contains(PREFERENCE_APPLIED_HEADER), "{read:?}");
    let sent = quoted_after("headers.set(\"");
    assert!(sent.contains(IDEMPOTENCY_KEY_HEADER), "{sent:?}");
}

#[test]
fn every_failure_kind_io_js_reports_is_one_rust_reads() {
    let kinds = quoted_after("kind: \"");
    // `aborted` never reaches Rust: io.js drops the answers of the requests it cancels.
    let reported: BTreeSet<&str> = kinds
        .into_iter()
        .filter(|kind| *kind != "aborted")
        .collect();
    assert_eq!(
        reported,
        BTreeSet::from(["malformed", "network", "protocol", "timeout"])
    );
    for kind in reported {
        assert!(
            Failure::from_kind(kind, String::new()).is_some(),
            "io.js reports {kind:?}, which Rust does not read"
        );
    }
    assert_eq!(Failure::from_kind("aborted", String::new()), None);
}
