//! Fixed, platform-independent hashing for the search tables.
//!
//! The checker must give the same answer, after the same number of steps, on every platform and in
//! wasm. The standard library's `RandomState` is seeded from OS entropy, so the tables use a
//! fixed hash instead: [`WordHasher`] consumes input eight bytes at a time (little-endian, with
//! a length-tagged final word), multiplying and rotating after each word, and [`stable_hash`]
//! finishes with the SplitMix64 mixer. Integers are written little-endian and `usize` is widened
//! to 64 bits, so 32-bit wasm and 64-bit native agree. Hash values only decide where an entry
//! lives in a table; every hit is confirmed with a full equality check, so a collision costs
//! time, never correctness.

use std::hash::{Hash, Hasher};

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// A fixed multiply-rotate hash over 64-bit words.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher(SEED)
    }
}

impl WordHasher {
    fn mix_word(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(MULTIPLIER).rotate_left(29);
    }
}

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix_word(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // Tag the length so that "a" and "a\0" differ.
            self.mix_word(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.mix_word(u64::from(n) | (1 << 59));
    }

    fn write_u16(&mut self, n: u16) {
        self.mix_word(u64::from(n) | (2 << 59));
    }

    fn write_u32(&mut self, n: u32) {
        self.mix_word(u64::from(n) | (4 << 59));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix_word(n);
    }

    fn write_u128(&mut self, n: u128) {
        self.write(&n.to_le_bytes());
    }

    fn write_usize(&mut self, n: usize) {
        // Widen so that 32-bit wasm and 64-bit native hash identically.
        self.write_u64(n as u64);
    }
}

/// Hashes any `Hash` value with [`WordHasher`] and a final mix.
pub(crate) fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = WordHasher::default();
    value.hash(&mut h);
    mix64(h.finish())
}

/// The SplitMix64 finalizer: spreads the bits of `x` so that nearby inputs land far apart.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLDEN: [u64; 5] = [
        1550827350438701029,
        9079976019515312786,
        15863461929710439821,
        15499090622846914352,
        6238072747940578789,
    ];

    #[test]
    fn hashes_are_golden_on_every_platform() {
        // Golden values: if these change, results (step counts, witnesses) may change too.
        assert_eq!(stable_hash(""), GOLDEN[0]);
        assert_eq!(stable_hash("a"), GOLDEN[1]);
        assert_eq!(stable_hash("foobar and some more bytes"), GOLDEN[2]);
        assert_eq!(stable_hash(&Some(7u64)), GOLDEN[3]);
        assert_eq!(mix64(1), GOLDEN[4]);
    }

    #[test]
    fn nearby_strings_hash_apart() {
        assert_ne!(stable_hash("a"), stable_hash("a\0"));
        assert_ne!(stable_hash("x 1 y"), stable_hash("x 1 yx 2 y"));
    }

    #[test]
    fn stable_hash_is_the_same_for_usize_and_u64() {
        let mut a = WordHasher::default();
        a.write_usize(7);
        let mut b = WordHasher::default();
        b.write_u64(7);
        assert_eq!(a.finish(), b.finish());
    }
}
