//! A scenario is data: everything needed to replay a world exactly.
//!
//! Seed, cluster configuration, network and client parameters, and the user's timed
//! interventions. Tests, the command line and the playground all build a
//! [`crate::Simulation`] from one of these, and the same scenario always gives the same trace
//! hash. The format is versioned; fields added later carry `serde(default)` so that older
//! scenario files and share links keep loading.

use crate::rng::Ratio;
use crate::time::Time;
use crate::world::{Endpoint, MsgId};
use serde::{Deserialize, Serialize};
use synod_core::{Bugs, CatchUpMethod, ClientId, KvOp, NodeId, Protocol, ReadMode, Timing};

/// The scenario format this build writes. It reads this version and every older one.
pub const SCENARIO_VERSION: u32 = 1;

/// The most nodes a cluster may have.
pub const MAX_NODES: u8 = 7;

/// The most clients a scenario may have.
pub const MAX_CLIENTS: u16 = 64;

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
    /// How long `synod run` runs the scenario, in virtual microseconds.
    #[serde(default = "default_run_us")]
    pub run_us: u64,
}

fn default_run_us() -> u64 {
    10_000_000
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
    /// How `get` and `contains` are answered (Paxos protocols).
    #[serde(default)]
    pub read_mode: ReadMode,
    /// Deliberately broken variants switched on for every node (and for quorum-read
    /// clients, where the bug is on the client side).
    #[serde(default)]
    pub bugs: Bugs,
    /// Every node snapshots its state and compacts its log every this many applied slots
    /// (0: only when told to).
    #[serde(default)]
    pub snapshot_every: u64,
    /// The nodes' timers (heartbeat, election timeout, back-off), in ticks.
    #[serde(default)]
    pub timing: Timing,
    /// Per node, how many ticks its clock runs ahead (positive) or behind (negative): the
    /// timestamp protocol's undoing. Missing entries are zero.
    #[serde(default)]
    pub clock_skew_ticks: Vec<i64>,
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
    /// With this probability a message is slow: it gets up to `slow_extra_us` more latency,
    /// which is also what reorders messages on one link.
    pub slow: Ratio,
    pub slow_extra_us: u64,
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
            slow: Ratio::NEVER,
            slow_extra_us: 0,
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
    /// Key skew: with this probability the operation uses `k1`, otherwise a key drawn
    /// uniformly. Zero gives a uniform workload.
    pub hot_key: Ratio,
    /// Think time between operations is drawn uniformly from this range.
    pub think_min_us: u64,
    pub think_max_us: u64,
    /// The workload stops issuing new operations at this time (`None`: never).
    pub until_us: Option<u64>,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            mix: OpMix::default(),
            keys: 3,
            hot_key: Ratio::NEVER,
            think_min_us: 200_000,
            think_max_us: 800_000,
            until_us: None,
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

/// What a user (or a test, or the fuzzer) can do to a running world: the serializable
/// vocabulary of faults and actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "snake_case",
    try_from = "InterventionFields"
)]
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
    /// A node stops processing (a long pause): messages to it wait, its clock stops.
    Pause { node: NodeId },
    /// A paused node carries on, handling what arrived meanwhile.
    Resume { node: NodeId },
    /// Only nodes in the same group can talk to each other (clients reach every node).
    Partition { groups: Vec<Vec<NodeId>> },
    /// Messages from `from` to `to` are lost from now on (one way).
    Cut { from: Endpoint, to: Endpoint },
    /// Every link works again: partitions and cuts are gone (held links stay held).
    Heal,
    /// Messages on the link from `from` to `to` wait in flight until released.
    Hold { from: Endpoint, to: Endpoint },
    /// Held messages on the link are sent on their way again.
    Release { from: Endpoint, to: Endpoint },
    /// One message in flight is lost.
    DropMessage { msg: MsgId },
    /// One message in flight arrives twice.
    DuplicateMessage { msg: MsgId },
    /// One message in flight arrives later by this much.
    DelayMessage { msg: MsgId, by_us: u64 },
    /// Changes the network's loss, duplication and latency from now on.
    SetNetwork { network: NetworkConfig },
    /// Turns the automatic workload on or off.
    SetWorkload { on: bool },
    /// A new node joins: it starts as a learner, catches up by `catch_up` (replaying the log
    /// from the first slot, or installing a snapshot and replaying the rest), and is promoted
    /// to a voter through the log once it has caught up. It gets the next free id.
    AddNode { catch_up: CatchUpMethod },
    /// A voter or learner leaves the cluster through a configuration change in the log.
    RemoveNode { node: NodeId },
    /// A node snapshots its state now and compacts its log below the snapshot.
    Snapshot { node: NodeId },
}

