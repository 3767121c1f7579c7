//! The readers: every malformed input is an error naming the file and the line, arbitrary bytes
//! never panic, and what the writers produce reads back as the same history.

mod common;

use proptest::prelude::*;
use synod_check::{
    json_format, read_history, to_edn, to_jepsen_log, to_porcupine_kv, AnyHistory, AppendInput,
    AppendOutput, CheckOptions, Format, History, KvInput, KvOutput, ModelKind, Operation,
    ParseError, ReadOptions, RegValue, RegisterInput, RegisterOutput,
};

fn read(format: Format, text: &str) -> Result<AnyHistory, ParseError> {
    read_history(
        "f.txt",
        text.as_bytes(),
        &ReadOptions {
            format,
            ..ReadOptions::default()
        },
    )
    .map(|p| p.history)
}

fn error_line(format: Format, text: &str) -> (u32, String) {
    let e = read(format, text).expect_err("malformed input must be rejected");
    assert_eq!(e.file, "f.txt");
    assert!(
        e.to_string().starts_with(&format!("f.txt:{}: ", e.line)),
        "{e}"
    );
    (e.line, e.message)
}

const GOOD_LOG: &str =
    "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n";

#[test]
fn jepsen_log_errors_name_the_line() {
    assert_eq!(
        error_line(Format::JepsenLog, &format!("{GOOD_LOG}garbage here\n")).0,
        3
    );
    assert_eq!(
        error_line(
            Format::JepsenLog,
            &format!("{GOOD_LOG}INFO  jepsen.util - x\t:ok\t:read\t1\n")
        )
        .0,
        3
    );
    assert_eq!(
        error_line(
            Format::JepsenLog,
            &format!("{GOOD_LOG}INFO  jepsen.util - 1\t:ok\t:read\t1\n")
        )
        .0,
        3
    );
    assert_eq!(
        error_line(
            Format::JepsenLog,
            &format!("{GOOD_LOG}INFO  jepsen.util - 1\t:invoke\t:cas\t[1\n")
        )
        .0,
        3
    );
    assert_eq!(
        error_line(
            Format::JepsenLog,
            &format!("{GOOD_LOG}INFO  jepsen.util - 1\t:invoke\t:frob\tnil\n")
        )
        .0,
        3
    );
    assert_eq!(
        error_line(
            Format::JepsenLog,
            &format!("{GOOD_LOG}INFO  jepsen.util - 1\t:done\t:read\tnil\n")
        )
        .0,
        3
    );
    let (line, message) = error_line(
        Format::JepsenLog,
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\n",
    );
    assert_eq!(line, 3);
    assert!(message.contains("line 1"), "{message}");
    let (line, message) = error_line(
        Format::JepsenLog,
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:write\t1\n",
    );
    assert_eq!(line, 2);
    assert!(message.contains("does not match"), "{message}");
}

#[test]
fn edn_errors_name_the_line() {
    let ok = "{:process 0, :type :invoke, :f :read, :value nil}\n";
    assert_eq!(
        error_line(
            Format::Edn,
            &format!("{ok}{{:process 0, :type :ok, :f :read\n")
        )
        .0,
        2
    );
    assert_eq!(
        error_line(Format::Edn, &format!("{ok}\n{{:process 0, :f :read}}\n")).0,
        3
    );
    assert_eq!(
        error_line(
            Format::Edn,
            &format!("{ok}{{:process 0, :type :ok, :f :read, :value [1 2}}\n")
        )
        .0,
        2
    );
    assert_eq!(
        error_line(
            Format::Edn,
            &format!("{ok}{{:process 0, :type :ok, :f :read, :value 1.5}}\n")
        )
        .0,
        2
    );
    assert_eq!(
        error_line(
            Format::Edn,
            &format!("{ok}{{:process -1, :type :ok, :f :read, :value 1}}\n")
        )
        .0,
        2
    );
    assert_eq!(error_line(Format::Edn, &format!("{ok}[1 2 3]\n")).0, 2);
    assert_eq!(
        error_line(
            Format::Edn,
            "[{:process 0, :type :invoke, :f :cas, :value 3}]"
        )
        .0,
        1
    );
    assert_eq!(
        error_line(
            Format::Edn,
            "{:process 0, :type :invoke, :f :read, :value \"abc\n\n"
        )
        .0,
        1
    );
    assert_eq!(
        error_line(
            Format::Edn,
            "{:process 0, :type :invoke, :f :read, :value 99999999999999999999999}"
        )
        .0,
        1
    );
}

