//! What a stream has told its client and what it tells next, decided from the jobs'
//! definitions and the time alone: no I/O, no timers (the loop in `run.rs` does the waiting
//! and the reading), so every rule is a plain unit test.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use video_translation_protocol::stream::{
    JobsEvent, MissingEvent, OpenEvent, END_EVENT, JOBS_EVENT, MISSING_EVENT, OPEN_EVENT,
};

use super::cursor::{Cursor, Resume};
use super::frame::Frames;
use crate::job::Job;
use crate::long_poll::final_body::json_body;
use crate::store::wall_clock::WallClock;
use crate::store::JobId;

/// One stream's listed jobs, each delivered (its `end` sent, now or before a resume) or not.
#[derive(Debug)]
pub struct Session {
    jobs: Vec<Watched>,
    missing: Vec<String>,
    cursor: Cursor,
}

#[derive(Debug)]
struct Watched {
    id: JobId,
    job: Job,
    delivered: bool,
}

impl Session {
    /// A stream of `jobs` (the known listed jobs, in order) and `missing` (the unknown ids),
    /// resuming from `resume` (the default for a new stream): the jobs it says were
    /// delivered are not sent again.
    pub fn new(jobs: Vec<(JobId, Job)>, missing: Vec<String>, resume: &Resume) -> Self {
        let cursor = Cursor::resumed(
            resume,
            jobs.iter().map(|(id, job)| (*id, unix_ms(job.ends_at()))),
        );
        let jobs = jobs
            .into_iter()
            .map(|(id, job)| Watched {
                delivered: resume.has_delivered(id, unix_ms(job.ends_at())),
                id,
                job,
            })
            .collect();
        Session {
            jobs,
            missing,
            cursor,
        }
    }

    /// The opening events: `open` (with the longest silence the client may see, `heartbeat`),
    /// the unknown ids, the end of every job ended by `now`, then every other job's status.
    /// The `open` goes out at once, so that a client whose proxy buffers streams can tell.
    pub fn open(&mut self, now: Instant, heartbeat: Duration, frames: &mut Frames) {
        let heartbeat_ms = u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX);
        frames.json_event(
            OPEN_EVENT,
            &self.cursor.to_event_id(),
            &OpenEvent { heartbeat_ms },
        );
        if !self.missing.is_empty() {
            let ids = std::mem::take(&mut self.missing);
            frames.json_event(
                MISSING_EVENT,
                &self.cursor.to_event_id(),
                &MissingEvent { ids },
            );
        }
        self.ends(now, frames);
        self.progress(now, frames);
    }

    /// The jobs whose end is still to be sent, in the order listed, with their definitions.
    pub fn undelivered(&self) -> impl Iterator<Item = (JobId, Job)> + '_ {
        self.jobs
            .iter()
            .filter(|watched| !watched.delivered)
            .map(|watched| (watched.id, watched.job))
    }

    /// Takes the definitions read (from `looked`) for the jobs [`Session::undelivered`]
    /// listed, in its order (a `None` keeps the one known), and sends the ends they show at
    /// `now`. Then every end up to `looked` has been seen, and the cursor moves on.
    pub fn looked(
        &mut self,
        read: Vec<Option<Job>>,
        looked: Instant,
        now: Instant,
        frames: &mut Frames,
    ) {
        let undelivered = self.jobs.iter_mut().filter(|watched| !watched.delivered);
        for (watched, job) in undelivered.zip(read) {
            if let Some(job) = job {
                watched.job = job;
            }
        }
        self.ends(now, frames);
        self.cursor.settle(unix_ms(looked));
    }

    /// Sends the end of every job ended by `now` and not yet delivered, earliest end first,
    /// as the definitions known tell it: call it right after they are read
    /// ([`Session::looked`] does), since a cancel since then would change how a job ended.
    pub fn ends(&mut self, now: Instant, frames: &mut Frames) {
        let mut ended: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| !self.jobs[i].delivered && self.jobs[i].job.is_final_at(now))
            .collect();
        ended.sort_by_key(|&i| (self.jobs[i].job.ends_at(), self.jobs[i].id));
        for i in ended {
            let watched = &mut self.jobs[i];
            watched.delivered = true;
            self.cursor
                .delivered(watched.id, unix_ms(watched.job.ends_at()));
            // A final status is the same for every stream of the job: serialized once per
            // thread and shared, as long-polls' answers are.
            let status = watched.job.status_at(watched.id.to_hex(), now);
            frames.event(END_EVENT, &self.cursor.to_event_id(), &json_body(&status));
        }
    }

    /// A `jobs` event: every job not yet delivered, its status at `now`; nothing if none.
    pub fn progress(&self, now: Instant, frames: &mut Frames) {
        let jobs: Vec<_> = self
            .undelivered()
            .map(|(id, job)| job.status_at(id.to_hex(), now))
            .collect();
        if !jobs.is_empty() {
            frames.json_event(JOBS_EVENT, &self.cursor.to_event_id(), &JobsEvent { jobs });
        }
    }

    /// Whether every listed job's end has been delivered: the stream is over.
    pub fn is_done(&self) -> bool {
        self.jobs.iter().all(|watched| watched.delivered)
    }
}

