//! The key-value state machine of the story.
//!
//! One node holds a table of string keys to string values and offers four operations:
//! `get(k)`, `set(k, v)`, `contains(k)` and `remove(k)`. Replication never copies the table;
//! it copies the *commands*, because the same initial state, the same code and the same order
//! of commands give the same state on every replica. [`StateMachine::digest`] is how the
//! simulator checks that claim after every event.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An operation a client asks of the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "KvOpFields")]
pub enum KvOp {
    Get { key: String },
    Set { key: String, value: String },
    Contains { key: String },
    Remove { key: String },
}

impl KvOp {
    /// The key this operation touches: histories are checked one key at a time.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key }
            | KvOp::Set { key, .. }
            | KvOp::Contains { key }
            | KvOp::Remove { key } => key,
        }
    }

    /// Whether the operation leaves the table unchanged.
    pub fn is_read(&self) -> bool {
        matches!(self, KvOp::Get { .. } | KvOp::Contains { .. })
    }
}

/// A [`KvOp`] as it is read: `{"op": "set", "key": "k", "value": "v"}`, the JSON the derived
/// internally tagged decoding reads, without its buffering of the object into an intermediate
/// tree (which costs the page's wasm a second copy of the decoders). Like that decoding, it
/// ignores fields an operation does not take (a `value` on a `get`); scenario files and share
/// links refuse them with their unknown-field check.
#[derive(Deserialize)]
struct KvOpFields {
    op: OpName,
    key: String,
    value: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OpName {
    Get,
    Set,
    Contains,
    Remove,
}

impl TryFrom<KvOpFields> for KvOp {
    type Error = &'static str;

    fn try_from(f: KvOpFields) -> Result<KvOp, &'static str> {
        let key = f.key;
        Ok(match f.op {
            OpName::Set => KvOp::Set {
                key,
                value: f.value.ok_or("set needs the field `value`")?,
            },
            OpName::Get => KvOp::Get { key },
            OpName::Contains => KvOp::Contains { key },
            OpName::Remove => KvOp::Remove { key },
        })
    }
}

impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOp::Get { key } => write!(f, "get({key})"),
            KvOp::Set { key, value } => write!(f, "set({key}, {value})"),
            KvOp::Contains { key } => write!(f, "contains({key})"),
            KvOp::Remove { key } => write!(f, "remove({key})"),
        }
    }
}

/// What the store answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KvResult {
    /// `get`: the value, or `None` when the key is absent.
    Value { value: Option<String> },
    /// `set`: done.
    Done,
    /// `contains`: whether the key is present.
    Present { present: bool },
    /// `remove`: whether the key existed before the call.
    Removed { existed: bool },
}

impl fmt::Display for KvResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvResult::Value { value: Some(v) } => write!(f, "{v}"),
            KvResult::Value { value: None } => write!(f, "none"),
            KvResult::Done => write!(f, "ok"),
            KvResult::Present { present } => write!(f, "{present}"),
            KvResult::Removed { existed } => write!(f, "{existed}"),
        }
    }
}

/// A deterministic state machine that replicas apply commands to, in log order.
pub trait StateMachine: Clone + fmt::Debug {
    type Op;
    type Result;

    /// Applies one command and returns the client's answer.
    fn apply(&mut self, op: &Self::Op) -> Self::Result;

    /// Answers a read without changing the state (used by the read modes that bypass the log).
    fn read(&self, op: &Self::Op) -> Option<Self::Result>;

    /// A copy of the whole state, to be installed elsewhere with [`StateMachine::restore`].
    fn snapshot(&self) -> Self;

    /// Replaces this state with a snapshot.
    fn restore(&mut self, snapshot: &Self);

    /// A 64-bit fingerprint of the state, equal on two replicas exactly when their states are.
    fn digest(&self) -> u64;
}

/// The story's hash table, kept ordered so that iteration (for digests and for drawing) is
/// deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    table: BTreeMap<String, String>,
}

impl KvStore {
    /// An empty store: the same initial state on every replica.
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// The entries in key order, for drawing.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.table.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.table.get(key).map(String::as_str)
    }

    /// The number of keys present.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

impl StateMachine for KvStore {
    type Op = KvOp;
    type Result = KvResult;

    fn apply(&mut self, op: &KvOp) -> KvResult {
        match op {
            KvOp::Set { key, value } => {
                self.table.insert(key.clone(), value.clone());
                KvResult::Done
            }
            KvOp::Remove { key } => KvResult::Removed {
                existed: self.table.remove(key).is_some(),
            },
            KvOp::Get { .. } | KvOp::Contains { .. } => {
                self.read(op).expect("a read always has an answer")
            }
        }
    }

    fn read(&self, op: &KvOp) -> Option<KvResult> {
        match op {
            KvOp::Get { key } => Some(KvResult::Value {
                value: self.table.get(key).cloned(),
            }),
            KvOp::Contains { key } => Some(KvResult::Present {
                present: self.table.contains_key(key),
            }),
            KvOp::Set { .. } | KvOp::Remove { .. } => None,
        }
    }

    fn snapshot(&self) -> KvStore {
        self.clone()
    }

    fn restore(&mut self, snapshot: &KvStore) {
        self.clone_from(snapshot);
    }

    fn digest(&self) -> u64 {
        let mut h = Fnv64::new();
        for (k, v) in &self.table {
            h.write_str(k);
            h.write_str(v);
        }
        h.finish()
    }
}