#[test]
fn porcupine_kv_errors_name_the_line() {
    let ok = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n";
    assert_eq!(
        error_line(
            Format::PorcupineKv,
            &format!("{ok}{{:process 1, :type :invoke, :f :put, :value \"x\"}}\n")
        )
        .0,
        2
    );
    assert_eq!(
        error_line(
            Format::PorcupineKv,
            &format!("{ok}{{:process 1, :type :invoke, :f :put, :key \"1\", :value [1]}}\n")
        )
        .0,
        2
    );
    assert_eq!(
        error_line(
            Format::PorcupineKv,
            &format!("{ok}{{:process 0, :type :ok, :f :get, :key \"2\", :value \"\"}}\n")
        )
        .0,
        2
    );
    assert_eq!(
        error_line(
            Format::PorcupineKv,
            &format!("{ok}{{:process 1, :type :invoke, :f :cas, :key \"1\"}}\n")
        )
        .0,
        2
    );
}

#[test]
fn json_errors_name_the_line() {
    let head = "{\"version\": 1, \"model\": \"kv\", \"operations\": [\n";
    let good = "{\"client\": 0, \"call\": 1, \"return\": 2, \"input\": {\"op\": \"get\", \"key\": \"k\"}, \"output\": {\"kind\": \"value\", \"value\": null}}";
    let with = |second: &str| format!("{head}{good},\n{second}\n]}}");
    assert_eq!(
        error_line(Format::Json, &with("{\"client\": 0, \"call\": 1,,}")).0,
        3
    );
    let (line, message) = error_line(Format::Json, &with("{\"client\": 0, \"call\": 1, \"return\": 2, \"input\": {\"op\": \"frob\", \"key\": \"k\"}, \"output\": null}"));
    assert_eq!(line, 3);
    assert!(
        message.contains("operation 1") && message.contains("frob"),
        "{message}"
    );
    let (line, message) = error_line(Format::Json, &with("{\"client\": 0, \"call\": 1, \"return\": 2, \"input\": {\"op\": \"set\", \"key\": \"k\"}, \"output\": null}"));
    assert_eq!(line, 3);
    assert!(message.contains("set needs the field `value`"), "{message}");
    // A field the operation does not take is ignored, as it always was.
    let extra = with("{\"client\": 0, \"call\": 3, \"return\": 4, \"input\": {\"op\": \"get\", \"key\": \"k\", \"value\": \"v\"}, \"output\": {\"kind\": \"value\", \"value\": null}}");
    assert!(read(Format::Json, &extra).is_ok());
    let (line, message) = error_line(Format::Json, &with("{\"client\": 0, \"call\": 5, \"return\": 2, \"input\": {\"op\": \"get\", \"key\": \"k\"}, \"output\": null}"));
    assert_eq!(line, 3);
    assert!(message.contains("before its call"), "{message}");
    let (line, message) = error_line(Format::Json, &with("{\"client\": 0, \"call\": 1, \"return\": 2, \"input\": {\"op\": \"get\", \"key\": \"k\"}, \"output\": {\"kind\": \"done\"}}"));
    assert_eq!(line, 3);
    assert!(message.contains("get cannot answer done"), "{message}");
    assert_eq!(
        error_line(
            Format::Json,
            "{\"version\": 2, \"model\": \"kv\", \"operations\": []}"
        )
        .0,
        1
    );
    assert_eq!(
        error_line(
            Format::Json,
            "{\"version\": 1,\n \"model\": \"paxos\", \"operations\": []}"
        )
        .0,
        2
    );
    assert_eq!(
        error_line(Format::Json, "{\"version\": 1,\n \"operations\": []}").0,
        2
    );
}

