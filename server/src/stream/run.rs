//! A stream's loop: wait for a listed job's notification, a progress tick, the heartbeat or
//! the stream's end of life; look at the store; send what the [`Session`] says; again.
//!
//! Per turn, the notification of every job still pending (by what the stream knows) is armed
//! first, and only then are the jobs read, so that a cancel landing in between wakes the next
//! wait instead of being missed (the order held watches use). Every end is sent from a read
//! made after its notification, never from the definition alone: a job cancelled shortly
//! before its natural end must be told as cancelled, even if its notification comes late. A
//! job already over by what is known is not armed again (the read tells how it ended), so a
//! job's end costs each of its streams one read. A wait ends on a notification (an end, a
//! cancel through any replica, a stop), a progress tick or the lifetime; the heartbeat only
//! writes a comment and waits on.

use std::time::{Duration, Instant};

use actix_web::rt::time::sleep_until;
use actix_web::web::Bytes;
use futures_util::stream::StreamExt;

use super::body::Sender;
use super::frame::{Frames, HEARTBEAT};
use super::session::Session;
use super::StreamSettings;
use crate::job::Job;
use crate::store::{JobFeed, JobId};
use crate::transitions::enabled_all;

/// Runs a stream of `session` on `feed` until it is over, sending its events through
/// `sender`: every listed job's end; the pending jobs' status every `progress`, if given;
/// and when the lifetime runs out or the server stops, the pending jobs' status, then the end.
pub async fn run(
    feed: JobFeed,
    mut session: Session,
    settings: StreamSettings,
    progress: Option<Duration>,
    sender: Sender,
) {
    let opened = Instant::now();
    let closes_at = opened + settings.lifetime;
    // A progress interval past the lifetime would never tick.
    let mut next_progress = progress.map(|every| opened + every.min(settings.lifetime));
    let mut last_sent = opened;
    let mut frames = Frames::default();
    // From the definitions read at the stream's opening.
    session.open(opened, settings.heartbeat, &mut frames);
    loop {
        if let Some(chunk) = frames.take() {
            sender.send(chunk).await;
            last_sent = Instant::now();
        }
        if session.is_done() {
            return;
        }

        let now = Instant::now();
        let undelivered: Vec<(JobId, Job)> = session.undelivered().collect();
        let pending: Vec<(JobId, Instant)> = undelivered
            .iter()
            .filter(|(_, job)| !job.is_final_at(now))
            .map(|(id, job)| (*id, job.ends_at()))
            .collect();
        // Nothing to arm, no lock: right after a job's end, its thousands of streams wake
        // together while the notifier still holds its lock waking the rest.
        let notifies = if pending.is_empty() {
            Vec::new()
        } else {
            feed.arm(pending)
        };
        let mut waits = enabled_all(&notifies);
        let ids: Vec<JobId> = undelivered.iter().map(|(id, _)| *id).collect();
        let looked = Instant::now();
        match feed.read(&ids).await {
            Ok(read) => session.looked(read, looked, Instant::now(), &mut frames),
            // The store failed: the stream goes on with the definitions it has, as a held
            // watch answers with them (right unless a cancel went unseen), and the store's
            // recovery wakes every stream to read again.
            Err(_) => session.ends(Instant::now(), &mut frames),
        }

        let now = Instant::now();
        if feed.is_stopping() || now >= closes_at {
            session.progress(now, &mut frames);
            if let Some(chunk) = frames.take() {
                sender.send(chunk).await;
            }
            return;
        }
        if let Some(due) = next_progress.filter(|due| now >= *due) {
            session.progress(now, &mut frames);
            let every = progress.unwrap_or(settings.lifetime);
            // After a stall, the next tick is a whole interval away, not a burst of ticks.
            next_progress = Some((due + every).max(now + every / 2));
        }
        if !frames.is_empty() {
            continue;
        }

        loop {
            let heartbeat_at = last_sent + settings.heartbeat;
            let due_at = next_progress.map_or(closes_at, |due| due.min(closes_at));
            // With no notification left (`next` is `None`), only the timer ends the wait.
            let notified = tokio::select! {
                Some(()) = waits.next() => true,
                () = sleep_until(heartbeat_at.min(due_at).into()) => false,
            };
            if notified || Instant::now() >= due_at {
                break;
            }
            sender.send(Bytes::from_static(HEARTBEAT)).await;
            last_sent = Instant::now();
        }
    }
}
