//! A scenario is data: everything needed to replay a world exactly.
//!
//! Seed, cluster configuration, network and client parameters, and the user's timed
//! interventions. Tests, the command line and the playground all build a
//! [`crate::Simulation`] from one of these, and the same scenario always gives the same trace
//! hash. The format is versioned; fields added later carry `serde(default)` so that older
//! scenario files and share links keep loading.

use crate::rng::Ratio;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use synod_core::{ClientId, KvOp, NodeId, Protocol};

/// The scenario format this build writes. It reads this version and every older one.
pub const SCENARIO_VERSION: u32 = 1;

/// Everything that determines a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub version: u32,
    pub seed: u64,
    pub cluster: ClusterConfig,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub clients: ClientsConfig,
    /// The user's actions, in the order they happened.
    #[serde(default)]
    pub interventions: Vec<Timed>,
}

/// The replicas and the protocol they run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterConfig {
    pub nodes: u8,
    pub protocol: Protocol,
    /// Virtual microseconds per logical tick of every node.
    #[serde(default = "default_tick_us")]
    pub tick_us: u64,
    /// Ticks a single-threaded node spends on one command.
    #[serde(default = "default_service_ticks")]
    pub service_ticks: u32,
}

fn default_tick_us() -> u64 {
    1_000
}

fn default_service_ticks() -> u32 {
    20
}

/// How messages travel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkConfig {
    /// One-way latency is drawn uniformly from this range, per message.
    pub latency_min_us: u64,
    pub latency_max_us: u64,
    /// Probability that a message is lost.
    pub loss: Ratio,
    /// Probability that a message is delivered twice.
    pub duplicate: Ratio,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency_min_us: 20_000,
            latency_max_us: 60_000,
            loss: Ratio::NEVER,
            duplicate: Ratio::NEVER,
        }
    }
}

/// The clients and how they behave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientsConfig {
    pub count: u16,
    /// How long a client waits for a reply before it retries with the same command id.
    pub timeout_us: u64,
    /// How many times a client sends a command before it gives up and records the outcome
    /// as unknown.
    pub max_attempts: u32,
    /// An automatic closed-loop workload; `None` means clients act only when told to.
    pub workload: Option<Workload>,
}

impl Default for ClientsConfig {
    fn default() -> Self {
        ClientsConfig {
            count: 2,
            timeout_us: 2_000_000,
            max_attempts: 3,
            workload: None,
        }
    }
}

/// A closed-loop workload: each client issues one operation, waits for its outcome, thinks,
/// and issues the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workload {
    /// Relative weights of get, set, contains and remove.
    pub mix: OpMix,
    /// Keys are `k1` .. `kN`.
    pub keys: u16,
    /// Think time between operations is drawn uniformly from this range.
    pub think_min_us: u64,
    pub think_max_us: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            mix: OpMix::default(),
            keys: 3,
            think_min_us: 200_000,
            think_max_us: 800_000,
        }
    }
}

/// Relative weights of the four operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpMix {
    pub get: u32,
    pub set: u32,
    pub contains: u32,
    pub remove: u32,
}

impl Default for OpMix {
    fn default() -> Self {
        OpMix {
            get: 4,
            set: 4,
            contains: 1,
            remove: 1,
        }
    }
}

/// An intervention at a virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timed {
    pub at: Time,
    pub action: Intervention,
}

/// What a user (or a test, or the fuzzer) can do to a running world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Intervention {
    /// A client invokes an operation on a node.
    Submit {
        client: ClientId,
        node: NodeId,
        op: KvOp,
    },
    /// A node crashes: volatile state is lost, durable state is kept.
    Crash { node: NodeId },
    /// A crashed node restarts from its durable state.
    Restart { node: NodeId },
}

impl Intervention {
    /// The nodes and clients the intervention names, for validation.
    fn names(&self) -> (Option<ClientId>, NodeId) {
        match self {
            Intervention::Submit { client, node, .. } => (Some(*client), *node),
            Intervention::Crash { node } | Intervention::Restart { node } => (None, *node),
        }
    }
}

impl Scenario {
    /// The first step of the story: one node, two clients acting by hand.
    pub fn single_node(seed: u64) -> Scenario {
        Scenario {
            version: SCENARIO_VERSION,
            seed,
            cluster: ClusterConfig {
                nodes: 1,
                protocol: Protocol::SingleNode,
                tick_us: default_tick_us(),
                service_ticks: default_service_ticks(),
            },
            network: NetworkConfig::default(),
            clients: ClientsConfig::default(),
            interventions: Vec::new(),
        }
    }

    /// Checks that the scenario makes sense, naming the first thing that does not.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |what: String| Err(ScenarioError(what));
        if self.version == 0 || self.version > SCENARIO_VERSION {
            return bad(format!(
                "scenario version {} is not supported (this build reads 1 to {SCENARIO_VERSION})",
                self.version
            ));
        }
        let range = self.cluster.protocol.node_range();
        if !range.contains(&self.cluster.nodes) {
            return bad(format!(
                "{} supports {} to {} nodes, not {}",
                self.cluster.protocol,
                range.start(),
                range.end(),
                self.cluster.nodes
            ));
        }
        if self.cluster.tick_us == 0 {
            return bad("tick_us must be at least 1".into());
        }
        let net = &self.network;
        if net.latency_min_us > net.latency_max_us {
            return bad(format!(
                "latency_min_us ({}) is above latency_max_us ({})",
                net.latency_min_us, net.latency_max_us
            ));
        }
        for (name, r) in [("loss", net.loss), ("duplicate", net.duplicate)] {
            if !r.is_valid() {
                return bad(format!(
                    "network.{name} must be a probability, not {}/{}",
                    r.num, r.den
                ));
            }
        }
        if self.clients.count == 0 || self.clients.count > 64 {
            return bad(format!(
                "clients.count must be 1 to 64, not {}",
                self.clients.count
            ));
        }
        if self.clients.max_attempts == 0 {
            return bad("clients.max_attempts must be at least 1".into());
        }
        if self.clients.timeout_us == 0 {
            return bad("clients.timeout_us must be at least 1".into());
        }
        if let Some(w) = &self.clients.workload {
            let m = w.mix;
            if u64::from(m.get) + u64::from(m.set) + u64::from(m.contains) + u64::from(m.remove)
                == 0
            {
                return bad("workload.mix gives every operation weight 0".into());
            }
            if w.keys == 0 {
                return bad("workload.keys must be at least 1".into());
            }
            if w.think_min_us > w.think_max_us {
                return bad("workload.think_min_us is above think_max_us".into());
            }
        }
        let mut last = Time::ZERO;
        for (i, t) in self.interventions.iter().enumerate() {
            if t.at < last {
                return bad(format!(
                    "intervention {i} at {} comes before the previous one at {last}",
                    t.at
                ));
            }
            last = t.at;
            let (client, node) = t.action.names();
            if let Some(client) = client.filter(|c| c.0 >= self.clients.count) {
                return bad(format!(
                    "intervention {i} names {client}, which does not exist"
                ));
            }
            if node.0 >= self.cluster.nodes {
                return bad(format!(
                    "intervention {i} names {node}, which does not exist"
                ));
            }
        }
        Ok(())
    }
}

/// What is wrong with a scenario, in words for the person who wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}
