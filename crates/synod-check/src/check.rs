//! Running a check and describing its outcome.
//!
//! [`check`] partitions the history with the model, searches each partition in order against one
//! shared step budget, and assembles a [`CheckResult`] made of plain data (operation ids and
//! strings) that serializes to JSON for the playground. The verdict of the whole history is
//! `NotLinearizable` if any partition has no linearization (that is definite even if the budget
//! ran out elsewhere), else `Unknown` if any partition ran out of budget, else `Linearizable`.

use serde::{Deserialize, Serialize};

use crate::history::{History, Operation};
use crate::model::{Model, Step};
use crate::search::{CheckOptions, Search, Searcher};

/// The answer for a history or a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A linearization exists (the witness is in the result).
    Linearizable,
    /// No linearization exists.
    NotLinearizable,
    /// The step budget ran out before an answer; never to be read as a pass.
    Unknown,
}

/// The result of checking a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The overall verdict.
    pub verdict: Verdict,
    /// Search steps spent, over all partitions.
    pub steps: u64,
    /// One entry per partition (per key for the key-value models), in label order.
    pub partitions: Vec<PartitionResult>,
}

impl CheckResult {
    /// The first partition without a linearization, if any.
    pub fn first_failure(&self) -> Option<&Failure> {
        self.partitions.iter().find_map(|p| p.failure.as_ref())
    }
}

/// The result for one partition. Operation ids index the history's `operations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionResult {
    /// The partition's name (the key, or `"all"`/`"register"`).
    pub label: String,
    /// Its operations, in history order.
    pub operations: Vec<u32>,
    /// Its verdict.
    pub verdict: Verdict,
    /// Search steps spent on it.
    pub steps: u64,
    /// When linearizable: the order in which the operations took effect. Operations with an
    /// unknown outcome that are missing from it never took effect.
    pub linearization: Vec<u32>,
    /// When not linearizable: the witness.
    pub failure: Option<Failure>,
}

/// Why a partition is not linearizable, in a form a UI can draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The partition's name.
    pub label: String,
    /// The longest legal partial linearization found.
    pub longest_prefix: Vec<u32>,
    /// The model state after it, described.
    pub state_after_prefix: String,
    /// The operation that could not be placed next.
    pub blocked: u32,
    /// That operation, described (e.g. `get("x") -> "1"`).
    pub blocked_description: String,
    /// What the state would have had to be for it to be legal, if the model can say.
    pub needed: Option<String>,
    /// Completed operations that returned before it was called, latest return first.
    pub completed_before: Vec<u32>,
    /// A sentence or three for a human.
    pub explanation: String,
}

/// Steps each undecided partition gets in the first round; the slice doubles every round.
const FIRST_SLICE: u64 = 4096;

/// Checks a history against a model.
///
/// Partitions share the budget in rounds: in each round every undecided partition may spend a
/// slice of steps, and the slice doubles from round to round. Easy partitions are decided in the
/// first rounds even when another one is hard, and the total work is within a small factor of
/// what the decided partitions needed. As soon as one partition has no linearization the
/// history is not linearizable, and partitions still undecided are reported `Unknown` (this is
/// what Porcupine does too when it stops its other partitions at the first failure), except
/// that the round in which the failure was found is completed, so that the partitions cheap
/// enough to be decided in that round still get their witness.
pub fn check<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    options: &CheckOptions,
) -> CheckResult {
    let parts = model.partition(&history.operations);
    let op_lists: Vec<Vec<&Operation<M::Input, M::Output>>> = parts
        .iter()
        .map(|p| {
            p.operations
                .iter()
                .map(|&id| &history.operations[id as usize])
                .collect()
        })
        .collect();
    let mut searchers: Vec<Searcher<'_, M>> = op_lists
        .iter()
        .map(|ops| Searcher::new(model, ops, options))
        .collect();
    let mut outcomes: Vec<Option<Search<M::State>>> = parts.iter().map(|_| None).collect();
    let mut budget = options.budget;
    let mut slice = FIRST_SLICE;
    let mut failed = false;
    while !failed && budget > 0 && outcomes.iter().any(Option::is_none) {
        for (searcher, outcome) in searchers.iter_mut().zip(outcomes.iter_mut()) {
            if outcome.is_some() {
                continue;
            }
            let mut allowance = slice.min(budget);
            budget -= allowance;
            *outcome = searcher.run(&mut allowance);
            budget += allowance;
            if outcome.is_some() {
                searcher.release();
            }
            failed |= matches!(outcome, Some(Search::Illegal { .. }));
            if budget == 0 {
                break;
            }
        }
        slice = slice.saturating_mul(2);
    }
    let mut partitions = Vec::with_capacity(parts.len());
    for ((part, outcome), searcher) in parts.into_iter().zip(outcomes).zip(&searchers) {
        let global = |local: &[u32]| {
            local
                .iter()
                .map(|&i| part.operations[i as usize])
                .collect::<Vec<u32>>()
        };
        let (verdict, linearization, failure) = match outcome {
            Some(Search::Linearizable(order)) => (Verdict::Linearizable, global(&order), None),
            None => (Verdict::Unknown, Vec::new(), None),
            Some(Search::Illegal {
                prefix,
                state,
                blocked,
            }) => {
                let blocked = part.operations[blocked as usize];
                let failure = explain(
                    model,
                    history,
                    &part.label,
                    &part.operations,
                    global(&prefix),
                    &state,
                    blocked,
                );
                (Verdict::NotLinearizable, Vec::new(), Some(failure))
            }
        };
        partitions.push(PartitionResult {
            label: part.label,
            operations: part.operations,
            verdict,
            steps: searcher.steps,
            linearization,
            failure,
        });
    }
    let verdict = overall(partitions.iter().map(|p| p.verdict));
    CheckResult {
        verdict,
        steps: options.budget - budget,
        partitions,
    }
}

