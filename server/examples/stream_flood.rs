//! Opens many event streams (`POST /jobs/watch`, `Accept: text/event-stream`) on one job of a
//! running server and times each stream's `end` event against the job's end; reads the
//! server's memory while every stream is open. Run by `make bench` (bench/stream-fanout.mjs).
//!
//! As in `long_poll_flood`, an event's time is when it *arrived* (the kernel's receive
//! timestamp on the socket: when the server wrote it) and when this process *read* it. A
//! stream counts as held once its head (`200 text/event-stream`) has come: the server has
//! taken its `--max-waiters` slot by then.
//!
//! With `held` as its last argument it is instead the load of the baseline, `bare_held`: as
//! many `GET /held` held on a bare actix-web handler, released together by `POST /release`
//! once the handler holds them all.
//!
//!   cargo run --release -p video-translation-server --example stream_flood -- \
//!       http://127.0.0.1:PORT SERVER_PID [STREAMS=10000] [LEAD_MS=5000] [stream|held]
//!
//! Loopback only: it refuses any other host. Bounded: one job, a fixed number of
//! connections, each giving up 30 s after the job's end (held: 120 s after the start).
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
    read_stamped, request, rss_kib, Error, FanOut, Percentiles,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let usage =
        "usage: stream_flood http://127.0.0.1:PORT SERVER_PID [STREAMS] [LEAD_MS] [stream|held]";
    let address = loopback_address(args.get(1), usage)?;
    let pid: u32 = args.get(2).ok_or(usage)?.parse()?;
    let streams: usize = args.get(3).map_or(Ok(10_000), |n| n.parse())?;
    let lead_ms: u64 = args.get(4).map_or(Ok(5_000), |n| n.parse())?;
    match args.get(5).map_or("stream", String::as_str) {
        "stream" => flood_streams(address, pid, streams, lead_ms).await,
        "held" => flood_held(address, streams).await,
        _ => Err(usage.into()),
    }
}

