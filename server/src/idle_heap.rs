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
//! worker collects its heap (`mi_collect(true)`): emptied pages are returned to the arena, and
//! the collect, being forced, also purges the arena's free ranges at once, however long
//! mimalloc's purge delay (`main.rs`), unless another thread is purging at that moment. A
//! worker that never goes idle (behind a load balancer's kept-alive connections, or with a
//! long-poll always held) collects instead every `AFTER_CLOSES` (1 s) while connections close
//! on it, as after a burst. Collects on one worker are at least `MIN_GAP` (1 s) apart: a
//! forced collect purges program-wide, freed ranges other workers were about to reuse too.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::dev::Extensions;
use actix_web::rt::time::sleep;
use tokio::sync::Notify;

/// How long after its last connection closes a worker collects: long enough for that
/// connection's buffers to be freed (actix drops the connection's data, and so its
/// [`Connection`] marker, before its buffers) and for a burst of closes to end, so that one
/// collect serves them all.
const SETTLE: Duration = Duration::from_millis(100);

/// How often a worker that does not go idle collects, if connections closed on it since its
/// last collect (what a burst leaves behind): mimalloc's own purge delay.
const AFTER_CLOSES: Duration = Duration::from_secs(1);

/// The least time between two collects of one worker: mimalloc's own purge delay.
const MIN_GAP: Duration = Duration::from_secs(1);

/// One worker thread's connections.
#[derive(Debug, Default)]
struct Worker {
    open: Cell<usize>,
    /// Connections closed since the last collect.
    closed: Cell<usize>,
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
            actix_web::rt::spawn(collect_after_closes(Rc::clone(worker)));
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
            worker.closed.set(worker.closed.get() + 1);
            if open == 0 {
                worker.idle.notify_one();
            }
        });
    }
}

/// The worker's collecting task: collects once its connections have all closed, or on the
/// next second's tick after some closed, never twice within [`MIN_GAP`].
async fn collect_after_closes(worker: Rc<Worker>) {
    let mut last_collect: Option<Instant> = None;
    loop {
        let went_idle = tokio::select! {
            () = worker.idle.notified() => true,
            () = sleep(AFTER_CLOSES) => false,
        };
        if went_idle {
            sleep(SETTLE).await;
            if worker.open.get() != 0 {
                continue;
            }
        }
        if worker.closed.get() == 0 || last_collect.is_some_and(|at| at.elapsed() < MIN_GAP) {
            continue;
        }
        worker.closed.set(0);
        last_collect = Some(Instant::now());
        // SAFETY: mi_collect takes no pointer; it frees this thread's heap's empty pages and
        // purges free arena ranges. Under another global allocator it collects mimalloc's
        // unused heap.
        unsafe { libmimalloc_sys::mi_collect(true) }
    }
}
