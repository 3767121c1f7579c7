//! Seeded random schedules (reordering, loss, duplication, crashes) against the correct
//! protocols: safety after every step, and liveness once the faults stop.

use crate::testkit::*;
use crate::*;

const SEEDS: u64 = 60;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn chaos(protocol: Protocol, size: u8, seed: u64) {
    chaos_with(protocol, size, seed, 0);
}

fn chaos_with(protocol: Protocol, size: u8, seed: u64, snapshot_every: u64) {
    let mut rng = Rng(seed);
    let configs = NodeConfig::cluster(size, protocol)
        .into_iter()
        .map(|c| c.with_snapshot_every(snapshot_every))
        .collect();
    let mut c = Cluster::with(configs);
    let clients = 3u16;
    let mut seq = [0u64; 3];
    for _ in 0..600 {
        match rng.below(20) {
            0..=8 if !c.net.is_empty() => {
                let i = rng.below(c.net.len());
                let env = c.net.remove(i);
                if rng.below(10) == 0 {
                    c.net.push(env.clone()); // duplicate
                }
                c.deliver_envelope(env);
            }
            9 if !c.net.is_empty() => {
                let i = rng.below(c.net.len());
                c.net.remove(i); // loss
            }
            10..=14 => {
                let node = rng.below(usize::from(size)) as u8;
                c.tick(node);
            }
            15..=17 => {
                let client = rng.below(usize::from(clients));
                // A new command, or a retry of the previous one (same id).
                if seq[client] == 0 || rng.below(3) > 0 {
                    seq[client] += 1;
                }
                let node = rng.below(usize::from(size)) as u8;
                let op = set(
                    &format!("k{}", rng.below(2)),
                    &format!("{client}.{}", seq[client]),
                );
                c.client(node, client as u16, seq[client], op);
            }
            18 => {
                let node = rng.below(usize::from(size)) as u8;
                let down = c.nodes.iter().filter(|n| n.is_none()).count();
                if c.nodes[usize::from(node)].is_some() && down < usize::from(size - 1) / 2 {
                    c.crash(node);
                } else if c.nodes[usize::from(node)].is_none() {
                    c.restart(node);
                }
            }
            _ => {}
        }
        c.assert_safe();
    }
    // Heal: everyone up, no more loss; a leader emerges and every client's last command
    // completes when retried.
    for i in 0..size {
        if c.nodes[usize::from(i)].is_none() {
            c.restart(i);
        }
    }
    for round in 0..400 {
        c.run(1);
        if round % 10 == 0 {
            for client in 0..clients {
                let s = seq[usize::from(client)];
                if s > 0 && c.ok_result(client, s).is_none() {
                    let target = c.leader().unwrap_or((round / 10 % u32::from(size)) as u8);
                    let op = set("retry", "x");
                    c.client(target, client, s, op);
                }
            }
        }
    }
    c.assert_safe();
    for client in 0..clients {
        let s = seq[usize::from(client)];
        assert!(
            s == 0 || c.ok_result(client, s).is_some(),
            "seed {seed}: c{} #{s} never completed",
            client + 1
        );
    }
    assert!(
        c.node(0).decided_upto() > Slot(0),
        "seed {seed}: something was decided"
    );
    let first = c.node(0).applied_digest();
    for i in 1..size {
        assert_eq!(
            c.node(i).applied_digest(),
            first,
            "seed {seed}: replicas converge"
        );
    }
    for i in 0..size {
        let whole = c.node(i).view();
        assert_eq!(
            c.node(i).log_runs(),
            runs_of(&whole),
            "seed {seed}: n{}",
            i + 1
        );
    }
}

#[test]
fn multi_paxos_stays_safe_and_recovers_under_random_schedules() {
    for seed in 0..SEEDS {
        chaos(Protocol::MultiPaxos, 3 + (seed % 3) as u8, seed);
    }
}

#[test]
fn basic_paxos_stays_safe_and_recovers_under_random_schedules() {
    for seed in 0..SEEDS {
        chaos(Protocol::BasicPaxos, 3 + (seed % 2) as u8, seed);
    }
}

