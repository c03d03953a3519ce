//! The `id` of every event: a cursor a client sends back as `Last-Event-ID` to resume a
//! stream without missing an end, and without being sent again the ends it has.
//!
//! It is built from what never changes: a finished job's end time (in Unix milliseconds, the
//! same on every replica, as jobs are shared in wall-clock time) and its id. It reads
//! `WATERMARK[:ID,ID,...]` and says: *every listed job that ended at or before `WATERMARK`,
//! and every job named after it, has been delivered.* On resume, the server sends every
//! other listed job's end.
//!
//! Why not simply "the end time and id of the last end sent": ends are not always *seen* in
//! the order of their end times. A cancel made through another replica is recorded at that
//! moment (by Redis's clock) and reaches this replica a little later, after ends that came
//! between may have been sent; a cursor at those later ends would skip the cancelled job
//! forever. So the watermark trails the time of the stream's last look at the store by
//! [`SETTLE`], which is longer than a cancel can take to arrive, and the few jobs that ended
//! after the watermark and were delivered are named one by one (at most [`MAX_NAMED`]; past
//! that the oldest are left out, and would only be sent again on a resume, never missed).

use std::time::Duration;

use crate::store::JobId;

/// How far the watermark trails the stream's last look at the store: more than a cancel can
/// take to reach a replica, the worst case being a cancels channel cut silently and noticed
/// by the Redis store's next ping ([`HEARTBEAT`](crate::store::redis::HEARTBEAT) plus
/// [`COMMAND_TIMEOUT`](crate::store::redis::COMMAND_TIMEOUT)), with the replicas' clocks a
/// little apart.
pub const SETTLE: Duration = Duration::from_secs(10);

/// The most jobs a cursor names after its watermark (a cursor is then about 1 KiB).
pub const MAX_NAMED: usize = 32;

/// A cursor as a client sent it back (`Last-Event-ID`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// Every listed job that ended at or before this (Unix ms) was delivered.
    pub watermark_ms: u64,
    /// So was each of these.
    pub delivered: Vec<JobId>,
}

impl Resume {
    /// Reads a cursor this server issued; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (watermark, named) = match text.split_once(':') {
            Some((watermark, named)) => (watermark, Some(named)),
            None => (text, None),
        };
        let watermark_ms = (!watermark.is_empty()
            && watermark.len() <= 20
            && watermark.bytes().all(|b| b.is_ascii_digit()))
        .then(|| watermark.parse::<u64>().ok())
        .flatten()
        .ok_or("it does not start with a number of milliseconds")?;
        let delivered = match named {
            None => Vec::new(),
            Some(named) => named
                .split(',')
                .map(|id| JobId::parse(id).ok_or("a job id after the ':' is not 32 hex digits"))
                .collect::<Result<Vec<_>, _>>()?,
        };
        if delivered.len() > MAX_NAMED {
            return Err(format!("it names more than {MAX_NAMED} jobs"));
        }
        Ok(Resume {
            watermark_ms,
            delivered,
        })
    }

    /// Whether the job `id`, ending at `end_ms`, was delivered before.
    pub fn has_delivered(&self, id: JobId, end_ms: u64) -> bool {
        end_ms <= self.watermark_ms || self.delivered.contains(&id)
    }
}

/// A stream's cursor as it goes: the watermark and the jobs delivered after it, with their
/// end times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    watermark_ms: u64,
    named: Vec<(u64, JobId)>,
}

impl Cursor {
    /// Where a resumed stream starts: the client's watermark, and the jobs it names that are
    /// listed again (`listed`: each with its end time); the others are of no more use.
    pub fn resumed(resume: &Resume, listed: impl IntoIterator<Item = (JobId, u64)>) -> Self {
        let mut cursor = Cursor {
            watermark_ms: resume.watermark_ms,
            named: Vec::new(),
        };
        for (id, end_ms) in listed {
            if resume.delivered.contains(&id) {
                cursor.delivered(id, end_ms);
            }
        }
        cursor
    }

    /// Job `id`, ending at `end_ms`, has just been delivered.
    pub fn delivered(&mut self, id: JobId, end_ms: u64) {
        if end_ms <= self.watermark_ms {
            return;
        }
        self.named.push((end_ms, id));
        if self.named.len() > MAX_NAMED {
            // Left out, it would be sent again on a resume: a repeat, never a miss.
            let earliest = (0..self.named.len())
                .min_by_key(|&i| self.named[i])
                .unwrap_or(0);
            self.named.swap_remove(earliest);
        }
    }

