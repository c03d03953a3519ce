//! The JSON body of a job's final status, serialized once per worker thread and shared by
//! every request answered with it.
//!
//! When a job ends, every request held on it is answered at once with the same status: a
//! final status never changes (its result, progress 1, eta 0, its reason). 10,000 waiters of
//! one job used to serialize it 10,000 times (about a tenth of the instructions of each
//! answer, callgrind); now each worker thread keeps the last final status it serialized with
//! its bytes, and the next answer with an equal status shares them (`Bytes::clone`, one
//! reference count).
//!
//! Per thread, not shared: actix runs each worker's requests on one thread, so the memo needs
//! no lock, and a job's waiters, woken together, are answered one after another on each
//! worker. One entry is enough for that; interleaved ends of several jobs only cost a
//! serialization each, as before. Matched by the whole status (`PartialEq`), so a body is
//! always the serialization of its own status; pending statuses, whose progress and eta
//! change with every read, are serialized afresh and not kept.

use std::cell::RefCell;

use actix_web::web::Bytes;
use video_translation_protocol::{JobResult, JobStatus};

thread_local! {
    /// The last final status this thread serialized, and its JSON.
    static LAST_FINAL: RefCell<Option<(JobStatus, Bytes)>> = const { RefCell::new(None) };
}

/// `status` as JSON: shared with earlier answers of an equal final status on this thread.
pub(crate) fn json_body(status: &JobStatus) -> Bytes {
    if status.result == JobResult::Pending {
        return serialize(status);
    }
    LAST_FINAL.with_borrow_mut(|last| {
        if let Some((kept, body)) = last.as_ref() {
            if kept == status {
                return body.clone();
            }
        }
        let body = serialize(status);
        *last = Some((status.clone(), body.clone()));
        body
    })
}

fn serialize(status: &JobStatus) -> Bytes {
    // Plain data (strings, numbers, enums): serde_json cannot fail on it.
    Bytes::from(serde_json::to_vec(status).expect("a JobStatus serializes to JSON"))
}

#[cfg(test)]
mod tests {
    use video_translation_protocol::EndReason;

    use super::*;

    fn status(id: &str, result: JobResult) -> JobStatus {
        JobStatus {
            id: Some(id.to_owned()),
            result,
            progress: Some(if result == JobResult::Pending {
                0.5
            } else {
                1.0
            }),
            eta_ms: Some(if result == JobResult::Pending { 500 } else { 0 }),
            reason: None,
        }
    }

    #[test]
    fn a_body_is_the_serialization_of_its_own_status() {
        let cancelled = JobStatus {
            reason: Some(EndReason::Cancelled),
            ..status("a", JobResult::Error)
        };
        for status in [
            status("a", JobResult::Completed),
            status("a", JobResult::Completed),
            cancelled.clone(),
            status("a", JobResult::Error),
            status("b", JobResult::Error),
            status("b", JobResult::Pending),
            cancelled,
        ] {
            assert_eq!(json_body(&status), serde_json::to_vec(&status).unwrap());
        }
    }

    #[test]
    fn answers_with_an_equal_final_status_share_one_body() {
        let first = json_body(&status("c", JobResult::Completed));
        let second = json_body(&status("c", JobResult::Completed));
        assert_eq!(
            first.as_ptr(),
            second.as_ptr(),
            "the same bytes, not a copy"
        );
        let pending = status("c", JobResult::Pending);
        assert_ne!(json_body(&pending).as_ptr(), json_body(&pending).as_ptr());
    }
}
