//! Random scenarios with faults, and the verdict of a checked run.
//!
//! [`scenario`] turns a seed and a [`FuzzConfig`] into an ordinary [`Scenario`]: random network
//! parameters, a random client workload, and a random schedule of faults written out as timed
//! interventions, followed at `faults_until_us` by a full heal (every link restored, every node
//! restarted and resumed, a clean network). Because the faults are part of the scenario, the
//! scenario alone replays the run exactly: a failing seed is reported with it.
//!
//! [`run`] plays a scenario to its end with the global oracles on, then judges it: safety
//! violations found along the way, a liveness check (after healing, every client operation
//! finished and every live replica caught up with the chosen log), and the linearizability
//! checker on the client history.

use crate::history::check_history;
use crate::oracle::{Oracle, Violation};
use crate::rng::{Ratio, Rng};
use crate::scenario::{Intervention, NetworkConfig, Scenario, Timed, Workload};
use crate::time::Time;
use crate::world::{report, Endpoint, SimError, Simulation, Stats};
use serde::{Deserialize, Serialize};
use std::fmt;
use synod_check::Verdict;
use synod_core::{Bugs, CatchUpMethod, ClientId, NodeId, Protocol, ReadMode, Role};

/// The classes of fault the fuzzer can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Nodes crash and later restart from durable state.
    Crash,
    /// The nodes split into groups, or one link is cut one way; later healed.
    Partition,
    /// Messages are lost at random.
    Loss,
    /// Messages are delivered twice at random.
    Duplicate,
    /// Some messages are much slower than others (which reorders them).
    Delay,
    /// Nodes stop for a while, then carry on.
    Pause,
    /// Node clocks disagree (matters to the timestamp protocol).
    Skew,
    /// Nodes join (by replay or by snapshot) and leave through the log (Multi-Paxos).
    Membership,
    /// Nodes snapshot and compact their logs, on a policy and on demand (Paxos protocols).
    Snapshot,
}

impl Fault {
    /// Every fault class.
    pub const ALL: [Fault; 9] = [
        Fault::Crash,
        Fault::Partition,
        Fault::Loss,
        Fault::Duplicate,
        Fault::Delay,
        Fault::Pause,
        Fault::Skew,
        Fault::Membership,
        Fault::Snapshot,
    ];

    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Crash => "crash",
            Fault::Partition => "partition",
            Fault::Loss => "loss",
            Fault::Duplicate => "duplicate",
            Fault::Delay => "delay",
            Fault::Pause => "pause",
            Fault::Skew => "skew",
            Fault::Membership => "membership",
            Fault::Snapshot => "snapshot",
        }
    }

    /// The fault class with this name.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of world the fuzzer builds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuzzConfig {
    pub nodes: u8,
    pub protocol: Protocol,
    pub read_mode: ReadMode,
    pub bugs: Bugs,
    pub faults: Vec<Fault>,
    pub clients: u16,
    /// Faults and the workload stop here; then everything heals.
    pub faults_until_us: u64,
    /// How long the cluster has, after healing, to finish every operation and converge.
    pub liveness_us: u64,
}