    /// The stream looked at the store at `looked_ms` and has delivered every end it saw:
    /// every end up to [`SETTLE`] before that is surely among them.
    pub fn settle(&mut self, looked_ms: u64) {
        let watermark = looked_ms.saturating_sub(SETTLE.as_millis() as u64);
        if watermark > self.watermark_ms {
            self.watermark_ms = watermark;
            self.named.retain(|(end_ms, _)| *end_ms > watermark);
        }
    }

    /// The cursor as an event's `id`.
    pub fn to_event_id(&self) -> String {
        let mut id = self.watermark_ms.to_string();
        for (i, (_, job)) in self.named.iter().enumerate() {
            id.push(if i == 0 { ':' } else { ',' });
            id.push_str(&job.to_hex());
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> JobId {
        JobId::parse(&format!("{n:032x}")).unwrap()
    }

    #[test]
    fn a_cursor_reads_back_as_it_was_written() {
        let mut cursor = Cursor::default();
        cursor.settle(1_000_000);
        assert_eq!(cursor.to_event_id(), "990000");
        cursor.delivered(id(1), 999_000);
        cursor.delivered(id(2), 999_500);
        let text = cursor.to_event_id();
        assert_eq!(
            text,
            format!("990000:{:032x},{:032x}", 1, 2),
            "the watermark, then the jobs delivered after it"
        );
        let resume = Resume::parse(&text).unwrap();
        assert_eq!(resume.watermark_ms, 990_000);
        assert_eq!(resume.delivered, [id(1), id(2)]);
        assert!(resume.has_delivered(id(1), 999_000));
        assert!(resume.has_delivered(id(7), 990_000), "at the watermark");
        assert!(!resume.has_delivered(id(7), 990_001), "after it, not named");
    }

    #[test]
    fn the_watermark_trails_the_last_look_and_names_only_what_is_after_it() {
        let mut cursor = Cursor::default();
        cursor.delivered(id(1), 5_000);
        cursor.delivered(id(2), 20_000);
        cursor.settle(25_000);
        assert_eq!(cursor.to_event_id(), format!("15000:{:032x}", 2));
        cursor.settle(1_000);
        assert_eq!(
            cursor.to_event_id(),
            format!("15000:{:032x}", 2),
            "it never goes back"
        );
        cursor.delivered(id(3), 14_000);
        assert_eq!(
            cursor.to_event_id(),
            format!("15000:{:032x}", 2),
            "a late end under the watermark is covered by it"
        );
    }

    #[test]
    fn past_the_limit_the_earliest_named_are_left_out() {
        let mut cursor = Cursor::default();
        for n in 0..(MAX_NAMED as u128 + 3) {
            cursor.delivered(id(n), 1_000 + n as u64);
        }
        let resume = Resume::parse(&cursor.to_event_id()).unwrap();
        assert_eq!(resume.delivered.len(), MAX_NAMED);
        assert!(!resume.delivered.contains(&id(0)) && !resume.delivered.contains(&id(2)));
        assert!(resume.delivered.contains(&id(3)) && resume.delivered.contains(&id(34)));
    }

    #[test]
    fn a_resumed_cursor_keeps_only_the_named_jobs_listed_again() {
        let resume = Resume {
            watermark_ms: 100,
            delivered: vec![id(1), id(2), id(3)],
        };
        let cursor = Cursor::resumed(&resume, [(id(1), 150), (id(3), 90), (id(4), 200)]);
        assert_eq!(cursor.to_event_id(), format!("100:{:032x}", 1));
    }

    #[test]
    fn malformed_cursors_are_refused_saying_why() {
        let named = |n: usize| {
            (0..n as u128)
                .map(|n| format!("{n:032x}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        for bad in [
            String::new(),
            "abc".into(),
            "-5".into(),
            "1.5".into(),
            "99999999999999999999999".into(),
            "12:".into(),
            "12:xyz".into(),
            format!("12:{},", named(1)),
            format!("12:{}", named(MAX_NAMED + 1)),
            "12 :0".into(),
        ] {
            assert!(Resume::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(Resume::parse(&format!("12:{}", named(MAX_NAMED))).is_ok());
        assert_eq!(Resume::parse(" 7 ").unwrap().watermark_ms, 7);
    }

    #[test]
    fn the_watermark_trails_longer_than_the_fleet_takes_to_notice_a_lost_cancel() {
        use crate::store::redis::{COMMAND_TIMEOUT, HEARTBEAT};
        assert!(SETTLE >= HEARTBEAT + COMMAND_TIMEOUT + Duration::from_secs(2));
    }
}
