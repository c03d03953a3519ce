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
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
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

    let mut answers = Vec::with_capacity(waiters);
    let mut open_connections = Vec::with_capacity(waiters);
    for task in tasks {
        if let Ok(Some((answer, stream))) = task.await {
            answers.push(answer);
            open_connections.push(stream);
        }
    }
    // CPU spent by each side from just before the job's end until every answer was read.
    let server_cpu = cpu_ms(&pid.to_string())? - server_cpu_before;
    let own_cpu = cpu_ms("self")? - own_cpu_before;
    drop(open_connections);
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

struct Percentiles {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Percentiles {
    fn of(values: impl Iterator<Item = f64>) -> Self {
        let mut sorted: Vec<f64> = values.collect();
        sorted.sort_by(f64::total_cmp);
        let at = |p: f64| {
            let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted
                .get(rank.saturating_sub(1))
                .copied()
                .unwrap_or(f64::NAN)
        };
        Self {
            p50: at(50.0),
            p99: at(99.0),
            max: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// Milliseconds from `origin` to `time`, negative if `time` came first.
fn ms_after(time: SystemTime, origin: SystemTime) -> f64 {
    match time.duration_since(origin) {
        Ok(after) => after.as_secs_f64() * 1000.0,
        Err(before) => -before.duration().as_secs_f64() * 1000.0,
    }
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

/// Reads one HTTP/1.1 answer (the head, then `Content-Length` bytes of body) and the time
/// its first bytes reached the socket.
async fn read_answer(stream: &TcpStream) -> Option<(Vec<u8>, SystemTime)> {
    let mut answer = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let mut arrived = None;
    loop {
        let (read, stamp) = read_stamped(stream, &mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        arrived = arrived.or(stamp);
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
            // Without a timestamp (none was delivered), fall back to the time of reading.
            return Some((answer, arrived.unwrap_or_else(SystemTime::now)));
        }
    }
}

/// Asks the kernel to stamp every segment this socket receives with its arrival time.
fn enable_receive_timestamps(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` lives across the call and the length given is its size.
    let status = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads what the socket holds, with the kernel's receive timestamp of those bytes.
async fn read_stamped(
    stream: &TcpStream,
    buffer: &mut [u8],
) -> io::Result<(usize, Option<SystemTime>)> {
    loop {
        stream.readable().await?;
        match stream.try_io(Interest::READABLE, || {
            receive_stamped(stream.as_raw_fd(), buffer)
        }) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}

/// One `recvmsg`, returning the bytes read and the `SCM_TIMESTAMPNS` control message if any.
fn receive_stamped(fd: RawFd, buffer: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
    let mut iov = libc::iovec {
        iov_base: buffer.as_mut_ptr().cast(),
        iov_len: buffer.len(),
    };
    // Room for a control message carrying one timespec, aligned as cmsghdr wants.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data, all zeroes is a valid empty header.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &raw mut iov;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: the header points at `iov` and `control`, both alive and of the stated sizes.
    let read = unsafe { libc::recvmsg(fd, &raw mut message, 0) };
    if read < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut stamp = None;
    // SAFETY: the CMSG_* walk stays within the msg_controllen the kernel wrote back.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(&raw const message);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET
                && (*header).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let time: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(header).cast());
                stamp = Some(
                    UNIX_EPOCH
                        + Duration::new(
                            u64::try_from(time.tv_sec).unwrap_or(0),
                            u32::try_from(time.tv_nsec).unwrap_or(0),
                        ),
                );
            }
            header = libc::CMSG_NXTHDR(&raw const message, header);
        }
    }
    Ok((usize::try_from(read).unwrap_or(0), stamp))
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
