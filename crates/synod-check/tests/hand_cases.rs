//! Hand-made histories with exact timestamps, each proving one point of the history semantics
//! (correctness.md, section 3).

use synod_check::{
    check, read_history, CheckOptions, CheckResult, History, KvInput, KvModel, KvOutput, Operation,
    ReadOptions, RegValue, Verdict,
};

fn set(key: &str, value: &str) -> KvInput {
    KvInput::Set {
        key: key.into(),
        value: value.into(),
    }
}
fn get(key: &str) -> KvInput {
    KvInput::Get { key: key.into() }
}
fn val(v: Option<&str>) -> KvOutput {
    KvOutput::Value {
        value: v.map(str::to_owned),
    }
}
fn ok(
    client: u64,
    call: u64,
    ret: u64,
    input: KvInput,
    output: KvOutput,
) -> Operation<KvInput, KvOutput> {
    Operation::completed(client, call, ret, input, output)
}

fn kv(ops: Vec<Operation<KvInput, KvOutput>>) -> CheckResult {
    check(
        &KvModel,
        &History { operations: ops },
        &CheckOptions::default(),
    )
}

fn kv_with(ops: Vec<Operation<KvInput, KvOutput>>, options: &CheckOptions) -> Verdict {
    check(&KvModel, &History { operations: ops }, options).verdict
}

/// A set returning at 10 and a get called at 10 overlap, so the get may go first.
fn tie_history() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        ok(0, 0, 10, set("x", "1"), KvOutput::Done),
        ok(1, 10, 20, get("x"), val(None)),
    ]
}

#[test]
fn an_operation_returning_at_t_overlaps_one_called_at_t() {
    assert_eq!(kv(tie_history()).verdict, Verdict::Linearizable);
}

#[test]
fn one_tick_later_the_set_strictly_precedes_the_get() {
    let ops = vec![
        ok(0, 0, 10, set("x", "1"), KvOutput::Done),
        ok(1, 11, 20, get("x"), val(None)),
    ];
    let result = kv(ops);
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    let failure = result.first_failure().unwrap();
    assert_eq!(failure.blocked, 1);
    assert_eq!(failure.longest_prefix, vec![0]);
    assert_eq!(failure.completed_before, vec![0]);
    assert_eq!(failure.state_after_prefix, "\"x\" = \"1\"");
    assert_eq!(failure.needed.as_deref(), Some("\"x\" is absent"));
    assert!(
        failure.explanation.contains("get(\"x\") -> none"),
        "{}",
        failure.explanation
    );
    assert!(
        failure
            .explanation
            .contains("set(\"x\", \"1\") (client 0, [0, 10])"),
        "{}",
        failure.explanation
    );
}

#[test]
fn zero_duration_operations_at_the_same_instant_overlap() {
    let both_ways = [val(Some("1")), val(None)];
    for out in both_ways {
        let ops = vec![
            ok(0, 5, 5, set("x", "1"), KvOutput::Done),
            ok(1, 5, 5, get("x"), out.clone()),
        ];
        assert_eq!(kv(ops).verdict, Verdict::Linearizable, "get -> {out:?}");
    }
}

#[test]
fn zero_duration_operations_at_different_instants_are_ordered() {
    let ops = vec![
        ok(0, 5, 5, set("x", "1"), KvOutput::Done),
        ok(1, 6, 6, get("x"), val(None)),
    ];
    assert_eq!(kv(ops).verdict, Verdict::NotLinearizable);
    let ops = vec![
        ok(1, 4, 4, get("x"), val(Some("1"))),
        ok(0, 5, 5, set("x", "1"), KvOutput::Done),
    ];
    assert_eq!(kv(ops).verdict, Verdict::NotLinearizable);
}

#[test]
fn a_pending_write_may_take_effect_long_after_its_call() {
    let ops = vec![
        Operation::unknown(0, 0, set("x", "1")),
        ok(1, 100, 110, get("x"), val(Some("1"))),
    ];
    let result = kv(ops);
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.partitions[0].linearization, vec![0, 1]);
}

#[test]
fn a_pending_write_may_never_take_effect() {
    let ops = vec![
        Operation::unknown(0, 0, set("x", "1")),
        ok(1, 100, 110, get("x"), val(None)),
    ];
    let result = kv(ops);
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(
        result.partitions[0].linearization,
        vec![1],
        "the write is left out: it never happened"
    );
}

