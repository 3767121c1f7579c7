//! Exports: each history format reads back with `synod-check` to the same verdict, the trace
//! file reads back to the same records, scenario files round-trip, every kind of bad
//! scenario file gets its own error naming where, and arbitrary bytes never panic.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::test_runner::Config;
use std::sync::LazyLock;
use synod_check::{
    read_history, AnyHistory, CheckOptions, Format, ModelKind, ReadOptions, Verdict,
};
use synod_core::{ClientId, KvOp, KvResult, NodeId, Protocol};
use synod_sim::export::{
    history_edn, history_json, history_porcupine, scenario_from_json, scenario_to_json, trace_json,
    ScenarioFileError, MAX_SCENARIO_FILE_BYTES,
};
use synod_sim::fuzz::{scenario as fuzz_scenario, FuzzConfig};
use synod_sim::history::{check_history, to_check};
use synod_sim::scenario::SCENARIO_VERSION;
use synod_sim::world::TraceRecord;
use synod_sim::{HistoryEntry, Intervention, Outcome, Scenario, Simulation, Time};

/// A world where two of three nodes crash for a while, so its history has ok and unknown
/// outcomes (clients give up, or are still waiting at the end).
fn faulty_world(seed: u64, protocol: Protocol) -> Simulation {
    let mut s = Scenario::cluster(seed, 3, protocol, 3);
    let at = |us, action| synod_sim::Timed {
        at: Time(us),
        action,
    };
    s.interventions = vec![
        at(1_500_000, Intervention::Crash { node: NodeId(1) }),
        at(1_500_000, Intervention::Crash { node: NodeId(2) }),
        at(9_000_000, Intervention::Restart { node: NodeId(1) }),
        at(9_000_000, Intervention::Restart { node: NodeId(2) }),
    ];
    let mut sim = Simulation::new(s).expect("valid");
    sim.run_until(Time(12_000_000 + seed * 250_000));
    sim
}

fn read(format: Format, text: &str) -> AnyHistory {
    // Synod's histories are of the kv model, whatever the format's usual one.
    let model = (format == Format::Edn).then_some(ModelKind::Kv);
    let options = ReadOptions {
        format,
        model,
        ..ReadOptions::default()
    };
    read_history("export", text.as_bytes(), &options)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .history
}

fn verdict(h: &AnyHistory) -> Verdict {
    h.check(&CheckOptions::default()).verdict
}

#[test]
fn synod_json_reads_back_to_the_same_history() {
    for seed in 0..6 {
        let sim = faulty_world(seed, Protocol::MultiPaxos);
        let back = read(Format::Json, &history_json(sim.history()));
        assert_eq!(
            back,
            AnyHistory::Kv(to_check(sim.history()).0),
            "seed {seed}"
        );
        let (expected, _) = check_history(sim.history(), 2_000_000);
        assert_eq!(verdict(&back), expected.verdict, "seed {seed}");
    }
}

#[test]
fn jepsen_edn_reads_back_with_the_same_operations_and_verdict() {
    let mut unknown_seen = false;
    for seed in 0..6 {
        let sim = faulty_world(seed, Protocol::MultiPaxos);
        let text = history_edn(sim.history());
        unknown_seen |= text.contains(":type :info");
        let back = read(Format::Edn, &text);
        let expected = AnyHistory::Kv(to_check(sim.history()).0);
        assert_eq!(back.len(), expected.len(), "seed {seed}");
        assert_eq!(verdict(&back), verdict(&expected), "seed {seed}");
        assert_eq!(read(Format::Auto, &text).len(), expected.len());
    }
    assert!(
        unknown_seen,
        "no run had an unknown outcome: the test proves too little"
    );
}

#[test]
fn porcupine_export_keeps_linearizable_histories_linearizable() {
    let mut rewritten = 0;
    let mut left_out = 0;
    for seed in 0..6 {
        let sim = faulty_world(seed, Protocol::MultiPaxos);
        let export = history_porcupine(sim.history());
        let back = read(Format::PorcupineKv, &export.text);
        let kept = sim
            .history()
            .iter()
            .filter(|e| !matches!(e.outcome, Outcome::Failed { .. }))
            .filter(|e| !matches!(e.op, KvOp::Contains { .. }))
            .count();
        assert_eq!(back.len(), kept, "seed {seed}");
        let (expected, _) = check_history(sim.history(), 2_000_000);
        if expected.verdict == Verdict::Linearizable {
            assert_eq!(verdict(&back), Verdict::Linearizable, "seed {seed}");
        }
        rewritten += export.rewritten;
        left_out += export.left_out;
    }
    assert!(
        rewritten > 0 && left_out > 0,
        "the translation was not exercised"
    );
}

