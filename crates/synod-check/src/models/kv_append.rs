//! Porcupine's key-value store with `get`, `put` and `append`.
//!
//! A missing key reads as the empty string; `put` replaces the value and `append` concatenates.
//! Keys are independent, so the model partitions by key and its state is one key's value.
//!
//! Values only grow under `append`, and the search keeps every distinct state it reaches, so a
//! state that copied its whole value on each append would cost time and memory in the value's
//! length. [`AppendState`] is instead a persistent list of appended pieces that shares its prefix
//! with the state it grew from, with its length and a polynomial hash of its text kept up to date.
//! An append allocates one small node; comparing two states walks back from their ends and stops
//! as soon as both reach the same shared node.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::quote;
use crate::history::Operation;
use crate::model::{partition_by_key, Model, Partition, Step};

/// A request to the append store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AppendInput {
    /// Read a key.
    Get { key: String },
    /// Replace a key's value.
    Put { key: String, value: String },
    /// Append to a key's value.
    Append { key: String, value: String },
}

impl AppendInput {
    /// The key the request touches.
    pub fn key(&self) -> &str {
        match self {
            AppendInput::Get { key }
            | AppendInput::Put { key, .. }
            | AppendInput::Append { key, .. } => key,
        }
    }
}

/// An answer from the append store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppendOutput {
    /// `get`: the value (`""` when missing).
    Value { value: String },
    /// `put` and `append`: done.
    Done,
}

/// The get/put/append model. The state is one key's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvAppendModel;

/// One key's value: the pieces appended since the last `put` (or since the start), newest first,
/// each node shared with the states that grew from it.
#[derive(Clone, Debug, Default)]
pub struct AppendState {
    last: Option<Rc<Piece>>,
    /// The length of the text in bytes.
    len: usize,
    /// The polynomial hash of the text (see [`AppendState::fold`]): a function of the text
    /// alone, so equal texts have equal hashes however they were built.
    hash: u64,
}

/// One appended piece and the value before it.
#[derive(Debug)]
struct Piece {
    text: PieceText,
    before: Option<Rc<Piece>>,
}

/// How many bytes a piece keeps inside its node rather than in an allocation of their own.
const INLINE: usize = 30;

/// A piece's bytes: short ones (most appended values) inline, so an append allocates once.
#[derive(Debug)]
enum PieceText {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl PieceText {
    fn new(text: &str) -> Self {
        let b = text.as_bytes();
        match u8::try_from(b.len()) {
            Ok(len) if b.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..b.len()].copy_from_slice(b);
                PieceText::Inline { len, bytes }
            }
            _ => PieceText::Heap(b.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            PieceText::Inline { len, bytes } => &bytes[..usize::from(*len)],
            PieceText::Heap(b) => b,
        }
    }

    fn len(&self) -> usize {
        self.as_bytes().len()
    }
}

impl Drop for Piece {
    /// Unlinks a long chain node by node, instead of recursing once per piece.
    fn drop(&mut self) {
        let mut next = self.before.take();
        while let Some(rc) = next {
            match Rc::try_unwrap(rc) {
                Ok(mut piece) => next = piece.before.take(),
                Err(_) => break,
            }
        }
    }
}

/// The base of the polynomial hash: odd, so multiplying by it loses no bits.
const BASE: u64 = 0x100_0000_01b3;

impl AppendState {
    /// A state holding `text`.
    pub fn new(text: &str) -> Self {
        if text.is_empty() {
            AppendState::default()
        } else {
            AppendState::default().appended(text)
        }
    }

    /// The value, assembled from its pieces.
    pub fn text(&self) -> String {
        let mut pieces = Vec::new();
        let mut at = self.last.as_deref();
        while let Some(piece) = at {
            pieces.push(piece.text.as_bytes());
            at = piece.before.as_deref();
        }
        let mut bytes = Vec::with_capacity(self.len);
        for piece in pieces.iter().rev() {
            bytes.extend_from_slice(piece);
        }
        // Pieces are whole appended strings, so their concatenation is UTF-8.
        String::from_utf8(bytes).expect("pieces are whole strings")
    }