async fn flood_streams(
    address: String,
    pid: u32,
    streams: usize,
    lead_ms: u64,
) -> Result<(), Error> {
    let rss_fresh = rss_kib(pid)?;
    let (sent, sent_wall) = (Instant::now(), SystemTime::now());
    let created = request(
        &address,
        "POST",
        "/jobs",
        &format!(r#"{{"duration_ms":{lead_ms}}}"#),
    )
    .await?;
    let half_round_trip = (Instant::now() - sent) / 2;
    let job_ends = sent + half_round_trip + Duration::from_millis(lead_ms);
    let job_ends_wall = sent_wall + half_round_trip + Duration::from_millis(lead_ms);
    let id = job_id_in(&created).ok_or("no job id in the answer to POST /jobs")?;
    let body = format!(r#"{{"ids":["{id}"]}}"#);
    let mine = format!(r#""id":"{id}","result":"completed""#);

    // Connect in waves: a burst of 10,000 SYNs overflows the accept backlog.
    let connecting = Arc::new(Semaphore::new(256));
    let held = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..streams)
        .map(|_| {
            let (address, body, mine) = (address.clone(), body.clone(), mine.clone());
            let (connecting, held) = (connecting.clone(), held.clone());
            tokio::spawn(async move {
                let permit = connecting.acquire_owned().await.ok()?;
                let mut stream = TcpStream::connect(&address).await.ok()?;
                enable_receive_timestamps(stream.as_raw_fd()).ok()?;
                let head = format!(
                    "POST /jobs/watch HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.ok()?;
                let deadline = job_ends + Duration::from_secs(30);
                let (text, arrived) = tokio::time::timeout_at(
                    deadline.into(),
                    read_end_event(&stream, || {
                        drop(permit);
                        held.fetch_add(1, Ordering::Relaxed);
                    }),
                )
                .await
                .ok()??;
                let read = Instant::now();
                Some((
                    Delivered {
                        arrived_ms: ms_after(arrived, job_ends_wall),
                        read_ms: read.saturating_duration_since(job_ends).as_secs_f64() * 1000.0,
                        with_its_end: text.starts_with("HTTP/1.1 200") && text.contains(&mine),
                    },
                    stream,
                ))
            })
        })
        .collect();

    let FanOut {
        held_before_end,
        rss_held_kib: rss_held,
        answers,
        server_cpu_ms: server_cpu,
        own_cpu_ms: own_cpu,
    } = measure_fan_out(pid, &held, streams, job_ends, tasks).await?;
    let with_its_end = answers.iter().filter(|answer| answer.with_its_end).count();
    let arrived = Percentiles::of(answers.iter().map(|answer| answer.arrived_ms));
    let read = Percentiles::of(answers.iter().map(|answer| answer.read_ms));
    // One line of key=value pairs, for bench/stream-fanout.mjs to read.
    println!(
        "streams={streams} held_before_end={held_before_end} delivered={} with_its_end={with_its_end} \
         arrived_p50_ms={:.1} arrived_p99_ms={:.1} arrived_max_ms={:.1} \
         read_p50_ms={:.1} read_p99_ms={:.1} read_max_ms={:.1} \
         rss_fresh_kib={rss_fresh} rss_held_kib={rss_held} \
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

/// One stream's `end` event, timed against the job's end.
struct Delivered {
    /// When the event reached this process's socket (kernel timestamp).
    arrived_ms: f64,
    /// When this process read it.
    read_ms: f64,
    /// Whether the stream opened with a 200 and its `end` is the job's, completed.
    with_its_end: bool,
}

/// Reads a stream's answer up to its `end` event: calls `opened` once the head is in, and
/// returns the text read and when the bytes holding the event arrived.
async fn read_end_event(stream: &TcpStream, opened: impl FnOnce()) -> Option<(String, SystemTime)> {
    let mut text = String::new();
    let mut chunk = [0u8; 2048];
    let mut opened = Some(opened);
    loop {
        let (read, stamp) = read_stamped(stream, &mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        text.push_str(&String::from_utf8_lossy(&chunk[..read]));
        if text.contains("\r\n\r\n") {
            if let Some(opened) = opened.take() {
                opened();
            }
        }
        // The `end` whole: the `open` and `jobs` events before it end with a blank line too.
        let end = text.find("event: end\n");
        if end.is_some_and(|at| text[at..].contains("\n\n")) {
            return Some((text, stamp.unwrap_or_else(SystemTime::now)));
        }
    }
}

/// The baseline's load: `streams` requests held by `bare_held`, released at once.
async fn flood_held(address: String, requests: usize) -> Result<(), Error> {
    let connecting = Arc::new(Semaphore::new(256));
    let tasks: Vec<_> = (0..requests)
        .map(|_| {
            let (address, connecting) = (address.clone(), connecting.clone());
            tokio::spawn(async move {
                let permit = connecting.acquire_owned().await.ok()?;
                let mut stream = TcpStream::connect(&address).await.ok()?;
                let head = format!("GET /held HTTP/1.1\r\nHost: {address}\r\n\r\n");
                stream.write_all(head.as_bytes()).await.ok()?;
                drop(permit);
                let (answer, _) =
                    tokio::time::timeout(Duration::from_secs(120), read_answer(&stream))
                        .await
                        .ok()??;
                Some((answer.starts_with(b"HTTP/1.1 200"), stream))
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = request(&address, "GET", "/held-count", "").await?;
        let held: usize = answer
            .rsplit("\r\n\r\n")
            .next()
            .unwrap_or("")
            .trim()
            .parse()?;
        if held >= requests {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("only {held} of {requests} requests held").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    request(&address, "POST", "/release", "").await?;
    let mut answered = 0;
    let mut open_connections = Vec::with_capacity(requests);
    for task in tasks {
        if let Ok(Some((ok, stream))) = task.await {
            answered += usize::from(ok);
            open_connections.push(stream);
        }
    }
    println!("held={requests} answered={answered}");
    Ok(())
}
