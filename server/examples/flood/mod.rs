//! What the flood examples share: loopback-only addresses, plain HTTP/1.1 exchanges, answers
//! timed by the kernel's receive timestamp (`SO_TIMESTAMPNS`), and a process's CPU time and
//! memory from /proc. Not an example itself (a folder without `main.rs`); each example
//! includes it with `mod flood;` and uses the part it needs.
#![allow(dead_code)]

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The `host:port` of an `http://` URL on loopback; any other host is refused.
pub fn loopback_address(url: Option<&String>, usage: &str) -> Result<String, Error> {
    let address = url
        .and_then(|url| url.strip_prefix("http://"))
        .ok_or_else(|| usage.to_owned())?
        .to_owned();
    if !address.starts_with("127.") && !address.starts_with("localhost:") {
        return Err(
            format!("{address} is not on loopback: this tool only floods 127.0.0.0/8").into(),
        );
    }
    Ok(address)
}

/// The `id` of the job status in an answer's body.
pub fn job_id_in(answer: &str) -> Option<String> {
    answer
        .split(r#""id":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// One request on a kept-alive connection; returns the whole answer.
pub async fn exchange(
    stream: &mut TcpStream,
    address: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Result<String, Error> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let (answer, _) = read_answer(stream)
        .await
        .ok_or("the connection closed before a whole answer")?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(values: impl Iterator<Item = f64>) -> Self {
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
pub fn ms_after(time: SystemTime, origin: SystemTime) -> f64 {
    match time.duration_since(origin) {
        Ok(after) => after.as_secs_f64() * 1000.0,
        Err(before) => -before.duration().as_secs_f64() * 1000.0,
    }
}

/// One plain HTTP/1.1 exchange; returns the whole answer.
pub async fn request(address: &str, method: &str, path: &str, body: &str) -> Result<String, Error> {
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
pub async fn read_answer(stream: &TcpStream) -> Option<(Vec<u8>, SystemTime)> {
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
pub fn enable_receive_timestamps(fd: RawFd) -> io::Result<()> {
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
pub async fn read_stamped(
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
pub fn receive_stamped(fd: RawFd, buffer: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
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
pub fn cpu_ms(pid: &str) -> Result<u64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let after_name = stat.rsplit_once(')').ok_or("malformed stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    Ok(ticks * 10) // USER_HZ is 100 on Linux
}

/// The resident memory of process `pid`, from /proc.
pub fn rss_kib(pid: u32) -> Result<u64, Error> {
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

/// What a fan-out measurement saw: the requests held before the end, the server's memory
/// while holding them, each answer, and the CPU both sides spent from just before the end
/// until every answer was read.
pub struct FanOut<A> {
    pub held_before_end: usize,
    pub rss_held_kib: u64,
    pub answers: Vec<A>,
    pub server_cpu_ms: u64,
    pub own_cpu_ms: u64,
}

/// Waits until `held` requests are in (or `end` is half a second away), reads the server's
/// memory, then awaits every task's answer. The connections stay open until every answer
/// is in, as a pooling client's would: closing each at once would make the server spend the
/// fan-out tearing connections down.
pub async fn measure_fan_out<A: Send + 'static>(
    pid: u32,
    held: &std::sync::atomic::AtomicUsize,
    expected: usize,
    end: std::time::Instant,
    tasks: Vec<tokio::task::JoinHandle<Option<(A, TcpStream)>>>,
) -> Result<FanOut<A>, Error> {
    use std::sync::atomic::Ordering;
    while held.load(Ordering::Relaxed) < expected
        && std::time::Instant::now() + Duration::from_millis(500) < end
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held_before_end = held.load(Ordering::Relaxed);
    let rss_held_kib = rss_kib(pid)?;
    let (server_cpu_before, own_cpu_before) = (cpu_ms(&pid.to_string())?, cpu_ms("self")?);
    let mut answers = Vec::with_capacity(tasks.len());
    let mut open_connections = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(Some((answer, stream))) = task.await {
            answers.push(answer);
            open_connections.push(stream);
        }
    }
    let server_cpu_ms = cpu_ms(&pid.to_string())? - server_cpu_before;
    let own_cpu_ms = cpu_ms("self")? - own_cpu_before;
    drop(open_connections);
    Ok(FanOut {
        held_before_end,
        rss_held_kib,
        answers,
        server_cpu_ms,
        own_cpu_ms,
    })
}
