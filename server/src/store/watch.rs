//! Watching many jobs in one request (`POST /jobs/watch`): answered at once when a listed
//! job has ended or is unknown, else held until the first of them ends or the wait runs out.
//!
//! What a held watch costs, for `n` distinct ids:
//! - one `--max-waiters` slot, whatever `n`: the cap bounds held requests, not ids;
//! - O(n) to register, once: one lookup per id, then under a single lock each job's
//!   notification (shared with every other waiter of that job, see [`Transitions`]) and one
//!   boxed waiter on it: a few hundred bytes per id while held, the ids themselves included;
//! - O(1) per ended job to wake: a job's notification wakes this watch's one waiter for that
//!   job, and `FuturesUnordered` polls only the waiters that were woken, never the other
//!   `n - 1`. The first wake ends the watch, which then looks its jobs up again (a cancel
//!   changes a job) and lists them once, in O(n).
//!
//! [`Transitions`]: crate::transitions::Transitions

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::stream::StreamExt;
use video_translation_protocol::{JobStatus, WatchAnswer};

use super::{JobBackend, JobId, JobKey, JobStore, StoreError};
use crate::job::Job;
use crate::transitions::enabled_all;

pub mod stream;

/// The listed ids, resolved: the known jobs, each once in the order first listed, and the
/// unknown ids as the caller spelled them, each once.
#[derive(Debug)]
struct Listed {
    jobs: Vec<(JobId, Job)>,
    missing: Vec<String>,
}

impl JobStore {
    /// Every listed job's status now, and the ids it does not know: the answer to a watch
    /// that asks no wait.
    pub async fn watch_now(&self, ids: &[String]) -> Result<WatchAnswer, StoreError> {
        let listed = self.listed(ids).await?;
        Ok(listed.every_status(Instant::now()))
    }

    /// The answer to a watch of `ids` holding up to `wait`: at once the ended jobs and the
    /// unknown ids if there are any; else, once the first listed job ends, every listed job
    /// ended by then; else, when the wait runs out or the server stops, every job's status.
    ///
    /// A held watch takes one waiter slot (`Busy` past `max_waiters`), like a long-poll.
    pub async fn watch(&self, ids: &[String], wait: Duration) -> Result<WatchAnswer, StoreError> {
        let held = self.held_requests();
        let listed = self.listed(ids).await?;
        let now = Instant::now();
        if wait.is_zero() || listed.jobs.is_empty() || held.is_stopping() {
            return Ok(listed.every_status(now));
        }
        if !listed.missing.is_empty() || listed.any_ended(now) {
            return Ok(listed.ended(now));
        }

        let _slot = held.slot()?;
        let _watch = held.as_watch();
        let notifies = self.transitions().watch_many(
            listed
                .jobs
                .iter()
                .map(|(id, job)| (JobKey::Created(*id), job.ends_at())),
        );
        let mut first_end = enabled_all(&notifies);
        // Enabled first, read again second: a job that ended (by time or by a cancel), or a
        // stop that began, in between is not missed. If the backend fails meanwhile, the
        // watch goes on with what it read first.
        let mut listed = self.listed(ids).await.unwrap_or(listed);
        if listed.missing.is_empty() && !listed.any_ended(Instant::now()) && !held.is_stopping() {
            let _ = tokio::time::timeout(wait, first_end.next()).await;
            // A cancel is the one change to a job's definition: see it.
            listed = self.listed(ids).await.unwrap_or(listed);
        }

        let now = Instant::now();
        Ok(if listed.any_ended(now) && !held.is_stopping() {
            listed.ended(now)
        } else {
            listed.every_status(now)
        })
    }

    /// Resolves `ids` in one backend step. A malformed id is simply unknown, as
    /// `GET /jobs/{id}` answers 404 for it; so is `"default"`, which lives at `/status`.
    async fn listed(&self, ids: &[String]) -> Result<Listed, StoreError> {
        self.metrics().watches.inc();
        let parsed: Vec<Option<JobId>> = ids.iter().map(|text| JobId::parse(text)).collect();
        let wanted: Vec<JobId> = parsed.iter().flatten().copied().collect();
        let found = self.backend().get_many(&wanted, Instant::now()).await?;
        let mut found = wanted.into_iter().zip(found);
        // SipHash here, not the table's folding hasher: these ids are the caller's choice.
        let mut seen_jobs = HashSet::with_capacity(ids.len());
        let mut seen_missing = HashSet::new();
        let mut listed = Listed {
            jobs: Vec::with_capacity(ids.len()),
            missing: Vec::new(),
        };
        for (text, id) in ids.iter().zip(parsed) {
            // `found` follows the parsed ids in order, one entry each.
            let job = id
                .and_then(|_| found.next())
                .and_then(|(id, job)| Some((id, job?)));
            match job {
                Some((id, job)) => {
                    if seen_jobs.insert(id) {
                        listed.jobs.push((id, job));
                    }
                }
                None => {
                    if seen_missing.insert(text.as_str()) {
                        listed.missing.push(text.clone());
                    }
                }
            }
        }
        Ok(listed)
    }
}

impl Listed {
    fn any_ended(&self, now: Instant) -> bool {
        self.jobs.iter().any(|(_, job)| job.is_final_at(now))
    }

    fn ended(&self, now: Instant) -> WatchAnswer {
        self.answer(now, |job| job.is_final_at(now))
    }

    fn every_status(&self, now: Instant) -> WatchAnswer {
        self.answer(now, |_| true)
    }

    fn answer(&self, now: Instant, include: impl Fn(&Job) -> bool) -> WatchAnswer {
        let jobs: Vec<JobStatus> = self
            .jobs
            .iter()
            .filter(|(_, job)| include(job))
            .map(|(id, job)| job.status_at(id.to_hex(), now))
            .collect();
        WatchAnswer {
            jobs,
            missing: self.missing.clone(),
        }
    }
}
