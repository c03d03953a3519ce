//! A job as Redis keeps it: one hash per job, its times in microseconds since the Unix
//! epoch so that every replica reads the same instants (see `store/wall_clock.rs`).
//!
//! | field | meaning |
//! |---|---|
//! | `c` | created at |
//! | `d` | true duration |
//! | `e` | reported estimate |
//! | `o` | outcome: `completed` or `error` |
//! | `x` | cancelled at, once cancelled |

use std::time::Duration;

use video_translation_protocol::Outcome;

use crate::job::Job;
use crate::store::wall_clock::WallClock;

/// The fields of a job's hash, in the order `HMGET` asks for them.
pub const FIELDS: [&str; 5] = ["c", "d", "e", "o", "x"];

/// A job's fields as Redis keeps them: decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `c`, `d`, `e`, `o`.
    pub definition: [String; 4],
    /// `x`.
    pub cancelled_at: Option<String>,
}

impl Record {
    /// The fields of `job`.
    pub fn of(job: &Job, clock: &WallClock) -> Self {
        Record {
            definition: [
                clock.unix_micros_of(job.created_at).to_string(),
                micros(job.duration).to_string(),
                micros(job.estimate).to_string(),
                outcome_text(job.outcome).to_owned(),
            ],
            cancelled_at: job
                .cancelled_at
                .map(|at| clock.unix_micros_of(at).to_string()),
        }
    }

    /// The record in the `FIELDS` order an `HMGET` answers with: `None` when the job is not
    /// there (every field absent), an error when it is there but garbled.
    pub fn from_fields(fields: &[Option<String>]) -> Result<Option<Self>, String> {
        if fields.iter().all(Option::is_none) {
            return Ok(None);
        }
        let field = |i: usize| {
            fields
                .get(i)
                .cloned()
                .flatten()
                .ok_or_else(|| format!("a job record lacks its field {:?}", FIELDS[i]))
        };
        Ok(Some(Record {
            definition: [field(0)?, field(1)?, field(2)?, field(3)?],
            cancelled_at: fields.get(4).cloned().flatten(),
        }))
    }

    /// The job, its times mapped to this process's instants.
    pub fn to_job(&self, clock: &WallClock) -> Result<Job, String> {
        let number = |text: &str| {
            text.parse::<u64>()
                .map_err(|_| format!("a job record holds {text:?} where a number belongs"))
        };
        let [created, duration, estimate, outcome] = &self.definition;
        let outcome = match outcome.as_str() {
            "completed" => Outcome::Completed,
            "error" => Outcome::Error,
            other => return Err(format!("a job record holds the outcome {other:?}")),
        };
        let mut job = Job::new(
            clock.instant_of(number(created)?),
            Duration::from_micros(number(duration)?),
            Duration::from_micros(number(estimate)?),
            outcome,
        );
        job.cancelled_at = self
            .cancelled_at
            .as_deref()
            .map(number)
            .transpose()?
            .map(|at| clock.instant_of(at));
        Ok(job)
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

fn outcome_text(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Completed => "completed",
        Outcome::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn close(a: Instant, b: Instant) -> bool {
        (if a > b { a - b } else { b - a }) < Duration::from_micros(2)
    }

    #[test]
    fn a_job_survives_the_trip_through_its_fields() {
        let clock = WallClock::now();
        let start = Instant::now();
        let mut job = Job::new(
            start,
            Duration::from_millis(1500),
            Duration::from_millis(1200),
            Outcome::Error,
        );
        job.cancel(start + Duration::from_millis(700));
        let record = Record::of(&job, &clock);
        let fields: Vec<Option<String>> = record
            .definition
            .iter()
            .cloned()
            .map(Some)
            .chain([record.cancelled_at.clone()])
            .collect();
        let back = Record::from_fields(&fields)
            .unwrap()
            .unwrap()
            .to_job(&clock)
            .unwrap();
        assert!(close(back.created_at, job.created_at));
        assert_eq!(back.duration, job.duration);
        assert_eq!(back.estimate, job.estimate);
        assert_eq!(back.outcome, Outcome::Error);
        assert!(close(back.cancelled_at.unwrap(), job.cancelled_at.unwrap()));
    }

    #[test]
    fn no_fields_is_no_job_and_garbled_fields_are_an_error() {
        assert_eq!(
            Record::from_fields(&[None, None, None, None, None]),
            Ok(None)
        );
        let partial = [Some("1".to_owned()), None, None, None, None];
        assert!(Record::from_fields(&partial).is_err());
        let garbled = Record {
            definition: ["1".into(), "x".into(), "1".into(), "completed".into()],
            cancelled_at: None,
        };
        assert!(garbled.to_job(&WallClock::now()).is_err());
        let unknown = Record {
            definition: ["1".into(), "1".into(), "1".into(), "maybe".into()],
            cancelled_at: None,
        };
        assert!(unknown.to_job(&WallClock::now()).is_err());
    }
}
