//! Holds many long-polls on one job of a running server and times every answer against the
//! job's end; reads the server's memory while all of them are held. Run by `make bench`.
//!
//!   cargo run --release -p video-translation-server --example long_poll_flood -- \
//!       http://127.0.0.1:PORT SERVER_PID [WAITERS=10000] [JOB_MS=8000]
//!
//! Loopback only: it refuses any other host. Bounded: one job, a fixed number of
//! connections, and every connection gives up 30 s after the job's end.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: long_poll_flood http://127.0.0.1:PORT SERVER_PID [WAITERS] [JOB_MS]";
    let address = args
        .get(1)
        .and_then(|url| url.strip_prefix("http://"))
        .ok_or(usage)?
        .to_owned();
    if !address.starts_with("127.") && !address.starts_with("localhost:") {
        return Err(
            format!("{address} is not on loopback: this tool only floods 127.0.0.0/8").into(),
        );
    }
    let pid: u32 = args.get(2).ok_or(usage)?.parse()?;
    let waiters: usize = args.get(3).map_or(Ok(10_000), |n| n.parse())?;
    let job_ms: u64 = args.get(4).map_or(Ok(8_000), |n| n.parse())?;

    let rss_idle = rss_kib(pid)?;
    let sent = Instant::now();
    let created = request(
        &address,
        "POST",
        "/jobs",
        &format!(r#"{{"duration_ms":{job_ms}}}"#),
    )
    .await?;
    let job_ends = sent + (Instant::now() - sent) / 2 + Duration::from_millis(job_ms);
    let id = created
        .split(r#""id":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no job id in the answer to POST /jobs")?
        .to_owned();

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
                // Keep-alive, as browsers and Node do: the answer ends at its Content-Length.
                let head = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n");
                stream.write_all(head.as_bytes()).await.ok()?;
                drop(permit);
                held.fetch_add(1, Ordering::Relaxed);
                let deadline = job_ends + Duration::from_secs(30);
                let answer = tokio::time::timeout_at(deadline.into(), read_answer(&mut stream))
                    .await
                    .ok()??;
                let answered = Instant::now();
                let text = String::from_utf8_lossy(&answer);
                let completed =
                    text.starts_with("HTTP/1.1 200") && text.contains(r#""result":"completed""#);
                // Hand the connection back open, as a pooling client would: closing it here
                // would make the server spend the fan-out tearing connections down.
                Some((answered, completed, stream))
            })
        })
        .collect();

    // Read the server's memory once every request is in (or the job is about to end).
    while held.load(Ordering::Relaxed) < waiters
        && Instant::now() + Duration::from_millis(500) < job_ends
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held_before_end = held.load(Ordering::Relaxed);
    let rss_held = rss_kib(pid)?;
    let (server_cpu_before, own_cpu_before) = (cpu_ms(&pid.to_string())?, cpu_ms("self")?);

    let mut lateness_ms = Vec::with_capacity(waiters);
    let mut completed = 0;
    let mut open_connections = Vec::with_capacity(waiters);
    for task in tasks {
        if let Ok(Some((answered, is_completed, stream))) = task.await {
            completed += usize::from(is_completed);
            lateness_ms.push(answered.saturating_duration_since(job_ends).as_secs_f64() * 1000.0);
            open_connections.push(stream);
        }
    }
    drop(open_connections);
    // CPU spent by each side from just before the job's end until every answer was read.
    let server_cpu = cpu_ms(&pid.to_string())? - server_cpu_before;
    let own_cpu = cpu_ms("self")? - own_cpu_before;
    lateness_ms.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        lateness_ms
            .get(((p / 100.0) * lateness_ms.len() as f64).ceil() as usize - 1)
            .copied()
            .unwrap_or(f64::NAN)
    };
    // One line of key=value pairs, for bench/server.mjs to read.
    println!(
        "waiters={waiters} held_before_end={held_before_end} answered={} completed={completed} \
         p50_ms={:.1} p99_ms={:.1} max_ms={:.1} rss_idle_kib={rss_idle} rss_held_kib={rss_held} \
         server_cpu_ms={server_cpu} flood_cpu_ms={own_cpu}",
        lateness_ms.len(),
        percentile(50.0),
        percentile(99.0),
        lateness_ms.last().copied().unwrap_or(f64::NAN),
    );
    Ok(())
}

/// One plain HTTP/1.1 exchange; returns the whole answer.
async fn request(address: &str, method: &str, path: &str, body: &str) -> Result<String, Error> {
    let mut stream = TcpStream::connect(address).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

/// Reads one HTTP/1.1 answer: the head, then `Content-Length` bytes of body.
async fn read_answer(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut answer = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        answer.extend_from_slice(&chunk[..read]);
        let Some(head_end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&answer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())?;
        if answer.len() >= head_end + 4 + length {
            return Some(answer);
        }
    }
}

/// User plus system CPU time of a process (`self` or a pid), in ms, from /proc.
fn cpu_ms(pid: &str) -> Result<u64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let after_name = stat.rsplit_once(')').ok_or("malformed stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    Ok(ticks * 10) // USER_HZ is 100 on Linux
}

/// The resident memory of process `pid`, from /proc.
fn rss_kib(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("no VmRSS value")?
        .parse()?)
}
