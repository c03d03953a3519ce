//! Command-line flags, each also read from a `VTS_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use video_translation_protocol::MAX_JOB_DURATION;

use crate::api_key::ApiKey;
use crate::store::backend::StoreKind;

/// The longest `--max-wait`: proxies and load balancers cut idle requests long before.
pub const MAX_LONG_POLL: Duration = Duration::from_secs(60 * 60);

/// Where the demo page lives when `--www-dir` is not given: the repository's `www/`.
const DEFAULT_WWW_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www");
/// Where wasm-pack writes the npm package when `--pkg-dir` is not given.
const DEFAULT_PKG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../client-wasm/pkg");

/// How the server runs. `--help` prints this documentation.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "video-translation-server",
    version,
    about = "A simulated video-translation backend: status API, demo page and npm package.",
    long_about = "A simulated video-translation backend.\n\n\
        GET /status reports a default job that starts with the server and runs --delay seconds\n\
        (with --store redis://, one for the fleet: the first replica's, kept until it expires).\n\
        POST /jobs creates more jobs; GET /jobs/{id} reports them. The demo page is served at /\n\
        and the client's npm package at /pkg/. Every flag can also be set by the environment\n\
        variable shown in brackets."
)]
pub struct Settings {
    /// Address to listen on. Port 0 picks a free port; the address is printed at start.
    #[arg(long, env = "VTS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Default job duration in seconds (fractions allowed, at most a day). Applies to the
    /// job behind GET /status and to POST /jobs without `duration_ms`.
    #[arg(long, env = "VTS_DELAY", default_value = "10", value_parser = parse_delay, allow_hyphen_values = true)]
    pub delay: Duration,

    /// Probability, from 0 to 1, that a job ends in `error` when its outcome is not given.
    #[arg(long, env = "VTS_ERROR_RATE", default_value = "0", value_parser = parse_fraction, allow_hyphen_values = true)]
    pub error_rate: f64,

    /// How far, from 0 to 1, a job's reported estimate (`eta_ms`, `progress`) strays from its
    /// true duration: 0.2 reports between 80 % and 120 % of it. Real estimates are imperfect.
    #[arg(long, env = "VTS_ETA_ERROR", default_value = "0", value_parser = parse_fraction, allow_hyphen_values = true)]
    pub eta_error: f64,

    /// Longest time in seconds a status request is held for long-polling (`?wait=` or
    /// `Prefer: wait=`); fractions allowed, at most an hour, 0 turns long-polling off.
    #[arg(long, env = "VTS_MAX_WAIT", default_value = "30", value_parser = parse_max_wait, allow_hyphen_values = true)]
    pub max_wait: Duration,

    /// Folder of the demo page served at `/`.
    #[arg(long, env = "VTS_WWW_DIR", default_value = DEFAULT_WWW_DIR)]
    pub www_dir: PathBuf,

    /// Folder of the built npm package served at `/pkg/`.
    #[arg(long, env = "VTS_PKG_DIR", default_value = DEFAULT_PKG_DIR)]
    pub pkg_dir: PathBuf,

    /// Worker threads; defaults to one per CPU core.
    #[arg(long, env = "VTS_WORKERS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,

    /// How long, in seconds, a job is kept after it ends (fractions allowed, at most a day);
    /// then its id answers 404. Bounds the memory a flood of POST /jobs can take.
    #[arg(long, env = "VTS_JOB_TTL", default_value = "600", value_parser = parse_job_ttl, allow_hyphen_values = true)]
    pub job_ttl: Duration,

    /// How many created jobs are kept at once; past it, POST /jobs answers 503 with
    /// Retry-After (when the oldest expires).
    #[arg(long, env = "VTS_MAX_JOBS", default_value = "100000", value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    pub max_jobs: u32,

    /// How many long-polls are held at once; past it, a request that asks to wait answers
    /// 503 with Retry-After.
    #[arg(long, env = "VTS_MAX_WAITERS", default_value = "20000", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_waiters: u32,

    /// Requests per second each client address (an IPv6 client's /64) may make, in bursts
    /// of as many; past it, 429 with Retry-After. 0 (the default, for the demo) turns the
    /// limit off.
    #[arg(long, env = "VTS_RATE_LIMIT", default_value = "0", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub rate_limit: u32,

    /// A load balancer or proxy in front of the server (an address like `10.0.0.5`, or a
    /// network like `10.0.0.0/8`; repeat the flag or separate with commas): for requests
    /// from it, the client is read from `X-Forwarded-For`, so that `--rate-limit` counts each
    /// client, not the proxy. Only what trusted proxies wrote there is believed.
    #[arg(long = "trusted-proxy", value_name = "ADDRESS|NETWORK", env = "VTS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::client_address::parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// An origin allowed to call the API from a browser, such as `https://app.example.com`;
    /// repeat the flag (or separate with commas) for more. Without it, any origin may.
    #[arg(long = "cors-origin", env = "VTS_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,

    /// How long, in seconds, a request's body may take to arrive once its head has (fractions
    /// allowed, more than 0, at most an hour); past it the request is answered 408 and its
    /// connection closed. Slow heads are cut at 5 s by the HTTP layer itself.
    #[arg(long, env = "VTS_BODY_TIMEOUT", default_value = "5", value_parser = parse_body_timeout, allow_hyphen_values = true)]
    pub body_timeout: Duration,

    /// A key the API asks for, as `Authorization: Bearer KEY`: letters, digits and `-._~+/`,
    /// then `=` padding. Repeat the flag (or separate with commas) for more, so keys can be
    /// rotated. Without it the API is open. The health check, /openapi.json, the demo page and
    /// /pkg/ stay open either way. Prefer the environment variable: flags show in `ps`.
    // hide_env_values: --help would otherwise print the keys found in the environment.
    #[arg(long = "api-key", value_name = "KEY", env = "VTS_API_KEYS", value_delimiter = ',', value_parser = parse_api_key, hide_env_values = true)]
    pub api_keys: Vec<ApiKey>,

