//! Messages built without `core::fmt`: `text!("HTTP ", status, ": ", message)`.
//!
//! `format!` pulls Rust's formatting machinery into the wasm module (`Formatter`, padding,
//! `Display` for every integer type: about 3 KB of the gzipped package with its call sites,
//! `make bench`), for messages that only ever join strings and whole numbers. Pieces are
//! strings and unsigned integers; numbers from JS go through `number_text` first.

/// Something a message is made of.
pub trait Piece {
    /// Appends it to `text`.
    fn push_to(&self, text: &mut String);
}

impl Piece for str {
    fn push_to(&self, text: &mut String) {
        text.push_str(self);
    }
}

impl Piece for u64 {
    fn push_to(&self, text: &mut String) {
        // Digits from the right; u64::MAX has 20.
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = *self;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        digits[at..]
            .iter()
            .for_each(|&digit| text.push(char::from(digit)));
    }
}

impl Piece for u32 {
    fn push_to(&self, text: &mut String) {
        u64::from(*self).push_to(text);
    }
}

impl Piece for u16 {
    fn push_to(&self, text: &mut String) {
        u64::from(*self).push_to(text);
    }
}

/// Joins strings and whole numbers into a `String`, without `core::fmt`.
macro_rules! text {
    ($($piece:expr),* $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::text::Piece as _;
        let mut text = String::new();
        $( ($piece).push_to(&mut text); )*
        text
    }};
}
pub(crate) use text;

#[cfg(test)]
mod tests {
    // The same tests run natively (`cargo test`) and in the browser (`wasm-pack test`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn joins_strings_and_whole_numbers() {
        let message = String::from("busy");
        assert_eq!(text!("HTTP ", 503u16, ": ", message), "HTTP 503: busy");
        assert_eq!(
            text!(0u32, " ", 7u64, " ", u64::MAX),
            "0 7 18446744073709551615"
        );
        assert_eq!(text!(1_000_000u32), "1000000");
    }
}
