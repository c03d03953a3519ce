use clap::Parser;
use video_translation_server::{config::Settings, startup::Application, telemetry};

// mimalloc: answering 10,000 held long-polls at once is allocation-heavy, and glibc's
// malloc spent a third more CPU on it (`make bench`, long-poll fan-out).
//
// Its purge delay stays at its default (1 s): freed memory goes back to the system when the
// allocator next looks once it has been free that long, and at once when a worker collects
// its heap (`idle_heap.rs`: when its connections have all closed, and every second while
// connections close on it), which forces the purge. Purging every range as it is freed
// (delay 0, as this server did before those collects) cost a `madvise` and a TLB flush on the
// other core for each page the answered requests emptied: a fifth of the server's CPU in a
// long-poll fan-out (bench/README.md, Server), for up to a second of a burst's memory kept.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let settings = Settings::parse();
    // Keep the guard alive: dropping it stops the background log writer.
    let _log_guard = telemetry::init();

    let app = Application::build(settings)?;
    // Printed on stdout, unbuffered, so scripts that start us on port 0 can read the address.
    println!("video-translation-server listening on {}", app.url());
    app.run_until_stopped().await
}
