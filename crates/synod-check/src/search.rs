//! The search: Wing & Gong's algorithm with Lowe's memoization, as used by Porcupine.
//!
//! # The idea
//!
//! Every completed operation of a partition becomes two *entries*, its call and its return,
//! kept in a doubly linked list sorted by time. Intervals are closed, so at equal times calls
//! come before returns: an operation returning at `t` overlaps one called at `t`.
//!
//! The search builds a linearization from the front. The operations that may go next are exactly
//! those whose call entry comes before the first return entry still in the list: each of them
//! was called before any unplaced operation returned. Scanning from the head, the search tries
//! each such call in turn. If the model accepts the operation in the current state, the
//! operation is *lifted* (its call and return entries are unlinked; the nodes keep their own
//! links, so *unlifting* relinks them in constant time, as in Knuth's dancing links), pushed on a
//! stack together with the state before it, and the scan restarts at the head. Reaching a return
//! entry means that operation has to be placed next and cannot be, so the search backtracks:
//! it pops the last lifted operation, unlifts it, restores the state, and resumes the scan just
//! after that operation's call entry. When no return entry is left, every completed operation
//! has been placed and the stack is a linearization. When the stack is empty at a backtrack,
//! no linearization exists.
//!
//! # Unknown outcomes
//!
//! An operation with an unknown outcome has a call entry but no return entry: its return is at
//! +infinity, so nothing has to wait for it, and the search may also never place it (it did not
//! take effect). Such calls live in a second list, and the scan tries them only after the
//! ordinary candidates, and only those called before the first return entry. Placing a pending
//! write only when nothing else works finds linearizations of real histories, where most pending
//! operations either never took effect or took effect late, with much less backtracking; the set
//! of orders explored is the same, only the order of trying changes.
//!
//! # Read-only operations
//!
//! A read that is legal now can be placed now without loss: in any linearization from here, the
//! read can be moved to the front, since it changes no state and nothing unplaced must precede it.
//! So a legal read-only candidate (see [`Model::is_read_only`]) is placed without alternatives:
//! when the search backtracks over it, it backtracks further, and if the configuration after it
//! was already explored, the current one fails too.
//!
//! # Memoization
//!
//! Two different orders that place the same *set* of operations and reach the same state have
//! the same future, so the search records every (set, state) pair it reaches and does not lift
//! into one it has seen (Lowe). Sets are dense bitsets of 64-bit words whose hash is kept up to
//! date incrementally (the XOR of a fixed per-bit constant). States are interned: each distinct
//! state is stored once and named by a `u32`, so the cache key is (bitset, state id) and a read
//! that leaves the state unchanged copies nothing. Both tables index their entries with
//! open addressing and a fixed hash function, each slot keeping part of its entry's hash, and
//! keep the entries themselves in fixed-size chunks that never move; every hit is confirmed by
//! full equality. A small direct-mapped memo of (state id, operation) -> next state id saves
//! repeating model steps.
//!
//! # Budget and witness
//!
//! One loop iteration (trying a call, or backtracking at a return) costs one step. The search
//! stops when the budget runs out, and can be resumed with more: the same history and budget
//! always stop at the same place, natively and in wasm. While it backtracks, the search remembers
//! the deepest stack it has seen at a return entry and the operation of that return; if no
//! linearization exists, that is the longest partial linearization and the operation that could
//! not be placed after it. At the deepest configuration that operation must be illegal: had it
//! been lifted, or found in the cache, the search would have been deeper.

use crate::hash::{mix64, stable_hash};
use crate::history::Operation;
use crate::model::{Model, Step};

/// The end of a list, or "no entry".
const NIL: u32 = u32::MAX;
/// The head sentinel of the list of completed operations' entries.
const MAIN_HEAD: u32 = 0;
/// The head sentinel of the list of unknown operations' calls.
const PENDING_HEAD: u32 = 1;

/// Options of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// Maximum number of search steps for the whole history. When spent, the verdict is
    /// `Unknown`.
    pub budget: u64,
    /// Test-only mutation: treat intervals as half-open (a return at `t` precedes a call at `t`).
    /// Wrong; exists so the tests can show that the conformance suite notices.
    #[doc(hidden)]
    pub half_open_intervals: bool,
    /// Test-only mutation: ignore real-time order altogether (check sequential consistency of a
    /// single object instead). Wrong; exists so the tests can show that the suite notices.
    #[doc(hidden)]
    pub ignore_real_time: bool,
}

