//! Milliseconds, as JS states times, to and from [`Duration`], and numbers from JS in
//! messages.
//!
//! The conversions never panic: `Duration::from_secs_f64` panics on a negative, NaN or
//! huge input, and these inputs come from callers and servers.

use std::fmt;
use std::time::Duration;

/// A duration in whole milliseconds, saturating (`Duration::MAX` is `u64::MAX` ms).
pub fn whole_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds (a JS number, or f64 arithmetic) as a duration, to the microsecond: negative
/// and NaN read as zero, and huge values saturate (the `as` cast).
pub fn millis_duration(ms: f64) -> Duration {
    Duration::from_micros((ms * 1000.0).round() as u64)
}

/// A number from JS as JS writes it in a message: `Infinity` and `NaN` rather than Rust's
/// `inf` and `NaN`, so an error names the value the caller passed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsNumber(pub f64);

impl fmt::Display for JsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            n if n == f64::INFINITY => f.write_str("Infinity"),
            n if n == f64::NEG_INFINITY => f.write_str("-Infinity"),
            n => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn whole_millis_truncates_and_saturates() {
        assert_eq!(whole_millis(Duration::from_micros(1_999)), 1);
        assert_eq!(whole_millis(Duration::from_secs(90)), 90_000);
        assert_eq!(whole_millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn millis_from_js_never_panic() {
        assert_eq!(millis_duration(1.5), Duration::from_micros(1_500));
        assert_eq!(millis_duration(-5.0), Duration::ZERO);
        assert_eq!(millis_duration(f64::NAN), Duration::ZERO);
        assert!(millis_duration(f64::INFINITY) > Duration::from_secs(1 << 40));
    }

    #[test]
    fn numbers_are_written_as_js_writes_them() {
        assert_eq!(JsNumber(1.5).to_string(), "1.5");
        assert_eq!(JsNumber(15_000.0).to_string(), "15000");
        assert_eq!(JsNumber(f64::INFINITY).to_string(), "Infinity");
        assert_eq!(JsNumber(f64::NEG_INFINITY).to_string(), "-Infinity");
        assert_eq!(JsNumber(f64::NAN).to_string(), "NaN");
    }
}