fn entry(client: u16, op: KvOp, call: u64, ret: Option<u64>, outcome: Outcome) -> HistoryEntry {
    HistoryEntry {
        client: ClientId(client),
        id: synod_core::CommandId {
            client: ClientId(client),
            seq: call,
        },
        op,
        call: Time(call),
        ret: ret.map(Time),
        outcome,
    }
}

#[test]
fn porcupine_export_translates_each_operation_as_documented() {
    let ok = |result| Outcome::Ok { result };
    let key = || "k".to_owned();
    let history = vec![
        entry(
            0,
            KvOp::Get { key: key() },
            1,
            Some(2),
            ok(KvResult::Value { value: None }),
        ),
        entry(
            1,
            KvOp::Set {
                key: key(),
                value: "v".into(),
            },
            3,
            Some(4),
            ok(KvResult::Done),
        ),
        entry(
            0,
            KvOp::Contains { key: key() },
            5,
            Some(6),
            ok(KvResult::Present { present: true }),
        ),
        entry(
            1,
            KvOp::Remove { key: key() },
            7,
            Some(8),
            ok(KvResult::Removed { existed: true }),
        ),
        entry(0, KvOp::Get { key: key() }, 9, None, Outcome::Unknown),
        entry(
            1,
            KvOp::Set {
                key: key(),
                value: "w".into(),
            },
            10,
            Some(11),
            Outcome::Failed {
                reason: "no".into(),
            },
        ),
    ];
    let export = history_porcupine(&history);
    assert_eq!((export.left_out, export.rewritten), (1, 1));
    let lines: Vec<&str> = export.text.lines().collect();
    assert_eq!(
        lines,
        [
            "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}",
            "{:process 0, :type :ok, :f :get, :key \"k\", :value \"\"}",
            "{:process 1, :type :invoke, :f :put, :key \"k\", :value \"v\"}",
            "{:process 1, :type :ok, :f :put, :key \"k\", :value \"v\"}",
            "{:process 1, :type :invoke, :f :put, :key \"k\", :value \"\"}",
            "{:process 1, :type :ok, :f :put, :key \"k\", :value \"\"}",
            "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}",
            "{:process 0, :type :info, :f :get, :key \"k\", :value nil}",
        ]
    );
    assert_eq!(
        verdict(&read(Format::PorcupineKv, &export.text)),
        Verdict::Linearizable
    );
}

#[test]
fn the_trace_file_reads_back_to_the_same_records() {
    let sim = faulty_world(3, Protocol::MultiPaxos);
    assert!(!sim.trace().is_empty());
    let text = trace_json(&sim);
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["seed"], sim.scenario().seed);
    assert_eq!(v["trace_hash"], format!("{:016x}", sim.trace_hash()));
    assert_eq!(v["end_us"], sim.now().as_us());
    let records: Vec<TraceRecord> = serde_json::from_value(v["records"].clone()).expect("records");
    assert_eq!(records, sim.trace());
    assert!(records
        .iter()
        .any(|r| matches!(r.kind, synod_sim::TraceKind::Intervened { .. })));
    // One record per line, so the file diffs and greps well.
    assert_eq!(text.lines().count(), sim.trace().len() + 2);
}

// ---- scenario files ----

#[test]
fn random_scenario_files_round_trip() {
    for seed in 0..200 {
        let s = fuzz_scenario(seed, &FuzzConfig::new(1 + (seed % 7) as u8));
        let text = scenario_to_json(&s);
        assert_eq!(scenario_from_json(text.as_bytes()), Ok(s), "seed {seed}");
    }
}

#[test]
fn a_minimal_scenario_file_takes_every_default() {
    let text = r#"{"version": 1, "seed": 5, "cluster": {"nodes": 1, "protocol": "single_node"}}"#;
    assert_eq!(
        scenario_from_json(text.as_bytes()),
        Ok(Scenario::single_node(5))
    );
}

fn file_error(text: &str) -> ScenarioFileError {
    scenario_from_json(text.as_bytes()).expect_err(text)
}

