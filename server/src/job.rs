//! One simulated translation job.
//!
//! A job never runs anything: its status at any instant follows from when it started, how
//! long it truly runs, how long the server *thinks* it runs, and how it ends. That keeps the
//! server free of per-job timers and makes every answer reproducible in tests. The one
//! exception is a cancel, an event: it records its instant, and the job ends there.

use std::time::{Duration, Instant};

use video_translation_protocol::{EndReason, JobResult, JobStatus, Outcome};

/// A simulated job: `pending` for `duration` after `created_at`, then `outcome` for good.
/// `eta_ms` and `progress` count down `estimate`, which may be wrong, as real estimates are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// When the job started.
    pub created_at: Instant,
    /// How long it truly stays `pending`.
    pub duration: Duration,
    /// How long the server reports it will take.
    pub estimate: Duration,
    /// The final result it reaches.
    pub outcome: Outcome,
    /// When it was cancelled, if it was (while pending): from then on it is `error`, with
    /// `"reason": "cancelled"` and the progress it had reached.
    pub cancelled_at: Option<Instant>,
}

/// What cancelling a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was pending and is now cancelled.
    Cancelled,
    /// It had been cancelled before; nothing changed.
    AlreadyCancelled,
    /// It had ended by running its course; nothing changed.
    AlreadyEnded,
}

/// The largest progress a pending job reports: it is never 100 % before it is done, even
/// when it runs past its estimate.
const PENDING_PROGRESS_CAP: f64 = 0.99;

impl Job {
    /// A job started at `created_at`, never cancelled.
    pub fn new(
        created_at: Instant,
        duration: Duration,
        estimate: Duration,
        outcome: Outcome,
    ) -> Self {
        Job {
            created_at,
            duration,
            estimate,
            outcome,
            cancelled_at: None,
        }
    }

    /// When the job leaves `pending`: at the end of its run, or when it was cancelled.
    pub fn ends_at(&self) -> Instant {
        let natural_end = self.created_at + self.duration;
        self.cancelled_at
            .map_or(natural_end, |at| at.min(natural_end))
    }

    /// Cancels the job at `now` if it is still pending then; says what happened.
    pub fn cancel(&mut self, now: Instant) -> CancelOutcome {
        if self.is_cancelled_at(now) {
            CancelOutcome::AlreadyCancelled
        } else if self.is_final_at(now) {
            CancelOutcome::AlreadyEnded
        } else {
            self.cancelled_at = Some(now);
            CancelOutcome::Cancelled
        }
    }

    fn is_cancelled_at(&self, now: Instant) -> bool {
        self.cancelled_at
            .is_some_and(|at| at < self.created_at + self.duration && now >= at)
    }

    /// Whether the job has reached its outcome at `now`.
    pub fn is_final_at(&self, now: Instant) -> bool {
        now >= self.ends_at()
    }

    /// The job's result, progress and ETA at `now`. `id` is echoed into the status.
    pub fn status_at(&self, id: String, now: Instant) -> JobStatus {
        if self.is_cancelled_at(now) {
            let at = self.cancelled_at.unwrap_or(now);
            return JobStatus {
                id: Some(id),
                result: JobResult::Error,
                progress: Some(
                    self.pending_progress(at.saturating_duration_since(self.created_at)),
                ),
                eta_ms: Some(0),
                reason: Some(EndReason::Cancelled),
            };
        }
        let elapsed = now.saturating_duration_since(self.created_at);
        let (result, progress, eta_ms) = if elapsed >= self.duration {
            (JobResult::from(self.outcome), 1.0, 0)
        } else {
            (
                JobResult::Pending,
                self.pending_progress(elapsed),
                ceil_millis(self.estimate.saturating_sub(elapsed)),
            )
        };
        JobStatus {
            id: Some(id),
            result,
            progress: Some(progress),
            eta_ms: Some(eta_ms),
            reason: None,
        }
    }

    /// The progress reported `elapsed` into the run while pending (a cancel freezes it).
    fn pending_progress(&self, elapsed: Duration) -> f64 {
        if self.estimate.is_zero() {
            PENDING_PROGRESS_CAP
        } else {
            (elapsed.as_secs_f64() / self.estimate.as_secs_f64()).min(PENDING_PROGRESS_CAP)
        }
    }
}

