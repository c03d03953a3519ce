//! Server-sent events as bytes (the WHATWG HTML "event stream" format): each event its
//! `event:`, `id:` and one `data:` line, then a blank line; a comment is a line starting
//! with `:`. The data is compact JSON, which never holds a raw line break (serde_json
//! escapes them in strings), so one `data:` line always carries all of it.

use actix_web::web::{Bytes, BytesMut};

/// The comment sent after a stretch without events.
pub const HEARTBEAT: &[u8] = b": keep-alive\n\n";

/// Events written one after another, sent together.
#[derive(Debug, Default)]
pub struct Frames(BytesMut);

impl Frames {
    /// Appends event `name` with `id` and `data`.
    pub fn event(&mut self, name: &str, id: &str, data: &[u8]) {
        let buffer = &mut self.0;
        buffer.reserve(24 + name.len() + id.len() + data.len());
        for part in [
            b"event: ".as_slice(),
            name.as_bytes(),
            b"\nid: ",
            id.as_bytes(),
            b"\ndata: ",
            data,
            b"\n\n",
        ] {
            buffer.extend_from_slice(part);
        }
    }

    /// Appends event `name` with `id` and `data` serialized as JSON.
    pub fn json_event(&mut self, name: &str, id: &str, data: &impl serde::Serialize) {
        // Plain data (strings, numbers, enums): serde_json cannot fail on it.
        let json = serde_json::to_vec(data).expect("event data serializes to JSON");
        self.event(name, id, &json);
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Everything written so far, if anything.
    pub fn take(&mut self) -> Option<Bytes> {
        (!self.0.is_empty()).then(|| self.0.split().freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_written_as_server_sent_events_one_data_line_each() {
        let mut frames = Frames::default();
        assert_eq!(frames.take(), None);
        frames.event("end", "12:ab", br#"{"id":"ab"}"#);
        frames.json_event("missing", "12", &serde_json::json!({"ids": ["x\ny"]}));
        assert_eq!(
            frames.take().unwrap(),
            "event: end\nid: 12:ab\ndata: {\"id\":\"ab\"}\n\n\
             event: missing\nid: 12\ndata: {\"ids\":[\"x\\ny\"]}\n\n"
        );
        assert_eq!(frames.take(), None, "taken once");
    }
}