/// An intervention as it is read: one flat object whose `action` names the variant and
/// whose other fields are the variant's. It reads the same JSON the derived internally tagged
/// decoding would, without that decoding's buffering of every object into an intermediate
/// tree and its second copy of each field type's decoder: about 40 KB of the page's wasm.
/// Like that decoding, it ignores fields the action does not take, which scenario files and
/// share links then refuse by path with their unknown-field check.
#[derive(Deserialize)]
struct InterventionFields {
    action: ActionName,
    client: Option<ClientId>,
    node: Option<NodeId>,
    op: Option<KvOp>,
    groups: Option<Vec<Vec<NodeId>>>,
    from: Option<Endpoint>,
    to: Option<Endpoint>,
    msg: Option<MsgId>,
    by_us: Option<u64>,
    network: Option<NetworkConfig>,
    on: Option<bool>,
    catch_up: Option<CatchUpMethod>,
}

/// The `action` of an [`Intervention`], by its name in the JSON.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ActionName {
    Submit,
    Crash,
    Restart,
    Pause,
    Resume,
    Partition,
    Cut,
    Heal,
    Hold,
    Release,
    DropMessage,
    DuplicateMessage,
    DelayMessage,
    SetNetwork,
    SetWorkload,
    AddNode,
    RemoveNode,
    Snapshot,
}

impl TryFrom<InterventionFields> for Intervention {
    type Error = String;