/// The default step budget: generous for histories of tens of thousands of operations, and a
/// few seconds of work at most.
pub const DEFAULT_BUDGET: u64 = 50_000_000;

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            budget: DEFAULT_BUDGET,
            half_open_intervals: false,
            ignore_real_time: false,
        }
    }
}

impl CheckOptions {
    /// Default options with the given budget.
    pub fn with_budget(budget: u64) -> Self {
        CheckOptions {
            budget,
            ..CheckOptions::default()
        }
    }
}

/// How the search of one partition ended. Operation numbers are positions in the `ops` slice.
#[derive(Debug)]
pub(crate) enum Search<S> {
    /// A linearization: the placed operations in order (unknown ones left out never happened).
    Linearizable(Vec<u32>),
    /// No linearization: the longest partial one, the state after it, and the operation that
    /// could not be placed next.
    Illegal {
        prefix: Vec<u32>,
        state: S,
        blocked: u32,
    },
}

/// A node of the entry lists. Entries are numbered in time order, so comparing numbers compares
/// times (with the closed-interval tie rule), also across the two lists.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The operation (index into the partition's `ops`).
    op: u32,
    /// For a call entry, its return entry (or `NIL` for an unknown outcome); `NIL` for returns.
    ret: u32,
    is_call: bool,
    prev: u32,
    next: u32,
}

/// Where the scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    /// At this entry of the main list.
    Main(u32),
    /// At this entry of the pending list, trying unknown operations called before the return
    /// entry `limit` (the first one in the main list).
    Pending { at: u32, limit: u32 },
}

/// One lifted operation on the search stack.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Where it was lifted from (its call entry, and the pass).
    from: Cursor,
    /// The state id before it.
    before: u32,
    /// Lifted as a legal read-only operation: no alternative needs to be tried in its place.
    forced: bool,
}

impl Frame {
    fn call(&self) -> u32 {
        match self.from {
            Cursor::Main(at) | Cursor::Pending { at, .. } => at,
        }
    }
}

/// What trying a candidate gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lift {
    /// It was placed.
    Lifted,
    /// It cannot go next; try the following candidate.
    Skip,
    /// A read-only candidate is legal but leads to an explored configuration: nothing can
    /// succeed from here.
    DeadEnd,
}

/// The search of one partition, resumable: [`Searcher::run`] can be called repeatedly with
/// more budget, so that the caller can share steps fairly between partitions.
pub(crate) struct Searcher<'a, M: Model> {
    model: &'a M,
    ops: &'a [&'a Operation<M::Input, M::Output>],
    entries: Vec<Entry>,
    remaining_returns: usize,
    linearized: Bitset,
    states: Interner<M::State>,
    state: u32,
    cache: Cache,
    /// Remembered transitions, see [`StepMemo`].
    memo: StepMemo,
    /// Whether each operation is read-only (see [`Model::is_read_only`]).
    read_only: Vec<bool>,
    /// The lifted operations, in order.
    stack: Vec<Frame>,
    /// The deepest stack seen at a return entry: (operations, state id, blocking operation).
    deepest: Option<(Vec<u32>, u32, u32)>,
    cursor: Cursor,
    /// Steps spent so far.
    pub(crate) steps: u64,
}

impl<M: Model> std::fmt::Debug for Searcher<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Searcher")
            .field("ops", &self.ops.len())
            .field("steps", &self.steps)
            .finish()
    }
}

