use clap::Parser;
use video_translation_server::{config::Settings, startup::Application, telemetry};

// mimalloc: answering 10,000 held long-polls at once is allocation-heavy, and glibc's
// malloc spent a third more CPU on it (`make bench`, long-poll fan-out).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc.h's `mi_option_t` (the same in mimalloc 2
/// and 3), which libmimalloc-sys does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Has mimalloc give freed memory back to the system as soon as it is freed.
///
/// By default mimalloc purges (`MADV_DONTNEED`) a freed range of its arena only once it has
/// been free for a delay (1 s in mimalloc 3), and looks for such ranges only when the
/// allocator is next used. Memory freed just before the server goes idle, say when 50
/// connections that pipelined requests without reading the answers close together, thus
/// stayed resident: 33 MiB after they closed against 14 MiB idle, 20 MiB with this
/// (`bench/pipeline-flood.mjs`). Purging at once costs a `madvise` per range freed back to the
/// arena, which a busy server rarely does (mimalloc keeps a thread's emptied pages for reuse
/// first): `GET /jobs/{id}` throughput and CPU per request did not change measurably.
fn purge_freed_memory_at_once() {
    // SAFETY: mi_option_set only stores the value; it is not thread safe, and this runs first
    // thing in main, before the server starts any other thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    purge_freed_memory_at_once();
    let settings = Settings::parse();
    // Keep the guard alive: dropping it stops the background log writer.
    let _log_guard = telemetry::init();

    let app = Application::build(settings)?;
    // Printed on stdout, unbuffered, so scripts that start us on port 0 can read the address.
    println!("video-translation-server listening on {}", app.url());
    app.run_until_stopped().await
}