/// Combines partition verdicts: any failure is definite; otherwise any unknown makes it unknown.
fn overall(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    verdicts.fold(Verdict::Linearizable, |acc, v| match (acc, v) {
        (Verdict::NotLinearizable, _) | (_, Verdict::NotLinearizable) => Verdict::NotLinearizable,
        (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
        _ => Verdict::Linearizable,
    })
}

/// Describes an operation with its client and times, e.g. `get("x") -> "1" (client 3, [120, 140])`.
pub fn describe_with_times<M: Model>(model: &M, op: &Operation<M::Input, M::Output>) -> String {
    let ret = match op.effective_return() {
        Some(r) => r.to_string(),
        None => String::from("?"),
    };
    format!(
        "{} (client {}, [{}, {}])",
        model.describe_operation(&op.input, op.known_output()),
        op.client,
        op.call,
        ret
    )
}

fn explain<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    label: &str,
    part_ops: &[u32],
    longest_prefix: Vec<u32>,
    state: &M::State,
    blocked: u32,
) -> Failure {
    let op_of = |id: u32| &history.operations[id as usize];
    let blocked_op = op_of(blocked);
    let mut completed_before: Vec<u32> = part_ops
        .iter()
        .copied()
        .filter(|&id| op_of(id).precedes(blocked_op))
        .collect();
    completed_before.sort_by_key(|&id| std::cmp::Reverse((op_of(id).effective_return(), id)));
    let blocked_description =
        model.describe_operation(&blocked_op.input, blocked_op.known_output());
    let needed = model.describe_need(label, &blocked_op.input, blocked_op.known_output());
    let state_after_prefix = model.describe_state(label, state);

    let mut text = format!(
        "{} cannot be linearized.",
        describe_with_times(model, blocked_op)
    );
    if longest_prefix.is_empty() {
        text.push_str(&format!(
            " It cannot even go first: initially {state_after_prefix}"
        ));
    } else {
        let last = describe_with_times(model, op_of(*longest_prefix.last().expect("non-empty")));
        text.push_str(&format!(
            " The longest legal order found places {} of the {} operations, ending with {last}; after it {state_after_prefix}",
            longest_prefix.len(),
            part_ops.len()
        ));
        if let Some(writer) = last_change(model, history, &longest_prefix) {
            text.push_str(&format!(
                " (last changed by {})",
                describe_with_times(model, op_of(writer))
            ));
        }
    }
    match &needed {
        Some(need) => text.push_str(&format!(", but this operation needs {need}.")),
        None => text.push_str(", and this operation is not legal in that state."),
    }
    if completed_before.is_empty() {
        text.push_str(" No operation had completed before it was called.");
    } else {
        let shown: Vec<String> = completed_before
            .iter()
            .take(3)
            .map(|&id| describe_with_times(model, op_of(id)))
            .collect();
        let more = completed_before.len().saturating_sub(3);
        text.push_str(&format!(
            " It was called after {} had completed",
            shown.join(", ")
        ));
        if more > 0 {
            text.push_str(&format!(" (and {more} earlier operations)"));
        }
        text.push_str(", so it cannot take effect before them");
    }
    text.push_str("; and no order of the operations that may go before it makes it legal.");
    Failure {
        label: label.to_owned(),
        longest_prefix,
        state_after_prefix,
        blocked,
        blocked_description,
        needed,
        completed_before,
        explanation: text,
    }
}

/// Replays a (legal) prefix and returns the last operation in it that changed the state.
fn last_change<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    prefix: &[u32],
) -> Option<u32> {
    let mut state = model.init();
    let mut last = None;
    for &id in prefix {
        let op = &history.operations[id as usize];
        match model.step(&state, &op.input, op.known_output()) {
            Step::Changed(next) => {
                state = next;
                last = Some(id);
            }
            Step::Unchanged => {}
            Step::Illegal => unreachable!("the witness prefix is a legal sequence"),
        }
    }
    last
}
