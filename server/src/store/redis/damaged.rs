//! Job records this replica could not read: a hash another program wrote under the
//! project's keys, with a field missing or garbled, or a key of another type. Such a record
//! is that one job's problem: it reads as no job (`404`, or `missing` in a watch) and every
//! other job is answered. Each is logged once, not on every poll that names it.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::store::JobId;

/// How many damaged ids are remembered as logged; past that the set starts again, so a
/// flood of garbage costs bounded memory and, at worst, a log line again per id.
const REMEMBERED: usize = 1_024;

/// The damaged records already logged.
#[derive(Debug, Default)]
pub struct DamagedRecords {
    logged: Mutex<HashSet<JobId>>,
}

impl DamagedRecords {
    /// Logs that job `id`'s record is unreadable for `reason`, unless it was logged before.
    pub fn report(&self, id: JobId, reason: &str) {
        let mut logged = self
            .logged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if logged.len() >= REMEMBERED {
            logged.clear();
        }
        if logged.insert(id) {
            tracing::warn!(job = %id, reason, "a job's record in Redis is unreadable; it answers as no job");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_remembered_once_and_the_set_stays_bounded() {
        let damaged = DamagedRecords::default();
        let id = |n: u32| JobId::parse(&format!("{n:032x}")).unwrap();
        damaged.report(id(1), "garbled");
        damaged.report(id(1), "garbled");
        assert_eq!(damaged.logged.lock().unwrap().len(), 1);
        for n in 0..3 * REMEMBERED as u32 {
            damaged.report(id(n), "garbled");
        }
        assert!(damaged.logged.lock().unwrap().len() <= REMEMBERED);
    }
}
