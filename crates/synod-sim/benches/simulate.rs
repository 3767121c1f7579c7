//! Simulator throughput: events per second for a 5-node Multi-Paxos cluster with 10 clients
//! (target: at least 1 million per second natively), with the global oracles on and the
//! trace kept only as its rolling hash, as the fuzzer runs it; and the whole fuzz pipeline for
//! one seed (world, oracles, liveness phase, linearizability check).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p synod-sim`). The same workload in wasm:
//! `tests/wasm_throughput.rs` (see its header for the command).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use synod_sim::fuzz::{run, scenario, FuzzConfig};
use synod_sim::{Simulation, Time};

/// Five nodes, ten clients with a busy workload, ten seconds of virtual time.
fn busy_cluster() -> (synod_sim::Scenario, u64) {
    let s = synod_sim::Scenario::busy_cluster(1);
    let mut sim = Simulation::new(s.clone()).expect("valid");
    sim.set_record_trace(false);
    sim.run_until(Time(s.run_us));
    (s, sim.stats().events)
}

fn simulate(c: &mut Criterion) {
    let (s, events) = busy_cluster();
    let mut group = c.benchmark_group("simulator");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("5 nodes, 10 clients, 10 s virtual (events)", |b| {
        b.iter(|| {
            let mut sim = Simulation::new(s.clone()).expect("valid");
            sim.set_record_trace(false);
            sim.run_until(Time(s.run_us));
            black_box(sim.trace_hash())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("fuzz");
    group.sample_size(20);
    let config = FuzzConfig::new(3);
    group.bench_function("one 3-node seed, every fault class, checked", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            black_box(
                run(scenario(seed % 64, &config), true)
                    .expect("valid")
                    .trace_hash,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
