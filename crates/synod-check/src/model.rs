//! Sequential specifications.
//!
//! A [`Model`] says what a single copy of the object would do, one operation at a time: the
//! initial state, and for a state plus an operation (input and output) whether that output is
//! legal and what the next state is. The checker then asks whether the concurrent history could
//! have come from some sequential run of the model that respects real time.
//!
//! A model may also split a history into independent parts (P-compositionality, Herlihy & Wing):
//! for a key-value store, operations on different keys never constrain each other, so each key is
//! checked on its own and the history is linearizable exactly when every key is. The model's
//! `State` is the state of *one* part, which keeps states small and the search cache effective.

use std::fmt::Debug;
use std::hash::Hash;

use crate::history::Operation;

/// The result of applying one operation to a state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<S> {
    /// The output cannot have been produced from this state.
    Illegal,
    /// Legal, and the state is unchanged (reads). Lets the checker skip a state copy.
    Unchanged,
    /// Legal, and this is the new state.
    Changed(S),
}

/// A part of a history that can be checked on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// A name for the part, e.g. the key.
    pub label: String,
    /// Ids (indices into the history) of the operations in this part.
    pub operations: Vec<u32>,
}

/// A sequential specification.
pub trait Model {
    /// What a client asks.
    type Input: Debug;
    /// What a client is told.
    type Output: Debug;
    /// The state of one partition. Equality and `Hash` must agree, and `Hash` must not depend on
    /// anything but the value (it is hashed with a fixed algorithm).
    type State: Clone + Eq + Hash + Debug;

    /// The state of a partition before any operation.
    fn init(&self) -> Self::State;

    /// Applies `input` with the observed `output` to `state`. `output` is `None` when the outcome
    /// is unknown; then any output must be accepted.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Step<Self::State>;

    /// Splits a history into independent parts. The default is one part holding everything.
    fn partition(&self, operations: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        let count = u32::try_from(operations.len()).expect("at most 2^32 operations");
        vec![Partition {
            label: String::from("all"),
            operations: (0..count).collect(),
        }]
    }

    /// Whether the operation, with this output, leaves every state it is legal in unchanged (a
    /// read, a failed cas). The search places such an operation as soon as it is legal, without
    /// trying alternatives: moving a read-only operation earlier, to a point where it is legal and
    /// nothing unplaced must precede it, never breaks a linearization. Answering `false` is always
    /// safe; answering `true` for an operation that can change the state is a bug.
    fn is_read_only(&self, _input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        false
    }

    /// Checks that an output is of the kind the input produces (used by the readers).
    fn validate(&self, _input: &Self::Input, _output: &Self::Output) -> Result<(), String> {
        Ok(())
    }

    /// A short description of an operation, e.g. `get(x) -> "1"`.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// A description of a partition's state, e.g. `x = "2"`.
    fn describe_state(&self, label: &str, state: &Self::State) -> String;

    /// What the state would have had to be for this operation to be legal, if the model can say.
    fn describe_need(
        &self,
        _label: &str,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
    ) -> Option<String> {
        None
    }
}

/// Groups operations by a key, in key order; used by the key-value models.
pub(crate) fn partition_by_key<I, O>(
    operations: &[Operation<I, O>],
    key: impl Fn(&I) -> &str,
) -> Vec<Partition> {
    let mut groups: std::collections::BTreeMap<&str, Vec<u32>> = std::collections::BTreeMap::new();
    for (id, op) in operations.iter().enumerate() {
        let id = u32::try_from(id).expect("at most 2^32 operations");
        groups.entry(key(&op.input)).or_default().push(id);
    }
    groups
        .into_iter()
        .map(|(label, operations)| Partition {
            label: label.to_owned(),
            operations,
        })
        .collect()
}
