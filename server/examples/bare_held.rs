//! The baseline of the stream fan-out's CPU (bench/stream-fanout.mjs): a bare actix-web
//! handler that holds each `GET /held` until `POST /release`, then answers it with a constant
//! JSON body the size of a job's final status. `GET /held-count` says how many it holds. No
//! middleware, no store: what one held request costs actix itself.
//!
//!   cargo run --release -p video-translation-server --example bare_held [BIND]
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;

use actix_web::{web, App, HttpResponse, HttpServer};
use tokio::sync::Notify;

// The same allocator as the real server, so the comparison is of the handlers alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str =
    r#"{"id":"0123456789abcdef0123456789abcdef","result":"completed","progress":1.0,"eta_ms":0}"#;

/// Every held request waits on this one notification, as a job's streams share its one.
static RELEASE: LazyLock<Notify> = LazyLock::new(Notify::new);
static HELD: AtomicUsize = AtomicUsize::new(0);

async fn held() -> HttpResponse {
    let released = RELEASE.notified();
    tokio::pin!(released);
    released.as_mut().enable();
    HELD.fetch_add(1, Ordering::Relaxed);
    released.await;
    HELD.fetch_sub(1, Ordering::Relaxed);
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = std::net::TcpListener::bind(bind)?;
    // The same line as the real server, so the benchmark reads both the same way.
    println!(
        "bare actix-web listening on http://{}",
        listener.local_addr()?
    );
    HttpServer::new(|| {
        App::new()
            .route("/held", web::get().to(held))
            .route(
                "/held-count",
                web::get().to(|| async { HELD.load(Ordering::Relaxed).to_string() }),
            )
            .route(
                "/release",
                web::post().to(|| async {
                    RELEASE.notify_waiters();
                    HttpResponse::NoContent().finish()
                }),
            )
    })
    .workers(1)
    .listen(listener)?
    .run()
    .await
}
