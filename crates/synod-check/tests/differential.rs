//! Differential testing: thousands of small random histories are judged by the checker and by
//! a brute-force search written here from the definition (try every order of the operations
//! that respects real time, on the whole store at once, without partitions or caching). The two
//! must always agree, and every witness the checker returns must replay correctly.
//!
//! Three kinds of histories are generated: linearizable by construction (each operation takes
//! effect at a random instant inside its interval, or for an unknown outcome at any instant after
//! its call, or never), the same with one output corrupted, and ones with random outputs. The
//! test counts both verdicts so that it cannot pass by only ever seeing one.

use std::cell::Cell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use synod_check::{
    check, CheckOptions, CheckResult, History, KvInput, KvModel, KvOutput, Operation, RegValue,
    RegisterInput, RegisterModel, RegisterOutput, Verdict,
};

/// The raw material of one operation.
#[derive(Clone, Debug)]
struct RawOp {
    kind: u8,
    key: u8,
    value: u8,
    client: u8,
    call: u64,
    duration: u64,
    /// 0: return unknown, 1: output unknown, else known.
    outcome: u8,
    /// Where in (or after) the interval it takes effect.
    point: u64,
    /// For unknown outcomes: whether it never takes effect.
    never: bool,
}

fn raw_op() -> impl Strategy<Value = RawOp> {
    (
        0u8..4,
        0u8..3,
        0u8..3,
        0u8..4,
        0u64..30,
        0u64..12,
        0u8..12,
        0u64..1000,
        any::<bool>(),
    )
        .prop_map(
            |(kind, key, value, client, call, duration, outcome, point, never)| RawOp {
                kind,
                key,
                value,
                client,
                call,
                duration,
                outcome,
                point,
                never,
            },
        )
}

/// (operations, mode, corruption target, corruption value)
fn case(max_ops: usize) -> impl Strategy<Value = (Vec<RawOp>, u8, usize, u8)> {
    (
        prop::collection::vec(raw_op(), 1..=max_ops),
        0u8..3,
        any::<usize>(),
        0u8..4,
    )
}

/// The instant each operation takes effect, or `None` if it never does. Known operations take
/// effect inside their interval; unknown ones anywhere after their call.
fn effect_points(raw: &[RawOp]) -> Vec<Option<u64>> {
    raw.iter()
        .map(|r| {
            if r.outcome <= 1 {
                (!r.never).then_some(r.call + r.point % 40)
            } else {
                Some(r.call + r.point % (r.duration + 1))
            }
        })
        .collect()
}

/// Builds operations whose outputs come from applying them in effect order with `apply`.
fn by_construction<I: Clone, O, S>(
    raw: &[RawOp],
    inputs: &[I],
    mut state: S,
    apply: impl Fn(&mut S, &I) -> O,
) -> Vec<Operation<I, O>> {
    let points = effect_points(raw);
    let mut order: Vec<usize> = (0..raw.len()).filter(|&i| points[i].is_some()).collect();
    order.sort_by_key(|&i| (points[i], i));
    let mut outputs: Vec<Option<O>> = raw.iter().map(|_| None).collect();
    for i in order {
        outputs[i] = Some(apply(&mut state, &inputs[i]));
    }
    raw.iter()
        .zip(inputs)
        .zip(outputs)
        .map(|((r, input), output)| {
            let ret = r.call + r.duration;
            match r.outcome {
                0 => Operation {
                    client: u64::from(r.client),
                    call: r.call,
                    ret: None,
                    input: input.clone(),
                    output: None,
                },
                1 => Operation {
                    client: u64::from(r.client),
                    call: r.call,
                    ret: Some(ret),
                    input: input.clone(),
                    output: None,
                },
                _ => Operation {
                    client: u64::from(r.client),
                    call: r.call,
                    ret: Some(ret),
                    input: input.clone(),
                    output: Some(output.expect("known operations always take effect")),
                },
            }
        })
        .collect()
}