impl<'a, M: Model> Searcher<'a, M> {
    pub(crate) fn new(
        model: &'a M,
        ops: &'a [&'a Operation<M::Input, M::Output>],
        options: &CheckOptions,
    ) -> Self {
        let entries = build_entries(ops, options);
        let remaining_returns = entries.iter().skip(2).filter(|e| !e.is_call).count();
        let linearized = Bitset::new(ops.len());
        let mut states = Interner::new();
        let state = states.intern(model.init());
        let cache = Cache::new(linearized.words.len());
        let read_only = ops
            .iter()
            .map(|op| model.is_read_only(&op.input, op.known_output()))
            .collect();
        let cursor = Cursor::Main(entries[MAIN_HEAD as usize].next);
        Searcher {
            model,
            ops,
            entries,
            remaining_returns,
            linearized,
            states,
            state,
            cache,
            memo: StepMemo::new(),
            read_only,
            stack: Vec::with_capacity(ops.len()),
            deepest: None,
            cursor,
            steps: 0,
        }
    }

    /// Searches until an answer or until `budget` steps are spent (then `None`; call again with
    /// more budget to continue where it stopped). `budget` is decremented by the steps taken.
    pub(crate) fn run(&mut self, budget: &mut u64) -> Option<Search<M::State>> {
        loop {
            if self.remaining_returns == 0 {
                let order = self
                    .stack
                    .iter()
                    .map(|f| self.entries[f.call() as usize].op)
                    .collect();
                return Some(Search::Linearizable(order));
            }
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
            self.steps += 1;
            if let Some(found) = self.step() {
                return Some(found);
            }
        }
    }

    /// Gives back the memory of the search's tables once it has answered, so that the
    /// partitions still searching can reuse it instead of faulting in fresh pages.
    pub(crate) fn release(&mut self) {
        self.states = Interner::new();
        self.cache = Cache::new(self.linearized.words.len());
        self.memo = StepMemo { slots: Vec::new() };
        self.entries = Vec::new();
        self.stack = Vec::new();
        self.deepest = None;
    }

    /// One step of the scan: try the candidate under the cursor, or backtrack.
    fn step(&mut self) -> Option<Search<M::State>> {
        let (at, limit) = match self.cursor {
            Cursor::Main(at) => {
                assert!(
                    at != NIL,
                    "a return entry is always ahead of the scan while returns remain"
                );
                if !self.entries[at as usize].is_call {
                    // The first return: now the unknown operations called before it, if any.
                    let first = self.entries[PENDING_HEAD as usize].next;
                    if first != NIL && first < at {
                        self.cursor = Cursor::Pending {
                            at: first,
                            limit: at,
                        };
                        return None;
                    }
                    return self.backtrack(Some(self.entries[at as usize].op));
                }
                (at, NIL)
            }
            Cursor::Pending { at, limit } => {
                if at == NIL || at > limit {
                    return self.backtrack(Some(self.entries[limit as usize].op));
                }
                (at, limit)
            }
        };
        let next = self.entries[at as usize].next;
        match self.try_lift(self.cursor) {
            Lift::Lifted => self.cursor = Cursor::Main(self.entries[MAIN_HEAD as usize].next),
            Lift::Skip if limit == NIL => self.cursor = Cursor::Main(next),
            Lift::Skip => self.cursor = Cursor::Pending { at: next, limit },
            Lift::DeadEnd => {}
        }
        None
    }

    /// Tries to place the operation of the call entry under `from` next. On a dead end it has
    /// already backtracked.
    fn try_lift(&mut self, from: Cursor) -> Lift {
        let call = match from {
            Cursor::Main(at) | Cursor::Pending { at, .. } => at,
        };
        let entry = self.entries[call as usize];
        let op = self.ops[entry.op as usize];
        let forced = self.read_only[entry.op as usize];
        let next = match self.memo.get(self.state, entry.op) {
            Some(remembered) => remembered,
            None => {
                let next =
                    match self
                        .model
                        .step(self.states.get(self.state), &op.input, op.known_output())
                    {
                        Step::Illegal => NIL,
                        Step::Unchanged => self.state,
                        Step::Changed(s) => {
                            assert!(
                                !forced,
                                "the model called {op:?} read-only, but it changed the state"
                            );
                            self.states.intern(s)
                        }
                    };
                self.memo.put(self.state, entry.op, next);
                next
            }
        };
        if next == NIL {
            return Lift::Skip;
        }
        self.linearized.set(entry.op);
        if !self.cache.insert(&self.linearized, next) {
            self.linearized.clear(entry.op);
            if !forced {
                return Lift::Skip;
            }
            // The configuration after this read was explored and failed; placing the read first
            // loses nothing, so this configuration fails too. (It is never the deepest one: its
            // successor was reached.) The stack is not empty: the successor was reached through
            // some other order, so an earlier choice exists.
            let found = self.backtrack(None);
            assert!(found.is_none(), "a dead end is never at the root");
            return Lift::DeadEnd;
        }
        self.stack.push(Frame {
            from,
            before: self.state,
            forced,
        });
        self.state = next;
        lift(&mut self.entries, call);
        if entry.ret != NIL {
            self.remaining_returns -= 1;
        }
        Lift::Lifted
    }

    /// No candidate can go next (the scan reached the return of `blocked`, or a read-only
    /// candidate hit a dead end): undo the last free placement, or give up. Forced placements are
    /// undone on the way, since they had no alternatives.
    fn backtrack(&mut self, blocked: Option<u32>) -> Option<Search<M::State>> {
        if let Some(blocked) = blocked {
            if self
                .deepest
                .as_ref()
                .is_none_or(|(prefix, _, _)| self.stack.len() > prefix.len())
            {
                let prefix = self
                    .stack
                    .iter()
                    .map(|f| self.entries[f.call() as usize].op)
                    .collect();
                self.deepest = Some((prefix, self.state, blocked));
            }
        }
        loop {
            let Some(frame) = self.stack.pop() else {
                let (prefix, at, blocked) = self
                    .deepest
                    .take()
                    .expect("the first backtrack is at a return entry");
                return Some(Search::Illegal {
                    prefix,
                    state: self.states.get(at).clone(),
                    blocked,
                });
            };
            let call = frame.call();
            let call_entry = self.entries[call as usize];
            self.linearized.clear(call_entry.op);
            self.state = frame.before;
            unlift(&mut self.entries, call);
            if call_entry.ret != NIL {
                self.remaining_returns += 1;
            }
            if !frame.forced {
                self.cursor = match frame.from {
                    Cursor::Main(_) => Cursor::Main(call_entry.next),
                    Cursor::Pending { limit, .. } => Cursor::Pending {
                        at: call_entry.next,
                        limit,
                    },
                };
                return None;
            }
        }
    }
}

