//! Event streams on a fleet: replicas sharing one Redis (`--store redis://...`), each a real
//! server on a socket. A cancel made through one replica reaches a stream held on another
//! through the cancels channel, as it reaches held watches: the stream's heartbeat, progress
//! and lifetime are all set far away here, so nothing else could make it look at the store.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::event_stream::{cancel, create, open, request, Item, SAFETY_NET};
use common::redis_server::RedisServer;
use common::{spawn_server, watch_body};
use video_translation_server::config::Settings;
use video_translation_server::store::backend::StoreKind;

/// A replica on the Redis at `url` whose streams would neither heartbeat, tick nor close
/// within any test, once ready (Redis answers, cancels are heard).
fn replica(url: &str) -> SocketAddr {
    let address = spawn_server(Settings {
        store: StoreKind::Redis(url.to_owned()),
        stream_heartbeat: Duration::from_secs(3600),
        stream_lifetime: Duration::from_secs(3600),
        ..Settings::for_tests(Duration::from_secs(60))
    });
    let deadline = Instant::now() + SAFETY_NET;
    while request(address, "GET", "/readyz", "").0 != 200 {
        assert!(Instant::now() < deadline, "the replica never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    address
}

#[test]
fn a_cancel_through_one_replica_reaches_a_stream_on_another_through_the_cancels_channel() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis.url()), replica(&redis.url()));
    let (kept, cancelled) = (
        create(a, r#"{"duration_ms": 60000}"#),
        create(a, r#"{"duration_ms": 60000}"#),
    );
    let mut stream = open(b, &watch_body(&[&kept, &cancelled]), &[]).stream();
    let opening = stream.next_item().expect("the opening status");
    assert_eq!(opening.name(), "jobs", "{opening:?}");
    // B has read both jobs (its cache holds them): only the channel can tell it of a cancel.
    let sent = Instant::now();
    cancel(a, &cancelled);
    let event = stream.next_item().expect("the cancel's end");
    let arrived = sent.elapsed();
    let Item::Event { event, data, .. } = event else {
        panic!("not an event: {event:?}")
    };
    assert_eq!(event, "end");
    assert_eq!(data["id"], cancelled.as_str(), "{data}");
    assert_eq!(data["reason"], "cancelled", "{data}");
    // Shown, not asserted: a loaded machine may stretch it (the held watch's bound is 50 ms).
    eprintln!("a cancel through replica A reached B's stream {arrived:?} after it was sent");

    cancel(b, &kept);
    let rest = stream.rest_of_events();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert!(matches!(&rest[0], Item::Event { data, .. } if data["id"] == kept.as_str()));
}

#[test]
fn while_redis_is_away_a_stream_is_refused_with_503_before_it_starts() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let replica = replica(&redis.url());
    redis.kill();
    let unseen = unseen_id();
    let (status, headers, json) = open(replica, &watch_body(&[&unseen]), &[]).refused();
    assert_eq!(status, 503, "{json}");
    assert_eq!(json["error"]["code"], "unavailable", "{json}");
    assert!(headers.iter().any(|(name, _)| name == "retry-after"));
}

/// An id no replica has read (so none has it cached): the store must be asked.
fn unseen_id() -> String {
    format!("{:032x}", std::process::id() as u128 * 7919 + 1)
}
