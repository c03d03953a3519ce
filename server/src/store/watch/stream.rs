//! The store's side of a watch's event stream ([`crate::stream`]): the listed jobs resolved
//! once, one `--max-waiters` slot for the stream's whole life, and the two things its loop
//! asks again and again: each pending job's notification, and the jobs' definitions now.
//!
//! The notifications are the ones long-polls and watches share (see
//! [`Transitions`](crate::transitions::Transitions)): fired at a job's end by this replica's
//! clock, by a cancel through any replica (the backend's cancels channel), and for every job
//! at a stop. So a stream hears a cancel made anywhere in the fleet as soon as a held watch
//! does.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::super::{JobBackend, JobId, JobKey, JobStore, StoreError};
use crate::job::Job;

/// A stream's hold on the store: its slot, given back when dropped (when the stream ends,
/// or when actix drops its body because the client left).
#[derive(Debug)]
pub struct JobFeed {
    store: Arc<JobStore>,
}

/// What opening a stream found: the feed, the known jobs (each once, in the order first
/// listed) and the unknown ids (as spelled, each once).
#[derive(Debug)]
pub struct OpenedFeed {
    /// The stream's hold on the store.
    pub feed: JobFeed,
    /// The listed jobs the store knows, with their definitions now.
    pub jobs: Vec<(JobId, Job)>,
    /// The listed ids it does not know.
    pub missing: Vec<String>,
}

impl JobStore {
    /// Opens a stream of `ids`: resolves them in one backend step (`Unavailable` if the
    /// backend does not answer), then takes a held-request slot for the stream's life, counted
    /// as a watch (`Busy` past `max_waiters`). Both fail before any answer is sent.
    pub async fn open_feed(self: Arc<Self>, ids: &[String]) -> Result<OpenedFeed, StoreError> {
        let listed = self.listed(ids).await?;
        self.held_requests().hold_detached()?;
        Ok(OpenedFeed {
            feed: JobFeed { store: self },
            jobs: listed.jobs,
            missing: listed.missing,
        })
    }
}

impl JobFeed {
    /// Each job's notification, in the order given. Enable the `Notified` futures, then read
    /// the jobs again before awaiting: a job that ended in between is not notified again.
    pub fn arm(&self, jobs: impl IntoIterator<Item = (JobId, Instant)>) -> Vec<Arc<Notify>> {
        self.store.transitions().watch_many(
            jobs.into_iter()
                .map(|(id, ends_at)| (JobKey::Created(id), ends_at)),
        )
    }

    /// The definitions of `ids` now, in order (`None` for one the store no longer knows).
    pub async fn read(&self, ids: &[JobId]) -> Result<Vec<Option<Job>>, StoreError> {
        self.store.metrics().reads.inc();
        self.store.backend().get_many(ids, Instant::now()).await
    }

    /// Whether the server is stopping: a stream then sends what it has and closes.
    pub fn is_stopping(&self) -> bool {
        self.store.held_requests().is_stopping()
    }
}

impl Drop for JobFeed {
    fn drop(&mut self) {
        self.store.held_requests().release_detached();
    }
}