/// Builds the entries: 0 and 1 are the heads of the main and pending lists, the rest are
/// numbered in time order and linked into their list.
fn build_entries<I, O>(ops: &[&Operation<I, O>], options: &CheckOptions) -> Vec<Entry> {
    // Sort key: (group, time, rank, op). Closed intervals put calls (rank 0) before returns
    // (rank 1) at equal times; the half-open mutation swaps the ranks; ignoring real time puts
    // every call (group 0) before every return (group 1).
    let (call_rank, ret_rank) = if options.half_open_intervals {
        (1, 0)
    } else {
        (0, 1)
    };
    let mut events: Vec<(u8, u64, u8, u32, bool)> = Vec::with_capacity(ops.len() * 2);
    for (i, op) in ops.iter().enumerate() {
        let i = u32::try_from(i).expect("at most 2^32 operations");
        let group = |is_call: bool| u8::from(options.ignore_real_time && !is_call);
        events.push((group(true), op.call, call_rank, i, true));
        if let Some(ret) = op.effective_return() {
            assert!(ret >= op.call, "operation returns before it is called");
            events.push((group(false), ret, ret_rank, i, false));
        }
    }
    events.sort_unstable();
    let head = Entry {
        op: NIL,
        ret: NIL,
        is_call: false,
        prev: NIL,
        next: NIL,
    };
    let mut entries = vec![head, head];
    let mut ret_of = vec![NIL; ops.len()];
    let mut tails = [MAIN_HEAD, PENDING_HEAD];
    for &(_, _, _, op, is_call) in &events {
        let idx = u32::try_from(entries.len()).expect("fewer than 2^32 entries");
        let list = usize::from(is_call && ops[op as usize].effective_return().is_none());
        if !is_call {
            ret_of[op as usize] = idx;
        }
        let tail = tails[list];
        entries[tail as usize].next = idx;
        entries.push(Entry {
            op,
            ret: NIL,
            is_call,
            prev: tail,
            next: NIL,
        });
        tails[list] = idx;
    }
    for e in entries.iter_mut().skip(2).filter(|e| e.is_call) {
        e.ret = ret_of[e.op as usize];
    }
    entries
}

fn unlink(entries: &mut [Entry], i: u32) {
    let Entry { prev, next, .. } = entries[i as usize];
    entries[prev as usize].next = next;
    if next != NIL {
        entries[next as usize].prev = prev;
    }
}

fn relink(entries: &mut [Entry], i: u32) {
    let Entry { prev, next, .. } = entries[i as usize];
    entries[prev as usize].next = i;
    if next != NIL {
        entries[next as usize].prev = i;
    }
}

/// Removes a call entry and its return entry (if any) from their list.
fn lift(entries: &mut [Entry], call: u32) {
    unlink(entries, call);
    let ret = entries[call as usize].ret;
    if ret != NIL {
        unlink(entries, ret);
    }
}

/// Undoes [`lift`]: relinks in the reverse order of removal.
fn unlift(entries: &mut [Entry], call: u32) {
    let ret = entries[call as usize].ret;
    if ret != NIL {
        relink(entries, ret);
    }
    relink(entries, call);
}