#[test]
fn a_pending_write_cannot_take_effect_before_its_call() {
    let ops = vec![
        ok(1, 0, 5, get("x"), val(Some("1"))),
        Operation::unknown(0, 10, set("x", "1")),
    ];
    assert_eq!(kv(ops).verdict, Verdict::NotLinearizable);
}

#[test]
fn a_pending_write_takes_effect_at_most_once() {
    // Seen, then gone, then seen again: one pending write cannot explain both reads of "1".
    let ops = vec![
        Operation::unknown(0, 0, set("x", "1")),
        ok(1, 10, 20, get("x"), val(Some("1"))),
        ok(
            2,
            30,
            40,
            KvInput::Remove { key: "x".into() },
            KvOutput::Removed { existed: true },
        ),
        ok(1, 50, 60, get("x"), val(Some("1"))),
    ];
    assert_eq!(kv(ops).verdict, Verdict::NotLinearizable);
}

#[test]
fn an_unknown_output_with_a_known_return_is_still_unconstrained() {
    // A timed-out get: any output is accepted, at any time after the call.
    let mut timed_out = ok(1, 10, 20, get("x"), val(Some("zzz")));
    timed_out.output = None;
    let ops = vec![ok(0, 0, 5, set("x", "1"), KvOutput::Done), timed_out];
    assert_eq!(kv(ops).verdict, Verdict::Linearizable);
}

#[test]
fn remove_and_contains_report_presence() {
    let rm = |existed| KvOutput::Removed { existed };
    let has = |present| KvOutput::Present { present };
    let contains = || KvInput::Contains { key: "x".into() };
    let remove = || KvInput::Remove { key: "x".into() };
    let good = vec![
        ok(0, 0, 1, remove(), rm(false)),
        ok(0, 2, 3, set("x", "1"), KvOutput::Done),
        ok(0, 4, 5, contains(), has(true)),
        ok(0, 6, 7, remove(), rm(true)),
        ok(0, 8, 9, contains(), has(false)),
        ok(0, 10, 11, get("x"), val(None)),
    ];
    assert_eq!(kv(good).verdict, Verdict::Linearizable);
    let bad = vec![
        ok(0, 0, 1, set("x", "1"), KvOutput::Done),
        ok(0, 2, 3, remove(), rm(false)),
    ];
    assert_eq!(kv(bad).verdict, Verdict::NotLinearizable);
}

#[test]
fn keys_are_checked_independently_and_all_must_pass() {
    let ops = vec![
        ok(0, 0, 10, set("x", "1"), KvOutput::Done),
        ok(1, 20, 30, get("x"), val(Some("1"))),
        ok(0, 0, 10, set("y", "1"), KvOutput::Done),
        ok(1, 20, 30, get("y"), val(Some("2"))),
    ];
    let result = kv(ops);
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    assert_eq!(result.partitions.len(), 2);
    assert_eq!(result.partitions[0].label, "x");
    assert_eq!(result.partitions[0].verdict, Verdict::Linearizable);
    assert_eq!(result.partitions[0].linearization, vec![0, 1]);
    assert_eq!(result.partitions[1].verdict, Verdict::NotLinearizable);
    assert_eq!(result.first_failure().unwrap().label, "y");
}

#[test]
fn an_empty_history_is_linearizable() {
    assert_eq!(kv(vec![]).verdict, Verdict::Linearizable);
}

#[test]
fn a_spent_budget_is_unknown_never_a_pass() {
    let ops = tie_history();
    assert_eq!(
        kv_with(ops.clone(), &CheckOptions::with_budget(0)),
        Verdict::Unknown
    );
    assert_eq!(
        kv_with(ops.clone(), &CheckOptions::with_budget(1)),
        Verdict::Unknown
    );
    assert_eq!(
        kv_with(ops, &CheckOptions::with_budget(1000)),
        Verdict::Linearizable
    );
}

#[test]
fn the_same_history_takes_the_same_steps_every_time() {
    let ops: Vec<_> = (0..8)
        .map(|i| ok(i, 0, 100, set("x", &i.to_string()), KvOutput::Done))
        .chain([ok(9, 50, 150, get("x"), val(Some("3")))])
        .collect();
    let a = kv(ops.clone());
    let b = kv(ops);
    assert_eq!(a, b);
    assert!(a.steps > 0);
}

// ---- Register semantics through the readers ----

fn edn(text: &str, init: Option<RegValue>) -> Verdict {
    let options = ReadOptions {
        format: synod_check::Format::Edn,
        model: None,
        init,
    };
    read_history("t.edn", text.as_bytes(), &options)
        .unwrap()
        .history
        .check(&CheckOptions::default())
        .verdict
}