/// Brute force: is there an order of all known operations and some unknown ones, respecting
/// real time (closed intervals), in which every known output is what `apply` says?
fn brute_force<I, O, S: Clone>(
    ops: &[Operation<I, O>],
    init: S,
    apply: &impl Fn(&S, &I, Option<&O>) -> Option<S>,
) -> bool {
    fn known<I, O>(op: &Operation<I, O>) -> Option<u64> {
        op.ret.filter(|_| op.output.is_some())
    }
    fn dfs<I, O, S: Clone>(
        ops: &[Operation<I, O>],
        placed: &mut Vec<bool>,
        state: &S,
        apply: &impl Fn(&S, &I, Option<&O>) -> Option<S>,
    ) -> bool {
        if ops
            .iter()
            .zip(placed.iter())
            .all(|(op, &p)| p || known(op).is_none())
        {
            return true;
        }
        for i in 0..ops.len() {
            if placed[i] {
                continue;
            }
            let must_wait = ops
                .iter()
                .enumerate()
                .any(|(j, o)| !placed[j] && j != i && known(o).is_some_and(|r| r < ops[i].call));
            if must_wait {
                continue;
            }
            let output = if known(&ops[i]).is_some() {
                ops[i].output.as_ref()
            } else {
                None
            };
            if let Some(next) = apply(state, &ops[i].input, output) {
                placed[i] = true;
                if dfs(ops, placed, &next, apply) {
                    return true;
                }
                placed[i] = false;
            }
        }
        false
    }
    dfs(ops, &mut vec![false; ops.len()], &init, apply)
}

// ---- key-value store ----

fn kv_input(r: &RawOp) -> KvInput {
    let key = ["a", "b", "c"][usize::from(r.key)].to_owned();
    match r.kind {
        0 => KvInput::Get { key },
        1 => KvInput::Set {
            key,
            value: r.value.to_string(),
        },
        2 => KvInput::Contains { key },
        _ => KvInput::Remove { key },
    }
}

fn kv_apply(store: &mut BTreeMap<String, String>, input: &KvInput) -> KvOutput {
    match input {
        KvInput::Get { key } => KvOutput::Value {
            value: store.get(key).cloned(),
        },
        KvInput::Set { key, value } => {
            store.insert(key.clone(), value.clone());
            KvOutput::Done
        }
        KvInput::Contains { key } => KvOutput::Present {
            present: store.contains_key(key),
        },
        KvInput::Remove { key } => KvOutput::Removed {
            existed: store.remove(key).is_some(),
        },
    }
}

/// The brute force's own reading of the kv semantics, on the whole store.
fn kv_legal(
    store: &BTreeMap<String, String>,
    input: &KvInput,
    output: Option<&KvOutput>,
) -> Option<BTreeMap<String, String>> {
    let mut next = store.clone();
    let actual = kv_apply(&mut next, input);
    (output.is_none() || output == Some(&actual)).then_some(next)
}

/// Another output of the same kind, chosen by `v`.
fn kv_other_output(output: &KvOutput, v: u8) -> KvOutput {
    match output {
        KvOutput::Value { value } => {
            let candidates = [None, Some("0"), Some("1"), Some("2")];
            let mut pick = candidates[usize::from(v % 4)].map(str::to_owned);
            if &pick == value {
                pick = candidates[usize::from((v + 1) % 4)].map(str::to_owned);
            }
            KvOutput::Value { value: pick }
        }
        KvOutput::Done => KvOutput::Done,
        KvOutput::Present { present } => KvOutput::Present { present: !present },
        KvOutput::Removed { existed } => KvOutput::Removed { existed: !existed },
    }
}