    fn try_from(f: InterventionFields) -> Result<Intervention, String> {
        fn need<T>(field: Option<T>, name: &str) -> Result<T, String> {
            field.ok_or_else(|| format!("this action needs the field `{name}`"))
        }
        Ok(match f.action {
            ActionName::Submit => Intervention::Submit {
                client: need(f.client, "client")?,
                node: need(f.node, "node")?,
                op: need(f.op, "op")?,
            },
            ActionName::Crash => Intervention::Crash {
                node: need(f.node, "node")?,
            },
            ActionName::Restart => Intervention::Restart {
                node: need(f.node, "node")?,
            },
            ActionName::Pause => Intervention::Pause {
                node: need(f.node, "node")?,
            },
            ActionName::Resume => Intervention::Resume {
                node: need(f.node, "node")?,
            },
            ActionName::Partition => Intervention::Partition {
                groups: need(f.groups, "groups")?,
            },
            ActionName::Cut => Intervention::Cut {
                from: need(f.from, "from")?,
                to: need(f.to, "to")?,
            },
            ActionName::Heal => Intervention::Heal,
            ActionName::Hold => Intervention::Hold {
                from: need(f.from, "from")?,
                to: need(f.to, "to")?,
            },
            ActionName::Release => Intervention::Release {
                from: need(f.from, "from")?,
                to: need(f.to, "to")?,
            },
            ActionName::DropMessage => Intervention::DropMessage {
                msg: need(f.msg, "msg")?,
            },
            ActionName::DuplicateMessage => Intervention::DuplicateMessage {
                msg: need(f.msg, "msg")?,
            },
            ActionName::DelayMessage => Intervention::DelayMessage {
                msg: need(f.msg, "msg")?,
                by_us: need(f.by_us, "by_us")?,
            },
            ActionName::SetNetwork => Intervention::SetNetwork {
                network: need(f.network, "network")?,
            },
            ActionName::SetWorkload => Intervention::SetWorkload {
                on: need(f.on, "on")?,
            },
            ActionName::AddNode => Intervention::AddNode {
                catch_up: need(f.catch_up, "catch_up")?,
            },
            ActionName::RemoveNode => Intervention::RemoveNode {
                node: need(f.node, "node")?,
            },
            ActionName::Snapshot => Intervention::Snapshot {
                node: need(f.node, "node")?,
            },
        })
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
                read_mode: ReadMode::default(),
                bugs: Bugs::none(),
                snapshot_every: 0,
                timing: Timing::default(),
                clock_skew_ticks: Vec::new(),
            },
            network: NetworkConfig::default(),
            clients: ClientsConfig::default(),
            interventions: Vec::new(),
            run_us: default_run_us(),
        }
    }

    /// A replicated cluster of `nodes` running `protocol`, with `clients` clients running
    /// the default automatic workload.
    pub fn cluster(seed: u64, nodes: u8, protocol: Protocol, clients: u16) -> Scenario {
        let mut s = Scenario::single_node(seed);
        s.cluster.nodes = nodes;
        s.cluster.protocol = protocol;
        s.cluster.service_ticks = 1;
        // A tick is long against a message's trip, so that an election timeout (a dozen
        // ticks or more) outlasts a round trip and proposers do not duel forever.
        s.cluster.tick_us = 10_000;
        s.clients.count = clients;
        s.clients.workload = Some(Workload::default());
        s
    }

    /// The throughput workload of the benchmarks (native and wasm): five Multi-Paxos nodes,
    /// ten clients thinking 1 to 20 ms between operations on ten keys, for ten seconds.
    pub fn busy_cluster(seed: u64) -> Scenario {
        let mut s = Scenario::cluster(seed, 5, Protocol::MultiPaxos, 10);
        if let Some(w) = &mut s.clients.workload {
            w.think_min_us = 1_000;
            w.think_max_us = 20_000;
            w.keys = 10;
        }
        s.run_us = 10_000_000;
        s
    }

    /// The same scenario with only the interventions up to and including time `t`: the
    /// past of the moment `t`, from which a different future can be forked.
    pub fn truncated(&self, t: Time) -> Scenario {
        let mut s = self.clone();
        s.interventions.retain(|i| i.at <= t);
        s
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
            return bad("cluster.tick_us must be at least 1".into());
        }
        if self.cluster.clock_skew_ticks.len() > usize::from(self.cluster.nodes) {
            return bad(format!(
                "cluster.clock_skew_ticks has {} entries for {} nodes",
                self.cluster.clock_skew_ticks.len(),
                self.cluster.nodes
            ));
        }
        if let Some(skew) = self
            .cluster
            .clock_skew_ticks
            .iter()
            .find(|s| s.unsigned_abs() > 1_000_000)
        {
            return bad(format!(
                "a clock skew of {skew} ticks is beyond the ±1000000 supported"
            ));
        }
        self.network.validate("network")?;
        let c = &self.clients;
        if c.count == 0 || c.count > MAX_CLIENTS {
            return bad(format!(
                "clients.count must be 1 to {MAX_CLIENTS}, not {}",
                c.count
            ));
        }
        if c.max_attempts == 0 || c.max_attempts > 100 {
            return bad(format!(
                "clients.max_attempts must be 1 to 100, not {}",
                c.max_attempts
            ));
        }
        if c.timeout_us == 0 {
            return bad("clients.timeout_us must be at least 1".into());
        }
        if let Some(w) = &c.workload {
            let m = w.mix;
            let total =
                u64::from(m.get) + u64::from(m.set) + u64::from(m.contains) + u64::from(m.remove);
            if total == 0 {
                return bad("clients.workload.mix gives every operation weight 0".into());
            }
            if w.keys == 0 {
                return bad("clients.workload.keys must be at least 1".into());
            }
            if w.think_min_us > w.think_max_us {
                return bad("clients.workload.think_min_us is above think_max_us".into());
            }
            if !w.hot_key.is_valid() {
                return bad("clients.workload.hot_key must be a probability".into());
            }
        }
        if self.cluster.snapshot_every > 0 && !self.cluster.protocol.has_shared_log() {
            return bad(format!(
                "{} keeps no log to snapshot: set cluster.snapshot_every to 0",
                self.cluster.protocol
            ));
        }
        let mut last = Time::ZERO;
        let mut nodes = self.cluster.nodes;
        for (i, t) in self.interventions.iter().enumerate() {
            if t.at < last {
                return bad(format!(
                    "intervention {i} at {} comes before the previous one at {last}",
                    t.at
                ));
            }
            last = t.at;
            self.validate_intervention(&t.action, nodes)
                .map_err(|e| ScenarioError(format!("intervention {i}: {e}")))?;
            if matches!(t.action, Intervention::AddNode { .. }) {
                nodes += 1;
            }
        }
        Ok(())
    }

    /// Checks that an intervention names things that exist, when the world has `nodes`
    /// nodes (the initial ones plus those added so far).
    pub fn validate_intervention(
        &self,
        action: &Intervention,
        nodes: u8,
    ) -> Result<(), ScenarioError> {
        let node = |n: &NodeId| {
            if n.0 < nodes {
                Ok(())
            } else {
                Err(ScenarioError(format!("{n} does not exist")))
            }
        };
        let endpoint = |e: &Endpoint| match e {
            Endpoint::Node(n) => node(n),
            Endpoint::Client(c) if c.0 < self.clients.count => Ok(()),
            Endpoint::Client(c) => Err(ScenarioError(format!("{c} does not exist"))),
        };
        match action {
            Intervention::Submit {
                client,
                node: n,
                op,
            } => {
                endpoint(&Endpoint::Client(*client))?;
                node(n)?;
                if op.key().is_empty() {
                    return Err(ScenarioError("an operation needs a key".into()));
                }
                Ok(())
            }
            Intervention::Crash { node: n }
            | Intervention::Restart { node: n }
            | Intervention::Pause { node: n }
            | Intervention::Resume { node: n }
            | Intervention::RemoveNode { node: n }
            | Intervention::Snapshot { node: n } => node(n),
            Intervention::AddNode { .. } if self.cluster.protocol != Protocol::MultiPaxos => {
                Err(ScenarioError(format!(
                    "{} cannot change its membership; adding a node needs multi-paxos",
                    self.cluster.protocol
                )))
            }
            Intervention::AddNode { .. } if nodes >= MAX_NODES => Err(ScenarioError(format!(
                "a cluster has at most {MAX_NODES} nodes"
            ))),
            Intervention::AddNode { .. } => Ok(()),
            Intervention::Partition { groups } => {
                let mut seen = Vec::new();
                for n in groups.iter().flatten() {
                    node(n)?;
                    if seen.contains(n) {
                        return Err(ScenarioError(format!("{n} is in two partition groups")));
                    }
                    seen.push(*n);
                }
                Ok(())
            }
            Intervention::Cut { from, to }
            | Intervention::Hold { from, to }
            | Intervention::Release { from, to } => {
                endpoint(from)?;
                endpoint(to)
            }
            Intervention::SetNetwork { network } => network.validate("network"),
            Intervention::Heal
            | Intervention::DropMessage { .. }
            | Intervention::DuplicateMessage { .. }
            | Intervention::DelayMessage { .. }
            | Intervention::SetWorkload { .. } => Ok(()),
        }
    }
}

impl NetworkConfig {
    fn validate(&self, name: &str) -> Result<(), ScenarioError> {
        if self.latency_min_us > self.latency_max_us {
            return Err(ScenarioError(format!(
                "{name}.latency_min_us ({}) is above latency_max_us ({})",
                self.latency_min_us, self.latency_max_us
            )));
        }
        if self.latency_max_us > 60_000_000 || self.slow_extra_us > 60_000_000 {
            return Err(ScenarioError(format!(
                "{name}: latencies above 60 s are not supported"
            )));
        }
        for (field, r) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("slow", self.slow),
        ] {
            if !r.is_valid() {
                return Err(ScenarioError(format!(
                    "{name}.{field} must be a probability, not {}/{}",
                    r.num, r.den
                )));
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
