//! The simulator's throughput in wasm, beside the native benchmark (`benches/simulate.rs`,
//! the same `Scenario::busy_cluster` workload). It reports events per second and asserts
//! only what does not depend on the machine: the runs did the work, and every run of the
//! seed gave the same trace hash. Run it in Node.js with
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!   cargo test --release --target wasm32-unknown-unknown -p synod-sim --test wasm_throughput \
//!   -- --nocapture
//! ```
//!
//! The clock is JavaScript's `performance.now()`, read only here, outside the simulation.
#![cfg(target_arch = "wasm32")]

use synod_sim::{Scenario, Simulation, Time};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

const RUNS: u32 = 10;

fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = js_sys::Reflect::get(&global, &"performance".into())
        .expect("Node.js and browsers have a global performance object");
    let now = js_sys::Reflect::get(&performance, &"now".into()).expect("performance.now");
    js_sys::Function::from(now)
        .call0(&performance)
        .expect("performance.now() returns")
        .as_f64()
        .expect("a number of milliseconds")
}

#[wasm_bindgen_test]
fn wasm_throughput_of_the_busy_cluster_is_reported() {
    let scenario = Scenario::busy_cluster(1);
    let mut events = 0;
    let mut hashes = Vec::new();
    let start = now_ms();
    for _ in 0..RUNS {
        let mut sim = Simulation::new(scenario.clone()).expect("valid");
        sim.set_record_trace(false);
        sim.run_until(Time(scenario.run_us));
        events += sim.stats().events;
        hashes.push(sim.trace_hash());
    }
    let seconds = (now_ms() - start) / 1000.0;
    assert!(events > u64::from(RUNS) * 1000, "only {events} events");
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:x?}");
    console_log!(
        "wasm: {events} events in {seconds:.3} s: {:.0} events/s (trace hash {:016x})",
        events as f64 / seconds,
        hashes[0]
    );
}
