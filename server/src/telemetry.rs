//! Structured request logs.
//!
//! Each request runs in a span (from `tracing-actix-web`) carrying its method, route, status
//! and timing; the span's close is logged as one line. Lines are written by a background
//! thread so a slow terminal never stalls a request.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`); keep the guard alive
/// for as long as logs should be written.
pub fn init() -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        // Colours for a person at a terminal, plain text for files and log collectors.
        .with_ansi(std::io::stderr().is_terminal())
        .compact()
        .init();
    guard
}
