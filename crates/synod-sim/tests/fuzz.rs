//! The fuzzer's bars: the correct protocols survive every fault class, every deliberately
//! broken variant is caught, and the story's naive strategies fail the way the story says.

use synod_check::Verdict;
use synod_core::{Bug, Bugs, Protocol, ReadMode};
use synod_sim::fuzz::{run, scenario, Fault, FuzzConfig, RunReport, Summary};

fn fuzz(config: &FuzzConfig, seeds: std::ops::Range<u64>) -> (Summary, Vec<RunReport>) {
    let mut summary = Summary::default();
    let mut reports = Vec::new();
    for seed in seeds {
        let report = run(scenario(seed, config), true).expect("fuzz scenarios are valid");
        summary.add(&report);
        reports.push(report);
    }
    (summary, reports)
}

fn assert_clean(config: &FuzzConfig, seeds: u64) -> Summary {
    let (summary, reports) = fuzz(config, 0..seeds);
    assert!(
        !summary.has_violations() && summary.liveness_failures == 0 && summary.unknown == 0,
        "{summary}\nfirst failures: {:#?}",
        &summary.failures[..summary.failures.len().min(3)]
    );
    // The runs must have done real work, or "no violation" means nothing.
    let ops: u64 = reports.iter().map(|r| r.operations).sum();
    let committed: u64 = reports.iter().map(|r| r.committed).sum();
    assert!(ops > seeds * 5, "only {ops} operations over {seeds} seeds");
    assert!(
        committed > seeds * 5,
        "only {committed} commands chosen over {seeds} seeds"
    );
    summary
}

#[test]
fn multi_paxos_on_three_nodes_survives_200_seeds_of_every_fault_class() {
    let config = FuzzConfig::new(3);
    assert_eq!(config.faults, Fault::ALL.to_vec());
    let summary = assert_clean(&config, 200);
    assert_eq!(summary.seeds, 200);
}

#[test]
fn multi_paxos_on_five_nodes_survives_200_seeds_of_every_fault_class() {
    assert_clean(&FuzzConfig::new(5), 200);
}

#[test]
fn multi_paxos_with_quorum_reads_survives_every_fault_class() {
    // Snapshots and membership changes included: a snapshot keeps the last write to each
    // key it covers, and a read counts a majority of every voter set governing recent slots.
    for nodes in [3, 5] {
        let config = FuzzConfig {
            read_mode: ReadMode::Quorum,
            ..FuzzConfig::new(nodes)
        };
        assert_eq!(config.faults, Fault::ALL.to_vec());
        assert_clean(&config, 100);
    }
}

/// Replays one fuzz seed's scenario with every oracle and expects no problem at all.
fn assert_seed_clean(seed: u64, s: synod_sim::Scenario) {
    let report = run(s, true).unwrap();
    assert!(
        report.is_clean(),
        "seed {seed}: {:?}",
        report.first_problem()
    );
}

#[test]
fn seeds_that_once_left_a_client_waiting_after_the_heal_now_finish() {
    // Found by `synod fuzz` (about 1 seed in 1000 with every fault class): two removed
    // nodes named each other (or nobody) as the leader, so a client's redirects never
    // reached a voter. Each seed removes a node, or the case proves nothing.
    let cases = [
        (ReadMode::Log, 1375),
        (ReadMode::Quorum, 303),
        (ReadMode::Quorum, 64),
    ];
    for (read_mode, seed) in cases {
        let config = FuzzConfig {
            read_mode,
            ..FuzzConfig::new(3)
        };
        let s = scenario(seed, &config);
        assert!(
            s.interventions
                .iter()
                .any(|i| matches!(i.action, synod_sim::Intervention::RemoveNode { .. })),
            "seed {seed} removes no node"
        );
        assert_seed_clean(seed, s);
    }
}

#[test]
fn seeds_that_once_left_a_joined_node_behind_now_catch_up() {
    // Found by `synod fuzz --seeds 10000` (3 in 10,000 with every fault class): a node added
    // to the cluster missed the decision that added a second new node, which then became the
    // leader. Its heartbeats came from a node the first one did not know of, so it ignored
    // them and never learned the rest of the log ("n4 applied 17 of 52 chosen entries").
    // Each seed adds two nodes, or the case proves nothing.
    for seed in [7380, 7590, 9064] {
        let s = scenario(seed, &FuzzConfig::new(3));
        let added = s
            .interventions
            .iter()
            .filter(|i| matches!(i.action, synod_sim::Intervention::AddNode { .. }))
            .count();
        assert!(added >= 2, "seed {seed} adds {added} nodes");
        // And the lagging node does hear from a stranger that is ahead.
        let mut sim = synod_sim::Simulation::new(s.clone()).unwrap();
        sim.set_record_trace(true);
        sim.run_until(synod_sim::Time(s.run_us));
        assert!(
            sim.trace().iter().any(|r| matches!(
                r.kind,
                synod_sim::TraceKind::Node {
                    event: synod_core::Event::StrangerAhead { .. },
                    ..
                }
            )),
            "seed {seed}: no node heard from a stranger ahead of it"
        );
        assert_seed_clean(seed, s);
    }
}

