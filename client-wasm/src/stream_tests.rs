use super::*;

fn decode_all(chunks: &[&[u8]]) -> Result<Vec<Message>, String> {
    let mut stream = EventStream::new();
    let mut events = Vec::new();
    for chunk in chunks {
        stream.feed(chunk, &mut events)?;
    }
    Ok(events)
}

fn message(event: &str, data: &str, cursor: Option<&str>) -> Message {
    Message {
        event: event.to_owned(),
        data: data.to_owned(),
        cursor: cursor.map(str::to_owned),
    }
}

#[test]
fn events_come_out_whole_however_the_bytes_are_cut() {
    let stream = b"event: open\nid: 0\ndata: {\"heartbeat_ms\":15000}\n\n: keep-alive\n\nevent: end\r\nid: 7-ab\r\ndata: {\"result\":\"completed\"}\r\n\r\n";
    let whole = decode_all(&[stream]).unwrap();
    assert_eq!(
        whole,
        vec![
            message("open", "{\"heartbeat_ms\":15000}", Some("0")),
            message("end", "{\"result\":\"completed\"}", Some("7-ab")),
        ]
    );
    for cut in 1..stream.len() {
        let (first, second) = stream.split_at(cut);
        assert_eq!(decode_all(&[first, second]).unwrap(), whole, "cut at {cut}");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(decode_all(&bytes).unwrap(), whole, "one byte at a time");
}

#[test]
fn comments_alone_make_no_event_and_an_event_keeps_the_last_cursor() {
    assert_eq!(
        decode_all(&[b": keep-alive\n\n: keep-alive\n\n"]).unwrap(),
        vec![]
    );
    let events =
        decode_all(&[b"event: jobs\nid: 3\ndata: {}\n\nevent: jobs\ndata: {}\n\n"]).unwrap();
    assert_eq!(events[1].cursor.as_deref(), Some("3"));
}

#[test]
fn an_event_past_the_limit_cuts_the_stream() {
    let mut stream = EventStream::new();
    let mut events = Vec::new();
    let line = vec![b'x'; 64 * 1024];
    let mut outcome = stream.feed(b"event: end\ndata: ", &mut events);
    for _ in 0..20 {
        outcome = outcome.and_then(|()| stream.feed(&line, &mut events));
    }
    let error = outcome.unwrap_err();
    assert!(error.contains("1048576 bytes"), "{error}");
    assert!(events.is_empty());
}

#[test]
fn an_endless_comment_line_cuts_the_stream_though_it_holds_nothing() {
    // A comment is dropped as it is read, so it costs no memory; but a stream that sends only
    // bytes and no event would keep a client listening to nothing.
    let mut stream = EventStream::new();
    let mut events = Vec::new();
    let chunk = vec![b'z'; 64 * 1024];
    let mut outcome = stream.feed(b":", &mut events);
    let mut fed = 0;
    while outcome.is_ok() && fed < 2 * MAX_UNREAD_BYTES {
        outcome = stream.feed(&chunk, &mut events);
        fed += chunk.len();
    }
    assert!(outcome.is_err(), "fed {fed} bytes of one comment line");
    assert!(fed <= MAX_UNREAD_BYTES + chunk.len());
}

#[test]
fn hours_of_heartbeats_between_events_are_read_on() {
    // Two thousand heartbeats between events are fine (about an hour of them at 2 s).
    let mut stream = EventStream::new();
    let mut events = Vec::new();
    for _ in 0..2_000 {
        stream.feed(b": keep-alive\n\n", &mut events).unwrap();
    }
    stream
        .feed(b"event: jobs\ndata: {\"jobs\":[]}\n\n", &mut events)
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn silence_allows_two_heartbeats_and_a_margin() {
    assert_eq!(
        silence_limit(Duration::from_secs(15)),
        Duration::from_secs(30)
    );
    assert_eq!(
        silence_limit(Duration::from_secs(1)),
        Duration::from_secs(6)
    );
}