impl FuzzConfig {
    /// Multi-Paxos on `nodes` nodes with every fault class.
    pub fn new(nodes: u8) -> FuzzConfig {
        FuzzConfig {
            nodes,
            protocol: Protocol::MultiPaxos,
            read_mode: ReadMode::Log,
            bugs: Bugs::none(),
            faults: Fault::ALL.to_vec(),
            clients: 3,
            faults_until_us: 4_000_000,
            liveness_us: 8_000_000,
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }
}

/// The scenario the fuzzer plays for one seed.
pub fn scenario(seed: u64, config: &FuzzConfig) -> Scenario {
    let mut rng = Rng::derive(seed, "fuzz");
    let mut s = Scenario::cluster(seed, config.nodes, config.protocol, config.clients);
    s.cluster.read_mode = config.read_mode;
    s.cluster.bugs = config.bugs.clone();
    let n = config.nodes;
    if config.has(Fault::Skew) {
        s.cluster.clock_skew_ticks = (0..n).map(|_| rng.between(0, 40) as i64 - 20).collect();
    }
    let latency_min_us = rng.between(1_000, 10_000);
    s.network = NetworkConfig {
        latency_min_us,
        latency_max_us: latency_min_us + rng.between(0, 40_000),
        slow: Ratio::per_mille(if config.has(Fault::Delay) { 100 } else { 0 }),
        slow_extra_us: rng.between(50_000, 300_000),
        loss: Ratio::per_mille(if config.has(Fault::Loss) {
            rng.between(0, 150) as u32
        } else {
            0
        }),
        duplicate: Ratio::per_mille(if config.has(Fault::Duplicate) {
            rng.between(0, 150) as u32
        } else {
            0
        }),
    };
    s.clients.timeout_us = rng.between(300_000, 800_000);
    s.clients.max_attempts = 100;
    s.clients.workload = Some(Workload {
        keys: rng.between(1, 3) as u16,
        think_min_us: 10_000,
        think_max_us: rng.between(20_000, 300_000),
        until_us: Some(config.faults_until_us),
        ..Workload::default()
    });
    let until = config.faults_until_us;
    let mut faults: Vec<Timed> = Vec::new();
    let events = if config
        .faults
        .iter()
        .any(|f| matches!(f, Fault::Crash | Fault::Partition | Fault::Pause))
    {
        rng.between(2, 8)
    } else {
        0
    };
    let disruptive: Vec<Fault> = config
        .faults
        .iter()
        .copied()
        .filter(|f| matches!(f, Fault::Crash | Fault::Partition | Fault::Pause))
        .collect();
    for _ in 0..events {
        let fault = disruptive[rng.below(disruptive.len() as u64) as usize];
        let at = Time(rng.between(0, until - 1));
        let end = Time((at.as_us() + rng.between(100_000, 1_500_000)).min(until));
        let node = NodeId(rng.below(u64::from(n)) as u8);
        let (start, stop) = match fault {
            Fault::Crash => (Intervention::Crash { node }, Intervention::Restart { node }),
            Fault::Pause => (Intervention::Pause { node }, Intervention::Resume { node }),
            _ if n > 1 && rng.chance(Ratio { num: 1, den: 4 }) => {
                let to = NodeId(
                    ((node.0 as u64 + rng.between(1, u64::from(n) - 1)) % u64::from(n)) as u8,
                );
                (
                    Intervention::Cut {
                        from: Endpoint::Node(node),
                        to: Endpoint::Node(to),
                    },
                    Intervention::Heal,
                )
            }
            _ => {
                let (a, b): (Vec<NodeId>, Vec<NodeId>) = (0..n)
                    .map(NodeId)
                    .partition(|_| rng.chance(Ratio { num: 1, den: 2 }));
                (
                    Intervention::Partition { groups: vec![a, b] },
                    Intervention::Heal,
                )
            }
        };
        faults.push(Timed { at, action: start });
        faults.push(Timed {
            at: end,
            action: stop,
        });
    }
    // Heal everything when the faults stop.
    let heal_at = Time(until);
    faults.push(Timed {
        at: heal_at,
        action: Intervention::Heal,
    });
    for node in (0..n).map(NodeId) {
        faults.push(Timed {
            at: heal_at,
            action: Intervention::Restart { node },
        });
        faults.push(Timed {
            at: heal_at,
            action: Intervention::Resume { node },
        });
    }
    faults.push(Timed {
        at: heal_at,
        action: Intervention::SetNetwork {
            network: NetworkConfig {
                slow: Ratio::NEVER,
                loss: Ratio::NEVER,
                duplicate: Ratio::NEVER,
                ..s.network.clone()
            },
        },
    });
    let paxos = matches!(config.protocol, Protocol::BasicPaxos | Protocol::MultiPaxos);
    if config.has(Fault::Snapshot) && paxos {
        s.cluster.snapshot_every = [0, 3, 5, 8][rng.below(4) as usize];
        for _ in 0..rng.between(0, 3) {
            let node = NodeId(rng.below(u64::from(n)) as u8);
            let at = Time(rng.between(0, until - 1));
            faults.push(Timed {
                at,
                action: Intervention::Snapshot { node },
            });
        }
    }
    let mut joined = 0;
    if config.has(Fault::Membership) && config.protocol == Protocol::MultiPaxos {
        for _ in 0..rng.between(0, 3) {
            let at = Time(rng.between(0, until - 1));
            let action = if rng.chance(Ratio { num: 2, den: 3 })
                && n + joined < crate::scenario::MAX_NODES
            {
                joined += 1;
                let catch_up = if rng.chance(Ratio { num: 1, den: 2 }) {
                    CatchUpMethod::Snapshot
                } else {
                    CatchUpMethod::Replay
                };
                Intervention::AddNode { catch_up }
            } else {
                Intervention::RemoveNode {
                    node: NodeId(rng.below(u64::from(n)) as u8),
                }
            };
            faults.push(Timed { at, action });
        }
    }
    // Nodes that join get the next ids in the order they are added; every node, added or
    // not, comes back at the heal.
    for node in (n..n + joined).map(NodeId) {
        faults.push(Timed {
            at: heal_at,
            action: Intervention::Restart { node },
        });
    }
    faults.sort_by_key(|t| t.at);
    // Restarting a node that is only added later would name a node that does not exist yet:
    // the stable sort keeps the heal (at `until`) after every earlier addition.
    s.interventions = faults;
    s.run_us = until + config.liveness_us;
    s
}

/// How a checked run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub seed: u64,
    pub trace_hash: u64,
    pub events: u64,
    /// Safety violations from the global oracles (linearizability is separate).
    pub safety: Vec<Violation>,
    /// The checker's verdict on the client history.
    pub linearizability: Verdict,
    /// The checker's explanation when the history is not linearizable.
    pub explanation: Option<String>,
    /// Liveness failures after healing.
    pub liveness: Vec<Violation>,
    pub stats: Stats,
    /// Commands in the chosen log.
    pub committed: u64,
    pub operations: u64,
}