/// Checks that a result's witnesses replay: linearizations are legal, respect real time and
/// contain every known operation; failure prefixes are legal and the blocked op is not in them.
fn assert_witness_replays<I, O: PartialEq, S: Clone>(
    ops: &[Operation<I, O>],
    result: &CheckResult,
    init: S,
    apply: &impl Fn(&S, &I, Option<&O>) -> Option<S>,
) -> Result<(), TestCaseError> {
    for part in &result.partitions {
        let replay = |order: &[u32]| -> Result<(), TestCaseError> {
            let mut state = init.clone();
            for &id in order {
                let op = &ops[id as usize];
                let out = if op.is_unknown() {
                    None
                } else {
                    op.output.as_ref()
                };
                state = apply(&state, &op.input, out)
                    .ok_or_else(|| TestCaseError::fail(format!("op {id} illegal in witness")))?;
            }
            for (a_pos, &a) in order.iter().enumerate() {
                for &b in &order[..a_pos] {
                    prop_assert!(
                        !ops[a as usize].precedes(&ops[b as usize]),
                        "op {a} placed after {b} but precedes it"
                    );
                }
            }
            Ok(())
        };
        match part.verdict {
            Verdict::Linearizable => {
                replay(&part.linearization)?;
                for &id in &part.operations {
                    let op = &ops[id as usize];
                    prop_assert!(
                        op.is_unknown() || part.linearization.contains(&id),
                        "known op {id} missing"
                    );
                }
            }
            Verdict::NotLinearizable => {
                let failure = part.failure.as_ref().expect("failure witness");
                replay(&failure.longest_prefix)?;
                prop_assert!(!failure.longest_prefix.contains(&failure.blocked));
                prop_assert!(!ops[failure.blocked as usize].is_unknown());
            }
            // Partitions still undecided when another one failed are left unknown.
            Verdict::Unknown => prop_assert_eq!(
                result.verdict,
                Verdict::NotLinearizable,
                "small histories never exhaust the budget"
            ),
        }
    }
    Ok(())
}