#[test]
fn membership_changes_and_snapshots_keep_multi_paxos_safe_and_live() {
    let config = FuzzConfig {
        faults: vec![
            Fault::Membership,
            Fault::Snapshot,
            Fault::Loss,
            Fault::Delay,
        ],
        ..FuzzConfig::new(3)
    };
    let (summary, reports) = fuzz(&config, 0..200);
    assert!(
        !summary.has_violations() && summary.liveness_failures == 0,
        "{summary}: {:?}",
        summary.failures
    );
    // Both ways of joining were exercised, and joins completed.
    let joins: Vec<_> = reports.iter().flat_map(|r| r.stats.joins.iter()).collect();
    for method in [
        synod_core::CatchUpMethod::Replay,
        synod_core::CatchUpMethod::Snapshot,
    ] {
        let done = joins
            .iter()
            .filter(|j| j.method == method && j.promoted_at.is_some())
            .count();
        assert!(done > 10, "{method:?}: only {done} joins completed");
    }
}

#[test]
fn basic_paxos_never_violates_safety_under_faults() {
    let config = FuzzConfig {
        protocol: Protocol::BasicPaxos,
        ..FuzzConfig::new(3)
    };
    let (summary, reports) = fuzz(&config, 0..100);
    assert!(
        !summary.has_violations(),
        "{summary}: {:?}",
        summary.failures
    );
    assert!(reports.iter().map(|r| r.committed).sum::<u64>() > 500);
}

/// The configuration that exposes each broken variant: read bugs need the read mode they
/// live in.
fn config_for(bug: Bug) -> FuzzConfig {
    let read_mode = match bug {
        Bug::NaiveQuorumRead => ReadMode::Quorum,
        _ => ReadMode::Log,
    };
    FuzzConfig {
        bugs: Bugs::only(bug),
        read_mode,
        ..FuzzConfig::new(3)
    }
}

#[test]
fn every_implemented_broken_variant_is_caught_within_200_seeds() {
    let mut survivors = Vec::new();
    for bug in Bug::ALL.into_iter().filter(|b| b.implemented()) {
        let config = config_for(bug);
        let killed = (0..200).find(|&seed| {
            run(scenario(seed, &config), true)
                .expect("valid scenario")
                .caught()
        });
        match killed {
            Some(seed) => println!("{}: killed at seed {seed}", bug.name()),
            None => survivors.push(bug.name()),
        }
    }
    assert!(survivors.is_empty(), "survived 200 seeds: {survivors:?}");
}

#[test]
fn naive_replication_and_timestamps_are_caught_breaking_linearizability() {
    for protocol in [Protocol::Naive, Protocol::Timestamps] {
        let config = FuzzConfig {
            protocol,
            ..FuzzConfig::new(3)
        };
        let (summary, reports) = fuzz(&config, 0..50);
        assert!(
            summary.linearizability_violations > 10,
            "{protocol}: {summary}"
        );
        let explained = reports
            .iter()
            .find(|r| r.linearizability == Verdict::NotLinearizable)
            .and_then(|r| r.explanation.clone())
            .expect("a violation comes with an explanation");
        assert!(explained.contains("cannot be linearized"), "{explained}");
    }
}

#[test]
fn the_sequencer_works_until_it_crashes() {
    let calm = FuzzConfig {
        protocol: Protocol::Sequencer,
        faults: vec![Fault::Duplicate, Fault::Delay, Fault::Pause],
        ..FuzzConfig::new(3)
    };
    assert_clean(&calm, 50);
    let crashing = FuzzConfig {
        faults: vec![Fault::Crash],
        ..calm
    };
    let (summary, _) = fuzz(&crashing, 0..50);
    assert!(summary.has_violations(), "{summary}");
}

#[test]
fn the_same_seed_replays_the_same_trace_hash() {
    let config = FuzzConfig::new(5);
    for seed in 0..20 {
        let a = run(scenario(seed, &config), true).unwrap();
        let b = run(scenario(seed, &config), true).unwrap();
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(a.events, b.events);
    }
    let a = run(scenario(1, &config), true).unwrap();
    let b = run(scenario(2, &config), true).unwrap();
    assert_ne!(a.trace_hash, b.trace_hash);
}

#[test]
fn a_fuzz_scenario_survives_a_json_round_trip_and_replays_identically() {
    let s = scenario(7, &FuzzConfig::new(3));
    let json = serde_json::to_string(&s).unwrap();
    let back: synod_sim::Scenario = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        run(back, true).unwrap().trace_hash,
        run(s, true).unwrap().trace_hash
    );
}
