//! A request to create a job ([`NewJob`]), and what a job is when its creator leaves things
//! out: the server's `--delay`, `--error-rate` and `--eta-error`.

use std::time::{Duration, Instant};

use video_translation_protocol::Outcome;

use crate::job::Job;

/// A request to create a job; `None` fields take the server's defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewJob {
    /// How long it truly runs.
    pub duration: Option<Duration>,
    /// How long the server reports it runs.
    pub estimate: Option<Duration>,
    /// How it ends.
    pub outcome: Option<Outcome>,
}

/// Defaults for jobs created without an explicit duration or outcome.
#[derive(Debug, Clone, Copy)]
pub struct JobDefaults {
    /// Duration of a job that names none.
    pub duration: Duration,
    /// Chance that a job naming no outcome ends in `error`.
    pub error_rate: f64,
    /// How far a job's reported estimate strays from its true duration: the estimate is
    /// drawn from `duration × U(1 − eta_error, 1 + eta_error)`.
    pub eta_error: f64,
}

impl JobDefaults {
    fn draw_estimate(&self, duration: Duration) -> Duration {
        if self.eta_error == 0.0 {
            return duration;
        }
        let factor = 1.0 - self.eta_error + 2.0 * self.eta_error * rand::random::<f64>();
        duration.mul_f64(factor)
    }

    /// A job starting at `now` as `request` asks, the rest drawn from these defaults.
    pub fn new_job(&self, request: NewJob, now: Instant) -> Job {
        let duration = request.duration.unwrap_or(self.duration);
        Job::new(
            now,
            duration,
            request
                .estimate
                .unwrap_or_else(|| self.draw_estimate(duration)),
            request.outcome.unwrap_or_else(|| self.draw_outcome()),
        )
    }

    fn draw_outcome(&self) -> Outcome {
        // rand::random::<f64>() is in [0, 1), so a rate of 0 never errs and 1 always does.
        if rand::random::<f64>() < self.error_rate {
            Outcome::Error
        } else {
            Outcome::Completed
        }
    }
}
