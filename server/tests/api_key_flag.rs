//! `--api-key` as the real binary reads it: repeated, comma-separated in `VTS_API_KEYS`, bad
//! values refused at start with the flag named, and never printed by `--help`.

use std::time::Duration;

mod common;
use common::{assert_error, raw_body, raw_exchange};

const KEYS: [&str; 2] = ["first-key_1", "second/key+2=="];

/// The real binary, with `env` set and `args`.
fn binary(args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_video-translation-server"));
    command.args(args).env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

#[test]
fn the_binary_reads_comma_separated_keys_from_vts_api_keys() {
    use std::io::BufRead;
    let mut child = binary(
        &["--bind", "127.0.0.1:0"],
        &[("VTS_API_KEYS", &format!("{}, {}", KEYS[0], KEYS[1]))],
    )
    .stdout(std::process::Stdio::piped())
    // Its warning about a missing npm package folder is noise here.
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address: std::net::SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));

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
    child.kill().unwrap();
    child.wait().unwrap();

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
        let output = binary(&args, &env).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("--api-key"), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("an API key"), "{args:?} {env:?}: {stderr}");
    }
}

#[test]
fn help_names_the_flag_but_never_prints_the_keys_in_the_environment() {
    let output = binary(&["--help"], &[("VTS_API_KEYS", "very-secret-key")])
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
