//! A worker whose connections have all closed gives the memory they took back to the system.
//!
//! The server's allocator, mimalloc (`main.rs`), gives each thread its own heap. When a page of
//! that heap (64 KiB, or 512 KiB to 4 MiB for larger blocks: the connections' read and write
//! buffers) empties and is the last of its size class, the heap keeps it ("retires" it) for the
//! thread's next few allocations rather than return it; it is returned only when the thread
//! allocates again, or collects. A worker that goes idle as its connections close allocates
//! nothing more, so it kept those pages resident for good: after 50 connections that pipelined
//! requests without reading the answers closed, 5 MiB of the 7 to 8 MiB still resident above
//! idle were such emptied pages (`bench/pipeline-flood.mjs`, found with mimalloc's own map of
//! its arena and `/proc/PID/pagemap`).
//!
//! [`on_connect`] counts each worker's open connections; once the last one has closed, the
//! worker collects its heap (`mi_collect(true)`): emptied pages are returned to the arena,
//! and the collect, being forced, purges them and every range freed before at once, however
//! long mimalloc's purge delay (`main.rs`). Nothing is collected while a worker holds a
//! connection, so a busy server is untouched; one whose connections come and go one at a
//! time collects at most every `SETTLE` (100 ms).

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::dev::Extensions;
use tokio::sync::Notify;

/// How long after its last connection closes a worker collects: long enough for that
/// connection's buffers to be freed (actix drops the connection's data, and so its
/// [`Connection`] marker, before its buffers) and for a burst of closes to end, so that one
/// collect serves them all.
const SETTLE: Duration = Duration::from_millis(100);

/// One worker thread's connections.
#[derive(Debug, Default)]
struct Worker {
    open: Cell<usize>,
    /// Notified when `open` drops to 0.
    idle: Notify,
    /// Whether this worker's collecting task runs.
    collecting: Cell<bool>,
}

thread_local! {
    static WORKER: Rc<Worker> = Rc::default();
}

/// For `HttpServer::on_connect`: counts the connection as open on this worker until actix
/// drops its data, and starts the worker's collecting task with its first connection.
pub fn on_connect(_connection: &dyn Any, data: &mut Extensions) {
    WORKER.with(|worker| {
        worker.open.set(worker.open.get() + 1);
        if !worker.collecting.replace(true) {
            // on_connect runs on the worker, in its runtime, as it takes the connection.
            actix_web::rt::spawn(collect_when_idle(Rc::clone(worker)));
        }
    });
    data.insert(Connection);
}

/// Marks an open connection: dropped with the connection's data, when actix closes it.
#[derive(Debug)]
struct Connection;

impl Drop for Connection {
    fn drop(&mut self) {
        // Dropped on the worker that took the connection (its data never leaves that thread).
        let _ = WORKER.try_with(|worker| {
            let open = worker.open.get().saturating_sub(1);
            worker.open.set(open);
            if open == 0 {
                worker.idle.notify_one();
            }
        });
    }
}

async fn collect_when_idle(worker: Rc<Worker>) {
    loop {
        worker.idle.notified().await;
        actix_web::rt::time::sleep(SETTLE).await;
        if worker.open.get() == 0 {
            // SAFETY: mi_collect only frees this thread's heap's empty pages; it takes no
            // pointer. Under another global allocator it collects mimalloc's unused heap.
            unsafe { libmimalloc_sys::mi_collect(true) }
        }
    }
}