/// A direct-mapped memo of transitions: (state id, operation) -> next state id, or `NIL` when
/// illegal. The same operation is tried from the same state many times (from different sets of
/// placed operations); remembering the answer saves the model step, and for states like long
/// strings, the allocation and hashing of the next state. A slot is simply overwritten on a
/// collision, so the memo never grows.
///
/// It is small on purpose. Every try looks it up, at a random slot, so a memo larger than the
/// processor's nearest caches costs a cache miss per try, more than the model step it saves:
/// with 16,384 slots (192 KiB per partition) the lookup was half the search loop's time on
/// Porcupine's c50 history, and going down to 1,024 slots costs 3% more model steps there.
#[derive(Debug)]
struct StepMemo {
    slots: Vec<(u32, u32, u32)>,
}

const MEMO_SLOTS: usize = 1 << 10;

impl StepMemo {
    fn new() -> Self {
        StepMemo {
            slots: vec![(NIL, NIL, NIL); MEMO_SLOTS],
        }
    }

    fn slot(state: u32, op: u32) -> usize {
        // Truncation is intended: only the low bits pick a slot.
        (mix64((u64::from(state) << 32) | u64::from(op)) as usize) & (MEMO_SLOTS - 1)
    }

    fn get(&self, state: u32, op: u32) -> Option<u32> {
        let (s, o, next) = self.slots[Self::slot(state, op)];
        (s == state && o == op).then_some(next)
    }

    fn put(&mut self, state: u32, op: u32, next: u32) {
        self.slots[Self::slot(state, op)] = (state, op, next);
    }
}

/// A dense bitset with an incrementally maintained hash.
#[derive(Debug)]
struct Bitset {
    words: Vec<u64>,
    hash: u64,
}

fn bit_hash(i: u32) -> u64 {
    mix64(u64::from(i) + 1)
}

impl Bitset {
    fn new(bits: usize) -> Self {
        Bitset {
            words: vec![0; bits.div_ceil(64).max(1)],
            hash: 0,
        }
    }

    fn set(&mut self, i: u32) {
        let (w, b) = ((i / 64) as usize, i % 64);
        assert!(self.words[w] & (1 << b) == 0, "operation placed twice");
        self.words[w] |= 1 << b;
        self.hash ^= bit_hash(i);
    }

    fn clear(&mut self, i: u32) {
        let (w, b) = ((i / 64) as usize, i % 64);
        assert!(self.words[w] & (1 << b) != 0, "operation removed twice");
        self.words[w] &= !(1 << b);
        self.hash ^= bit_hash(i);
    }
}

/// The index of the two tables below: open addressing with linear probing over a power-of-two
/// array of slots, at most half full. A slot holds an entry's id and 32 bits of its hash, which
/// both pick the slot and tell most other entries apart: a probe passes over them without
/// reading them (in a large table every such read is a cache miss), and growing reads no entry.
///
/// Growing re-inserts the entries in id order from a dense list of their short hashes. Walking
/// the old slots instead (half of them free) took about as many instructions but several times
/// as long on Jepsen's etcd_040 (perf), which made that file 8% slower than with the `Vec`s of
/// hashes the tables had before.
#[derive(Debug)]
struct Slots {
    slots: Vec<Slot>,
    /// The short hash of each entry, by id.
    shorts: Chunked<u32>,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The entry's id, or `NIL` for a free slot.
    id: u32,
    hash: u32,
}

const FREE: Slot = Slot { id: NIL, hash: 0 };

impl Slots {
    fn new(len: usize) -> Self {
        assert!(len.is_power_of_two());
        Slots {
            slots: vec![FREE; len],
            shorts: Chunked::new(),
        }
    }

    /// The 32 bits of a 64-bit hash the table uses. Truncation is intended: the high half of
    /// the well-mixed hashes of both tables.
    fn short(hash: u64) -> u32 {
        (hash >> 32) as u32
    }

