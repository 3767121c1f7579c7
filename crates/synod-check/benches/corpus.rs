//! Benchmarks: the whole Porcupine conformance corpus (parse + check), and a generated
//! 10,000-operation key-value history (10 clients, 10 keys).
//!
//! Every file is also benchmarked on its own (group `per_file`), since the target is about the
//! slowest file as much as the total. Criterion does all the timing: nothing here reads a clock.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use synod_check::{
    check, read_history, CheckOptions, History, KvInput, KvModel, KvOutput, Operation, ReadOptions,
    Verdict,
};

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/porcupine"
    ));
    assert!(
        dir.join("verdicts.csv").is_file(),
        "conformance data missing at {}",
        dir.display()
    );
    dir
}

/// All corpus files with their contents, loaded once so that the benchmark measures parsing
/// and checking, not the file system.
fn corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let csv = std::fs::read_to_string(dir.join("verdicts.csv")).expect("verdicts.csv");
    csv.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(file, _)| {
            (
                file.to_owned(),
                std::fs::read(dir.join(file)).expect("corpus file"),
            )
        })
        .collect()
}

fn parse_and_check(name: &str, bytes: &[u8]) -> Verdict {
    let parsed = read_history(name, bytes, &ReadOptions::default()).expect("corpus parses");
    parsed.history.check(&CheckOptions::default()).verdict
}

/// SplitMix64: a tiny fixed PRNG so the generated history is the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A linearizable history by construction: each client issues operations back to back with
/// random durations and gaps; each takes effect at a random instant inside its interval; the
/// outputs come from applying them in that order to a sequential store.
fn generated_kv_history(
    ops: usize,
    clients: u64,
    keys: u64,
    seed: u64,
) -> History<KvInput, KvOutput> {
    let mut rng = SplitMix(seed);
    let mut next_free = vec![0u64; clients as usize];
    let mut planned = Vec::with_capacity(ops);
    for i in 0..ops {
        let client = (i as u64) % clients;
        let call = next_free[client as usize] + rng.below(20);
        let ret = call + 1 + rng.below(100);
        next_free[client as usize] = ret + 1;
        let point = call + rng.below(ret - call + 1);
        let key = format!("k{}", rng.below(keys));
        let input = match rng.below(10) {
            0..=4 => KvInput::Get { key },
            5..=7 => KvInput::Set {
                key,
                value: rng.below(1000).to_string(),
            },
            8 => KvInput::Contains { key },
            _ => KvInput::Remove { key },
        };
        planned.push((point, i, client, call, ret, input));
    }
    let mut order: Vec<usize> = (0..ops).collect();
    order.sort_by_key(|&i| (planned[i].0, i));
    let mut store = std::collections::BTreeMap::new();
    let mut outputs = vec![None; ops];
    for i in order {
        let out = match &planned[i].5 {
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
        };
        outputs[i] = Some(out);
    }
    let operations = planned
        .into_iter()
        .zip(outputs)
        .map(|((_, _, client, call, ret, input), out)| {
            Operation::completed(client, call, ret, input, out.expect("applied"))
        })
        .collect();
    History { operations }
}

fn benches(c: &mut Criterion) {
    let dir = corpus_dir();
    let files = corpus(&dir);

    let mut group = c.benchmark_group("check");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("porcupine_corpus_108_files", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(name, bytes)| parse_and_check(name, bytes))
                .filter(|v| *v == Verdict::Linearizable)
                .count()
        });
    });
    let history = generated_kv_history(10_000, 10, 10, 7);
    let verdict = check(&KvModel, &history, &CheckOptions::default());
    assert_eq!(verdict.verdict, Verdict::Linearizable);
    group.bench_function("kv_10k_ops_10_clients_10_keys", |b| {
        b.iter(|| check(&KvModel, &history, &CheckOptions::default()).verdict)
    });
    group.finish();

    let mut group = c.benchmark_group("per_file");
    group
        .sample_size(10)
        .measurement_time(Duration::from_millis(200))
        .warm_up_time(Duration::from_millis(50));
    for (name, bytes) in &files {
        group.bench_function(name.as_str(), |b| b.iter(|| parse_and_check(name, bytes)));
    }
    group.finish();
}

criterion_group!(corpus_benches, benches);
criterion_main!(corpus_benches);
