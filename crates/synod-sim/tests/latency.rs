//! Slow networks: timers stretch with the round trip, so leaders emerge and operations
//! complete at any latency the playground's slider allows (up to a second one way).

use synod_core::{Protocol, Role};
use synod_sim::scenario::NetworkConfig;
use synod_sim::{Intervention, Scenario, Simulation, Time, Timed};

/// The network the playground's slider makes for `max_ms`: one way between a third of it
/// and all of it.
fn slider(max_ms: u64) -> NetworkConfig {
    NetworkConfig {
        latency_min_us: max_ms * 1000 / 3,
        latency_max_us: max_ms * 1000,
        ..NetworkConfig::default()
    }
}

/// A cluster whose clients wait long enough for an answer over such a network (request,
/// accept, accepted and reply take up to four seconds; the scenario's client timeout is the
/// scenario's to choose, and the default two seconds would make most outcomes unknown).
fn slow_cluster(seed: u64, protocol: Protocol, clients: u16) -> Scenario {
    let mut s = Scenario::cluster(seed, 5, protocol, clients);
    s.clients.timeout_us = 10_000_000;
    s
}

fn leaders(sim: &Simulation) -> usize {
    sim.live_nodes()
        .filter(|(_, n)| n.role() == Role::Leader)
        .count()
}

/// Runs `scenario` to `until_s` seconds and checks that it settled: one leader, few
/// elections, most operations completed, no violation.
fn assert_settles(scenario: Scenario, until_s: u64) {
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run_until(Time(until_s * 1_000_000));
    let stats = sim.stats();
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    assert_eq!(leaders(&sim), 1, "one leader at the end; {stats:?}");
    assert!(
        stats.leader_changes <= 3,
        "elections settle: {} leader changes, {} phase-1 runs",
        stats.leader_changes,
        stats.phase1_runs
    );
    assert!(
        stats.completed_ok >= 20,
        "{} operations ok",
        stats.completed_ok
    );
    assert!(
        stats.unknown * 10 <= stats.completed_ok,
        "{} unknown against {} ok",
        stats.unknown,
        stats.completed_ok
    );
}

#[test]
fn five_nodes_elect_a_leader_and_serve_clients_at_a_second_of_latency() {
    for seed in 0..5 {
        let mut s = slow_cluster(seed, Protocol::MultiPaxos, 3);
        s.network = slider(1000);
        assert_settles(s, 120);
    }
}

#[test]
fn slowing_the_network_mid_run_keeps_the_leader_or_elects_one() {
    // The slider moved from the default to a second while the cluster runs.
    for seed in 0..5 {
        let mut s = slow_cluster(seed, Protocol::MultiPaxos, 3);
        s.interventions.push(Timed {
            at: Time(2_000_000),
            action: Intervention::SetNetwork {
                network: slider(1000),
            },
        });
        assert_settles(s, 120);
    }
}

#[test]
fn basic_paxos_commits_at_a_second_of_latency() {
    // One client: concurrent proposers duel in basic Paxos at any latency (that is the
    // story's case for a leader); alone, a proposer needs its phase 1 to outlast a round
    // trip, which the default timers (160 ms) do not.
    let mut s = slow_cluster(3, Protocol::BasicPaxos, 1);
    s.network = slider(1000);
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until(Time(120_000_000));
    assert!(sim.violations().is_empty());
    assert!(sim.stats().completed_ok >= 10, "{:?}", sim.stats());
}

#[test]
fn clients_wait_long_enough_at_a_second_of_latency_without_being_told() {
    // The scenario's own client timeout (two seconds) is shorter than a write can take over
    // this network (up to four); clients stretch it to the network, as nodes stretch their
    // timers, instead of sending every slow request again. (About 1.85 requests per operation
    // with the stretch, redirects from followers included; about 2.9 without it.)
    for seed in 0..3 {
        let mut s = Scenario::cluster(seed, 5, Protocol::MultiPaxos, 3);
        assert!(s.clients.timeout_us < 4_000_000);
        s.network = slider(1000);
        let mut sim = Simulation::new(s.clone()).unwrap();
        sim.run_until(Time(120_000_000));
        let stats = sim.stats();
        let requests = stats.sent.get("request").copied().unwrap_or(0);
        let operations = stats.completed_ok + stats.unknown + stats.failed;
        assert!(
            requests * 10 <= operations * 22,
            "seed {seed}: {requests} requests for {operations} operations"
        );
        assert_settles(s, 120);
    }
}
