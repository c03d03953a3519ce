//! Fans out watches: holds WATCHES `POST /jobs/watch?wait=30` requests of IDS ids each (every
//! id a different job), then lets one job of each watch end at the same moment, and times
//! every watch's answer against the end of its job; reads the server's memory fresh, with
//! every job created, and with every watch held. Run by `make bench` (bench/watch-fanout.mjs).
//!
//! As in `long_poll_flood`, an answer's time is when it *arrived* (the kernel's receive
//! timestamp on the socket), which is when the server answered, and when this process *read*
//! it. The jobs that end are created last, each lasting until one shared instant a few
//! seconds ahead; the others last an hour.
//!
//!   cargo run --release -p video-translation-server --example watch_flood -- \
//!       http://127.0.0.1:PORT SERVER_PID [WATCHES=1000] [IDS=100] [LEAD_MS=5000]
//!
//! The server needs room: `--max-jobs` at least WATCHES × IDS, `--max-waiters` at least
//! WATCHES. Loopback only: it refuses any other host. Bounded: WATCHES × IDS jobs created over
//! 32 connections, WATCHES connections held, each giving up 30 s after the end.
mod flood;

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use flood::{
    enable_receive_timestamps, exchange, job_id_in, loopback_address, measure_fan_out, ms_after,
    read_answer, rss_kib, Error, FanOut, Percentiles,
};