/// Milliseconds, rounded up: a client told "0 ms" must find the estimate reached.
pub fn ceil_millis(duration: Duration) -> u64 {
    let millis = duration.as_millis();
    let rounded_up = if duration.subsec_nanos() % 1_000_000 == 0 {
        millis
    } else {
        millis + 1
    };
    u64::try_from(rounded_up).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(duration_ms: u64, outcome: Outcome) -> (Job, Instant) {
        estimated_job(duration_ms, duration_ms, outcome)
    }

    fn estimated_job(duration_ms: u64, estimate_ms: u64, outcome: Outcome) -> (Job, Instant) {
        let start = Instant::now();
        (
            Job::new(
                start,
                Duration::from_millis(duration_ms),
                Duration::from_millis(estimate_ms),
                outcome,
            ),
            start,
        )
    }

    #[test]
    fn pending_until_its_duration_has_passed() {
        let (job, start) = job(10_000, Outcome::Completed);
        let status = job.status_at("a".into(), start + Duration::from_millis(2_500));
        assert_eq!(status.id.as_deref(), Some("a"));
        assert_eq!(status.result, JobResult::Pending);
        assert!(
            (status.progress.unwrap() - 0.25).abs() < 1e-9,
            "{}",
            status.progress.unwrap()
        );
        assert_eq!(status.eta_ms, Some(7_500));
        assert!(!job.is_final_at(start + Duration::from_millis(2_500)));
    }

    #[test]
    fn reaches_its_outcome_exactly_at_its_duration() {
        let (job, start) = job(10_000, Outcome::Error);
        let just_before = job.status_at("a".into(), start + Duration::from_micros(9_999_999));
        assert_eq!(just_before.result, JobResult::Pending);
        assert_eq!(
            just_before.eta_ms,
            Some(1),
            "a partial millisecond rounds up"
        );

        let at_end = job.status_at("a".into(), start + Duration::from_millis(10_000));
        assert_eq!(at_end.result, JobResult::Error);
        assert_eq!(at_end.progress.unwrap(), 1.0);
        assert_eq!(at_end.eta_ms, Some(0));
        assert_eq!(job.ends_at(), start + Duration::from_millis(10_000));
        assert!(job.is_final_at(job.ends_at()));
    }

    #[test]
    fn stays_final_forever_after() {
        let (job, start) = job(1_000, Outcome::Completed);
        let later = job.status_at("a".into(), start + Duration::from_secs(3_600));
        assert_eq!(later.result, JobResult::Completed);
        assert_eq!(later.progress.unwrap(), 1.0);
    }

    #[test]
    fn a_zero_duration_job_is_final_at_once() {
        let (job, start) = job(0, Outcome::Completed);
        assert_eq!(
            job.status_at("a".into(), start).result,
            JobResult::Completed
        );
    }

    #[test]
    fn an_instant_before_creation_reads_as_just_started() {
        let (job, start) = job(1_000, Outcome::Completed);
        let earlier = start.checked_sub(Duration::from_millis(5)).unwrap_or(start);
        let status = job.status_at("a".into(), earlier);
        assert_eq!(status.result, JobResult::Pending);
        assert_eq!(status.progress.unwrap(), 0.0);
        assert_eq!(status.eta_ms, Some(1_000));
    }

    #[test]
    fn eta_and_progress_follow_the_estimate_not_the_truth() {
        // Truly 12 s, estimated 10 s: at 5 s the server believes it is half done.
        let (job, start) = estimated_job(12_000, 10_000, Outcome::Completed);
        let status = job.status_at("a".into(), start + Duration::from_secs(5));
        assert!((status.progress.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(status.eta_ms, Some(5_000));
    }

    #[test]
    fn a_job_running_late_reports_eta_zero_and_is_never_100_percent_while_pending() {
        let (job, start) = estimated_job(12_000, 10_000, Outcome::Completed);
        let late = job.status_at("a".into(), start + Duration::from_secs(11));
        assert_eq!(late.result, JobResult::Pending);
        assert_eq!(late.eta_ms, Some(0));
        assert_eq!(late.progress.unwrap(), PENDING_PROGRESS_CAP);
    }

    #[test]
    fn a_job_ending_early_jumps_to_its_outcome() {
        let (job, start) = estimated_job(8_000, 10_000, Outcome::Completed);
        let status = job.status_at("a".into(), start + Duration::from_secs(8));
        assert_eq!(status.result, JobResult::Completed);
        assert_eq!(status.progress.unwrap(), 1.0);
    }

    #[test]
    fn a_cancel_ends_a_pending_job_in_error_with_its_progress_frozen() {
        let (mut job, start) = job(10_000, Outcome::Completed);
        let at = start + Duration::from_secs(4);
        assert_eq!(job.cancel(at), CancelOutcome::Cancelled);
        assert_eq!(job.ends_at(), at);
        assert!(job.is_final_at(at));
        let status = job.status_at("a".into(), at + Duration::from_secs(60));
        assert_eq!(status.result, JobResult::Error);
        assert_eq!(status.reason, Some(EndReason::Cancelled));
        assert!(
            (status.progress.unwrap() - 0.4).abs() < 1e-9,
            "{}",
            status.progress.unwrap()
        );
        assert_eq!(status.eta_ms, Some(0));
        assert_eq!(job.cancel(at + SECOND), CancelOutcome::AlreadyCancelled);
        assert_eq!(job.cancelled_at, Some(at), "the first cancel stands");
    }

    #[test]
    fn an_ended_job_cannot_be_cancelled() {
        let (mut job, start) = job(1_000, Outcome::Error);
        let later = start + Duration::from_secs(2);
        assert_eq!(job.cancel(later), CancelOutcome::AlreadyEnded);
        let status = job.status_at("a".into(), later);
        assert_eq!(status.result, JobResult::Error);
        assert_eq!(
            status.reason, None,
            "an error by its own outcome gives no reason"
        );
    }

    const SECOND: Duration = Duration::from_secs(1);
}
