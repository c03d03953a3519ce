use clap::Parser;
use video_translation_server::{config::Settings, startup::Application, telemetry};

// mimalloc: answering 10,000 held long-polls at once is allocation-heavy, and glibc's
// malloc spent a third more CPU on it (`make bench`, long-poll fan-out).
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
