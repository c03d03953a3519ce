//! One simulated translation job.
//!
//! A job never runs anything: its status at any instant follows from when it started, how
//! long it runs and how it ends. That keeps the server free of per-job timers and makes
//! every answer reproducible in tests.

use std::time::{Duration, Instant};

use video_translation_protocol::{JobResult, JobStatus, Outcome};

/// A simulated job: `pending` for `duration` after `created_at`, then `outcome` for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// When the job started.
    pub created_at: Instant,
    /// How long it stays `pending`.
    pub duration: Duration,
    /// The final result it reaches.
    pub outcome: Outcome,
}

impl Job {
    /// The job's result, progress and ETA at `now`. `id` is echoed into the status.
    pub fn status_at(&self, id: &str, now: Instant) -> JobStatus {
        let elapsed = now.saturating_duration_since(self.created_at);
        let (result, progress, eta_ms) = if elapsed >= self.duration {
            (JobResult::from(self.outcome), 1.0, 0)
        } else {
            let remaining = self.duration - elapsed;
            (
                JobResult::Pending,
                elapsed.as_secs_f64() / self.duration.as_secs_f64(),
                ceil_millis(remaining),
            )
        };
        JobStatus {
            id: id.to_owned(),
            result,
            progress,
            eta_ms: Some(eta_ms),
        }
    }
}

/// Milliseconds, rounded up: a client told "0 ms" must find the job finished.
fn ceil_millis(duration: Duration) -> u64 {
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
        let start = Instant::now();
        (
            Job {
                created_at: start,
                duration: Duration::from_millis(duration_ms),
                outcome,
            },
            start,
        )
    }

    #[test]
    fn pending_until_its_duration_has_passed() {
        let (job, start) = job(10_000, Outcome::Completed);
        let status = job.status_at("a", start + Duration::from_millis(2_500));
        assert_eq!(status.id, "a");
        assert_eq!(status.result, JobResult::Pending);
        assert!((status.progress - 0.25).abs() < 1e-9, "{}", status.progress);
        assert_eq!(status.eta_ms, Some(7_500));
    }

    #[test]
    fn reaches_its_outcome_exactly_at_its_duration() {
        let (job, start) = job(10_000, Outcome::Error);
        let just_before = job.status_at("a", start + Duration::from_micros(9_999_999));
        assert_eq!(just_before.result, JobResult::Pending);
        assert_eq!(
            just_before.eta_ms,
            Some(1),
            "a partial millisecond rounds up"
        );

        let at_end = job.status_at("a", start + Duration::from_millis(10_000));
        assert_eq!(at_end.result, JobResult::Error);
        assert_eq!(at_end.progress, 1.0);
        assert_eq!(at_end.eta_ms, Some(0));
    }

    #[test]
    fn stays_final_forever_after() {
        let (job, start) = job(1_000, Outcome::Completed);
        let later = job.status_at("a", start + Duration::from_secs(3_600));
        assert_eq!(later.result, JobResult::Completed);
        assert_eq!(later.progress, 1.0);
    }

    #[test]
    fn a_zero_duration_job_is_final_at_once() {
        let (job, start) = job(0, Outcome::Completed);
        assert_eq!(job.status_at("a", start).result, JobResult::Completed);
    }

    #[test]
    fn an_instant_before_creation_reads_as_just_started() {
        let (job, start) = job(1_000, Outcome::Completed);
        let earlier = start.checked_sub(Duration::from_millis(5)).unwrap_or(start);
        let status = job.status_at("a", earlier);
        assert_eq!(status.result, JobResult::Pending);
        assert_eq!(status.progress, 0.0);
        assert_eq!(status.eta_ms, Some(1_000));
    }
}
