//! One simulated translation job.
//!
//! A job never runs anything: its status at any instant follows from when it started, how
//! long it truly runs, how long the server *thinks* it runs, and how it ends. That keeps the
//! server free of per-job timers and makes every answer reproducible in tests.

use std::time::{Duration, Instant};

use video_translation_protocol::{JobResult, JobStatus, Outcome};

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
}

/// The largest progress a pending job reports: it is never 100 % before it is done, even
/// when it runs past its estimate.
const PENDING_PROGRESS_CAP: f64 = 0.99;

impl Job {
    /// When the job leaves `pending`.
    pub fn ends_at(&self) -> Instant {
        self.created_at + self.duration
    }

    /// Whether the job has reached its outcome at `now`.
    pub fn is_final_at(&self, now: Instant) -> bool {
        now >= self.ends_at()
    }

    /// The job's result, progress and ETA at `now`. `id` is echoed into the status.
    pub fn status_at(&self, id: String, now: Instant) -> JobStatus {
        let elapsed = now.saturating_duration_since(self.created_at);
        let (result, progress, eta_ms) = if elapsed >= self.duration {
            (JobResult::from(self.outcome), 1.0, 0)
        } else {
            let progress = if self.estimate.is_zero() {
                PENDING_PROGRESS_CAP
            } else {
                (elapsed.as_secs_f64() / self.estimate.as_secs_f64()).min(PENDING_PROGRESS_CAP)
            };
            (
                JobResult::Pending,
                progress,
                ceil_millis(self.estimate.saturating_sub(elapsed)),
            )
        };
        JobStatus {
            id,
            result,
            progress,
            eta_ms: Some(eta_ms),
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
            Job {
                created_at: start,
                duration: Duration::from_millis(duration_ms),
                estimate: Duration::from_millis(estimate_ms),
                outcome,
            },
            start,
        )
    }

    #[test]
    fn pending_until_its_duration_has_passed() {
        let (job, start) = job(10_000, Outcome::Completed);
        let status = job.status_at("a".into(), start + Duration::from_millis(2_500));
        assert_eq!(status.id, "a");
        assert_eq!(status.result, JobResult::Pending);
        assert!((status.progress - 0.25).abs() < 1e-9, "{}", status.progress);
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
        assert_eq!(at_end.progress, 1.0);
        assert_eq!(at_end.eta_ms, Some(0));
        assert_eq!(job.ends_at(), start + Duration::from_millis(10_000));
        assert!(job.is_final_at(job.ends_at()));
    }

    #[test]
    fn stays_final_forever_after() {
        let (job, start) = job(1_000, Outcome::Completed);
        let later = job.status_at("a".into(), start + Duration::from_secs(3_600));
        assert_eq!(later.result, JobResult::Completed);
        assert_eq!(later.progress, 1.0);
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
        assert_eq!(status.progress, 0.0);
        assert_eq!(status.eta_ms, Some(1_000));
    }

    #[test]
    fn eta_and_progress_follow_the_estimate_not_the_truth() {
        // Truly 12 s, estimated 10 s: at 5 s the server believes it is half done.
        let (job, start) = estimated_job(12_000, 10_000, Outcome::Completed);
        let status = job.status_at("a".into(), start + Duration::from_secs(5));
        assert!((status.progress - 0.5).abs() < 1e-9);
        assert_eq!(status.eta_ms, Some(5_000));
    }

    #[test]
    fn a_job_running_late_reports_eta_zero_and_is_never_100_percent_while_pending() {
        let (job, start) = estimated_job(12_000, 10_000, Outcome::Completed);
        let late = job.status_at("a".into(), start + Duration::from_secs(11));
        assert_eq!(late.result, JobResult::Pending);
        assert_eq!(late.eta_ms, Some(0));
        assert_eq!(late.progress, PENDING_PROGRESS_CAP);
    }

    #[test]
    fn a_job_ending_early_jumps_to_its_outcome() {
        let (job, start) = estimated_job(8_000, 10_000, Outcome::Completed);
        let status = job.status_at("a".into(), start + Duration::from_secs(8));
        assert_eq!(status.result, JobResult::Completed);
        assert_eq!(status.progress, 1.0);
    }
}
