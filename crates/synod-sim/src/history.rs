//! The client history, as the linearizability checker sees it.
//!
//! Each operation keeps its invocation time and, when the client learned the outcome, its
//! completion time, both in virtual microseconds. An operation whose outcome is unknown (the
//! client gave up, or the run ended while it was pending) is handed to the checker with no
//! return and no output: it may have taken effect at any point after its call, or never. An
//! operation that definitely failed did not happen and is left out.

use crate::world::{HistoryEntry, Outcome};
use synod_check::{check, CheckOptions, CheckResult, History, KvInput, KvModel, KvOutput};
use synod_core::{KvOp, KvResult};

/// The checker's view of one operation's input.
pub fn input(op: &KvOp) -> KvInput {
    match op {
        KvOp::Get { key } => KvInput::Get { key: key.clone() },
        KvOp::Set { key, value } => KvInput::Set {
            key: key.clone(),
            value: value.clone(),
        },
        KvOp::Contains { key } => KvInput::Contains { key: key.clone() },
        KvOp::Remove { key } => KvInput::Remove { key: key.clone() },
    }
}

/// The checker's view of one operation's output.
pub fn output(result: &KvResult) -> KvOutput {
    match result {
        KvResult::Value { value } => KvOutput::Value {
            value: value.clone(),
        },
        KvResult::Done => KvOutput::Done,
        KvResult::Present { present } => KvOutput::Present { present: *present },
        KvResult::Removed { existed } => KvOutput::Removed { existed: *existed },
    }
}

/// The history to check, and for each of its operations the index of the entry it came
/// from (failed operations are left out, so the two numberings differ).
pub fn to_check(entries: &[HistoryEntry]) -> (History<KvInput, KvOutput>, Vec<usize>) {
    let mut index = Vec::new();
    let history = History::from_tuples(entries.iter().enumerate().filter_map(|(i, e)| {
        let (ret, out) = match &e.outcome {
            Outcome::Failed { .. } => return None,
            Outcome::Ok { result } => (e.ret.map(|t| t.as_us()), Some(output(result))),
            Outcome::Pending | Outcome::Unknown => (None, None),
        };
        index.push(i);
        Some((
            u64::from(e.client.0),
            e.call.as_us(),
            ret,
            input(&e.op),
            out,
        ))
    }));
    (history, index)
}

/// Checks a client history against the key-value model, key by key.
pub fn check_history(entries: &[HistoryEntry], budget: u64) -> (CheckResult, Vec<usize>) {
    let (history, index) = to_check(entries);
    let options = CheckOptions {
        budget,
        ..CheckOptions::default()
    };
    (check(&KvModel, &history, &options), index)
}
