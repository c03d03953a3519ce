//! `GET /metrics` (issue 11): the Prometheus text format, read back by a parser of that
//! format; the counters move with requests; open whatever `--api-key` says.

use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::test;
use prometheus_parse::{Sample, Scrape, Value};
use video_translation_server::config::Settings;

mod common;
use common::{app, app_with, call, post_jobs, post_watch, watch_body, TestApp};

/// Reads `/metrics` and parses it, failing on any line the parser does not take.
async fn scrape(app: &impl TestApp) -> Scrape {
    let response =
        test::call_service(app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    let lines = body.lines().map(|line| Ok(line.to_owned()));
    let scrape =
        Scrape::parse(lines).unwrap_or_else(|e| panic!("not the text format ({e}): {body}"));
    // The parser skips lines it cannot read, so every line is also checked strictly.
    for line in body.lines() {
        assert!(is_text_format_line(line), "not the text format: {line:?}");
    }
    scrape
}

/// Whether `line` is a comment (`# HELP`, `# TYPE`) or a sample of the text format 0.0.4:
/// `name{label="value",...} number`.
fn is_text_format_line(line: &str) -> bool {
    let is_name = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    if let Some(help) = line.strip_prefix("# HELP ") {
        return help.split_once(' ').is_some_and(|(name, _)| is_name(name));
    }
    if let Some(kind) = line.strip_prefix("# TYPE ") {
        return kind.split_once(' ').is_some_and(|(name, kind)| {
            is_name(name) && ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
        });
    }
    let Some((series, value)) = line.rsplit_once(' ') else {
        return false;
    };
    let number = value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value);
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => match rest.strip_suffix('}') {
            Some(labels) => (name, labels),
            None => return false,
        },
        None => (series, ""),
    };
    number && is_name(name) && are_labels(labels, is_name)
}

/// `k="v",k="v"` with `\\`, `\"` and `\n` escapes in values, or nothing.
fn are_labels(mut rest: &str, is_name: impl Fn(&str) -> bool) -> bool {
    while !rest.is_empty() {
        let Some((name, value)) = rest.split_once("=\"") else {
            return false;
        };
        if !is_name(name) {
            return false;
        }
        let mut chars = value.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => {
                    if !matches!(chars.next(), Some((_, '\\' | '"' | 'n'))) {
                        return false;
                    }
                }
                Some((at, '"')) => break at,
                Some((_, '\n')) | None => return false,
                Some(_) => {}
            }
        };
        rest = &value[end + 1..];
        if let Some(more) = rest.strip_prefix(',') {
            rest = more;
        } else if !rest.is_empty() {
            return false;
        }
    }
    true
}

/// How many observations the histogram `name` with `labels` has at or under `bound`.
fn bucket(scrape: &Scrape, name: &str, labels: &[(&str, &str)], bound: f64) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no histogram {name} {labels:?}"));
    let Value::Histogram(buckets) = &sample.value else {
        panic!("{name} is not a histogram: {:?}", sample.value);
    };
    buckets
        .iter()
        .find(|b| b.less_than == bound)
        .unwrap_or_else(|| panic!("{name}: no bucket {bound}"))
        .count
}

/// The value of the sample `name` whose labels include every one of `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    match matching.as_slice() {
        [] => 0.0,
        [one] => match &one.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{name}: not a single value: {other:?}"),
        },
        many => panic!("{name} {labels:?}: {} samples", many.len()),
    }
}

#[actix_web::test]
async fn the_output_parses_and_names_every_metric() {
    let app = app(Duration::from_secs(60)).await;
    call(&app, test::TestRequest::get().uri("/status")).await;
    let scrape = scrape(&app).await;
    let names: std::collections::BTreeSet<&str> = scrape.docs.keys().map(String::as_str).collect();
    for name in [
        "vts_http_requests_total",
        "vts_http_request_duration_seconds",
        "vts_jobs",
        "vts_held_requests",
        "vts_wake_fanout",
        "vts_store_operations_total",
    ] {
        assert!(names.contains(name), "no {name} in {names:?}");
    }
}