    /// Where jobs live: `memory` (this process only) or `redis://HOST:PORT[/DB]`, shared by
    /// every replica given the same URL: each serves every job, and jobs outlive replicas.
    /// --job-ttl and --max-jobs then hold fleet-wide; --max-waiters per replica.
    // hide_env_values: a Redis URL may carry a password.
    #[arg(long, value_name = "memory|redis://HOST:PORT[/DB]", env = "VTS_STORE", default_value = "memory", value_parser = StoreParser, hide_env_values = true)]
    pub store: StoreKind,

    /// An event stream (POST /jobs/watch with Accept: text/event-stream) sends a comment after
    /// this many seconds without an event, so that proxies that cut idle connections (often
    /// at 30 to 60 s) keep it; fractions allowed, more than 0, at most an hour.
    #[arg(long, env = "VTS_STREAM_HEARTBEAT", default_value = "15", value_parser = parse_stream_heartbeat, allow_hyphen_values = true)]
    pub stream_heartbeat: Duration,

    /// The longest an event stream lasts, in seconds (fractions allowed, more than 0, at most
    /// a day): then it sends its pending jobs' status and closes, and the client resumes it
    /// with Last-Event-ID. Bounds how long one connection holds a --max-waiters slot; an hour
    /// covers most translation jobs with one request.
    #[arg(long, env = "VTS_STREAM_LIFETIME", default_value = "3600", value_parser = parse_stream_lifetime, allow_hyphen_values = true)]
    pub stream_lifetime: Duration,
}

impl Settings {
    /// Settings for tests: port 0 on loopback, the given default duration, no errors.
    pub fn for_tests(delay: Duration) -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            delay,
            error_rate: 0.0,
            eta_error: 0.0,
            max_wait: Duration::from_secs(30),
            www_dir: DEFAULT_WWW_DIR.into(),
            pkg_dir: DEFAULT_PKG_DIR.into(),
            workers: Some(1),
            job_ttl: Duration::from_secs(600),
            max_jobs: 100_000,
            max_waiters: 20_000,
            rate_limit: 0,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            body_timeout: Duration::from_secs(5),
            api_keys: Vec::new(),
            store: StoreKind::Memory,
            stream_heartbeat: Duration::from_secs(15),
            stream_lifetime: Duration::from_secs(3600),
        }
    }
}

/// `--store`'s parser: clap's own error for a refused value would quote it, and a Redis URL
/// may hold a password, so this one says why without the value.
#[derive(Debug, Clone, Copy)]
struct StoreParser;

impl clap::builder::TypedValueParser for StoreParser {
    type Value = StoreKind;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<StoreKind, clap::Error> {
        let refused = |reason: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for --store: {reason}\n"),
            )
            .with_cmd(command)
        };
        let text = value.to_str().ok_or_else(|| refused("it is not UTF-8"))?;
        text.parse().map_err(|reason: String| refused(&reason))
    }
}

fn parse_delay(text: &str) -> Result<Duration, String> {
    parse_seconds(text, MAX_JOB_DURATION, "the longest job")
}

fn parse_job_ttl(text: &str) -> Result<Duration, String> {
    parse_seconds(text, MAX_JOB_DURATION, "a day")
}

/// A browser origin: `http` or `https`, a host, an optional port, and nothing else.
fn parse_origin(text: &str) -> Result<String, String> {
    let origin = text.trim().trim_end_matches('/');
    let uri: actix_web::http::Uri = origin
        .parse()
        .map_err(|_| format!("{text:?} is not an origin like https://app.example.com"))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let bare = uri.path() == "/" && uri.query().is_none() && !origin.ends_with('?');
    if !scheme_ok || uri.host().is_none() || !bare || origin.contains('@') {
        return Err(format!(
            "{text:?} is not an origin: expected http(s)://host[:port] and nothing more"
        ));
    }
    Ok(origin.to_owned())
}

fn parse_api_key(text: &str) -> Result<ApiKey, String> {
    text.parse()
}

fn parse_body_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_seconds(text, MAX_LONG_POLL, "an hour")?;
    if timeout.is_zero() {
        return Err(format!(
            "{text:?} would time every body out; give more than 0 seconds"
        ));
    }
    Ok(timeout)
}

fn parse_stream_heartbeat(text: &str) -> Result<Duration, String> {
    positive_seconds(text, MAX_LONG_POLL, "an hour")
}

fn parse_stream_lifetime(text: &str) -> Result<Duration, String> {
    positive_seconds(text, MAX_JOB_DURATION, "a day")
}

/// Seconds, more than 0: a zero heartbeat or lifetime would spin or close every stream at once.
fn positive_seconds(text: &str, max: Duration, what: &str) -> Result<Duration, String> {
    let seconds = parse_seconds(text, max, what)?;
    if seconds.is_zero() {
        return Err(format!("{text:?} must be more than 0 seconds"));
    }
    Ok(seconds)
}

fn parse_max_wait(text: &str) -> Result<Duration, String> {
    parse_seconds(text, MAX_LONG_POLL, "the longest long-poll")
}

fn parse_seconds(text: &str, max: Duration, what: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!(
            "{text:?} must be a finite number of seconds, 0 or more"
        ));
    }
    if seconds > max.as_secs_f64() {
        return Err(format!(
            "{text:?} is longer than {what} ({} s)",
            max.as_secs()
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("{text:?} must be between 0 and 1"));
    }
    Ok(rate)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