/// The admin and snapshot actions of [`chaos_reconfig`].
fn membership_action(c: &mut Cluster, rng: &mut Rng, template: &NodeConfig) {
    let Some(l) = c.leader() else {
        return;
    };
    let m = c.node(l).membership().expect("Multi-Paxos");
    let command = match rng.below(4) {
        0 => {
            // Admit a node created earlier and still outside, or create a new one.
            let outside = (0..c.size()).find(|i| {
                !m.contains(NodeId(*i)) && c.node_opt(*i).is_some_and(|n| n.role() == Role::Learner)
            });
            let i = match outside {
                Some(i) => i,
                None if c.size() < 5 => {
                    let id = NodeId(c.size());
                    let config = NodeConfig {
                        learner: true,
                        ..NodeConfig::new(id, m.voters.clone(), Protocol::MultiPaxos)
                    }
                    .with_bugs(template.bugs.clone())
                    .with_snapshot_every(template.snapshot_every);
                    c.add_node(config)
                }
                None => return,
            };
            let catch_up = if rng.below(2) == 0 {
                CatchUpMethod::Replay
            } else {
                CatchUpMethod::Snapshot
            };
            AdminCommand::AddLearner {
                node: NodeId(i),
                catch_up,
            }
        }
        1 => match m.learner_ids().next() {
            Some(node) => AdminCommand::Promote { node },
            None => return,
        },
        2 if m.voters.len() > 3 || !m.learners.is_empty() => {
            let all: Vec<NodeId> = m.nodes().collect();
            AdminCommand::Remove {
                node: all[rng.below(all.len())],
            }
        }
        _ => {
            let i = rng.below(usize::from(c.size())) as u8;
            if let Some(node) = c.nodes[usize::from(i)].as_mut() {
                let _ = node.snapshot_now();
                c.drain(i);
            }
            return;
        }
    };
    let _ = c.nodes[usize::from(l)]
        .as_mut()
        .expect("the leader is up")
        .on_admin(command);
    c.drain(l);
}

/// Like [`chaos`], for Multi-Paxos with snapshots (a policy, and on demand) and membership
/// changes (learners joining by replay or snapshot, promotions, removals) mixed in with
/// reordering, loss, duplication and crashes. Returns the first violated oracle.
fn chaos_reconfig(seed: u64, bugs: Bugs) -> Result<Exercised, String> {
    let mut rng = Rng(seed ^ 0x00c0_ffee);
    let template = NodeConfig::new(NodeId(0), vec![NodeId(0)], Protocol::MultiPaxos)
        .with_bugs(bugs)
        .with_snapshot_every([0, 3, 5][(seed % 3) as usize]);
    let configs = NodeConfig::cluster(3, Protocol::MultiPaxos)
        .into_iter()
        .map(|c| {
            c.with_bugs(template.bugs.clone())
                .with_snapshot_every(template.snapshot_every)
        })
        .collect();
    let mut c = Cluster::with(configs);
    let clients = 3u16;
    let mut seq = [0u64; 3];
    for _ in 0..700 {
        let size = c.size();
        match rng.below(22) {
            0..=8 if !c.net.is_empty() => {
                let i = rng.below(c.net.len());
                let env = c.net.remove(i);
                if rng.below(10) == 0 {
                    c.net.push(env.clone());
                }
                c.deliver_envelope(env);
            }
            9 if !c.net.is_empty() => {
                let i = rng.below(c.net.len());
                c.net.remove(i);
            }
            10..=14 => c.tick(rng.below(usize::from(size)) as u8),
            15..=17 => {
                let client = rng.below(usize::from(clients));
                if seq[client] == 0 || rng.below(3) > 0 {
                    seq[client] += 1;
                }
                let node = c.leader().unwrap_or(rng.below(usize::from(size)) as u8);
                let op = set(
                    &format!("k{}", rng.below(2)),
                    &format!("{client}.{}", seq[client]),
                );
                c.client(node, client as u16, seq[client], op);
            }
            18 => {
                let node = rng.below(usize::from(size)) as u8;
                let down = c.nodes.iter().filter(|n| n.is_none()).count();
                if c.nodes[usize::from(node)].is_some() && down == 0 {
                    c.crash(node);
                } else if c.nodes[usize::from(node)].is_none() {
                    c.restart(node);
                }
            }
            19..=20 => membership_action(&mut c, &mut rng, &template),
            _ => {}
        }
        c.check_safe().map_err(|e| format!("seed {seed}: {e}"))?;
    }
    for i in 0..c.size() {
        if c.nodes[usize::from(i)].is_none() {
            c.restart(i);
        }
    }
    for round in 0..400u32 {
        c.run(1);
        if round % 10 == 0 {
            for client in 0..clients {
                let s = seq[usize::from(client)];
                if s > 0 && c.ok_result(client, s).is_none() {
                    let target = c
                        .leader()
                        .unwrap_or((round / 10 % u32::from(c.size())) as u8);
                    c.client(target, client, s, set("retry", "x"));
                }
            }
        }
    }
    c.check_safe().map_err(|e| format!("seed {seed}: {e}"))?;
    for client in 0..clients {
        let s = seq[usize::from(client)];
        if s > 0 && c.ok_result(client, s).is_none() {
            return Err(format!("seed {seed}: c{} #{s} never completed", client + 1));
        }
    }
    let l = c
        .leader()
        .ok_or(format!("seed {seed}: no leader after healing"))?;
    let members = c.node(l).membership().expect("Multi-Paxos");
    let want = c.node(l).applied_digest();
    for id in members.nodes() {
        if c.node(id.0).applied_digest() != want {
            return Err(format!("seed {seed}: {id} did not converge ({members})"));
        }
        if c.node(id.0).log_runs() != runs_of(&c.node(id.0).view()) {
            return Err(format!("seed {seed}: {id}'s log runs differ from its log"));
        }
    }
    let count = |f: &dyn Fn(&Event) -> bool| c.events.iter().filter(|(_, e)| f(e)).count();
    Ok(Exercised {
        changes: count(&|e| matches!(e, Event::ConfigChangeProposed { .. })),
        installs: count(&|e| matches!(e, Event::SnapshotInstalled { from: Some(_), .. })),
        restores: count(&|e| matches!(e, Event::SnapshotInstalled { from: None, .. })),
    })
}

