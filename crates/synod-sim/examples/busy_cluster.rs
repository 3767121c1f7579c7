//! The benchmark's busy cluster (5 Multi-Paxos nodes, 10 clients, 10 s of virtual time, the
//! trace kept only as its hash), run a given number of times in one process: a target for
//! instruction-count profilers (`valgrind --tool=callgrind`) and whole-process timing, which
//! criterion's own loop does not suit. Prints the events and the trace hash of the last run,
//! so a change that should not alter the trace can be checked against the previous build.
//!
//! ```text
//! cargo run --release -p synod-sim --example busy_cluster -- [RUNS]
//! ```

use synod_sim::{Scenario, Simulation, Time};

fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .map_or(1, |s| s.parse().expect("RUNS is a whole number"));
    let scenario = Scenario::busy_cluster(1);
    let mut last = (0, 0);
    for _ in 0..runs {
        let mut sim = Simulation::new(scenario.clone()).expect("valid");
        sim.set_record_trace(false);
        sim.run_until(Time(scenario.run_us));
        last = (sim.stats().events, sim.trace_hash());
    }
    println!("events={} trace_hash={:016x}", last.0, last.1);
}