#[test]
fn kv_checker_agrees_with_brute_force_on_random_histories() {
    let mut runner = TestRunner::new(Config {
        cases: 10_000,
        failure_persistence: None,
        ..Config::default()
    });
    let (linearizable, illegal, corrupted_illegal) =
        (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    runner
        .run(&case(9), |(raw, mode, target, v)| {
            let inputs: Vec<KvInput> = raw.iter().map(kv_input).collect();
            let mut ops = by_construction(&raw, &inputs, BTreeMap::new(), kv_apply);
            let known: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].is_unknown()).collect();
            if mode == 1 && !known.is_empty() {
                let i = known[target % known.len()];
                let out = ops[i].output.as_ref().expect("known");
                ops[i].output = Some(kv_other_output(out, v));
            } else if mode == 2 {
                for (n, &i) in known.iter().enumerate() {
                    let out = ops[i].output.as_ref().expect("known");
                    if (target >> (n % 32)) & 1 == 1 {
                        ops[i].output = Some(kv_other_output(out, v.wrapping_add(n as u8)));
                    }
                }
            }
            let history = History {
                operations: ops.clone(),
            };
            let result = check(&KvModel, &history, &CheckOptions::default());
            let expected = brute_force(&ops, BTreeMap::new(), &kv_legal);
            prop_assert_eq!(
                result.verdict == Verdict::Linearizable,
                expected,
                "checker {:?}, brute force {}",
                result.verdict,
                expected
            );
            if mode == 0 {
                prop_assert_eq!(
                    result.verdict,
                    Verdict::Linearizable,
                    "linearizable by construction"
                );
            }
            assert_witness_replays(
                &ops,
                &result,
                None,
                &|s: &Option<String>, i: &KvInput, o: Option<&KvOutput>| {
                    // Per-key replay: the witness of a partition only holds that key's operations.
                    let mut store: BTreeMap<String, String> =
                        s.iter().map(|v| (i.key().to_owned(), v.clone())).collect();
                    let actual = kv_apply(&mut store, i);
                    (o.is_none() || o == Some(&actual)).then(|| store.get(i.key()).cloned())
                },
            )?;
            match result.verdict {
                Verdict::Linearizable => linearizable.set(linearizable.get() + 1),
                _ => {
                    illegal.set(illegal.get() + 1);
                    if mode == 1 {
                        corrupted_illegal.set(corrupted_illegal.get() + 1);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let (l, i, c) = (linearizable.get(), illegal.get(), corrupted_illegal.get());
    println!("kv: {l} linearizable, {i} not ({c} of them single corruptions)");
    assert!(
        l >= 2000 && i >= 2000 && c >= 500,
        "both verdicts must be common: {l} linearizable, {i} not, {c} corrupted"
    );
}

// ---- register ----

fn reg(v: u8) -> RegValue {
    RegValue::Int(i64::from(v))
}

fn register_input(r: &RawOp) -> RegisterInput {
    match r.kind {
        0 | 1 => RegisterInput::Read,
        2 => RegisterInput::Write {
            value: reg(r.value),
        },
        _ => RegisterInput::Cas {
            expected: reg(r.key),
            new: reg(r.value),
        },
    }
}

fn register_apply(state: &mut Option<RegValue>, input: &RegisterInput) -> RegisterOutput {
    match input {
        RegisterInput::Read => RegisterOutput::Value {
            value: state.clone(),
        },
        RegisterInput::Write { value } => {
            *state = Some(value.clone());
            RegisterOutput::Done
        }
        RegisterInput::Cas { expected, new } => {
            let ok = state.as_ref() == Some(expected);
            if ok {
                *state = Some(new.clone());
            }
            RegisterOutput::Cas { ok }
        }
    }
}

fn register_legal(
    state: &Option<RegValue>,
    input: &RegisterInput,
    output: Option<&RegisterOutput>,
) -> Option<Option<RegValue>> {
    let mut next = state.clone();
    let actual = register_apply(&mut next, input);
    (output.is_none() || output == Some(&actual)).then_some(next)
}

fn register_other_output(output: &RegisterOutput, v: u8) -> RegisterOutput {
    match output {
        RegisterOutput::Value { value } => {
            let mut pick = if v == 3 { None } else { Some(reg(v)) };
            if &pick == value {
                pick = Some(reg((v + 1) % 3));
            }
            RegisterOutput::Value { value: pick }
        }
        RegisterOutput::Done => RegisterOutput::Done,
        RegisterOutput::Cas { ok } => RegisterOutput::Cas { ok: !ok },
    }
}

#[test]
fn register_checker_agrees_with_brute_force_on_random_histories() {
    let mut runner = TestRunner::new(Config {
        cases: 5_000,
        failure_persistence: None,
        ..Config::default()
    });
    let (linearizable, illegal) = (Cell::new(0u32), Cell::new(0u32));
    runner
        .run(
            &(case(9), any::<bool>()),
            |((raw, mode, target, v), start_at_zero)| {
                let init = start_at_zero.then(|| reg(0));
                let inputs: Vec<RegisterInput> = raw.iter().map(register_input).collect();
                let mut ops = by_construction(&raw, &inputs, init.clone(), register_apply);
                let known: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].is_unknown()).collect();
                if mode >= 1 && !known.is_empty() {
                    let i = known[target % known.len()];
                    let out = ops[i].output.as_ref().expect("known");
                    ops[i].output = Some(register_other_output(out, v));
                }
                let history = History {
                    operations: ops.clone(),
                };
                let result = check(
                    &RegisterModel { init: init.clone() },
                    &history,
                    &CheckOptions::default(),
                );
                let expected = brute_force(&ops, init.clone(), &register_legal);
                prop_assert_eq!(
                    result.verdict == Verdict::Linearizable,
                    expected,
                    "checker {:?}, brute force {}",
                    result.verdict,
                    expected
                );
                if mode == 0 {
                    prop_assert_eq!(result.verdict, Verdict::Linearizable);
                }
                assert_witness_replays(&ops, &result, init, &register_legal)?;
                let counter = if result.verdict == Verdict::Linearizable {
                    &linearizable
                } else {
                    &illegal
                };
                counter.set(counter.get() + 1);
                Ok(())
            },
        )
        .unwrap();
    let (l, i) = (linearizable.get(), illegal.get());
    println!("register: {l} linearizable, {i} not");
    assert!(
        l >= 1000 && i >= 1000,
        "both verdicts must be common: {l} linearizable, {i} not"
    );
}
