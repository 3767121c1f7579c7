//! Fixed, platform-independent hashing for the search cache.
//!
//! The checker must give the same answer, after the same number of steps, on every platform and in
//! wasm. The standard library's `RandomState` is seeded from OS entropy, so the cache uses FNV-1a
//! with a 64-bit state instead, and writes every integer in little-endian order with `usize`
//! widened to 64 bits. Hash values only decide where an entry lives in a table; every hit is
//! confirmed with a full equality check, so a collision costs time, never correctness.

use std::hash::{Hash, Hasher};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bit, with little-endian integer encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(FNV_OFFSET)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, n: u8) {
        self.write(&[n]);
    }

    fn write_u16(&mut self, n: u16) {
        self.write(&n.to_le_bytes());
    }

    fn write_u32(&mut self, n: u32) {
        self.write(&n.to_le_bytes());
    }

    fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }

    fn write_u128(&mut self, n: u128) {
        self.write(&n.to_le_bytes());
    }

    fn write_usize(&mut self, n: usize) {
        // Widen so that 32-bit wasm and 64-bit native hash identically.
        self.write_u64(n as u64);
    }
}

/// Hashes any `Hash` value with [`Fnv64`].
pub(crate) fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = Fnv64::default();
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

    #[test]
    fn fnv_matches_published_vectors() {
        // FNV-1a 64 test vectors from the reference implementation.
        let mut h = Fnv64::default();
        h.write(b"");
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv64::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv64::default();
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn stable_hash_is_the_same_for_usize_and_u64() {
        let mut a = Fnv64::default();
        a.write_usize(7);
        let mut b = Fnv64::default();
        b.write_u64(7);
        assert_eq!(a.finish(), b.finish());
    }
}
