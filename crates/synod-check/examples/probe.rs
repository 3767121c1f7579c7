//! Prints per-partition steps for a file: `cargo run --example probe -- FILE [BUDGET]`.
use synod_check::{read_history, CheckOptions, ReadOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("read");
    let budget = args
        .get(2)
        .map_or(synod_check::DEFAULT_BUDGET, |b| b.parse().expect("budget"));
    let parsed = read_history(&args[1], &bytes, &ReadOptions::default()).expect("parse");
    let result = parsed.history.check(&CheckOptions::with_budget(budget));
    println!("{:?} steps={}", result.verdict, result.steps);
    for p in &result.partitions {
        println!(
            "  {} ops={} {:?} steps={}",
            p.label,
            p.operations.len(),
            p.verdict,
            p.steps
        );
        if let Some(f) = &p.failure {
            println!("    {}", f.explanation);
        }
    }
}