    /// Extends a hash by some bytes: `h * BASE + (byte + 1)` for each byte, so that the hash of
    /// a concatenation is the hash of the first part extended by the second.
    fn fold(hash: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(hash, |h, &b| {
            h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1)
        })
    }

    /// This value with `suffix` appended (`suffix` is not empty).
    fn appended(&self, suffix: &str) -> Self {
        AppendState {
            last: Some(Rc::new(Piece {
                text: PieceText::new(suffix),
                before: self.last.clone(),
            })),
            len: self.len + suffix.len(),
            hash: AppendState::fold(self.hash, suffix.as_bytes()),
        }
    }

    /// Whether the text is exactly `value`, comparing from the end without assembling it.
    fn is(&self, value: &str) -> bool {
        if value.len() != self.len {
            return false;
        }
        let mut rest = value.as_bytes();
        let mut at = self.last.as_deref();
        while let Some(piece) = at {
            let Some(head) = rest.strip_suffix(piece.text.as_bytes()) else {
                return false;
            };
            rest = head;
            at = piece.before.as_deref();
        }
        rest.is_empty()
    }
}

/// A position inside a state's text, walking backwards: a piece and how many of its bytes are
/// still to be compared.
struct Back<'a> {
    piece: Option<&'a Piece>,
    left: usize,
}

impl<'a> Back<'a> {
    fn new(state: &'a AppendState) -> Self {
        let piece = state.last.as_deref();
        Back {
            piece,
            left: piece.map_or(0, |p| p.text.len()),
        }
    }

    /// Moves back past used-up pieces, so the cursor is inside a piece with bytes left, or at
    /// the start of the text.
    fn settle(&mut self) {
        while let Some(piece) = self.piece {
            if self.left > 0 {
                return;
            }
            self.piece = piece.before.as_deref();
            self.left = self.piece.map_or(0, |p| p.text.len());
        }
    }

    /// The bytes still to compare in the current piece (after [`Back::settle`]).
    fn chunk(&self) -> Option<&'a [u8]> {
        self.piece.map(|p| &p.text.as_bytes()[..self.left])
    }

    /// The current piece, if nothing of it has been compared yet.
    fn whole_piece(&self) -> Option<&'a Piece> {
        self.piece.filter(|p| self.left == p.text.len())
    }
}

impl PartialEq for AppendState {
    fn eq(&self, other: &Self) -> bool {
        if self.len != other.len || self.hash != other.hash {
            return false;
        }
        let (mut a, mut b) = (Back::new(self), Back::new(other));
        loop {
            a.settle();
            b.settle();
            if let (Some(x), Some(y)) = (a.whole_piece(), b.whole_piece()) {
                if std::ptr::eq(x, y) {
                    // The same shared node: the rest of both texts is the same.
                    return true;
                }
            }
            match (a.chunk(), b.chunk()) {
                (None, None) => return true,
                (Some(x), Some(y)) => {
                    let n = x.len().min(y.len());
                    if x[x.len() - n..] != y[y.len() - n..] {
                        return false;
                    }
                    a.left -= n;
                    b.left -= n;
                }
                // Equal lengths: both run out together.
                _ => return false,
            }
        }
    }
}

impl Eq for AppendState {}

impl std::hash::Hash for AppendState {
    /// Only the kept hash (and length): equal states have equal texts and so equal hashes.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
        state.write_usize(self.len);
    }
}

impl Model for KvAppendModel {
    type Input = AppendInput;
    type Output = AppendOutput;
    type State = AppendState;

    fn init(&self) -> AppendState {
        AppendState::default()
    }

