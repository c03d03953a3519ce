//! The ceiling for `make bench`: a bare actix-web handler that answers `GET /jobs/{id}` with
//! a constant JSON body the size of a real `JobStatus`, with no middleware and no lookup.
//!
//!   cargo run --release -p video-translation-server --example bare_actix [BIND]
use actix_web::{web, App, HttpResponse, HttpServer};

// The same allocator as the real server, so the comparison is of the handlers alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str =
    r#"{"id":"0123456789abcdef0123456789abcdef","result":"pending","progress":0.5,"eta_ms":30000}"#;

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
        App::new().route(
            "/jobs/{id}",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(BODY)
            }),
        )
    })
    .listen(listener)?
    .run()
    .await
}