    /// Finds the entry with this hash that `is_match` accepts, or else the free slot where it
    /// belongs.
    fn find(&self, hash: u64, mut is_match: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        let hash = Self::short(hash);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.id == NIL {
                return Err(i);
            }
            if slot.hash == hash && is_match(slot.id) {
                return Ok(slot.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Puts the next entry, `id`, in the free slot `at` that [`Slots::find`] gave for `hash`.
    /// Doubles the table when it gets more than half full.
    fn fill(&mut self, at: usize, hash: u64, id: u32) {
        assert_eq!(
            id as usize,
            self.shorts.len(),
            "entries are added in id order"
        );
        let hash = Self::short(hash);
        self.slots[at] = Slot { id, hash };
        self.shorts.push(hash);
        if self.shorts.len() * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Doubles the table.
    #[cold]
    fn grow(&mut self) {
        let mut slots = vec![FREE; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for (id, &hash) in (0..).zip(self.shorts.iter()) {
            let mut i = hash as usize & mask;
            while slots[i].id != NIL {
                i = (i + 1) & mask;
            }
            slots[i] = Slot { id, hash };
        }
        self.slots = slots;
    }
}

/// Append-only storage in chunks of [`CHUNK`] items. Unlike a growing `Vec`, pushing never moves
/// what is stored: when the tables of a long search were `Vec`s, copying them as they doubled
/// caused a third of the search's cache misses (cachegrind on c50-ok), and a `Vec` may leave
/// half of its memory unused, which costs page faults. Here at most one chunk is partly empty.
#[derive(Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

/// Items per chunk. Small chunks (6 to 8 KiB in c50-ok's tables) are reused from the
/// allocator's free lists where larger ones took fresh pages: on c50-ok, 256 items per chunk
/// took 1,935 page faults per check, 1,024 took 2,340 and 4,096 took 2,680.
const CHUNK: usize = 1 << 8;

impl<T> Chunked<T> {
    fn new() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, item: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks[self.len / CHUNK].push(item);
        self.len += 1;
    }

    fn get(&self, i: u32) -> &T {
        &self.chunks[i as usize / CHUNK][i as usize % CHUNK]
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// Append-only rows of `width` words each, kept like [`Chunked`] items: [`CHUNK`] rows a chunk.
#[derive(Debug)]
struct Rows {
    width: usize,
    chunks: Vec<Vec<u64>>,
    len: usize,
}

impl Rows {
    fn new(width: usize) -> Self {
        assert!(width > 0, "rows hold at least one word");
        Rows {
            width,
            chunks: Vec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Appends a row made of `head` and then `tail`, `width` words in all.
    fn push(&mut self, head: u64, tail: &[u64]) {
        assert_eq!(1 + tail.len(), self.width, "a row of the wrong width");
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK * self.width));
        }
        let chunk = &mut self.chunks[self.len / CHUNK];
        chunk.push(head);
        chunk.extend_from_slice(tail);
        self.len += 1;
    }

    fn row(&self, i: u32) -> &[u64] {
        let (chunk, row) = (i as usize / CHUNK, i as usize % CHUNK);
        &self.chunks[chunk][row * self.width..(row + 1) * self.width]
    }
}

/// Interns states: each distinct state is stored once and named by its index.
#[derive(Debug)]
struct Interner<S> {
    states: Chunked<S>,
    slots: Slots,
}

impl<S: Eq + std::hash::Hash> Interner<S> {
    fn new() -> Self {
        Interner {
            states: Chunked::new(),
            slots: Slots::new(64),
        }
    }

    fn intern(&mut self, state: S) -> u32 {
        let hash = stable_hash(&state);
        let states = &self.states;
        match self.slots.find(hash, |id| *states.get(id) == state) {
            Ok(id) => id,
            Err(at) => {
                let id = u32::try_from(self.states.len()).expect("fewer than 2^32 states");
                assert!(id != NIL, "state table full");
                self.states.push(state);
                self.slots.fill(at, hash, id);
                id
            }
        }
    }

    fn get(&self, id: u32) -> &S {
        self.states.get(id)
    }
}

/// The set of (linearized set, state id) configurations already reached.
#[derive(Debug)]
struct Cache {
    /// One row per configuration: the state id, then the bitset's words. Keeping them together
    /// makes confirming a hit one memory access, not two.
    entries: Rows,
    slots: Slots,
}

impl Cache {
    fn new(words_per_set: usize) -> Self {
        Cache {
            entries: Rows::new(1 + words_per_set),
            slots: Slots::new(1024),
        }
    }

    /// Records the configuration; returns false if it was already there.
    fn insert(&mut self, set: &Bitset, state: u32) -> bool {
        let hash = set.hash ^ mix64(u64::from(state) ^ 0x9e37_79b9_7f4a_7c15);
        let entries = &self.entries;
        let found = self.slots.find(hash, |id| {
            let entry = entries.row(id);
            entry[0] == u64::from(state) && entry[1..] == set.words[..]
        });
        match found {
            Ok(_) => false,
            Err(at) => {
                let id = u32::try_from(self.entries.len()).expect("fewer than 2^32 cache entries");
                assert!(id != NIL, "cache full");
                self.entries.push(u64::from(state), &set.words);
                self.slots.fill(at, hash, id);
                true
            }
        }
    }
}
