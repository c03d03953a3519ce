//! Flags and environment variables read into settings: the defaults, and each value refused.

use super::*;

fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
    Settings::try_parse_from(
        std::iter::once("video-translation-server").chain(args.iter().copied()),
    )
}

#[test]
fn defaults_match_the_documented_contract() {
    let settings = parse(&[]).unwrap();
    assert_eq!(settings.bind, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(settings.delay, Duration::from_secs(10));
    assert_eq!(settings.error_rate, 0.0);
    assert_eq!(settings.eta_error, 0.0);
    assert_eq!(settings.max_wait, Duration::from_secs(30));
    assert_eq!(settings.job_ttl, Duration::from_secs(600));
    assert_eq!(settings.max_jobs, 100_000);
    assert_eq!(settings.max_waiters, 20_000);
    assert_eq!(settings.rate_limit, 0, "no rate limit for the demo");
    assert!(settings.cors_origins.is_empty(), "any origin for the demo");
    assert_eq!(settings.body_timeout, Duration::from_secs(5));
    assert!(settings.api_keys.is_empty(), "the API is open by default");
    assert_eq!(settings.store, StoreKind::Memory);
    assert_eq!(settings.stream_heartbeat, Duration::from_secs(15));
    assert_eq!(settings.stream_lifetime, Duration::from_secs(3600));
}

#[test]
fn stream_heartbeat_and_lifetime_are_positive_seconds_with_fractions() {
    let settings = parse(&["--stream-heartbeat", "0.5", "--stream-lifetime", "90"]).unwrap();
    assert_eq!(settings.stream_heartbeat, Duration::from_millis(500));
    assert_eq!(settings.stream_lifetime, Duration::from_secs(90));
    for (flag, bad) in [
        ("--stream-heartbeat", "0"),
        ("--stream-heartbeat", "-1"),
        ("--stream-heartbeat", "7200"),
        ("--stream-lifetime", "0"),
        ("--stream-lifetime", "100000"),
        ("--stream-lifetime", "soon"),
    ] {
        let err = parse(&[flag, bad]).unwrap_err().to_string();
        assert!(err.contains(flag), "{flag} {bad}: {err}");
    }
}

#[test]
fn the_store_is_memory_or_a_redis_url() {
    assert_eq!(
        parse(&["--store", "redis://127.0.0.1:6379/1"])
            .unwrap()
            .store,
        StoreKind::Redis("redis://127.0.0.1:6379/1".into())
    );
    let err = parse(&["--store", "mysql://db"]).unwrap_err().to_string();
    assert!(err.contains("--store"), "{err}");
    for bad in [
        "redis://admin:secret@cache:notaport",
        "mysql://admin:secret@db",
    ] {
        let err = parse(&["--store", bad]).unwrap_err().to_string();
        assert!(
            err.contains("--store") && !err.contains("secret"),
            "the password is not quoted: {err}"
        );
    }
}

#[test]
fn api_keys_may_repeat_or_be_comma_separated() {
    let settings = parse(&["--api-key", "k1", "--api-key", "k2,k3=="]).unwrap();
    let keys: Vec<&str> = settings.api_keys.iter().map(ApiKey::as_str).collect();
    assert_eq!(keys, ["k1", "k2", "k3=="]);
}

#[test]
fn api_keys_that_cannot_be_sent_as_bearer_tokens_are_refused_with_the_flag_named() {
    for bad in ["", "two words", "k1,", "caf\u{e9}", "a=b", "quote\"d"] {
        let err = parse(&["--api-key", bad]).unwrap_err().to_string();
        assert!(err.contains("--api-key"), "{bad:?}: {err}");
        assert!(err.contains("an API key"), "{bad:?}: {err}");
    }
}

#[test]
fn body_timeout_is_checked() {
    assert_eq!(
        parse(&["--body-timeout", "0.5"]).unwrap().body_timeout,
        Duration::from_millis(500)
    );
    for bad in ["0", "-1", "7200", "soon"] {
        let err = parse(&["--body-timeout", bad]).unwrap_err().to_string();
        assert!(err.contains("--body-timeout"), "{bad}: {err}");
    }
}

#[test]
fn cors_origins_are_checked_and_may_repeat_or_be_comma_separated() {
    let settings = parse(&[
        "--cors-origin",
        "https://app.example.com",
        "--cors-origin",
        "http://127.0.0.1:3000/,http://localhost:5173",
    ])
    .unwrap();
    assert_eq!(
        settings.cors_origins,
        [
            "https://app.example.com",
            "http://127.0.0.1:3000",
            "http://localhost:5173"
        ]
    );
    for bad in [
        "app.example.com",
        "ftp://example.com",
        "https://example.com/path",
        "https://example.com?x=1",
        "https://user@example.com",
        "*",
        "",
    ] {
        assert!(parse(&["--cors-origin", bad]).is_err(), "{bad:?}");
    }
}

#[test]
fn limits_are_checked() {
    for bad in [
        ["--max-jobs", "0"],
        ["--max-waiters", "0"],
        ["--rate-limit", "-1"],
        ["--job-ttl", "-1"],
        ["--job-ttl", "100000"],
        ["--max-jobs", "lots"],
    ] {
        assert!(parse(&bad).is_err(), "{bad:?}");
    }
    let settings = parse(&["--job-ttl", "0.5", "--rate-limit", "20"]).unwrap();
    assert_eq!(settings.job_ttl, Duration::from_millis(500));
    assert_eq!(settings.rate_limit, 20);
}

#[test]
fn trusted_proxies_are_addresses_or_networks_repeated_or_comma_separated() {
    let settings = parse(&[
        "--trusted-proxy",
        "127.0.0.1,10.0.0.0/8",
        "--trusted-proxy",
        "::1",
    ])
    .unwrap();
    let proxies: Vec<String> = settings
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(proxies, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
    assert!(parse(&[]).unwrap().trusted_proxies.is_empty());
    let error = parse(&["--trusted-proxy", "nginx"])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("\"nginx\" is not an address or network"),
        "{error}"
    );
}

#[test]
fn max_wait_and_eta_error_are_checked() {
    assert_eq!(
        parse(&["--max-wait", "0.5"]).unwrap().max_wait,
        Duration::from_millis(500)
    );
    assert_eq!(parse(&["--eta-error", "0.2"]).unwrap().eta_error, 0.2);
    for (flag, bad) in [
        ("--max-wait", "-1"),
        ("--max-wait", "7200"),
        ("--eta-error", "1.5"),
    ] {
        let err = parse(&[flag, bad]).unwrap_err().to_string();
        assert!(err.contains(flag), "{flag} {bad}: {err}");
    }
}

#[test]
fn delay_accepts_fractions_of_a_second() {
    let settings = parse(&["--delay", "0.25"]).unwrap();
    assert_eq!(settings.delay, Duration::from_millis(250));
}

#[test]
fn delay_rejects_negative_absurd_and_non_numbers() {
    for bad in ["-1", "NaN", "inf", "abc", "90000"] {
        let err = parse(&["--delay", bad]).unwrap_err().to_string();
        assert!(err.contains("--delay"), "{bad}: {err}");
    }
}

#[test]
fn error_rate_must_be_a_probability() {
    assert_eq!(parse(&["--error-rate", "0.5"]).unwrap().error_rate, 0.5);
    for bad in ["-0.1", "1.5", "x"] {
        assert!(parse(&["--error-rate", bad]).is_err(), "{bad}");
    }
}

#[test]
fn bind_must_be_a_socket_address() {
    assert!(parse(&["--bind", "not-an-address"]).is_err());
    assert_eq!(parse(&["--bind", "127.0.0.1:0"]).unwrap().bind.port(), 0);
}