    fn step(
        &self,
        state: &AppendState,
        input: &AppendInput,
        output: Option<&AppendOutput>,
    ) -> Step<AppendState> {
        match (input, output) {
            (AppendInput::Get { .. }, None) => Step::Unchanged,
            (AppendInput::Get { .. }, Some(AppendOutput::Value { value })) => {
                if state.is(value) {
                    Step::Unchanged
                } else {
                    Step::Illegal
                }
            }
            (AppendInput::Put { value, .. }, None | Some(AppendOutput::Done)) => {
                Step::Changed(AppendState::new(value))
            }
            (AppendInput::Append { value, .. }, None | Some(AppendOutput::Done)) => {
                if value.is_empty() {
                    return Step::Unchanged;
                }
                Step::Changed(state.appended(value))
            }
            _ => Step::Illegal,
        }
    }

    fn is_read_only(&self, input: &AppendInput, _output: Option<&AppendOutput>) -> bool {
        match input {
            AppendInput::Get { .. } => true,
            AppendInput::Append { value, .. } => value.is_empty(),
            AppendInput::Put { .. } => false,
        }
    }

    fn partition(&self, operations: &[Operation<AppendInput, AppendOutput>]) -> Vec<Partition> {
        partition_by_key(operations, AppendInput::key)
    }

    fn validate(&self, input: &AppendInput, output: &AppendOutput) -> Result<(), String> {
        match (input, output) {
            (AppendInput::Get { .. }, AppendOutput::Value { .. }) => Ok(()),
            (AppendInput::Put { .. } | AppendInput::Append { .. }, AppendOutput::Done) => Ok(()),
            (AppendInput::Get { .. }, AppendOutput::Done) => {
                Err(String::from("get must answer a value"))
            }
            _ => Err(String::from("put and append answer done, not a value")),
        }
    }

    fn describe_operation(&self, input: &AppendInput, output: Option<&AppendOutput>) -> String {
        match (input, output) {
            (AppendInput::Get { key }, Some(AppendOutput::Value { value })) => {
                format!("get({}) -> {}", quote(key), quote(value))
            }
            (AppendInput::Get { key }, _) => format!("get({}) -> ?", quote(key)),
            (AppendInput::Put { key, value }, _) => {
                format!("put({}, {})", quote(key), quote(value))
            }
            (AppendInput::Append { key, value }, _) => {
                format!("append({}, {})", quote(key), quote(value))
            }
        }
    }

    fn describe_state(&self, label: &str, state: &AppendState) -> String {
        format!("{} = {}", quote(label), quote(&state.text()))
    }

