//! Holds many long-polls on one job of a running server and times every answer against the
//! job's end; reads the server's memory while all of them are held. Run by `make bench`.
//!
//! Each answer gets two times: when it *arrived* (the kernel's receive timestamp on the
//! socket, `SO_TIMESTAMPNS`), which is when the server answered, and when this process
//! *read* it, which also counts this process's own queueing. On a small machine the flood
//! shares the CPUs with the server, so the two differ; the arrival is the server's figure.
//!
//!   cargo run --release -p video-translation-server --example long_poll_flood -- \
//!       http://127.0.0.1:PORT SERVER_PID [WAITERS=10000] [JOB_MS=8000]
//!
//! Loopback only: it refuses any other host. Bounded: one job, a fixed number of
//! connections, and every connection gives up 30 s after the job's end.
mod flood;

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use flood::{
    enable_receive_timestamps, job_id_in, loopback_address, measure_fan_out, ms_after, read_answer,
    request, rss_kib, Error, FanOut, Percentiles,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: long_poll_flood http://127.0.0.1:PORT SERVER_PID [WAITERS] [JOB_MS]";
    let address = loopback_address(args.get(1), usage)?;
    let pid: u32 = args.get(2).ok_or(usage)?.parse()?;
    let waiters: usize = args.get(3).map_or(Ok(10_000), |n| n.parse())?;
    let job_ms: u64 = args.get(4).map_or(Ok(8_000), |n| n.parse())?;

    let rss_idle = rss_kib(pid)?;
    let (sent, sent_wall) = (Instant::now(), SystemTime::now());
    let created = request(
        &address,
        "POST",
        "/jobs",
        &format!(r#"{{"duration_ms":{job_ms}}}"#),
    )
    .await?;
    let half_round_trip = (Instant::now() - sent) / 2;
    let job_ends = sent + half_round_trip + Duration::from_millis(job_ms);
    let job_ends_wall = sent_wall + half_round_trip + Duration::from_millis(job_ms);
    let id = job_id_in(&created).ok_or("no job id in the answer to POST /jobs")?;

    // Connect in waves: a burst of 10,000 SYNs overflows the accept backlog.
    let connecting = Arc::new(Semaphore::new(256));
    let held = Arc::new(AtomicUsize::new(0));
    let path = format!("/jobs/{id}?wait=60");
    let tasks: Vec<_> = (0..waiters)
        .map(|_| {
            let (address, path, connecting, held) = (
                address.clone(),
                path.clone(),
                connecting.clone(),
                held.clone(),
            );
            tokio::spawn(async move {
                let permit = connecting.acquire_owned().await.ok()?;
                let mut stream = TcpStream::connect(&address).await.ok()?;
                enable_receive_timestamps(stream.as_raw_fd()).ok()?;
                // Keep-alive, as browsers and Node do: the answer ends at its Content-Length.
                let head = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n");
                stream.write_all(head.as_bytes()).await.ok()?;
                drop(permit);
                held.fetch_add(1, Ordering::Relaxed);
                let deadline = job_ends + Duration::from_secs(30);
                let (answer, arrived) =
                    tokio::time::timeout_at(deadline.into(), read_answer(&stream))
                        .await
                        .ok()??;
                let read = Instant::now();
                let text = String::from_utf8_lossy(&answer);
                let completed =
                    text.starts_with("HTTP/1.1 200") && text.contains(r#""result":"completed""#);
                let answered = Answer {
                    arrived_ms: ms_after(arrived, job_ends_wall),
                    read_ms: read.saturating_duration_since(job_ends).as_secs_f64() * 1000.0,
                    completed,
                };
                // Hand the connection back open, as a pooling client would: closing it here
                // would make the server spend the fan-out tearing connections down.
                Some((answered, stream))
            })
        })
        .collect();

    let FanOut {
        held_before_end,
        rss_held_kib: rss_held,
        answers,
        server_cpu_ms: server_cpu,
        own_cpu_ms: own_cpu,
    } = measure_fan_out(pid, &held, waiters, job_ends, tasks).await?;
    let completed = answers.iter().filter(|answer| answer.completed).count();
    let arrived = Percentiles::of(answers.iter().map(|answer| answer.arrived_ms));
    let read = Percentiles::of(answers.iter().map(|answer| answer.read_ms));
    // One line of key=value pairs, for bench/server.mjs to read.
    println!(
        "waiters={waiters} held_before_end={held_before_end} answered={} completed={completed} \
         arrived_p50_ms={:.1} arrived_p99_ms={:.1} arrived_max_ms={:.1} \
         read_p50_ms={:.1} read_p99_ms={:.1} read_max_ms={:.1} \
         rss_idle_kib={rss_idle} rss_held_kib={rss_held} \
         server_cpu_ms={server_cpu} flood_cpu_ms={own_cpu}",
        answers.len(),
        arrived.p50,
        arrived.p99,
        arrived.max,
        read.p50,
        read.p99,
        read.max,
    );
    Ok(())
}

/// One long-poll's answer, timed against the job's end.
struct Answer {
    /// When the answer reached this process's socket (kernel timestamp).
    arrived_ms: f64,
    /// When this process read it.
    read_ms: f64,
    completed: bool,
}
