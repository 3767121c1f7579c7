//! [`AppendValue`]: one key's value in the append store, built without copying.
//!
//! The search keeps every distinct state it reaches, and in an append history those are ever
//! longer prefixes of each key's log, reached in many orders. With the value as a `String`,
//! every append copied the whole text into a fresh allocation, which the search then hashed,
//! kept and finally freed: the work and the memory grew with the square of the log's length,
//! and on Porcupine's c50 history that was most of the check.
//!
//! Here a value is the last of a chain of pieces. The values that descend from one initial
//! value (all the states of one search) share an append-only store of pieces: a piece is a run
//! of text in the store's buffer and the index of the piece before it, or none after a `put`.
//! Appending pushes one piece and shares everything before it, so it costs the length of the
//! appended text, and no allocation beyond the store's occasional growth. A value also carries
//! the length and a hash of its whole text, the hash extended piece by piece (FNV-1a continues
//! over a concatenation), so hashing a value costs two words. Equality is still equality of
//! the texts, however they were pieced together; values that end in the same piece of the same
//! store are equal without looking further.
//!
//! The store is shared through `Rc<RefCell<..>>` because a model step sees one state and must
//! return the next one with no other context. Nothing is ever removed from a store, and no
//! borrow of it outlives a method of this module, so the `RefCell` never refuses one. A store
//! grows with every model step that appends (the piece is stored before the interner finds
//! that the state is not new), so it is bounded by the search budget times the length of an
//! append, and it is dropped with its search.

use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The index of no piece: the value before a `put`'s text, or the empty value.
const NONE: u32 = u32::MAX;

/// FNV-1a's offset basis: the hash of the empty text.
const EMPTY_HASH: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Continues the FNV-1a hash `hash` of some text over `text`, giving the hash of the
/// concatenation. Only the search's tables use it and every hit there is confirmed by comparing
/// texts, so a collision costs time, never a wrong answer.
fn extend_hash(hash: u64, text: &str) -> u64 {
    text.bytes()
        .fold(hash, |h, b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// One key's value: the text written by the last `put` (or the empty text) followed by the
/// pieces appended since. Values compare and hash by their text alone.
#[derive(Clone)]
pub struct AppendValue {
    /// The pieces of this value and of the values it was made from or will make.
    store: Rc<RefCell<Store>>,
    /// The value's last piece in `store`, or `NONE` for the empty text.
    last: u32,
    /// The length of the text in bytes.
    len: u32,
    /// The FNV-1a hash of the text.
    hash: u64,
}

/// An append-only store of pieces.
#[derive(Debug, Default)]
struct Store {
    /// The texts of all pieces, back to back.
    text: String,
    pieces: Vec<Piece>,
}

/// A non-empty run of text and the piece before it. Offsets and lengths are `u32`, which keeps
/// the search's states and the store small: a store holds less than 4 GiB of text.
#[derive(Clone, Copy, Debug)]
struct Piece {
    /// Where its text is in the store's buffer.
    start: u32,
    end: u32,
    /// The piece before it, or `NONE` if it starts the value.
    before: u32,
}

impl Store {
    /// Adds a piece after `before`; `text` must not be empty.
    fn push(&mut self, before: u32, text: &str) -> u32 {
        let id = u32::try_from(self.pieces.len())
            .ok()
            .filter(|&id| id != NONE)
            .expect("fewer than 2^32 - 1 pieces in a value store");
        let offset = |len: usize| u32::try_from(len).expect("less than 4 GiB in a value store");
        let start = offset(self.text.len());
        self.text.push_str(text);
        self.pieces.push(Piece {
            start,
            end: offset(self.text.len()),
            before,
        });
        id
    }

    /// The text of a piece.
    fn text_of(&self, piece: Piece) -> &str {
        &self.text[piece.start as usize..piece.end as usize]
    }

    /// The texts of the pieces of the value ending in `last`, last first.
    fn texts_from(&self, last: u32) -> impl Iterator<Item = &str> {
        let piece = |id: u32| (id != NONE).then(|| self.pieces[id as usize]);
        std::iter::successors(piece(last), move |p| piece(p.before)).map(|p| self.text_of(p))
    }
}

impl AppendValue {
    /// The empty text, which a missing key reads as, in a store of its own.
    pub fn new() -> Self {
        AppendValue {
            store: Rc::default(),
            last: NONE,
            len: 0,
            hash: EMPTY_HASH,
        }
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// This value followed by `text`. Shares this value instead of copying it.
    pub fn appended(&self, text: &str) -> AppendValue {
        if text.is_empty() {
            return self.clone();
        }
        AppendValue {
            store: Rc::clone(&self.store),
            last: self.store.borrow_mut().push(self.last, text),
            len: u32::try_from(text.len())
                .ok()
                .and_then(|n| self.len.checked_add(n))
                .expect("a value is shorter than 4 GiB"),
            hash: extend_hash(self.hash, text),
        }
    }

    /// The value `text`, kept in this value's store (as a `put` makes it).
    pub fn replaced(&self, text: &str) -> AppendValue {
        AppendValue {
            last: NONE,
            len: 0,
            hash: EMPTY_HASH,
            store: Rc::clone(&self.store),
        }
        .appended(text)
    }

    /// Whether the text is `text`, given the same length. Compares from the end, where the
    /// values that a search tries differ most often.
    fn same_text_as(&self, text: &str) -> bool {
        let store = self.store.borrow();
        let mut rest = text;
        for piece in store.texts_from(self.last) {
            match rest.strip_suffix(piece) {
                Some(head) => rest = head,
                None => return false,
            }
        }
        true
    }
}

impl Default for AppendValue {
    fn default() -> Self {
        AppendValue::new()
    }
}

impl From<&str> for AppendValue {
    fn from(text: &str) -> Self {
        AppendValue::new().appended(text)
    }
}

impl PartialEq<str> for AppendValue {
    /// Compares lengths first: most reads a search tries are of a value of another length.
    #[inline]
    fn eq(&self, text: &str) -> bool {
        self.len() == text.len() && self.same_text_as(text)
    }
}

impl PartialEq for AppendValue {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.hash == other.hash
            && ((Rc::ptr_eq(&self.store, &other.store) && self.last == other.last)
                || same_text(self, other))
    }
}

impl Eq for AppendValue {}

/// Whether two values of the same length have the same text: compares the texts from the end,
/// a piece at a time, and stops early when both reach the same piece of the same store.
fn same_text(a: &AppendValue, b: &AppendValue) -> bool {
    let same_store = Rc::ptr_eq(&a.store, &b.store);
    let (a_store, b_store) = (a.store.borrow(), b.store.borrow());
    let (mut a_next, mut b_next) = (a.last, b.last);
    // The parts of the current pieces not compared yet. What is left of the two texts (these
    // parts and the pieces before them) always has the same length.
    let (mut a_text, mut b_text): (&[u8], &[u8]) = (&[], &[]);
    loop {
        // Both at the start of a piece: done if it is the same piece, or both texts are done.
        let at_pieces = a_text.is_empty() && b_text.is_empty();
        if at_pieces && a_next == b_next && (same_store || a_next == NONE) {
            return true;
        }
        if a_text.is_empty() {
            let piece = a_store.pieces[a_next as usize];
            a_text = a_store.text_of(piece).as_bytes();
            a_next = piece.before;
        }
        if b_text.is_empty() {
            let piece = b_store.pieces[b_next as usize];
            b_text = b_store.text_of(piece).as_bytes();
            b_next = piece.before;
        }
        let n = a_text.len().min(b_text.len());
        let (a_head, a_tail) = a_text.split_at(a_text.len() - n);
        let (b_head, b_tail) = b_text.split_at(b_text.len() - n);
        if a_tail != b_tail {
            return false;
        }
        (a_text, b_text) = (a_head, b_head);
    }
}

impl Hash for AppendValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u32(self.len);
        state.write_u64(self.hash);
    }
}