/// `at` in Unix milliseconds, through one mapping for the whole process, so that a job's
/// end reads the same every time.
fn unix_ms(at: Instant) -> u64 {
    static CLOCK: OnceLock<WallClock> = OnceLock::new();
    CLOCK.get_or_init(WallClock::now).unix_micros_of(at) / 1000
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use video_translation_protocol::Outcome;

    use super::*;

    fn id(n: u128) -> JobId {
        JobId::parse(&format!("{n:032x}")).unwrap()
    }

    fn job(start: Instant, millis: u64) -> Job {
        let duration = Duration::from_millis(millis);
        Job::new(start, duration, duration, Outcome::Completed)
    }

    /// The events written, as (event, id, data) triples.
    fn events(frames: &mut Frames) -> Vec<(String, String, serde_json::Value)> {
        let Some(bytes) = frames.take() else {
            return Vec::new();
        };
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        text.split_terminator("\n\n")
            .map(|event| {
                let field = |name: &str| {
                    event
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .unwrap_or_else(|| panic!("no {name} in {event:?}"))
                        .to_owned()
                };
                let data = serde_json::from_str(&field("data: ")).unwrap();
                (field("event: "), field("id: "), data)
            })
            .collect()
    }

    fn names(events: &[(String, String, serde_json::Value)]) -> Vec<(String, String)> {
        events
            .iter()
            .map(|(event, _, data)| {
                let about = data["id"].as_str().map_or_else(
                    || data.to_string(),
                    |id| id.trim_start_matches('0').to_owned(),
                );
                (event.clone(), about)
            })
            .collect()
    }

    /// What `open` sent after its `open` event, which every stream starts with.
    fn opened(session: &mut Session, now: Instant, frames: &mut Frames) -> Vec<(String, String)> {
        session.open(now, Duration::from_secs(15), frames);
        let events = names(&events(frames));
        assert_eq!(events[0].0, "open", "{events:?}");
        events[1..].to_vec()
    }

    fn pair(event: &str, about: &str) -> (String, String) {
        (event.to_owned(), about.to_owned())
    }

    #[test]
    fn it_opens_with_the_missing_ids_then_the_ends_already_there_earliest_first() {
        let start = Instant::now();
        let mut session = Session::new(
            vec![
                (id(1), job(start, 60_000)),
                (id(2), job(start, 20)),
                (id(3), job(start, 10)),
            ],
            vec!["nope".into()],
            &Resume::default(),
        );
        let mut frames = Frames::default();
        session.open(
            start + Duration::from_millis(30),
            Duration::from_secs(15),
            &mut frames,
        );
        let events = events(&mut frames);
        assert_eq!(
            names(&events)[..4],
            [
                pair("open", r#"{"heartbeat_ms":15000}"#),
                pair("missing", r#"{"ids":["nope"]}"#),
                pair("end", "3"),
                pair("end", "2")
            ]
        );
        assert_eq!(events[2].2["result"], "completed");
        assert_eq!(events.len(), 5, "then the others' status: {events:?}");
        assert_eq!(events[4].0, "jobs");
        assert_eq!(events[4].2["jobs"][0]["result"], "pending");
        assert_eq!(
            session.undelivered().map(|(id, _)| id).collect::<Vec<_>>(),
            [id(1)]
        );
        assert!(!session.is_done());
    }

    #[test]
    fn ends_are_sent_once_as_they_come_and_the_last_one_ends_the_session() {
        let start = Instant::now();
        let mut session = Session::new(
            vec![(id(1), job(start, 200)), (id(2), job(start, 100))],
            Vec::new(),
            &Resume::default(),
        );
        let mut frames = Frames::default();
        session.open(start, Duration::from_secs(15), &mut frames);
        let opening: Vec<String> = events(&mut frames).into_iter().map(|e| e.0).collect();
        assert_eq!(opening, ["open", "jobs"], "nothing ended, nothing missing");
        session.ends(start + Duration::from_millis(150), &mut frames);
        session.ends(start + Duration::from_millis(160), &mut frames);
        assert_eq!(names(&events(&mut frames)), [pair("end", "2")]);
        assert!(!session.is_done());
        session.ends(start + Duration::from_millis(200), &mut frames);
        assert_eq!(names(&events(&mut frames)), [pair("end", "1")]);
        assert!(session.is_done());
    }

    #[test]
    fn a_cancel_is_seen_through_a_read_and_sent_with_its_reason() {
        let start = Instant::now();
        let mut session = Session::new(
            vec![(id(1), job(start, 60_000)), (id(2), job(start, 60_000))],
            Vec::new(),
            &Resume::default(),
        );
        let mut cancelled = job(start, 60_000);
        cancelled.cancel(start + Duration::from_millis(10));
        let now = start + Duration::from_millis(20);
        let mut frames = Frames::default();
        session.looked(vec![None, Some(cancelled)], now, now, &mut frames);
        let events = events(&mut frames);
        assert_eq!(names(&events), [pair("end", "2")]);
        assert_eq!(events[0].2["reason"], "cancelled");
    }

    #[test]
    fn progress_lists_the_jobs_still_pending_in_order() {
        let start = Instant::now();
        let mut session = Session::new(
            vec![
                (id(1), job(start, 60_000)),
                (id(2), job(start, 10)),
                (id(3), job(start, 30_000)),
            ],
            Vec::new(),
            &Resume::default(),
        );
        let mut frames = Frames::default();
        let now = start + Duration::from_millis(15_000);
        session.open(now, Duration::from_secs(15), &mut frames);
        session.progress(now, &mut frames);
        let events = events(&mut frames);
        assert_eq!(
            events.len(),
            4,
            "open, an end, the opening status, then this one"
        );
        let (event, _, data) = &events[3];
        assert_eq!(event, "jobs");
        let listed: Vec<(&str, f64)> = data["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|job| {
                (
                    job["result"].as_str().unwrap(),
                    job["progress"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(listed, [("pending", 0.25), ("pending", 0.5)]);
    }

    #[test]
    fn a_resumed_session_sends_only_the_ends_its_cursor_does_not_cover() {
        let start = Instant::now();
        let jobs = || {
            vec![
                (id(1), job(start, 10)),
                (id(2), job(start, 20)),
                (id(3), job(start, 30)),
            ]
        };
        let mut first = Session::new(jobs(), Vec::new(), &Resume::default());
        let mut frames = Frames::default();
        first.ends(start + Duration::from_millis(25), &mut frames);
        let sent = events(&mut frames);
        assert_eq!(names(&sent), [pair("end", "1"), pair("end", "2")]);

        // Cut after the first end: the second is sent again, the first is not.
        let after_first = Resume::parse(&sent[0].1).unwrap();
        let mut resumed = Session::new(jobs(), Vec::new(), &after_first);
        assert_eq!(
            opened(&mut resumed, start + Duration::from_millis(40), &mut frames),
            [pair("end", "2"), pair("end", "3")]
        );

        // Cut after the second: only the third, even with fewer ids listed.
        let after_second = Resume::parse(&sent[1].1).unwrap();
        let mut resumed = Session::new(jobs()[1..].to_vec(), Vec::new(), &after_second);
        assert_eq!(
            opened(&mut resumed, start + Duration::from_millis(40), &mut frames),
            [pair("end", "3")]
        );
        assert!(resumed.is_done());
    }

    #[test]
    fn an_end_seen_late_is_still_sent_to_a_stream_resumed_from_before_it() {
        // Job 2 is cancelled at 10 ms, but the stream learns of it only after sending job 1's
        // end (at 20 ms): a cursor at job 1's end must not skip job 2.
        let start = Instant::now();
        let mut session = Session::new(
            vec![(id(1), job(start, 20)), (id(2), job(start, 60_000))],
            Vec::new(),
            &Resume::default(),
        );
        let mut frames = Frames::default();
        let now = start + Duration::from_millis(25);
        session.looked(vec![None, None], now, now, &mut frames);
        let sent = events(&mut frames);
        assert_eq!(names(&sent), [pair("end", "1")]);

        let mut cancelled = job(start, 60_000);
        cancelled.cancel(start + Duration::from_millis(10));
        let mut resumed = Session::new(
            vec![(id(1), job(start, 20)), (id(2), cancelled)],
            Vec::new(),
            &Resume::parse(&sent[0].1).unwrap(),
        );
        assert_eq!(opened(&mut resumed, now, &mut frames), [pair("end", "2")]);
    }
}