impl RunReport {
    /// Whether nothing at all went wrong.
    pub fn is_clean(&self) -> bool {
        self.safety.is_empty()
            && self.linearizability == Verdict::Linearizable
            && self.liveness.is_empty()
    }

    /// Whether a bug was caught: a safety violation or a non-linearizable history.
    pub fn caught(&self) -> bool {
        !self.safety.is_empty() || self.linearizability == Verdict::NotLinearizable
    }

    /// The first problem, in words.
    pub fn first_problem(&self) -> Option<String> {
        if let Some(v) = self.safety.first() {
            return Some(v.to_string());
        }
        if self.linearizability == Verdict::NotLinearizable {
            return Some(format!(
                "linearizability violated: {}",
                self.explanation
                    .as_deref()
                    .unwrap_or("no linearization exists")
            ));
        }
        self.liveness.first().map(|v| v.to_string())
    }
}

/// The checker's search budget for one run.
pub const CHECK_BUDGET: u64 = 2_000_000;

/// Plays a scenario to `scenario.run_us` with the oracles on and judges it. With
/// `expect_quiet_end`, the run must end with every client idle and every live replica caught
/// up (the liveness phase of a fuzz scenario).
pub fn run(scenario: Scenario, expect_quiet_end: bool) -> Result<RunReport, SimError> {
    let seed = scenario.seed;
    let end = Time(scenario.run_us);
    let mut sim = Simulation::new(scenario)?;
    sim.set_record_trace(false);
    sim.run_until(end);
    sim.sweep();
    if expect_quiet_end {
        for c in (0..sim.client_count()).map(ClientId) {
            if let Some(op) = sim.client_pending(c) {
                let detail = format!(
                    "after healing, {c} still waits for {} {} (invoked at {})",
                    op.id, op.op, op.call
                );
                report(&mut sim, Oracle::Liveness, detail);
            }
        }
        for command in sim.pending_admin() {
            let detail =
                format!("after healing, the membership change {command:?} never took effect");
            report(&mut sim, Oracle::Liveness, detail);
        }
        // Nodes outside the current membership (removed, or never admitted) no longer follow
        // the log; every member must have caught up.
        let members = sim.current_membership();
        let live: Vec<_> = sim
            .live_nodes()
            .filter(|(id, n)| match &members {
                Some(m) => m.contains(*id),
                None => n.role() != Role::Removed,
            })
            .map(|(id, n)| (id, n.clone()))
            .collect();
        sim.oracles_mut()
            .finish(live.iter().map(|(id, n)| (*id, n)));
    }
    let (result, _) = check_history(sim.history(), CHECK_BUDGET);
    let (safety, liveness): (Vec<Violation>, Vec<Violation>) = sim
        .violations()
        .iter()
        .cloned()
        .partition(|v| v.oracle.is_safety());
    Ok(RunReport {
        seed,
        trace_hash: sim.trace_hash(),
        events: sim.stats().events,
        safety,
        explanation: result.first_failure().map(|f| f.explanation.clone()),
        linearizability: result.verdict,
        liveness,
        stats: sim.stats().clone(),
        committed: sim.committed_commands(),
        operations: sim.history().len() as u64,
    })
}

