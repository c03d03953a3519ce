//! Numbers in messages and timers, written without Rust's float formatting or u128
//! arithmetic.
//!
//! `f64`'s `Display` pulls about 20 KB of formatting code and tables into the wasm module,
//! for error messages alone. This writes what a person needs to see (up to six decimals,
//! spelled as JS spells `Infinity` and `NaN`, since the values come from JS) with integer
//! arithmetic only.

use crate::text::text;

/// A duration in whole milliseconds, saturating. Not `as_millis()`: its u128 arithmetic,
/// and formatting a u128, add their own code to the wasm module.
pub fn whole_millis(duration: std::time::Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(duration.subsec_millis()))
}

/// Milliseconds (a JS number, or f64 arithmetic) as a duration, to the microsecond: negative
/// and NaN read as zero, and huge values saturate (the `as` cast), where `from_secs_f64`
/// would check and panic.
pub fn millis_duration(ms: f64) -> std::time::Duration {
    std::time::Duration::from_micros((ms * 1000.0).round() as u64)
}

/// `1.5` → `"1.5"`, `-2.0` → `"-2"`, `0.1234567` → `"0.123457"`, `f64::INFINITY` →
/// `"Infinity"`; magnitudes of 10^15 and above are written as a power of ten (`"~1e21"`).
pub fn number_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let magnitude = value.abs();
    if magnitude.is_infinite() {
        return text!(sign, "Infinity");
    }
    if magnitude >= 1e15 {
        let mut exponent = 15u32;
        let mut scaled = magnitude / 1e15;
        while scaled >= 10.0 {
            scaled /= 10.0;
            exponent += 1;
        }
        return text!(sign, "~1e", exponent);
    }
    // Below 10^15 both parts fit a u64 exactly enough for six decimals.
    let mut whole = magnitude.trunc() as u64;
    let mut millionths = ((magnitude - magnitude.trunc()) * 1e6).round() as u64;
    if millionths == 1_000_000 {
        whole += 1;
        millionths = 0;
    }
    let sign = if whole == 0 && millionths == 0 {
        ""
    } else {
        sign
    };
    if millionths == 0 {
        return text!(sign, whole);
    }
    // Six digits with leading zeros: 1,000,000 more has seven, and the first is dropped,
    // as are the zeros after the last other digit (bytes: they are all ASCII digits).
    let decimals = text!(millionths + 1_000_000);
    let last = decimals
        .bytes()
        .rposition(|digit| digit != b'0')
        .unwrap_or(0);
    text!(sign, whole, ".", decimals.get(1..=last).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use std::time::Duration;

    use super::{number_text, whole_millis};

    #[test]
    fn whole_millis_truncates_and_saturates() {
        assert_eq!(whole_millis(Duration::from_micros(1_999)), 1);
        assert_eq!(whole_millis(Duration::from_secs(90)), 90_000);
        assert_eq!(whole_millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn whole_numbers_have_no_decimals() {
        assert_eq!(number_text(0.0), "0");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(15_000.0), "15000");
        assert_eq!(number_text(-2.0), "-2");
        assert_eq!(number_text(999_999_999_999_999.0), "999999999999999");
    }

    #[test]
    fn fractions_keep_up_to_six_decimals_without_trailing_zeros() {
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(0.25), "0.25");
        assert_eq!(number_text(-0.2), "-0.2");
        assert_eq!(number_text(0.1234567), "0.123457");
        assert_eq!(number_text(2.9999999), "3");
        assert_eq!(number_text(-0.0000001), "0");
    }

    #[test]
    fn non_finite_and_huge_values_are_spelled_out() {
        assert_eq!(number_text(f64::NAN), "NaN");
        assert_eq!(number_text(f64::INFINITY), "Infinity");
        assert_eq!(number_text(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number_text(1e21), "~1e21");
        assert_eq!(number_text(-3e300), "-~1e300");
    }
}