/// FNV-1a, 64 bit: tiny, fixed forever, and identical on every platform, unlike the standard
/// library's `DefaultHasher`, whose algorithm may change between Rust releases.
#[derive(Clone, Copy, Debug)]
pub struct Fnv64(u64);

impl Fnv64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// A fresh hasher.
    #[inline]
    pub fn new() -> Fnv64 {
        Fnv64(Self::OFFSET)
    }

    /// Continues from a previous value (for rolling hashes).
    #[inline]
    pub fn resume(value: u64) -> Fnv64 {
        Fnv64(value)
    }

    /// Mixes in raw bytes.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Mixes in a length-prefixed string, so that ("ab", "c") and ("a", "bc") differ.
    #[inline]
    pub fn write_str(&mut self, s: &str) {
        self.write_u64(s.len() as u64);
        self.write(s.as_bytes());
    }

    /// Mixes in a number, little-endian.
    #[inline]
    pub fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }

    /// The hash so far.
    #[inline]
    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

/// For `#[derive(Hash)]` types: the same bytes in, the same FNV-1a out (the derive's byte
/// layout is the standard library's, stable within one build; nothing persists these).
impl std::hash::Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        Fnv64::write(self, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_as_a_hasher_is_the_same_fnv() {
        use std::hash::{Hash, Hasher};
        let mut direct = Fnv64::new();
        direct.write(b"abc");
        let mut via = Fnv64::new();
        Hasher::write(&mut via, b"abc");
        assert_eq!(Hasher::finish(&via), direct.finish());
        // Derived hashes tell operations apart.
        let hash = |op: &KvOp| {
            let mut h = Fnv64::new();
            op.hash(&mut h);
            Hasher::finish(&h)
        };
        assert_ne!(hash(&set("a", "bc")), hash(&set("ab", "c")));
        assert_eq!(hash(&set("a", "b")), hash(&set("a", "b")));
    }

    fn set(k: &str, v: &str) -> KvOp {
        KvOp::Set {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn ops_read_back_what_they_write_and_name_a_missing_value() {
        let ops = [
            KvOp::Get { key: "k".into() },
            set("k", "v"),
            KvOp::Contains { key: "k".into() },
            KvOp::Remove { key: "k".into() },
        ];
        for op in ops {
            let text = serde_json::to_string(&op).expect("json");
            assert_eq!(serde_json::from_str::<KvOp>(&text).expect(&text), op);
        }
        assert_eq!(
            serde_json::to_string(&set("k", "v")).expect("json"),
            r#"{"op":"set","key":"k","value":"v"}"#
        );
        let err = |text: &str| serde_json::from_str::<KvOp>(text).unwrap_err().to_string();
        assert!(err(r#"{"op":"set","key":"k"}"#).starts_with("set needs the field `value`"));
        assert_eq!(
            serde_json::from_str::<KvOp>(r#"{"op":"get","key":"k","value":"v"}"#).expect("get"),
            KvOp::Get { key: "k".into() },
            "a field the operation does not take is ignored, as before"
        );
        assert!(err(r#"{"op":"get"}"#).starts_with("missing field `key`"));
        assert!(err(r#"{"op":"put","key":"k"}"#).starts_with("unknown variant `put`"));
    }

    #[test]
    fn remove_reports_whether_the_key_existed() {
        let mut s = KvStore::new();
        let rm = KvOp::Remove { key: "k".into() };
        assert_eq!(s.apply(&rm), KvResult::Removed { existed: false });
        s.apply(&set("k", "v"));
        assert_eq!(s.apply(&rm), KvResult::Removed { existed: true });
        assert!(s.is_empty());
    }

    #[test]
    fn get_and_contains_read_what_set_wrote() {
        let mut s = KvStore::new();
        let get = KvOp::Get { key: "k".into() };
        let contains = KvOp::Contains { key: "k".into() };
        assert_eq!(s.apply(&get), KvResult::Value { value: None });
        assert_eq!(s.apply(&contains), KvResult::Present { present: false });
        s.apply(&set("k", "1"));
        assert_eq!(
            s.apply(&get),
            KvResult::Value {
                value: Some("1".into())
            }
        );
        assert_eq!(s.read(&contains), Some(KvResult::Present { present: true }));
        assert_eq!(s.read(&set("k", "2")), None);
    }

    #[test]
    fn same_commands_in_same_order_give_same_digest_and_other_orders_differ() {
        let ops = [set("a", "1"), set("a", "2"), set("b", "3")];
        let mut x = KvStore::new();
        let mut y = KvStore::new();
        for op in &ops {
            x.apply(op);
            y.apply(op);
        }
        assert_eq!(x.digest(), y.digest());
        let mut z = KvStore::new();
        for op in [&ops[1], &ops[0], &ops[2]] {
            z.apply(op);
        }
        assert_ne!(x.digest(), z.digest(), "order matters for the final state");
    }

    #[test]
    fn digest_is_fixed_forever() {
        // Golden value: if this changes, every recorded trace hash changes too.
        let mut s = KvStore::new();
        s.apply(&set("k1", "v1"));
        assert_eq!(s.digest(), 11_047_367_804_797_938_864);
    }

    #[test]
    fn snapshot_restore_round_trips() {
        let mut s = KvStore::new();
        s.apply(&set("a", "1"));
        let snap = s.snapshot();
        let mut t = KvStore::new();
        t.restore(&snap);
        assert_eq!(s, t);
        assert_eq!(s.digest(), t.digest());
    }
}