#[test]
fn each_kind_of_bad_scenario_file_says_what_and_where() {
    assert_eq!(file_error(""), ScenarioFileError::Empty);
    assert_eq!(file_error(" \n\t"), ScenarioFileError::Empty);
    assert_eq!(file_error("").to_string(), "the file is empty");

    let e = file_error("{\n  \"version\": 1,\n  \"seed\": 3,,\n}");
    assert!(
        matches!(e, ScenarioFileError::Syntax { line: 3, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("line 3, column 13: not JSON: "),
        "{e}"
    );

    let e = file_error("{\"version\": 1,\n\"seed\": 3");
    assert!(e.to_string().contains("ends early"), "{e}");

    let e = file_error("{\"version\": 1,\n \"seed\": 1, \"cluster\": {\"nodes\": \"three\"}}");
    let ScenarioFileError::Invalid { line, message, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*line, 2);
    assert!(message.contains("cluster.nodes"), "{message}");
    assert!(!message.contains(" at line "), "{message}");
    assert!(e.to_string().starts_with("line 2, column "), "{e}");

    let mut v = serde_json::to_value(Scenario::single_node(1)).expect("json");
    v["version"] = (SCENARIO_VERSION + 1).into();
    let e = file_error(&v.to_string());
    assert_eq!(
        e,
        ScenarioFileError::NewerVersion {
            found: u64::from(SCENARIO_VERSION) + 1,
            supported: SCENARIO_VERSION
        }
    );
    assert!(e.to_string().contains("is not supported"), "{e}");

    let mut v = serde_json::to_value(Scenario::single_node(1)).expect("json");
    v["cluster"]["nodez"] = 3.into();
    let e = file_error(&v.to_string());
    assert_eq!(
        e,
        ScenarioFileError::UnknownField {
            path: "cluster.nodez".into()
        }
    );
    assert!(e.to_string().contains("misspelt"), "{e}");

    let mut s = Scenario::single_node(1);
    s.interventions.push(synod_sim::Timed {
        at: Time(5),
        action: Intervention::Crash { node: NodeId(4) },
    });
    let e = file_error(&scenario_to_json(&s));
    assert!(matches!(e, ScenarioFileError::InvalidScenario(_)), "{e:?}");
    assert!(e.to_string().contains("intervention 0"), "{e}");

    // An intervention names its action, and has that action's fields and no other's.
    let mut v = serde_json::to_value(&s).expect("json");
    v["interventions"][0]["action"] = serde_json::json!({"action": "crash"});
    let e = file_error(&v.to_string());
    assert!(
        e.to_string()
            .ends_with("at interventions[0].action: this action needs the field `node`"),
        "{e}"
    );
    v["interventions"][0]["action"] = serde_json::json!({"action": "heal", "node": 1});
    assert_eq!(
        file_error(&v.to_string()),
        ScenarioFileError::UnknownField {
            path: "interventions[0].action.node".into()
        }
    );
    v["interventions"][0]["action"] = serde_json::json!({"action": "explode", "node": 1});
    let e = file_error(&v.to_string());
    assert!(
        e.to_string()
            .contains("at interventions[0].action.action: unknown variant `explode`"),
        "{e}"
    );

    let big = vec![b' '; MAX_SCENARIO_FILE_BYTES + 1];
    assert!(matches!(
        scenario_from_json(&big),
        Err(ScenarioFileError::TooLarge { .. })
    ));
}

/// Cases per hostile-input property: `default` in `cargo test`, or `SYNOD_FUZZ_CASES` for a
/// longer run (`SYNOD_FUZZ_CASES=1000000 cargo test -p synod-sim --release --test export`).
fn hostile_cases(default: u32) -> u32 {
    std::env::var("SYNOD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

static SCENARIO_TEXT: LazyLock<String> = LazyLock::new(|| {
    let mut s = fuzz_scenario(11, &FuzzConfig::new(3));
    s.interventions.truncate(12);
    scenario_to_json(&s)
});

proptest! {
    #![proptest_config(Config { cases: hostile_cases(20_000), failure_persistence: None, ..Config::default() })]

    /// Any bytes at all.
    #[test]
    fn arbitrary_bytes_never_panic_the_scenario_reader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = scenario_from_json(&bytes);
    }

    /// A valid file with a few bytes changed, inserted or cut: an error, or a scenario that
    /// passes validation.
    #[test]
    fn edited_scenario_files_load_valid_or_not_at_all(
        edits in proptest::collection::vec((0u8..3, any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = SCENARIO_TEXT.clone().into_bytes();
        for (kind, at, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
        }
        if let Ok(s) = scenario_from_json(&bytes) {
            prop_assert_eq!(s.validate(), Ok(()));
        }
    }
}
