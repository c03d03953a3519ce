//! The replica's ear on the fleet: one pub/sub connection subscribed to the cancels channel.
//! Each cancel, wherever it happened, forgets the job in the local cache and wakes the
//! requests held on it here. The connection is re-made whenever it drops; while it is down
//! the cache is distrusted, and once it is back every held request looks its jobs up again,
//! since cancels published meanwhile were lost (Redis pub/sub keeps no backlog).
//!
//! A connection can also die silently (a partition, a Redis host gone without a FIN): the
//! listener pings Redis every [`HEARTBEAT`] on the same connection, and takes a ping that
//! fails or goes unanswered for the command timeout as the connection's end.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::cache::SeenJobs;
use crate::store::events::{Event, EventSink};
use crate::store::id::JobId;

/// How often the listener checks that its connection is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// The first pause before subscribing again, doubled after each failure up to the last.
const RESUBSCRIBE_PAUSES: (Duration, Duration) =
    (Duration::from_millis(50), Duration::from_secs(1));

/// Listens for cancels on `channel` until the runtime it runs on shuts down.
pub async fn listen(
    client: redis::Client,
    channel: &'static str,
    connect_timeout: Duration,
    cache: Arc<SeenJobs>,
    events: EventSink,
) {
    let mut pause = RESUBSCRIBE_PAUSES.0;
    loop {
        let subscribed = tokio::time::timeout(connect_timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                cache.trust();
                // Whatever was published while we were away is lost: let every held request
                // look again. (At the first subscription nothing is held yet.)
                events(Event::Missed);
                tracing::info!(channel, "listening for cancels");
                pause = RESUBSCRIBE_PAUSES.0;
                hear_cancels(pubsub, channel, connect_timeout, &cache, &events).await;
                cache.distrust();
                tracing::warn!(channel, "lost the cancels channel; subscribing again");
            }
            Ok(Err(error)) => tracing::warn!(%error, "cannot subscribe to the cancels channel"),
            Err(_) => tracing::warn!("subscribing to the cancels channel timed out"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RESUBSCRIBE_PAUSES.1);
    }
}

/// Forgets and wakes each job cancelled on `channel`, until the connection ends or stops
/// answering pings.
async fn hear_cancels(
    pubsub: redis::aio::PubSub,
    channel: &'static str,
    ping_timeout: Duration,
    cache: &SeenJobs,
    events: &EventSink,
) {
    let (mut sink, mut messages) = pubsub.split();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    return;
                };
                let Some(id) = std::str::from_utf8(message.get_payload_bytes())
                    .ok()
                    .and_then(JobId::parse)
                else {
                    tracing::warn!(channel, "ignoring a message that names no job");
                    continue;
                };
                cache.forget(id);
                events(Event::Cancelled(id));
            }
            _ = heartbeat.tick() => {
                let pong = tokio::time::timeout(ping_timeout, sink.ping::<redis::Value>()).await;
                if !matches!(pong, Ok(Ok(_))) {
                    tracing::warn!(channel, "the cancels channel stopped answering pings");
                    return;
                }
            }
        }
    }
}