impl fmt::Display for AppendValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.store.borrow();
        let pieces: Vec<&str> = store.texts_from(self.last).collect();
        pieces.iter().rev().try_for_each(|piece| f.write_str(piece))
    }
}

impl fmt::Debug for AppendValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::stable_hash;

    fn assert_same(a: &AppendValue, b: &AppendValue) {
        assert_eq!(a, b);
        assert_eq!(stable_hash(a), stable_hash(b));
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn values_are_equal_when_their_texts_are_however_they_were_pieced() {
        let root = AppendValue::new();
        let ab_c = root.appended("ab").appended("c");
        let a_bc = root.appended("a").appended("bc");
        let put = root.replaced("abc");
        let elsewhere = AppendValue::from("a").appended("b").appended("c");
        for other in [&a_bc, &put, &elsewhere] {
            assert_same(&ab_c, other);
        }
        assert_eq!(ab_c, *"abc");
        assert_eq!(ab_c.len(), 3);
    }

    #[test]
    fn values_differ_when_their_texts_do() {
        let root = AppendValue::new();
        let ab = root.appended("a").appended("b");
        assert_ne!(ab, root.appended("b").appended("a"));
        assert_ne!(ab, root.appended("ab").appended("c"));
        assert_ne!(ab, AppendValue::from("ax"));
        assert_ne!(ab, *"ba");
        assert_ne!(ab, *"abc");
        assert_ne!(root.appended("x 1 y"), *"x 2 y");
    }

    #[test]
    fn the_empty_value_is_empty_however_it_was_made() {
        let root = AppendValue::new();
        let put_empty = root.appended("x").replaced("");
        assert_same(&root, &put_empty);
        assert_same(&root, &root.appended(""));
        assert_same(&root, &AppendValue::from(""));
        assert!(put_empty.is_empty());
        assert_eq!(put_empty, *"");
        assert_eq!(format!("{put_empty:?}"), "\"\"");
    }

    #[test]
    fn a_value_is_unchanged_by_what_is_made_from_it() {
        let base = AppendValue::from("x 1 y");
        let longer = base.appended("x 2 y");
        let replaced = base.replaced("z");
        assert_eq!(base.to_string(), "x 1 y");
        assert_eq!(longer.to_string(), "x 1 yx 2 y");
        assert_eq!(replaced.to_string(), "z");
        assert_eq!(format!("{longer:?}"), "\"x 1 yx 2 y\"");
    }
}