#[test]
fn invalid_utf8_is_an_error_with_a_line() {
    let e = read_history("f.txt", b"INFO\n\xff\xfe", &ReadOptions::default()).unwrap_err();
    assert_eq!(e.line, 2);
}

#[test]
fn auto_detection_picks_format_and_model() {
    let dir = common::conformance_dir();
    let etcd = common::parse_file(&dir, "jepsen/etcd_000.log");
    assert_eq!(
        (etcd.format, etcd.history.model()),
        (Format::JepsenLog, ModelKind::Register)
    );
    let kv = common::parse_file(&dir, "kv/c01-ok.txt");
    assert_eq!(
        (kv.format, kv.history.model()),
        (Format::Edn, ModelKind::KvAppend)
    );
    let json = read(
        Format::Auto,
        "{\"version\":1,\"model\":\"kv\",\"operations\":[]}",
    )
    .unwrap();
    assert_eq!(json.model(), ModelKind::Kv);
    let edn = read(
        Format::Auto,
        "[{:process 0 :type :invoke :f :write :value 1}]",
    )
    .unwrap();
    assert_eq!(edn.model(), ModelKind::Register);
    let kv_edn = read(
        Format::Auto,
        "{:process 0 :type :invoke :f :set :key \"a\" :value \"1\"}",
    )
    .unwrap();
    assert_eq!(kv_edn.model(), ModelKind::Kv);
}

#[test]
fn every_conformance_file_reads_with_lines_for_every_operation() {
    let dir = common::conformance_dir();
    for (file, _) in common::verdicts(&dir) {
        let parsed = common::parse_file(&dir, &file);
        assert_eq!(parsed.lines.len(), parsed.history.len(), "{file}");
        assert!(
            parsed.lines.windows(2).all(|w| w[0] < w[1]),
            "{file}: operations are in invocation order"
        );
    }
}

// ---- Fuzz-ish: nothing panics ----

fn all_read_options() -> Vec<ReadOptions> {
    let formats = [
        Format::Auto,
        Format::JepsenLog,
        Format::PorcupineKv,
        Format::Edn,
        Format::Json,
    ];
    let models = [
        None,
        Some(ModelKind::Kv),
        Some(ModelKind::Register),
        Some(ModelKind::KvAppend),
    ];
    formats
        .iter()
        .flat_map(|&format| {
            models.iter().map(move |&model| ReadOptions {
                format,
                model,
                init: None,
            })
        })
        .collect()
}

fn read_and_check_everything(bytes: &[u8]) {
    for options in all_read_options() {
        if let Ok(parsed) = read_history("fuzz", bytes, &options) {
            // Whatever reads must also check without panicking.
            let _ = parsed.history.check(&CheckOptions::with_budget(10_000));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_readers(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        read_and_check_everything(&bytes);
    }

    #[test]
    fn history_like_text_never_panics_the_readers(
        parts in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", "(", ")", ":process", " 0", " 1", ":type", ":invoke", ":ok", ":fail", ":info",
            ":f", ":read", ":write", ":cas", ":get", ":put", ":append", ":set", ":key", "\"k\"", ":value", "nil",
            " 3", "[1 2]", ",", "\n", ";c\n", "#_", "#{", "\\", "\"", "INFO  jepsen.util - ", "\t", "\"version\"",
            ":", "1", "\"model\"", "\"kv\"", "\"operations\"", "null", "\"call\"", "\"return\"", "-", "99999999999999999999",
        ]), 0..60)
    ) {
        read_and_check_everything(parts.concat().as_bytes());
    }

    #[test]
    fn corrupted_conformance_files_never_panic_the_readers(file in 0usize..108, edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let dir = common::conformance_dir();
        let name = &common::verdicts(&dir)[file].0;
        let mut bytes = std::fs::read(dir.join(name)).unwrap();
        bytes.truncate(3000);
        for (at, byte) in edits {
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
        }
        read_and_check_everything(&bytes);
    }
}

// ---- Writers round-trip ----

