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
    let mut rng = Rng(seed);
    let mut c = Cluster::new(size, protocol);
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
