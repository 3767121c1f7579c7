//! The sequential specifications shipped with the checker.
//!
//! - [`kv`]: the playground's key-value store (`get`, `set`, `contains`, `remove`), per key.
//! - [`register`]: a single read/write/compare-and-set register (Jepsen's etcd test, Knossos).
//! - [`kv_append`]: Porcupine's `get`/`put`/`append` store, per key; a missing key reads `""`.

pub mod kv;
pub mod kv_append;
pub mod register;

/// Renders a string value the way the explanations show it: quoted, with escapes.
pub(crate) fn quote(s: &str) -> String {
    format!("{s:?}")
}
