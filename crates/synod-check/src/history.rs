//! Histories: what clients asked for, when, and what they were told.
//!
//! An [`Operation`] is one client request with its call time and, if the client heard back, its
//! return time and output. Times are plain integers (Synod uses microseconds of virtual time; the
//! log formats use line numbers). Intervals are closed: an operation that returns at `t` overlaps
//! one that is called at `t`, so neither is required to precede the other.
//!
//! An operation whose return or output is missing has an *unknown outcome* (it timed out, its
//! client crashed, or the history ended first). It may have taken effect at any point after its
//! call, or never; its return time counts as +infinity and any output is accepted.

use serde::{Deserialize, Serialize};

/// A point in (virtual) time. Only the order matters to the checker.
pub type Time = u64;

/// One client operation of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation<I, O> {
    /// The client (process) that issued it. Only used for display.
    pub client: u64,
    /// When the client sent the request.
    pub call: Time,
    /// When the client received the answer; `None` when it never did.
    #[serde(rename = "return")]
    pub ret: Option<Time>,
    /// What was asked.
    pub input: I,
    /// What was answered; `None` when unknown.
    pub output: Option<O>,
}

impl<I, O> Operation<I, O> {
    /// A completed operation with a known output.
    pub fn completed(client: u64, call: Time, ret: Time, input: I, output: O) -> Self {
        Operation {
            client,
            call,
            ret: Some(ret),
            input,
            output: Some(output),
        }
    }

    /// An operation whose outcome is unknown: it may take effect after `call`, or never.
    pub fn unknown(client: u64, call: Time, input: I) -> Self {
        Operation {
            client,
            call,
            ret: None,
            input,
            output: None,
        }
    }

    /// Whether the outcome is unknown (no return or no output).
    pub fn is_unknown(&self) -> bool {
        self.ret.is_none() || self.output.is_none()
    }

    /// The known output, or `None` for an unknown outcome.
    pub fn known_output(&self) -> Option<&O> {
        if self.ret.is_some() {
            self.output.as_ref()
        } else {
            None
        }
    }

    /// The return time used by the checker: +infinity for an unknown outcome.
    pub fn effective_return(&self) -> Option<Time> {
        if self.is_unknown() {
            None
        } else {
            self.ret
        }
    }

    /// Whether `self` completed strictly before `other` was called (closed intervals).
    pub fn precedes<J, P>(&self, other: &Operation<J, P>) -> bool {
        matches!(self.effective_return(), Some(r) if r < other.call)
    }
}

/// A history: a list of operations in any order. Operation ids are indices into `operations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History<I, O> {
    /// The operations; their position is their id in check results.
    pub operations: Vec<Operation<I, O>>,
}

impl<I, O> Default for History<I, O> {
    fn default() -> Self {
        History {
            operations: Vec::new(),
        }
    }
}

impl<I, O> History<I, O> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a history from `(client, call, return, input, output)` tuples, the shape a
    /// simulator records; `None` in either of the last-but-two or last place means unknown.
    pub fn from_tuples(
        ops: impl IntoIterator<Item = (u64, Time, Option<Time>, I, Option<O>)>,
    ) -> Self {
        let operations = ops
            .into_iter()
            .map(|(client, call, ret, input, output)| Operation {
                client,
                call,
                ret,
                input,
                output,
            })
            .collect();
        History { operations }
    }

    /// Appends an operation and returns its id.
    pub fn push(&mut self, op: Operation<I, O>) -> u32 {
        let id =
            u32::try_from(self.operations.len()).expect("a history holds at most 2^32 operations");
        self.operations.push(op);
        id
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }
}