#[actix_web::test]
async fn counters_move_with_requests() {
    let app = app(Duration::from_secs(60)).await;
    let before = scrape(&app).await;
    let (_, _, created) = call(&app, post_jobs(r#"{"duration_ms": 60000}"#)).await;
    let id = created["id"].as_str().unwrap();
    for _ in 0..3 {
        call(&app, test::TestRequest::get().uri(&format!("/jobs/{id}"))).await;
    }
    call(
        &app,
        test::TestRequest::get().uri(&format!("/jobs/{}", "0".repeat(32))),
    )
    .await;
    call(&app, post_jobs(r#"{"duration_ms": 0, "outcome": "error"}"#)).await;
    let after = scrape(&app).await;

    let polls = [("route", "/jobs/:id"), ("status", "200")];
    assert_eq!(
        value(&after, "vts_http_requests_total", &polls)
            - value(&before, "vts_http_requests_total", &polls),
        3.0
    );
    let not_found = [("route", "/jobs/:id"), ("status", "404")];
    assert_eq!(value(&after, "vts_http_requests_total", &not_found), 1.0);
    let creates = [("route", "/jobs"), ("status", "201")];
    assert_eq!(value(&after, "vts_http_requests_total", &creates), 2.0);
    let metrics_scrapes = [("route", "/metrics"), ("status", "200")];
    assert_eq!(
        value(&after, "vts_http_requests_total", &metrics_scrapes),
        1.0,
        "the first scrape"
    );

    let latency = "vts_http_request_duration_seconds";
    let polled = [("route", "/jobs/:id")];
    assert_eq!(
        bucket(&after, latency, &polled, f64::INFINITY),
        4.0,
        "one observation per poll"
    );

    assert_eq!(value(&after, "vts_jobs", &[("state", "pending")]), 1.0);
    assert_eq!(value(&after, "vts_jobs", &[("state", "error")]), 1.0);
    assert_eq!(value(&after, "vts_jobs", &[("state", "completed")]), 0.0);
    let created_ops = value(
        &after,
        "vts_store_operations_total",
        &[("operation", "create")],
    );
    assert_eq!(created_ops, 2.0);
    assert!(
        value(
            &after,
            "vts_store_operations_total",
            &[("operation", "read")]
        ) >= 4.0
    );
}

#[actix_web::test]
async fn held_requests_and_the_wake_fanout_are_counted() {
    let app = app(Duration::from_secs(60)).await;
    let (_, _, created) = call(&app, post_jobs(r#"{"duration_ms": 60000}"#)).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let long_poll = call(
        &app,
        test::TestRequest::get().uri(&format!("/jobs/{id}?wait=10")),
    );
    let watch = call(&app, post_watch("?wait=10", &watch_body(&[&id])));
    let observe_then_cancel = async {
        // Scraped until both are held (10 s at most; the assertions below say if they never
        // were), not after a fixed sleep that a slow machine outlasts.
        let deadline = Instant::now() + Duration::from_secs(10);
        let held = loop {
            let held = scrape(&app).await;
            let count = |kind| value(&held, "vts_held_requests", &[("kind", kind)]);
            if (count("long_poll") == 1.0 && count("watch") == 1.0) || Instant::now() > deadline {
                break held;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        call(
            &app,
            test::TestRequest::post().uri(&format!("/jobs/{id}/cancel")),
        )
        .await;
        held
    };
    let (_, _, held) = tokio::join!(long_poll, watch, observe_then_cancel);
    assert_eq!(
        value(&held, "vts_held_requests", &[("kind", "long_poll")]),
        1.0
    );
    assert_eq!(value(&held, "vts_held_requests", &[("kind", "watch")]), 1.0);

    let after = scrape(&app).await;
    assert_eq!(
        value(&after, "vts_held_requests", &[("kind", "long_poll")]),
        0.0
    );
    assert_eq!(
        value(&after, "vts_held_requests", &[("kind", "watch")]),
        0.0
    );
    let fanout = |suffix: &str| {
        after
            .samples
            .iter()
            .find(|s| s.metric == format!("vts_wake_fanout_{suffix}"))
            .map(|s| match s.value {
                Value::Untyped(v) | Value::Counter(v) => v,
                _ => -1.0,
            })
    };
    assert_eq!(fanout("count"), Some(1.0), "one notification fired");
    assert_eq!(
        fanout("sum"),
        Some(2.0),
        "it woke the long-poll and the watch"
    );
}

#[actix_web::test]
async fn metrics_are_open_when_the_api_asks_for_keys() {
    let app = app_with(Settings {
        api_keys: vec!["k1".parse().unwrap()],
        ..Settings::for_tests(Duration::from_secs(60))
    })
    .await;
    let (status, _, _) = call(&app, post_jobs("{}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let scrape = scrape(&app).await;
    let refused = [("route", "/jobs"), ("status", "401")];
    assert_eq!(value(&scrape, "vts_http_requests_total", &refused), 1.0);
}