fn log(text: &str) -> Verdict {
    let options = ReadOptions {
        format: synod_check::Format::JepsenLog,
        ..ReadOptions::default()
    };
    read_history("t.log", text.as_bytes(), &options)
        .unwrap()
        .history
        .check(&CheckOptions::default())
        .verdict
}

#[test]
fn knossos_fail_means_the_write_did_not_happen() {
    let failed = "[{:process 0 :type :invoke :f :write :value 1}
                   {:process 0 :type :fail :f :write :value 1}
                   {:process 1 :type :invoke :f :read :value nil}
                   {:process 1 :type :ok :f :read :value 1}]";
    assert_eq!(edn(failed, None), Verdict::NotLinearizable);
}

#[test]
fn knossos_info_means_the_write_may_have_happened() {
    let info = "[{:process 0 :type :invoke :f :write :value 1}
                 {:process 0 :type :info :f :write :value 1}
                 {:process 1 :type :invoke :f :read :value nil}
                 {:process 1 :type :ok :f :read :value 1}]";
    assert_eq!(edn(info, None), Verdict::Linearizable);
}

#[test]
fn knossos_failed_cas_is_dropped_but_etcd_failed_cas_returned_false() {
    // The register holds 0 throughout; a cas(0, 1) that "failed" is impossible as a completed
    // cas that returned false, but harmless as an operation that did not happen.
    let edn_text = "{:process 0 :type :invoke :f :write :value 0}
                    {:process 0 :type :ok :f :write :value 0}
                    {:process 1 :type :invoke :f :cas :value [0 1]}
                    {:process 1 :type :fail :f :cas :value [0 1]}
                    {:process 2 :type :invoke :f :read :value nil}
                    {:process 2 :type :ok :f :read :value 0}";
    assert_eq!(edn(edn_text, None), Verdict::Linearizable);
    let log_text = "INFO  jepsen.util - 0\t:invoke\t:write\t0
INFO  jepsen.util - 0\t:ok\t:write\t0
INFO  jepsen.util - 1\t:invoke\t:cas\t[0 1]
INFO  jepsen.util - 1\t:fail\t:cas\t[0 1]
INFO  jepsen.util - 2\t:invoke\t:read\tnil
INFO  jepsen.util - 2\t:ok\t:read\t0
";
    assert_eq!(log(log_text), Verdict::NotLinearizable);
    // A failed cas whose expected value differs is legal.
    assert_eq!(
        log(&log_text.replace("[0 1]", "[5 1]")),
        Verdict::Linearizable
    );
}

#[test]
fn a_successful_cas_needs_the_expected_value() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:cas\t[2 4]
INFO  jepsen.util - 1\t:ok\t:cas\t[2 4]
";
    assert_eq!(log(text), Verdict::NotLinearizable);
    assert_eq!(log(&text.replace("[2 4]", "[3 4]")), Verdict::Linearizable);
}

#[test]
fn etcd_timed_out_reads_and_info_writes_are_unknown() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:info\t:write\t:timed-out
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:fail\t:read\t:timed-out
INFO  jepsen.util - 2\t:invoke\t:read\tnil
INFO  jepsen.util - 2\t:ok\t:read\tnil
INFO  jepsen.util - 3\t:invoke\t:read\tnil
INFO  jepsen.util - 3\t:ok\t:read\t1
";
    assert_eq!(log(text), Verdict::Linearizable);
    // But a read of nil after a read of 1 is not: the write cannot be undone.
    let later = format!("{text}INFO  jepsen.util - 2\t:invoke\t:read\tnil\nINFO  jepsen.util - 2\t:ok\t:read\tnil\n");
    assert_eq!(log(&later), Verdict::NotLinearizable);
}

#[test]
fn the_register_starts_at_the_given_initial_value() {
    let text = "[{:process 0 :type :invoke :f :cas :value [0 1]} {:process 0 :type :ok :f :cas :value [0 1]}]";
    assert_eq!(edn(text, None), Verdict::NotLinearizable);
    assert_eq!(edn(text, Some(RegValue::Int(0))), Verdict::Linearizable);
}

#[test]
fn knossos_reads_of_nil_accept_any_value_and_the_nemesis_is_skipped() {
    let text = "; Knossos-style history
(
 {:process :nemesis :type :info :f :start :value nil}
 {:process 0, :type :invoke, :f :write, :value 7}
 {:process 0, :type :ok, :f :write, :value 7}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value nil}
 {:process :nemesis :type :info :f :stop :value nil}
)";
    assert_eq!(edn(text, None), Verdict::Linearizable);
}