fn kv_sample() -> History<KvInput, KvOutput> {
    History {
        operations: vec![
            Operation::completed(
                0,
                0,
                10,
                KvInput::Set {
                    key: "a b".into(),
                    value: "say \"hi\"\n".into(),
                },
                KvOutput::Done,
            ),
            Operation::completed(
                1,
                10,
                20,
                KvInput::Get { key: "a b".into() },
                KvOutput::Value { value: None },
            ),
            Operation::completed(
                1,
                25,
                30,
                KvInput::Contains { key: "c".into() },
                KvOutput::Present { present: false },
            ),
            Operation::unknown(0, 12, KvInput::Remove { key: "a b".into() }),
            Operation::completed(
                0,
                40,
                50,
                KvInput::Remove { key: "c".into() },
                KvOutput::Removed { existed: false },
            ),
            Operation::completed(
                2,
                40,
                40,
                KvInput::Get { key: "a b".into() },
                KvOutput::Value {
                    value: Some("say \"hi\"\n".into()),
                },
            ),
        ],
    }
}

#[test]
fn synod_json_round_trips_exactly() {
    let histories = [
        AnyHistory::Kv(kv_sample()),
        AnyHistory::Register {
            init: Some(RegValue::Str("s".into())),
            history: History {
                operations: vec![
                    Operation::completed(
                        0,
                        1,
                        2,
                        RegisterInput::Cas {
                            expected: RegValue::Str("s".into()),
                            new: RegValue::Int(-4),
                        },
                        RegisterOutput::Cas { ok: true },
                    ),
                    Operation {
                        client: 1,
                        call: 3,
                        ret: Some(4),
                        input: RegisterInput::Read,
                        output: None,
                    },
                ],
            },
        },
        AnyHistory::KvAppend(History {
            operations: vec![Operation::completed(
                0,
                1,
                2,
                AppendInput::Append {
                    key: "k".into(),
                    value: "v".into(),
                },
                AppendOutput::Done,
            )],
        }),
        AnyHistory::Kv(History::new()),
    ];
    for history in histories {
        let text = json_format::write(&history);
        assert_eq!(read(Format::Auto, &text).unwrap(), history, "{text}");
    }
}

/// Same operations (inputs, outputs, clients-insensitive) and same real-time order.
fn same_shape(a: &AnyHistory, b: &AnyHistory) {
    assert_eq!(a.len(), b.len());
    let (ra, rb) = (
        a.check(&CheckOptions::default()),
        b.check(&CheckOptions::default()),
    );
    assert_eq!(ra.verdict, rb.verdict);
}

#[test]
fn edn_round_trips_the_verdict_and_the_operations() {
    let kv = AnyHistory::Kv(kv_sample());
    let text = to_edn(&kv);
    let back = read(Format::Auto, &text).unwrap();
    same_shape(&kv, &back);
    let AnyHistory::Kv(h) = &back else {
        panic!("kv expected")
    };
    let inputs: Vec<_> = h.operations.iter().map(|o| o.input.clone()).collect();
    let mut expected: Vec<_> = kv_sample()
        .operations
        .into_iter()
        .map(|o| (o.call, o.input))
        .collect();
    expected.sort_by_key(|(call, _)| *call);
    assert_eq!(
        inputs,
        expected.into_iter().map(|(_, i)| i).collect::<Vec<_>>()
    );
}

#[test]
fn jepsen_log_and_porcupine_kv_round_trip_the_conformance_files() {
    let dir = common::conformance_dir();
    for (file, _) in common::verdicts(&dir).into_iter().step_by(7) {
        let parsed = common::parse_file(&dir, &file);
        let text = match parsed.history.model() {
            ModelKind::Register => to_jepsen_log(&parsed.history).unwrap(),
            _ => to_porcupine_kv(&parsed.history).unwrap(),
        };
        let back = read(Format::Auto, &text).unwrap_or_else(|e| panic!("{file}: {e}"));
        same_shape(&parsed.history, &back);
        assert_eq!(
            read(Format::Json, &json_format::write(&back)).unwrap(),
            back,
            "{file} through JSON"
        );
    }
}

#[test]
fn writers_refuse_models_their_format_cannot_hold() {
    let kv = AnyHistory::Kv(kv_sample());
    assert!(to_jepsen_log(&kv).is_err());
    assert!(to_porcupine_kv(&kv).is_err());
}
