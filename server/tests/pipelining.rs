//! Pipelined requests over real TCP: all answered in order when the client reads, and bounded
//! when it does not (issue 14, finding 1). The server must then stop reading that connection
//! (back-pressure) without spinning, and keep serving everyone else; and once such connections
//! close, the real binary gives the memory they took back to the system.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use video_translation_server::config::Settings;

mod common;
use common::binary::ServerBinary;
use common::{raw_body, raw_exchange, spawn_server};

const OPENAPI: &[u8] = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const STATUS_LINE: &str = "HTTP/1.1 200 OK\r\n";

/// Held by the tests that flood or measure this process's CPU, so that they do not overlap.
static HEAVY: Mutex<()> = Mutex::new(());

fn server() -> SocketAddr {
    spawn_server(Settings::for_tests(Duration::from_secs(60)))
}

/// How many answers `text` holds (the bodies here never contain a status line).
fn answers(text: &[u8]) -> usize {
    String::from_utf8_lossy(text).matches(STATUS_LINE).count()
}

/// CPU time (user + system) this whole test process has used: the server runs in it.
fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[test]
fn many_pipelined_requests_sent_at_once_are_all_answered_in_order() {
    // Its CPU would count in the test below, which measures this whole process's.
    let _heavy = HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let address = server();
    // Far more than the dispatcher queues at once (16), in one write, so decoding must pause
    // and resume on bytes it has already read.
    let mut requests = Vec::new();
    for i in 0..300 {
        let path = if i % 2 == 0 { "/healthz" } else { "/status" };
        requests.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    requests.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let answer = raw_exchange(address, &requests, Duration::from_secs(10));
    assert_eq!(answers(answer.as_bytes()), 301, "every request answered");
    let bodies: Vec<&str> = answer
        .split(STATUS_LINE)
        .skip(1)
        .map(|a| a.rsplit("\r\n\r\n").next().unwrap())
        .collect();
    assert!(bodies[0].contains(r#""status":"ok""#), "{}", bodies[0]);
    assert!(bodies[1].contains(r#""result""#), "{}", bodies[1]);
    assert!(
        bodies[300].contains(r#""status":"ok""#),
        "in order to the last"
    );
}

/// Writes pipelined requests without reading until the server stops taking them, and returns
/// how many bytes it took. Fails if it never stops within `limit`.
fn flood_until_the_server_stops_reading(stream: &mut TcpStream, limit: usize) -> usize {
    let batch = OPENAPI.repeat(256);
    stream.set_nonblocking(true).unwrap();
    let mut written = 0;
    let mut blocked_since: Option<Instant> = None;
    let started = Instant::now();
    loop {
        // Resume where a partial write stopped, so that the stream stays well-formed.
        match stream.write(&batch[written % batch.len()..]) {
            Ok(n) => {
                written += n;
                blocked_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Kernel buffers full and the server not draining them: it stopped reading.
                if blocked_since.get_or_insert_with(Instant::now).elapsed()
                    > Duration::from_millis(500)
                {
                    return written;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("the server closed the connection: {e}"),
        }
        assert!(
            written < limit && started.elapsed() < Duration::from_secs(30),
            "the server kept reading pipelined requests nobody reads the answers to: {written} bytes"
        );
    }
}

#[test]
fn a_client_that_pipelines_without_reading_is_held_back_and_costs_no_cpu() {
    let _heavy = HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let address = server();
    let mut floods: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(address).unwrap())
        .collect();
    let written: Vec<usize> = floods
        .iter_mut()
        // Kernel buffers on loopback hold a few MB per connection; the server itself must
        // stop at about one read buffer (128 KiB) and 16 queued requests.
        .map(|flood| flood_until_the_server_stops_reading(flood, 64 << 20))
        .collect();

    // Stalled, the connections cost nothing: no busy polling of a full read buffer.
    let cpu_before = process_cpu();
    std::thread::sleep(Duration::from_secs(1));
    let cpu = process_cpu() - cpu_before;
    assert!(
        cpu < Duration::from_millis(250),
        "{cpu:?} of CPU in 1 s with 3 stalled connections"
    );

    // Everyone else is served meanwhile (within the exchange's 5 s: a server stuck on the
    // floods answers nothing at all).
    let health = raw_exchange(
        address,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Once the client reads, answers flow again: back-pressure, not a dead connection.
    let flood = &mut floods[0];
    flood.set_nonblocking(false).unwrap();
    flood
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buffer = vec![0; 1 << 20];
    let mut answered = 0;
    let mut unread = Vec::new();
    // Far more answers than fit in the kernel's buffers when the server stopped reading (a few
    // hundred of these): it reads on as answers are taken. (Not all of them: that would be a
    // gigabyte to read, and the test above checks that every pipelined request is answered.)
    let expected = (written[0] / OPENAPI.len()).min(5_000);
    assert_eq!(expected, 5_000, "{} bytes written", written[0]);
    while answered < expected {
        let n = flood
            .read(&mut buffer)
            .unwrap_or_else(|e| panic!("{answered} of {expected} answers, then: {e}"));
        assert!(n > 0, "the server closed the connection");
        unread.extend_from_slice(&buffer[..n]);
        answered += answers(&unread);
        // Keep only a tail too short to hold a whole status line but long enough to hold the
        // start of one cut in two.
        unread.drain(..unread.len().saturating_sub(STATUS_LINE.len() - 1));
    }
}

/// What /proc says of the real binary, whose allocator and allocator settings the in-process
/// servers above do not have.
trait Proc {
    /// Its resident memory, in MiB.
    fn rss_mib(&self) -> f64;
    /// How many sockets it holds open (its listener included).
    fn sockets(&self) -> usize;
}

impl Proc for ServerBinary {
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {status}"));
        kib / 1024.0
    }

    fn sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count()
    }
}

/// What `bench/pipeline-flood.mjs` measures: once connections that pipelined without reading
/// have closed, the real binary is back near idle. With this debug build, 100 such connections
/// leave 3.4 to 3.8 MiB above idle once settled; 9 to 10 MiB without actix-http's copied
/// request heads (vendor/actix-http, change 3), whose header values kept closed connections'
/// read buffers allocated from actix-web's pool of requests; 12 to 17 MiB without that and the
/// idle collect (server/src/idle_heap.rs). The collect alone makes less of a difference in this
/// build (3.6 to 4.9 MiB without it) than in the release build the benchmark runs, whose
/// figure (and target, 3 MiB) it prints.
///
/// What stays depends on when the workers collected: one that collected while the last
/// closes were still being freed, or whose purge another thread's was running beside, keeps
/// pages until its next collect (7.4 MiB stayed so on a loaded machine). So the test gives
/// the workers that next collect, as a server in use gets: while it waits for the memory to
/// come back it opens and closes a few connections every second, sending nothing on them.
/// What no collect gives back (the pooled heads above: 11.2 MiB with change 3 undone) still
/// fails it, whatever the machine's load.
#[cfg(target_os = "linux")]
#[test]
fn memory_that_connections_pipelining_without_reading_took_is_given_back_once_they_close() {
    given_back_after_floods(0);
}

/// The same while every worker keeps a connection open (a load balancer's kept-alive ones, a
/// long-poll always held): no worker goes idle, and without the collect every second while
/// connections close on one, the floods' memory stayed (with mimalloc's purge delay at its
/// default, server/src/main.rs).
#[cfg(target_os = "linux")]
#[test]
fn memory_is_given_back_too_while_every_worker_keeps_a_connection_open() {
    given_back_after_floods(8);
}

/// Floods the real binary with 100 connections that pipeline without reading, closes them,
/// and checks what stays resident, with `held` long-polls open throughout (spread over the
/// workers by the server's accept loop).
#[cfg(target_os = "linux")]
fn given_back_after_floods(held: usize) {
    const CONNECTIONS: usize = 100;
    const MAX_KEPT_MIB: f64 = 5.0;
    let _heavy = HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let server = ServerBinary::start(&[("VTS_MAX_WAIT", "300")]);
    // Ordinary traffic first, so that "idle" is a server that has served.
    for _ in 0..200 {
        let answer = raw_exchange(
            server.address,
            b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let held = hold_long_polls(server.address, held);
    let idle_sockets = server.sockets();
    let idle = server.rss_mib();

    let floods: Vec<TcpStream> = std::thread::scope(|scope| {
        let floods: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                scope.spawn(|| {
                    let mut flood = TcpStream::connect(server.address).unwrap();
                    flood_until_the_server_stops_reading(&mut flood, 64 << 20);
                    flood
                })
            })
            .collect();
        floods
            .into_iter()
            .map(|flood| flood.join().unwrap())
            .collect()
    });
    let flooded = server.rss_mib();
    let took = flooded - idle;
    // Far less than that would mean the flood did not happen, and the check below nothing.
    assert!(
        took > 5.0,
        "{CONNECTIONS} floods took only {took:.1} MiB ({idle:.1} MiB idle)"
    );

    drop(floods);
    // The server frees a connection's memory as it closes it, and a worker collects once its
    // last one has closed, or a second after some closed: wait (a generous minute, for a busy
    // machine) until it has closed them all and its memory has come down, with a few empty
    // connections every second so that every worker collects again (see above).
    let mut kept = took;
    for tick in 0..600 {
        kept = server.rss_mib() - idle;
        if server.sockets() <= idle_sockets && kept <= MAX_KEPT_MIB {
            break;
        }
        if tick % 10 == 9 {
            // Connected and closed without a request: a request would take one of the
            // workers' pooled requests and so free what it kept, hiding the defect above.
            for _ in 0..4 {
                drop(TcpStream::connect(server.address).unwrap());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let sockets = server.sockets();
    assert!(
        sockets <= idle_sockets,
        "{sockets} sockets open, {idle_sockets} before the floods"
    );
    eprintln!(
        "{CONNECTIONS} floods, {} held: {idle:.1} MiB idle, {flooded:.1} MiB flooded, \
         {kept:.1} MiB above idle after they closed",
        held.len()
    );
    drop(held);
    assert!(
        kept <= MAX_KEPT_MIB,
        "{kept:.1} MiB of the {took:.1} MiB that {CONNECTIONS} floods took still resident \
         after they closed, more than {MAX_KEPT_MIB} MiB ({idle:.1} MiB idle, {flooded:.1} MiB \
         flooded)"
    );
}

/// `count` long-polls held on a job that lasts longer than the test, each on a connection of
/// its own; they stay held while the streams are kept.
#[cfg(target_os = "linux")]
fn hold_long_polls(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    if count == 0 {
        return Vec::new();
    }
    let body = r#"{"duration_ms": 600000}"#;
    let created = raw_exchange(
        address,
        format!(
            "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
        Duration::from_secs(5),
    );
    let id = raw_body(&created)["id"].as_str().unwrap().to_owned();
    let streams = (0..count)
        .map(|_| {
            let mut stream = TcpStream::connect(address).unwrap();
            write!(
                stream,
                "GET /jobs/{id}?wait=300 HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            .unwrap();
            stream
        })
        .collect();
    let sample = format!("vts_held_requests{{kind=\"long_poll\"}} {count}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let scrape = raw_exchange(
            address,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        if scrape.contains(&sample) {
            return streams;
        }
        assert!(Instant::now() < deadline, "never held: {scrape}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
