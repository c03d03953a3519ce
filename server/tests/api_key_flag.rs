//! `--api-key` as the real binary reads it: repeated, comma-separated in `VTS_API_KEYS`, bad
//! values refused at start with the flag named, and never printed by `--help`.

use std::time::Duration;

mod common;
use common::binary::{command, ServerBinary};
use common::{assert_error, raw_body, raw_exchange};

const KEYS: [&str; 2] = ["first-key_1", "second/key+2=="];

#[test]
fn the_binary_reads_comma_separated_keys_from_vts_api_keys() {
    let server = ServerBinary::start(&[("VTS_API_KEYS", &format!("{}, {}", KEYS[0], KEYS[1]))]);
    let address = server.address;

    let get_status = |authorization: &str| {
        raw_exchange(
            address,
            format!("GET /status HTTP/1.1\r\nHost: x\r\n{authorization}Connection: close\r\n\r\n")
                .as_bytes(),
            Duration::from_secs(5),
        )
    };
    let refused = get_status("");
    let accepted: Vec<String> = KEYS
        .iter()
        .map(|key| get_status(&format!("Authorization: Bearer {key}\r\n")))
        .collect();
    drop(server);

    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert_error(&raw_body(&refused), "unauthorized");
    for answer in accepted {
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

#[test]
fn the_binary_refuses_bad_keys_from_flags_and_environment_naming_the_flag() {
    for (args, env) in [
        (vec!["--api-key", ""], vec![]),
        (vec!["--api-key", "ok", "--api-key", "not ok"], vec![]),
        (vec![], vec![("VTS_API_KEYS", "k1,,k2")]),
        (vec![], vec![("VTS_API_KEYS", "k\u{e9}y")]),
    ] {
        let output = command(&args, &env).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("--api-key"), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("an API key"), "{args:?} {env:?}: {stderr}");
    }
}

#[test]
fn help_names_the_flag_but_never_prints_the_keys_in_the_environment() {
    let output = command(&["--help"], &[("VTS_API_KEYS", "very-secret-key")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("--api-key") && stdout.contains("VTS_API_KEYS"),
        "{stdout}"
    );
    assert!(!stdout.contains("very-secret-key"), "{stdout}");
}