/// Totals over many seeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub seeds: u64,
    pub safety_violations: u64,
    pub linearizability_violations: u64,
    pub unknown: u64,
    pub liveness_failures: u64,
    pub events: u64,
    /// The failing runs (seed and first problem), in seed order.
    pub failures: Vec<(u64, String)>,
}

impl Summary {
    /// Adds one run.
    pub fn add(&mut self, r: &RunReport) {
        self.seeds += 1;
        self.events += r.events;
        self.safety_violations += u64::from(!r.safety.is_empty());
        self.linearizability_violations += u64::from(r.linearizability == Verdict::NotLinearizable);
        self.unknown += u64::from(r.linearizability == Verdict::Unknown);
        self.liveness_failures += u64::from(!r.liveness.is_empty());
        if let Some(problem) = r.first_problem() {
            self.failures.push((r.seed, problem));
        }
    }

    /// Whether any safety or linearizability violation was found.
    pub fn has_violations(&self) -> bool {
        self.safety_violations > 0 || self.linearizability_violations > 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seeds={} safety_violations={} linearizability_violations={} unknown={} liveness_failures={}",
            self.seeds,
            self.safety_violations,
            self.linearizability_violations,
            self.unknown,
            self.liveness_failures
        )
    }
}

/// Trace hashes of a fixed set of runs, as `seed:hash` pairs: the same string on every
/// platform, or determinism is broken. `cargo xtask test` compares the native value with the
/// one computed in wasm.
pub fn determinism_fingerprint() -> String {
    let mut parts = Vec::new();
    let three = FuzzConfig::new(3);
    let five = FuzzConfig::new(5);
    let naive = FuzzConfig {
        protocol: Protocol::Naive,
        ..FuzzConfig::new(3)
    };
    let basic = FuzzConfig {
        protocol: Protocol::BasicPaxos,
        read_mode: ReadMode::Quorum,
        ..FuzzConfig::new(3)
    };
    let runs = (0..6)
        .map(|s| (s, &three))
        .chain((0..2).map(|s| (s, &five)))
        .chain([(0, &naive), (0, &basic)]);
    for (seed, config) in runs {
        let report = run(scenario(seed, config), true).expect("fuzz scenarios are valid");
        parts.push(format!(
            "{}/{}/{seed}:{:016x}",
            config.protocol.name(),
            config.nodes,
            report.trace_hash
        ));
    }
    parts.join(",")
}
