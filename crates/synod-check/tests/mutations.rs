//! Self-mutation: the checker's interval semantics are switched to two wrong variants, and the
//! tests show that the conformance suite and the hand cases notice. If a mutation went
//! unnoticed, the suite would not be testing what it claims to.
//!
//! Recorded numbers (asserted below, so they stay true):
//! - `ignore_real_time` (budget 100,000 steps per file): 88 of the 108 files get a wrong
//!   verdict: 60 of the 82 not-linearizable histories pass as linearizable, and 28 files
//!   exhaust the budget (without real-time order the search space explodes); no linearizable
//!   file is judged illegal, as expected of a mutation that only removes constraints.
//! - `half_open_intervals`: 0 conformance files flip, because those histories never put a call
//!   and a return at the same instant (time is the line number). The closed-interval hand case
//!   catches it instead, which is why that case exists.

mod common;

use common::{check_file, conformance_dir, verdicts};
use synod_check::{check, CheckOptions, History, KvInput, KvModel, KvOutput, Operation, Verdict};

/// Without real-time order the search space explodes; a small budget keeps the test fast and an
/// exhausted budget (`Unknown`) is also a wrong answer for these files.
const MUTANT_BUDGET: u64 = 100_000;

fn mutated(half_open_intervals: bool, ignore_real_time: bool) -> CheckOptions {
    CheckOptions {
        half_open_intervals,
        ignore_real_time,
        budget: MUTANT_BUDGET,
    }
}

/// Files whose verdict under `options` differs from `verdicts.csv`, with the wrong verdict.
fn flipped(options: &CheckOptions) -> Vec<(String, Verdict)> {
    let dir = conformance_dir();
    verdicts(&dir)
        .into_iter()
        .filter_map(|(file, want)| {
            let got = check_file(&dir, &file, options).verdict;
            let want = if want {
                Verdict::Linearizable
            } else {
                Verdict::NotLinearizable
            };
            (got != want).then_some((file, got))
        })
        .collect()
}

#[test]
fn ignoring_real_time_is_caught_by_the_conformance_suite() {
    let flips = flipped(&mutated(false, true));
    let passed_wrongly = flips
        .iter()
        .filter(|(_, v)| *v == Verdict::Linearizable)
        .count();
    let unknown = flips.iter().filter(|(_, v)| *v == Verdict::Unknown).count();
    let failed_wrongly = flips
        .iter()
        .filter(|(_, v)| *v == Verdict::NotLinearizable)
        .count();
    println!("ignore_real_time: {} files flip: {passed_wrongly} illegal -> linearizable, {unknown} -> unknown, {failed_wrongly} linearizable -> illegal", flips.len());
    assert_eq!(
        (passed_wrongly, unknown, failed_wrongly),
        (60, 28, 0),
        "flipped files: {flips:?}"
    );
}

#[test]
fn half_open_intervals_are_invisible_to_the_conformance_suite() {
    // Documented above: the corpus has no equal timestamps, so it cannot see this mutation.
    let options = CheckOptions {
        half_open_intervals: true,
        ..CheckOptions::default()
    };
    assert_eq!(flipped(&options).len(), 0);
}

fn tie() -> History<KvInput, KvOutput> {
    History {
        operations: vec![
            Operation::completed(
                0,
                0,
                10,
                KvInput::Set {
                    key: "x".into(),
                    value: "1".into(),
                },
                KvOutput::Done,
            ),
            Operation::completed(
                1,
                10,
                20,
                KvInput::Get { key: "x".into() },
                KvOutput::Value { value: None },
            ),
        ],
    }
}

#[test]
fn half_open_intervals_are_caught_by_the_closed_interval_hand_case() {
    assert_eq!(
        check(&KvModel, &tie(), &CheckOptions::default()).verdict,
        Verdict::Linearizable
    );
    assert_eq!(
        check(&KvModel, &tie(), &mutated(true, false)).verdict,
        Verdict::NotLinearizable
    );
}

#[test]
fn ignoring_real_time_is_caught_by_a_stale_read_hand_case() {
    let mut stale = tie();
    stale.operations[1].call = 11;
    assert_eq!(
        check(&KvModel, &stale, &CheckOptions::default()).verdict,
        Verdict::NotLinearizable
    );
    assert_eq!(
        check(&KvModel, &stale, &mutated(false, true)).verdict,
        Verdict::Linearizable
    );
}