/// Connections that create the jobs, each one request at a time.
const CREATORS: usize = 32;
const LONG_JOB_MS: u64 = 3_600_000;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: watch_flood http://127.0.0.1:PORT SERVER_PID [WATCHES] [IDS] [LEAD_MS]";
    let address = loopback_address(args.get(1), usage)?;
    let pid: u32 = args.get(2).ok_or(usage)?.parse()?;
    let watches: usize = args.get(3).map_or(Ok(1_000), |n| n.parse())?;
    let ids_per_watch: usize = args.get(4).map_or(Ok(100), |n| n.parse())?;
    let lead_ms: u64 = args.get(5).map_or(Ok(5_000), |n| n.parse())?;
    if !(1..=1_000).contains(&ids_per_watch) {
        return Err("IDS must be 1 to 1,000 (the server's limit per watch)".into());
    }

    let rss_fresh = rss_kib(pid)?;
    let creating = Instant::now();
    let long_jobs = create_jobs(&address, watches * (ids_per_watch - 1), |_| LONG_JOB_MS).await?;
    let create_s = creating.elapsed().as_secs_f64();
    let rss_jobs = rss_kib(pid)?;

    // The jobs that end: each lasts from its creation until `end`, one shared instant.
    let end = Instant::now() + Duration::from_millis(lead_ms);
    let ending = create_ending_jobs(&address, watches, end).await?;

    let connecting = Arc::new(Semaphore::new(256));
    let held = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = ending
        .into_iter()
        .enumerate()
        .map(|(watch, ending)| {
            let others = &long_jobs[watch * (ids_per_watch - 1)..(watch + 1) * (ids_per_watch - 1)];
            let mut ids: Vec<&str> = others.iter().map(String::as_str).collect();
            ids.push(&ending.id);
            let body = format!(r#"{{"ids":["{}"]}}"#, ids.join(r#"",""#));
            let (address, connecting, held) = (address.clone(), connecting.clone(), held.clone());
            tokio::spawn(async move {
                let permit = connecting.acquire_owned().await.ok()?;
                let mut stream = TcpStream::connect(&address).await.ok()?;
                enable_receive_timestamps(stream.as_raw_fd()).ok()?;
                let head = format!(
                    "POST /jobs/watch?wait=30 HTTP/1.1\r\nHost: {address}\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.ok()?;
                drop(permit);
                held.fetch_add(1, Ordering::Relaxed);
                let deadline = end + Duration::from_secs(30);
                let (answer, arrived) =
                    tokio::time::timeout_at(deadline.into(), read_answer(&stream))
                        .await
                        .ok()??;
                let read = Instant::now();
                let text = String::from_utf8_lossy(&answer);
                // Its own job, completed, in the answer (others may have ended by then too).
                let mine = format!(r#""id":"{}","result":"completed""#, ending.id);
                Some((
                    Answered {
                        arrived_ms: ms_after(arrived, ending.ends_wall),
                        read_ms: read.saturating_duration_since(ending.ends).as_secs_f64() * 1000.0,
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
    } = measure_fan_out(pid, &held, watches, end, tasks).await?;
    let with_its_end = answers.iter().filter(|answer| answer.with_its_end).count();
    let arrived = Percentiles::of(answers.iter().map(|answer| answer.arrived_ms));
    let read = Percentiles::of(answers.iter().map(|answer| answer.read_ms));
    // One line of key=value pairs, for bench/watch-fanout.mjs to read.
    println!(
        "watches={watches} ids_per_watch={ids_per_watch} jobs={} create_s={create_s:.1} \
         held_before_end={held_before_end} answered={} with_its_end={with_its_end} \
         arrived_p50_ms={:.1} arrived_p99_ms={:.1} arrived_max_ms={:.1} \
         read_p50_ms={:.1} read_p99_ms={:.1} read_max_ms={:.1} \
         rss_fresh_kib={rss_fresh} rss_jobs_kib={rss_jobs} rss_held_kib={rss_held} \
         server_cpu_ms={server_cpu} flood_cpu_ms={own_cpu}",
        long_jobs.len() + watches,
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

/// One watch's answer, timed against the end of its job.
struct Answered {
    /// When the answer reached this process's socket (kernel timestamp).
    arrived_ms: f64,
    /// When this process read it.
    read_ms: f64,
    /// Whether it is a 200 listing the watch's ending job as completed.
    with_its_end: bool,
}

/// A job that ends at the shared instant, and when (within half a round trip).
struct EndingJob {
    id: String,
    ends: Instant,
    ends_wall: SystemTime,
}

/// Creates `count` jobs over [`CREATORS`] kept-alive connections; `duration_ms(i)` for each.
async fn create_jobs(
    address: &str,
    count: usize,
    duration_ms: fn(usize) -> u64,
) -> Result<Vec<String>, Error> {
    let next = Arc::new(AtomicUsize::new(0));
    let creators: Vec<_> = (0..CREATORS.min(count.max(1)))
        .map(|_| {
            let (address, next) = (address.to_owned(), next.clone());
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&address).await?;
                let mut ids = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<_, Error>(ids);
                    }
                    let body = format!(r#"{{"duration_ms":{}}}"#, duration_ms(i));
                    let answer = exchange(&mut stream, &address, "POST", "/jobs", &body).await?;
                    if !answer.starts_with("HTTP/1.1 201") {
                        let status = answer.lines().next().unwrap_or("").to_owned();
                        return Err(
                            format!("POST /jobs answered {status}: raise --max-jobs?").into()
                        );
                    }
                    ids.push(job_id_in(&answer).ok_or("no job id in the answer to POST /jobs")?);
                }
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(count);
    for creator in creators {
        ids.extend(creator.await??);
    }
    Ok(ids)
}

/// Creates `count` jobs that all end at `end`, each timed by its own round trip.
async fn create_ending_jobs(
    address: &str,
    count: usize,
    end: Instant,
) -> Result<Vec<EndingJob>, Error> {
    let mut stream = TcpStream::connect(address).await?;
    let mut jobs = Vec::with_capacity(count);
    for _ in 0..count {
        let (sent, sent_wall) = (Instant::now(), SystemTime::now());
        let duration = end.saturating_duration_since(sent);
        let body = format!(r#"{{"duration_ms":{}}}"#, duration.as_millis());
        let answer = exchange(&mut stream, address, "POST", "/jobs", &body).await?;
        let half_round_trip = sent.elapsed() / 2;
        let id = job_id_in(&answer).ok_or("no job id in the answer to POST /jobs")?;
        jobs.push(EndingJob {
            id,
            ends: sent + half_round_trip + duration,
            ends_wall: sent_wall + half_round_trip + duration,
        });
    }
    Ok(jobs)
}