/// What a run exercised, so the random schedules cannot pass vacuously.
#[derive(Default)]
struct Exercised {
    changes: usize,
    installs: usize,
    restores: usize,
}

/// How many of `SEEDS` seeds break an oracle with `bugs` switched on.
fn kills(bugs: &Bugs) -> (u64, Vec<String>) {
    let mut failures = Vec::new();
    for seed in 0..SEEDS {
        if let Err(e) = chaos_reconfig(seed, bugs.clone()) {
            failures.push(e);
        }
    }
    (failures.len() as u64, failures)
}

#[test]
fn multi_paxos_with_snapshots_and_membership_changes_stays_safe_and_converges() {
    let mut total = Exercised::default();
    for seed in 0..SEEDS {
        match chaos_reconfig(seed, Bugs::none()) {
            Ok(run) => {
                total.changes += run.changes;
                total.installs += run.installs;
                total.restores += run.restores;
            }
            Err(e) => panic!("{e}"),
        }
    }
    eprintln!(
        "{SEEDS} seeds: {} membership changes, {} snapshots installed from peers, {} restored after restarts",
        total.changes, total.installs, total.restores
    );
    assert!(total.changes as u64 >= SEEDS, "membership changes happened");
    assert!(total.installs >= 10, "snapshots were installed from peers");
    assert!(
        total.restores >= 10,
        "restarted nodes restored their snapshots"
    );
}

#[test]
fn snapshot_off_by_one_is_caught_by_the_random_schedules() {
    let (killed, failures) = kills(&Bugs::only(Bug::SnapshotOffByOne));
    eprintln!(
        "snapshot-off-by-one: {killed}/{SEEDS} seeds caught; first: {:?}",
        failures.first()
    );
    assert!(killed * 4 >= SEEDS, "caught in only {killed}/{SEEDS} seeds");
}

#[test]
fn two_config_changes_is_caught_by_the_random_schedules() {
    let (killed, failures) = kills(&Bugs::only(Bug::TwoConfigChanges));
    eprintln!(
        "two-config-changes: {killed}/{SEEDS} seeds caught; first: {:?}",
        failures.first()
    );
    assert!(killed * 4 >= SEEDS, "caught in only {killed}/{SEEDS} seeds");
}

#[test]
fn basic_paxos_with_snapshots_stays_safe_and_recovers_under_random_schedules() {
    for seed in 0..SEEDS {
        chaos_with(
            Protocol::BasicPaxos,
            3 + (seed % 2) as u8,
            seed,
            3 + seed % 3,
        );
    }
}
