//! A plain HTTP/1.1 client of the real server's event streams, over a blocking socket:
//! `POST /jobs/watch` with `Accept: text/event-stream`, then the answer read as it comes,
//! chunk by chunk (chunked transfer coding), event by event. Plain requests beside it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// How long any read may wait: a safety net for a test that goes wrong, never a pass
/// condition.
pub const SAFETY_NET: Duration = Duration::from_secs(20);

/// What a stream carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An event: its name, its id and its data.
    Event {
        /// `end`, `jobs` or `missing`.
        event: String,
        /// Its cursor.
        id: String,
        /// Its data, parsed.
        data: Value,
    },
    /// A comment line's text after the colon.
    Comment(String),
}

impl Item {
    /// The event's name, or `:` for a comment.
    pub fn name(&self) -> &str {
        match self {
            Item::Event { event, .. } => event,
            Item::Comment(_) => ":",
        }
    }
}

/// An answer to a stream request.
#[derive(Debug)]
pub enum Opened {
    /// `200`: the stream, its head read.
    Stream(EventStream),
    /// Another status, with its headers and JSON body.
    Refused(u16, Vec<(String, String)>, Value),
}

impl Opened {
    /// The stream; panics with the refusal otherwise.
    pub fn stream(self) -> EventStream {
        match self {
            Opened::Stream(stream) => stream,
            Opened::Refused(status, _, body) => panic!("refused {status}: {body}"),
        }
    }

    /// The refusal's status and body; panics if the stream opened.
    pub fn refused(self) -> (u16, Vec<(String, String)>, Value) {
        match self {
            Opened::Refused(status, headers, body) => (status, headers, body),
            Opened::Stream(stream) => panic!("opened: {:?}", stream.headers),
        }
    }
}

/// An open stream.
#[derive(Debug)]
pub struct EventStream {
    reader: BufReader<TcpStream>,
    /// The answer's headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    text: String,
    ended: bool,
    /// The heartbeat its `open` event announced, in milliseconds.
    pub heartbeat_ms: u64,
}

/// Opens a stream of `body` with `headers` added to the request.
pub fn open(address: SocketAddr, body: &str, headers: &[(&str, &str)]) -> Opened {
    open_at(address, "/jobs/watch", body, headers)
}

/// Opens a stream at `path` (the watch's, with a query), and reads its `open` event, which
/// every stream starts with.
pub fn open_at(address: SocketAddr, path: &str, body: &str, headers: &[(&str, &str)]) -> Opened {
    let mut all = vec![("Accept", "text/event-stream")];
    all.extend_from_slice(headers);
    let socket = send(address, "POST", path, body, &all, false);
    let mut reader = BufReader::new(socket);
    let (status, headers) = read_head(&mut reader);
    if status != 200 {
        let length: usize = header(&headers, "content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return Opened::Refused(status, headers, json);
    }
    let mut stream = EventStream {
        reader,
        headers,
        text: String::new(),
        ended: false,
        heartbeat_ms: 0,
    };
    match stream.next_item() {
        Some(Item::Event { event, data, .. }) if event == "open" => {
            stream.heartbeat_ms = data["heartbeat_ms"].as_u64().expect("open's heartbeat_ms");
        }
        other => panic!("a stream starts with its open event, not {other:?}"),
    }
    Opened::Stream(stream)
}

impl EventStream {
    /// The value of header `name` (lowercase) of the answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The next item, or `None` once the server has ended the stream (its last chunk).
    pub fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                return Some(parse_block(&block));
            }
            if self.ended {
                assert!(self.text.is_empty(), "a cut event: {:?}", self.text);
                return None;
            }
            self.read_chunk();
        }
    }

    /// Every item up to the end of the stream.
    pub fn rest(&mut self) -> Vec<Item> {
        std::iter::from_fn(|| self.next_item()).collect()
    }

    /// The events up to the end of the stream, comments left out.
    pub fn rest_of_events(&mut self) -> Vec<Item> {
        self.rest()
            .into_iter()
            .filter(|item| matches!(item, Item::Event { .. }))
            .collect()
    }

    /// The next event, comments skipped; `None` at the end of the stream.
    pub fn next_event(&mut self) -> Option<Item> {
        std::iter::from_fn(|| self.next_item()).find(|item| matches!(item, Item::Event { .. }))
    }

    /// After the stream's end: whether the server then closes the connection cleanly (a FIN,
    /// not a reset) once it stops.
    pub fn closed_cleanly(mut self) -> bool {
        assert!(self.ended, "the stream has not ended");
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok() && rest.is_empty()
    }

    fn read_chunk(&mut self) {
        let mut size_line = String::new();
        let read = self
            .reader
            .read_line(&mut size_line)
            .expect("a chunk in time");
        assert!(
            read > 0,
            "the connection closed without the stream's last chunk"
        );
        let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap(), 16)
            .unwrap_or_else(|_| panic!("not a chunk size: {size_line:?}"));
        let mut chunk = vec![0; size + 2];
        self.reader.read_exact(&mut chunk).expect("the whole chunk");
        assert_eq!(&chunk[size..], b"\r\n", "a chunk ends with CRLF");
        if size == 0 {
            self.ended = true;
        } else {
            self.text
                .push_str(std::str::from_utf8(&chunk[..size]).expect("UTF-8 events"));
        }
    }
}

fn parse_block(block: &str) -> Item {
    let lines: Vec<&str> = block.trim_end_matches('\n').lines().collect();
    if let [comment] = lines.as_slice() {
        if let Some(text) = comment.strip_prefix(':') {
            return Item::Comment(text.trim().to_owned());
        }
    }
    let field = |name: &str| {
        let values: Vec<&str> = lines
            .iter()
            .filter_map(|line| line.strip_prefix(name))
            .collect();
        assert_eq!(values.len(), 1, "one {name} line in {block:?}");
        values[0].to_owned()
    };
    assert_eq!(lines.len(), 3, "event, id and data lines: {block:?}");
    Item::Event {
        event: field("event: "),
        id: field("id: "),
        data: serde_json::from_str(&field("data: "))
            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {block:?}")),
    }
}

/// A plain request (`Connection: close`); its status and JSON body (`Null` if none).
pub fn request(address: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    let socket = send(address, method, path, body, &[], true);
    let mut reader = BufReader::new(socket);
    let (status, _) = read_head(&mut reader);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    (status, serde_json::from_slice(&rest).unwrap_or(Value::Null))
}

/// Creates a job of `body` (JSON) on the server at `address`; its id.
pub fn create(address: SocketAddr, body: &str) -> String {
    let (status, json) = request(address, "POST", "/jobs", body);
    assert_eq!(status, 201, "{json}");
    json["id"].as_str().unwrap().to_owned()
}

/// Cancels job `id` on the server at `address`.
pub fn cancel(address: SocketAddr, id: &str) {
    let (status, json) = request(address, "POST", &format!("/jobs/{id}/cancel"), "");
    assert_eq!(status, 200, "{json}");
}

fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
    close: bool,
) -> TcpStream {
    let mut socket = TcpStream::connect(address).unwrap();
    socket.set_read_timeout(Some(SAFETY_NET)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).unwrap();
    socket.write_all(body.as_bytes()).unwrap();
    socket
}

fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .expect("an answer in time");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            return (status, headers);
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}