    fn describe_need(
        &self,
        label: &str,
        input: &AppendInput,
        output: Option<&AppendOutput>,
    ) -> Option<String> {
        match (input, output?) {
            (AppendInput::Get { .. }, AppendOutput::Value { value }) => {
                Some(format!("{} = {}", quote(label), quote(value)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::stable_hash;

    fn append(state: &AppendState, value: &str) -> AppendState {
        let input = AppendInput::Append {
            key: String::from("k"),
            value: String::from(value),
        };
        match KvAppendModel.step(state, &input, Some(&AppendOutput::Done)) {
            Step::Changed(next) => next,
            other => panic!("append gave {other:?}"),
        }
    }

    #[test]
    fn the_same_text_built_different_ways_is_the_same_state() {
        let empty = KvAppendModel.init();
        let one_way = append(&append(&empty, "x 1 y"), "x 2 y");
        let other_way = append(&append(&empty, "x 1"), " yx 2 y");
        let put = AppendState::new("x 1 yx 2 y");
        assert_eq!(one_way, other_way);
        assert_eq!(one_way, put);
        assert_eq!(stable_hash(&one_way), stable_hash(&other_way));
        assert_eq!(stable_hash(&one_way), stable_hash(&put));
        assert_eq!(one_way.text(), "x 1 yx 2 y");
        assert_eq!(AppendState::new(""), empty);
    }

    /// SplitMix64, for the property test below.
    fn next(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn states_agree_with_plain_strings() {
        // Random appends and puts of pieces from a tiny alphabet (so that different chunkings
        // of the same text are common), some branching from earlier states so nodes are shared:
        // equality, hashing, reads and the text must match what plain strings say.
        let mut seed = 7;
        let mut states = vec![(String::new(), KvAppendModel.init())];
        for _ in 0..4000 {
            let from = (next(&mut seed) % states.len() as u64) as usize;
            let piece: String = (0..next(&mut seed) % 4)
                .map(|_| ["a", "b", "ab"][(next(&mut seed) % 3) as usize])
                .collect();
            let (text, state) = &states[from];
            let grown = if next(&mut seed).is_multiple_of(10) {
                (piece.clone(), AppendState::new(&piece))
            } else if piece.is_empty() {
                (text.clone(), state.clone())
            } else {
                (format!("{text}{piece}"), append(state, &piece))
            };
            states.push(grown);
        }
        // Random pairs (mostly different texts) and neighbours in text order (often equal).
        let mut order: Vec<usize> = (0..states.len()).collect();
        order.sort_by(|&i, &j| states[i].0.cmp(&states[j].0));
        let neighbours = order.windows(2).map(|w| (w[0], w[1]));
        let random: Vec<(usize, usize)> = (0..20_000)
            .map(|_| {
                let n = states.len() as u64;
                (
                    (next(&mut seed) % n) as usize,
                    (next(&mut seed) % n) as usize,
                )
            })
            .collect();
        let mut pairs = 0;
        for (i, j) in neighbours.chain(random) {
            let ((ta, a), (tb, b)) = (&states[i], &states[j]);
            assert_eq!(a == b, ta == tb, "{ta:?} vs {tb:?}");
            if ta == tb {
                pairs += 1;
                assert_eq!(stable_hash(a), stable_hash(b));
            }
            assert_eq!(a.is(tb), ta == tb);
            assert_eq!(&a.text(), ta);
        }
        assert!(
            pairs > 1000,
            "only {pairs} equal pairs: the test compares too little"
        );
    }

    /// The Thue-Morse word of length 2^order over {a, b}, or its complement.
    fn thue_morse(order: u32, complement: bool) -> String {
        (0u32..1 << order)
            .map(|i| {
                if (i.count_ones() % 2 == 1) != complement {
                    'b'
                } else {
                    'a'
                }
            })
            .collect()
    }

    #[test]
    fn texts_with_colliding_hashes_are_still_told_apart() {
        // Polynomial hashes modulo 2^64 collide on a Thue-Morse word and its complement, for any
        // odd base. Equality must then compare the texts, all the way to the first piece.
        let (t, u) = (thue_morse(12, false), thue_morse(12, true));
        let a = append(&AppendState::new(&t), "tail");
        let b = append(&AppendState::new(&u), "tail");
        assert_eq!(
            a.hash, b.hash,
            "the words no longer collide: pick a larger order"
        );
        assert_ne!(a, b);
        assert!(!a.is(&format!("{u}tail")));
        assert!(a.is(&format!("{t}tail")));
    }

    #[test]
    fn a_very_long_value_drops_without_recursing() {
        let mut state = KvAppendModel.init();
        for _ in 0..1_000_000 {
            state = append(&state, "x");
        }
        assert!(state.is(&"x".repeat(1_000_000)));
        drop(state);
    }

    #[test]
    fn different_texts_are_different_states() {
        let empty = KvAppendModel.init();
        assert_ne!(append(&empty, "ab"), append(&empty, "ba"));
        assert_ne!(append(&empty, "a"), empty);
        // A zero byte still changes the hash: each byte folds in as byte + 1.
        assert_ne!(stable_hash(&AppendState::new("\0")), stable_hash(&empty));
    }

    #[test]
    fn a_read_must_see_the_whole_value() {
        let state = AppendState::new("x 1 y");
        let get = AppendInput::Get {
            key: String::from("k"),
        };
        let saw = |v: &str| {
            KvAppendModel.step(
                &state,
                &get,
                Some(&AppendOutput::Value {
                    value: String::from(v),
                }),
            )
        };
        assert!(matches!(saw("x 1 y"), Step::Unchanged));
        assert!(matches!(saw("x 1"), Step::Illegal));
    }
}
