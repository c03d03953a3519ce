//! What the server tells us about timing, and what it implies for the next poll.

use std::time::Duration;

use video_translation_protocol::WAIT_PREFERENCE;

use crate::millis::millis_duration;

/// The timing hints of one status answer. Every field is optional: the seeds' plain server
/// sends none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatusHints {
    /// `eta_ms`: the server's estimate of the time left.
    pub eta: Option<Duration>,
    /// `progress`, 0 to 1: with `eta` it tells the estimate of the whole job.
    pub progress: Option<f64>,
    /// `Retry-After` on a pending answer: when the server suggests asking again.
    pub retry_after: Option<Duration>,
    /// `Preference-Applied: wait=…`: the server honoured the asked wait (it long-polls).
    pub long_polled: bool,
}

impl StatusHints {
    /// No hints at all.
    pub const NONE: StatusHints = StatusHints {
        eta: None,
        progress: None,
        retry_after: None,
        long_polled: false,
    };

    /// How long until the job may *first* plausibly end, if the server says anything.
    ///
    /// An estimate can be wrong by a fraction (`tolerance`) of the whole job, not of what is
    /// left: a 10-minute job estimated 20 % long ends 2 minutes early whatever its progress.
    /// The whole is `eta / (1 − progress)`; the earliest end is `eta − tolerance × whole`.
    /// Without an ETA, `Retry-After` is taken as the server's word, exactly.
    pub fn earliest_end(&self, tolerance: f64) -> Option<Duration> {
        let Some(eta) = self.eta else {
            return self.retry_after;
        };
        let progress = self
            .progress
            .filter(|p| (0.0..1.0).contains(p))
            .unwrap_or(0.0);
        let whole = eta.as_secs_f64() / (1.0 - progress);
        let earliest = eta.as_secs_f64() - tolerance * whole;
        Some(millis_duration(earliest * 1000.0))
    }
}

/// Whether a `Preference-Applied` header (RFC 7240) names the `wait` preference: the server
/// held the request. Only its presence matters to the poller, not the number.
pub fn applies_wait(preference_applied: &str) -> bool {
    // By bytes rather than `split`: the same result in a fraction of the wasm code.
    let bytes = preference_applied.as_bytes();
    let mut name_start = Some(0);
    for (at, byte) in bytes.iter().enumerate() {
        match byte {
            b',' => name_start = Some(at + 1),
            b'=' => {
                if let Some(start) = name_start.take() {
                    if bytes[start..at]
                        .trim_ascii()
                        .eq_ignore_ascii_case(WAIT_PREFERENCE.as_bytes())
                    {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Parses a `Retry-After` header given in seconds (RFC 9110 §10.2.3). The HTTP-date form
/// is not used by status APIs and reads as no hint, as does anything malformed.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    // Header whitespace is ASCII (RFC 9110's OWS); Unicode's `trim` would bring its tables.
    let value = value.trim_ascii();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Saturate absurd values; the poller clamps them to its own bounds anyway.
    Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn hints(eta: Option<f64>, progress: Option<f64>, retry_after: Option<u64>) -> StatusHints {
        StatusHints {
            eta: eta.map(secs),
            progress,
            retry_after: retry_after.map(Duration::from_secs),
            long_polled: false,
        }
    }

    fn close(a: Option<Duration>, b: f64) -> bool {
        a.is_some_and(|a| (a.as_secs_f64() - b).abs() < 1e-6)
    }

    #[test]
    fn at_the_start_the_earliest_end_is_the_eta_less_the_tolerance() {
        assert!(close(
            hints(Some(600.0), Some(0.0), None).earliest_end(0.25),
            450.0
        ));
    }

    #[test]
    fn the_tolerance_is_a_fraction_of_the_whole_job_not_of_what_is_left() {
        // Half done with 300 s left: a 600 s job, which may end 150 s early.
        assert!(close(
            hints(Some(300.0), Some(0.5), None).earliest_end(0.25),
            150.0
        ));
        // Three quarters done: it may already be over.
        assert!(close(
            hints(Some(150.0), Some(0.75), None).earliest_end(0.25),
            0.0
        ));
    }

    #[test]
    fn without_progress_the_eta_is_taken_as_the_whole_job() {
        assert!(close(
            hints(Some(100.0), None, None).earliest_end(0.25),
            75.0
        ));
        assert!(close(
            hints(Some(100.0), Some(f64::NAN), None).earliest_end(0.25),
            75.0
        ));
    }

    #[test]
    fn a_zero_tolerance_trusts_the_eta() {
        assert!(close(
            hints(Some(42.0), Some(0.3), None).earliest_end(0.0),
            42.0
        ));
    }

    #[test]
    fn retry_after_stands_in_for_a_missing_eta_and_an_eta_wins_over_it() {
        assert_eq!(
            hints(None, None, Some(20)).earliest_end(0.25),
            Some(Duration::from_secs(20))
        );
        assert!(close(
            hints(Some(8.0), None, Some(20)).earliest_end(0.25),
            6.0
        ));
        assert_eq!(StatusHints::NONE.earliest_end(0.25), None);
    }

    #[test]
    fn whole_seconds_of_retry_after_are_read() {
        assert_eq!(parse_retry_after("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
    }

    #[test]
    fn huge_retry_after_values_saturate_instead_of_failing() {
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn malformed_retry_after_values_are_no_hint() {
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "5s",
        ] {
            assert_eq!(parse_retry_after(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_wait_preference_applied_means_the_server_long_polled() {
        for applied in ["wait=30", "wait=0.5", " Wait = 10", "respond-async, wait=5"] {
            assert!(applies_wait(applied), "{applied:?}");
        }
        for other in ["", "return=minimal", "waiting=5", "respond-async"] {
            assert!(!applies_wait(other), "{other:?}");
        }
    }
}
