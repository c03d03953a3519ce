//! Randomness from rand, whose system generator is getrandom's wasm backend
//! (`crypto.getRandomValues`, in every environment we support).

use rand::rngs::{SmallRng, SysRng};
use rand::{RngExt, SeedableRng, TryRng};

/// A generator of jitter seeds for one client: seeded once from the system generator, so
/// that two pages never share a schedule, then cheap for each wait.
pub fn seeds() -> SmallRng {
    let mut seed = [0u8; 8];
    // Without a system generator (no environment we support lacks one) the waits still
    // differ by their seeds' order; only pages could share a schedule.
    let _ = SysRng.try_fill_bytes(&mut seed);
    SmallRng::seed_from_u64(u64::from_le_bytes(seed))
}

/// A seed for one wait's jitter.
pub fn next_seed(seeds: &mut SmallRng) -> u64 {
    seeds.random()
}

/// A new `Idempotency-Key`: 128 bits from the system generator, in hex, so that two
/// clients never send the same key for different jobs.
pub fn idempotency_key() -> Result<String, String> {
    let mut key = [0u8; 16];
    SysRng
        .try_fill_bytes(&mut key)
        .map_err(|error| format!("no random numbers for an Idempotency-Key: {error}"))?;
    Ok(key.iter().map(|byte| format!("{byte:02x}")).collect())
}
