//! Job ids: what callers name jobs by, and the key the store files them under.

use std::hash::Hasher;

use video_translation_protocol::DEFAULT_JOB_ID;

/// A job id: 128 random bits as 32 lowercase hex digits, so ids cannot be guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u128);

/// Which job: the default one behind `GET /status`, or one created by `POST /jobs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKey {
    /// The job behind `GET /status`.
    Default,
    /// A job created by `POST /jobs`.
    Created(JobId),
}

impl JobId {
    /// A new id, from the OS-seeded CSPRNG.
    pub fn random() -> Self {
        JobId(rand::random())
    }

    /// Parses the 32-hex-digit form (either case); anything else is no id of ours.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.as_bytes();
        if digits.len() != 32 {
            return None;
        }
        // Once per poll: a plain fold is a fraction of `from_str_radix`'s cost.
        digits
            .iter()
            .try_fold(0u128, |bits, &digit| {
                Some(bits << 4 | u128::from(hex_digit_value(digit)?))
            })
            .map(JobId)
    }
}

fn hex_digit_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl JobKey {
    /// The id as callers see it: the default job's fixed name, or 32 hex digits.
    pub fn id_text(&self) -> String {
        match self {
            JobKey::Default => DEFAULT_JOB_ID.to_owned(),
            JobKey::Created(id) => id.to_hex(),
        }
    }
}

impl JobId {
    /// The 32 lowercase hex digits. By hand rather than `format!("{:032x}")`: every status
    /// answer carries its id, and the formatting machinery cost more than the lookup.
    pub fn to_hex(self) -> String {
        const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 32];
        for (half, bits) in [(self.0 >> 64) as u64, self.0 as u64]
            .into_iter()
            .enumerate()
        {
            for (i, digit) in digits[16 * half..16 * (half + 1)].iter_mut().enumerate() {
                *digit = HEX_DIGITS[(bits >> (60 - 4 * i)) as usize & 0xf];
            }
        }
        // Hex digits are ASCII, so this never falls back to the empty default.
        std::str::from_utf8(&digits).unwrap_or_default().to_owned()
    }
}

impl std::fmt::Display for JobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id_text())
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Hashes a [`JobId`] by folding its bits. Ids are 128 bits from a CSPRNG, chosen by the
/// server and never by callers, so they are already as evenly spread as a hash would make
/// them, and nobody can pick ids that collide; SipHash, the default, only cost time on every
/// lookup (the status endpoint's hot path).
#[derive(Debug, Default)]
pub struct RandomIdHasher(u64);

impl Hasher for RandomIdHasher {
    fn write_u128(&mut self, bits: u128) {
        self.0 ^= (bits as u64) ^ ((bits >> 64) as u64);
    }

    /// Only for completeness: `JobId` hashes through `write_u128`. Folds in 8 bytes at a time.
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, BuildHasherDefault, Hash};

    use super::*;

    #[test]
    fn job_ids_are_32_hex_digits_and_round_trip() {
        let id = JobId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(JobId::parse(&text), Some(id));
        for n in [0, 0xabc, 1 << 127, u128::MAX, id.0] {
            assert_eq!(JobId(n).to_hex(), format!("{n:032x}"));
            assert_eq!(JobId::parse(&format!("{n:032X}")), Some(JobId(n)));
        }
    }

    #[test]
    fn malformed_ids_do_not_parse() {
        for bad in [
            "",
            "default",
            "xyz",
            &"g".repeat(32),
            &"a".repeat(31),
            &"a".repeat(33),
            "+0000000000000000000000000000000",
            "000000000000000000000000000000é", // 32 bytes
            "0000000000000000000000000000000g",
            "0000000000000000000000000000000 ",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_id_hashes_to_the_fold_of_its_random_bits() {
        let hash = |id: JobId| BuildHasherDefault::<RandomIdHasher>::default().hash_one(id);
        let bits: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        assert_eq!(
            hash(JobId(bits)),
            0x0123_4567_89ab_cdef ^ 0xfedc_ba98_7654_3210
        );
        assert_ne!(hash(JobId(1)), hash(JobId(2)));
        let mut bytes = RandomIdHasher::default();
        b"not an id".hash(&mut bytes);
        assert_ne!(bytes.finish(), 0, "other keys still hash");
    }
}
