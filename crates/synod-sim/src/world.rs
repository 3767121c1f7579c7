//! The simulated world: nodes, clients, a network, and one queue of events in virtual time.
//!
//! # How a step works
//!
//! Every future happening (a message arriving, the nodes' clock ticking, a client's timer or
//! think time running out) is an entry in one priority queue ordered by `(time, insertion
//! order)`: a total order, so two runs of the same scenario process the same events in the
//! same order. [`Simulation::step`] pops the earliest entry, feeds it to the node or client
//! it concerns, carries out the node's [`Output`]s (messages become queue entries, durable
//! writes go to the node's [`Durable`], events go to the trace), runs the global
//! [`Oracles`], and folds what happened into the rolling trace hash.
//!
//! The user's interventions are not queue entries: an intervention stamped with time `t`
//! happens after every event at or before `t`. [`Simulation::intervene`] records the
//! intervention in the scenario and applies it at once; replaying the scenario applies it at
//! the same point, which is why a replay reaches the same trace hash.
//!
//! # The network
//!
//! Every message gets an id, a send time and a delivery time (drawn from the scenario's
//! latency range, sometimes with a slow tail, which is also what reorders messages). It may be
//! lost or duplicated at random. Links can be cut one way, partitioned into groups, or held
//! (messages wait until released); a single message can be dropped, duplicated or delayed by
//! hand. Messages to a crashed node are lost; messages to a paused node wait for it.

use crate::oracle::{Oracle, Oracles, Violation};
use crate::rng::Rng;
use crate::scenario::{Intervention, NetworkConfig, Scenario, ScenarioError, Timed};
use crate::structured_hash::hash_serialized;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::fmt;
use std::sync::Arc;
use synod_core::kv::Fnv64;
use synod_core::{
    AdminCommand, AdminError, CatchUpMethod, ClientId, ClientReply, ClientRequest, Collector,
    Command, CommandId, Durable, Event, KvOp, KvResult, LogRun, Message, Node, NodeConfig, NodeId,
    NodeView, Output, Protocol, ReadMode, ReplyStatus, Role, Timing, Verdict, CONFIG_DELAY,
};

/// Identifies one message on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MsgId(pub u64);

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// One end of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Endpoint {
    Node(NodeId),
    Client(ClientId),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Node(n) => n.fmt(f),
            Endpoint::Client(c) => c.fmt(f),
        }
    }
}

/// What a message carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Request(ClientRequest),
    Reply(ClientReply),
    Peer(Message),
}

impl Payload {
    /// A short type name, for colours, legends and statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Request(_) => "request",
            Payload::Reply(_) => "reply",
            Payload::Peer(m) => m.kind(),
        }
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Request(r) => write!(f, "request {}", r.command),
            Payload::Reply(r) => match &r.status {
                ReplyStatus::Ok { result } => write!(f, "reply {} = {result}", r.id),
                ReplyStatus::Failed { reason } => write!(f, "reply {} failed: {reason}", r.id),
                ReplyStatus::Redirect { leader: Some(l) } => {
                    write!(f, "reply {}: ask {l}, the leader", r.id)
                }
                ReplyStatus::Redirect { leader: None } => {
                    write!(f, "reply {}: no leader known, try again", r.id)
                }
                ReplyStatus::QuorumRead { report } => match &report.newest {
                    Some(w) => write!(
                        f,
                        "reply {}: newest write to {} is {} in {} ({})",
                        r.id,
                        report.key,
                        w.id,
                        w.slot,
                        if w.decided {
                            "decided"
                        } else {
                            "not yet decided"
                        }
                    ),
                    None => write!(f, "reply {}: no write to {} known", r.id, report.key),
                },
            },
            Payload::Peer(m) => m.fmt(f),
        }
    }
}

/// A message in flight, with everything the page needs to draw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: MsgId,
    pub from: Endpoint,
    pub to: Endpoint,
    pub payload: Payload,
    pub sent_at: Time,
    pub deliver_at: Time,
    /// The network will lose it: it is drawn fading and never arrives.
    pub lost: bool,
    /// Its link is held: it waits in flight until released.
    pub held: bool,
}

/// How a client operation ended, as far as the client knows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Still waiting.
    Pending,
    /// Answered.
    Ok { result: KvResult },
    /// Definitely did not take effect.
    Failed { reason: String },
    /// The client gave up waiting: it may or may not have taken effect.
    Unknown,
}

/// One operation in the client history, at the client boundary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub client: ClientId,
    pub id: CommandId,
    pub op: KvOp,
    pub call: Time,
    /// When the client learned the outcome; `None` while pending or when unknown.
    pub ret: Option<Time>,
    pub outcome: Outcome,
}

/// What happened in one step, for the narration log and the trace hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum TraceKind {
    /// A message was put on the wire.
    Sent {
        msg: MsgId,
        from: Endpoint,
        to: Endpoint,
    },
    /// A message reached its destination.
    Delivered {
        msg: MsgId,
        from: Endpoint,
        to: Endpoint,
    },
    /// A message was lost by the network, cut off, or arrived at a crashed node.
    Dropped {
        msg: MsgId,
        from: Endpoint,
        to: Endpoint,
    },
    /// Every live node's clock ticked.
    Tick,
    /// A client invoked an operation.
    Invoked { client: ClientId, id: CommandId },
    /// A client learned an outcome.
    Completed { client: ClientId, id: CommandId },
    /// A client timed out and sent its command again.
    Retried {
        client: ClientId,
        id: CommandId,
        attempt: u32,
    },
    /// A client gave up: the outcome is unknown.
    GaveUp { client: ClientId, id: CommandId },
    /// A node narrated something.
    Node { node: NodeId, event: Event },
    /// A node crashed: its volatile state is lost.
    Crashed { node: NodeId },
    /// A node restarted from its durable state.
    Restarted { node: NodeId },
    /// Someone intervened.
    Intervened { action: Intervention },
    /// The operator's membership request was accepted by the leader (it still has to be
    /// decided through the log).
    AdminAccepted { node: NodeId, command: AdminCommand },
    /// The operator's request was refused for good.
    AdminRefused {
        command: AdminCommand,
        reason: String,
    },
}

/// One entry of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    pub at: Time,
    pub kind: TraceKind,
}

/// Why the simulation refused a request from its host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// The client already has an operation outstanding (clients are closed-loop).
    ClientBusy(ClientId),
    /// No such client, node or message.
    NoSuch(String),
    /// The scenario or intervention is not valid.
    Scenario(ScenarioError),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::ClientBusy(c) => {
                write!(f, "{c} is still waiting for its previous operation")
            }
            SimError::NoSuch(what) => write!(f, "there is no {what}"),
            SimError::Scenario(e) => write!(f, "invalid scenario: {e}"),
        }
    }
}

impl std::error::Error for SimError {}

/// Counters the page and the command line show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub events: u64,
    /// Messages sent, by kind.
    pub sent: BTreeMap<String, u64>,
    pub delivered: u64,
    pub dropped: u64,
    pub completed_ok: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Phase 1 runs (a proposer campaigned for a ballot).
    pub phase1_runs: u64,
    /// Times some node became leader.
    pub leader_changes: u64,
    /// Sum and maximum of latencies of operations that completed, in microseconds.
    pub latency_sum_us: u64,
    pub latency_max_us: u64,
    /// Every node that joined, and what catching up cost it.
    pub joins: Vec<JoinStats>,
}

/// What it cost a new node to catch up: the story's two ways compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinStats {
    pub node: NodeId,
    pub method: CatchUpMethod,
    pub started_at: Time,
    /// When the learner had applied what the voters had decided (give or take the
    /// configuration window), and was put up for promotion.
    pub caught_up_at: Option<Time>,
    /// When it became a voter.
    pub promoted_at: Option<Time>,
    /// Messages from other nodes delivered to it until it caught up, and their size.
    pub messages_in: u64,
    pub bytes_in: u64,
}

impl JoinStats {
    /// Virtual time from joining to catching up.
    pub fn catch_up_us(&self) -> Option<u64> {
        self.caught_up_at
            .map(|t| t.as_us().saturating_sub(self.started_at.as_us()))
    }
}

impl Stats {
    /// Messages between nodes (client requests and replies excluded).
    pub fn protocol_messages(&self) -> u64 {
        self.sent
            .iter()
            .filter(|(k, _)| k.as_str() != "request" && k.as_str() != "reply")
            .map(|(_, n)| n)
            .sum()
    }

    /// Mean latency of completed operations.
    pub fn mean_latency_us(&self) -> u64 {
        self.latency_sum_us
            .checked_div(self.completed_ok + self.failed)
            .unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Queued {
    Deliver(MsgId),
    Tick,
    ClientTimer { client: ClientId, token: u64 },
}

/// One entry of the event queue. The order is `(time, insertion order)`, packed into one
/// number so that the heap compares a single `u128` (the queue's sifting was a tenth of
/// the simulator's own work); insertion numbers are unique, so the event itself is never
/// compared.
#[derive(Clone, Debug)]
struct Scheduled {
    key: u128,
    event: Queued,
}

impl Scheduled {
    fn new(at: Time, seq: u64, event: Queued) -> Scheduled {
        Scheduled {
            key: (u128::from(at.as_us()) << 64) | u128::from(seq),
            event,
        }
    }

    fn at(&self) -> Time {
        Time((self.key >> 64) as u64)
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed: `BinaryHeap` pops the greatest, and the earliest entry must come first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.key.cmp(&self.key)
    }
}

#[derive(Clone, Debug)]
struct NodeSlot {
    config: NodeConfig,
    durable: Durable,
    node: Option<Node>,
    jitter: Rng,
    paused: bool,
    /// Messages that reached the node while it was paused, in arrival order.
    inbox: VecDeque<Envelope>,
}

#[derive(Clone, Debug)]
struct Pending {
    /// Shared with every copy of the request sent and the value proposed for it.
    command: Arc<Command>,
    history: usize,
    target: NodeId,
    attempt: u32,
    /// For a quorum read: the reports collected this round.
    quorum: Option<Collector>,
    /// When the current quorum-read round started: reports sent before it belong to an
    /// earlier round and are not counted (else every late report of a round could start
    /// yet another round).
    round_started: Time,
}

#[derive(Clone, Debug)]
struct ClientSlot {
    pending: Option<Pending>,
    next_seq: u64,
    /// Bumped whenever a timer is armed, so stale timers are recognised and ignored.
    token: u64,
}

/// An operator request for a membership change, retried until it is decided.
#[derive(Clone, Debug)]
struct AdminRequest {
    command: AdminCommand,
    /// When a leader accepted it, so that it can be re-sent if it got lost with a deposed
    /// leader.
    accepted_at: Option<Time>,
}

/// A membership request a leader accepted but that is still not in force after this long is
/// sent again (it may have been lost with a deposed leader).
const ADMIN_RESEND_US: u64 = 3_000_000;

/// Run the full oracle sweep every this many events.
const SWEEP_EVERY: u64 = 512;

/// The messages on the wire, by id. Ids are handed out in sequence and most messages are
/// delivered within a few milliseconds of each other, so they live in a ring indexed by
/// `id - first`: insertion appends, removal leaves a hole that the front is trimmed past,
/// and a lookup is an index. (A search tree of envelopes spent a tenth of the simulator's
/// time shifting envelopes inside its nodes.)
///
/// A message that may stay on the wire for an unbounded time would pin the ring's front and
/// make it grow with every message sent after it, so such messages are set aside in a
/// search tree by id: those on a held link (for as long as the user likes), and those
/// delayed by hand or released from a held link (until their new delivery time). Their
/// place in the ring becomes a hole like any other. The ring then spans about one network
/// latency of traffic, however long a link stays held, and holding or releasing a link
/// walks the ring's few messages and the set-aside ones, not everything sent since.
#[derive(Clone, Debug, Default)]
struct InFlight {
    first: u64,
    slots: VecDeque<Option<Envelope>>,
    aside: BTreeMap<MsgId, Envelope>,
}

impl InFlight {
    fn index(&self, id: MsgId) -> Option<usize> {
        let i = id.0.checked_sub(self.first)?;
        usize::try_from(i).ok().filter(|i| *i < self.slots.len())
    }

    /// Adds the message with the next id (set aside at once if its link is held).
    fn insert(&mut self, env: Envelope) {
        if self.slots.is_empty() {
            self.first = env.id.0;
        }
        assert_eq!(
            env.id.0,
            self.first + self.slots.len() as u64,
            "message ids are sequential"
        );
        if env.held {
            self.slots.push_back(None);
            self.aside.insert(env.id, env);
            self.trim();
        } else {
            self.slots.push_back(Some(env));
        }
    }

    fn get(&self, id: MsgId) -> Option<&Envelope> {
        match self.index(id).and_then(|i| self.slots[i].as_ref()) {
            Some(env) => Some(env),
            None => self.aside.get(&id),
        }
    }

    fn get_mut(&mut self, id: MsgId) -> Option<&mut Envelope> {
        match self.index(id) {
            Some(i) if self.slots[i].is_some() => self.slots[i].as_mut(),
            _ => self.aside.get_mut(&id),
        }
    }

    fn contains_key(&self, id: MsgId) -> bool {
        self.get(id).is_some()
    }

    fn remove(&mut self, id: MsgId) -> Option<Envelope> {
        match self.index(id).and_then(|i| self.slots[i].take()) {
            Some(env) => {
                self.trim();
                Some(env)
            }
            None => self.aside.remove(&id),
        }
    }

    /// Moves a message out of the ring into the set-aside tree (a no-op if it is there
    /// already), and returns it.
    fn set_aside(&mut self, id: MsgId) -> Option<&mut Envelope> {
        if let Some(env) = self.index(id).and_then(|i| self.slots[i].take()) {
            self.aside.insert(id, env);
            self.trim();
        }
        self.aside.get_mut(&id)
    }

    /// Marks every message on the link as held, setting aside those in the ring.
    fn hold(&mut self, from: Endpoint, to: Endpoint) {
        let on_link = |e: &Envelope| e.from == from && e.to == to;
        let in_ring: Vec<MsgId> = self
            .slots
            .iter()
            .flatten()
            .filter(|e| on_link(e))
            .map(|e| e.id)
            .collect();
        for id in in_ring {
            self.set_aside(id);
        }
        for env in self.aside.values_mut().filter(|e| on_link(e)) {
            env.held = true;
        }
    }

    /// The held messages on the link, in id order.
    fn held_on(&self, from: Endpoint, to: Endpoint) -> Vec<MsgId> {
        self.aside
            .values()
            .filter(|e| e.held && e.from == from && e.to == to)
            .map(|e| e.id)
            .collect()
    }

    /// Drops the holes at the front, so the ring starts at the oldest message in it.
    fn trim(&mut self) {
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.first += 1;
        }
    }

    /// The messages in id order: the ring's merged with the set-aside ones.
    fn values(&self) -> impl Iterator<Item = &Envelope> {
        let mut ring = self.slots.iter().flatten().peekable();
        let mut aside = self.aside.values().peekable();
        std::iter::from_fn(move || match (ring.peek(), aside.peek()) {
            (Some(r), Some(a)) if a.id < r.id => aside.next(),
            (Some(_), _) => ring.next(),
            (None, _) => aside.next(),
        })
    }
}

/// A whole simulated world.
#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Scenario,
    network: NetworkConfig,
    workload_on: bool,
    now: Time,
    queue: BinaryHeap<Scheduled>,
    next_seq: u64,
    next_msg: u64,
    nodes: Vec<NodeSlot>,
    clients: Vec<ClientSlot>,
    in_flight: InFlight,
    /// Messages no longer in flight (delivered or dropped), kept while the trace is
    /// recorded so the page can show what any past message carried.
    archive: BTreeMap<MsgId, Envelope>,
    /// One-way links that lose every message (cuts and partitions).
    blocked: BTreeSet<(Endpoint, Endpoint)>,
    /// One-way links whose messages wait in flight.
    held: BTreeSet<(Endpoint, Endpoint)>,
    net: Rng,
    workload: Rng,
    history: Vec<HistoryEntry>,
    record_trace: bool,
    trace: Vec<TraceRecord>,
    trace_hash: u64,
    /// Index of the next scenario intervention not yet applied.
    replayed: usize,
    stats: Stats,
    /// Messages sent by kind and not yet added to `stats.sent`: a search of that map by
    /// string on every send cost more than the rest of sending, so the counts gather here
    /// (a handful of static names, compared by address first) and are added whenever a
    /// public method that can send returns (see `Simulation::flush_sent`).
    unflushed_sent: Vec<(&'static str, u64)>,
    oracles: Oracles,
    /// Membership requests not yet in force, oldest first.
    admin: VecDeque<AdminRequest>,
    /// Nodes asked for but not created yet, waiting for earlier changes to take effect.
    pending_adds: VecDeque<CatchUpMethod>,
}

impl Simulation {
    /// Builds the world a scenario describes, at time zero. Interventions in the scenario are
    /// applied as time reaches them.
    pub fn new(scenario: Scenario) -> Result<Simulation, SimError> {
        scenario.validate().map_err(SimError::Scenario)?;
        let c = &scenario.cluster;
        let members: Vec<NodeId> = (0..c.nodes).map(NodeId).collect();
        let nodes = members
            .iter()
            .map(|&id| {
                let base = NodeConfig::new(id, members.clone(), c.protocol);
                let config = node_config(&scenario, &scenario.network, base);
                node_slot(&scenario, config)
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        let clients = (0..scenario.clients.count)
            .map(|_| ClientSlot {
                pending: None,
                next_seq: 1,
                token: 0,
            })
            .collect();
        let workload_on = scenario.clients.workload.is_some();
        let mut sim = Simulation {
            net: Rng::derive(scenario.seed, "network"),
            workload: Rng::derive(scenario.seed, "workload"),
            network: scenario.network.clone(),
            oracles: Oracles::new(&members, c.protocol.has_shared_log()),
            scenario,
            workload_on,
            now: Time::ZERO,
            queue: BinaryHeap::new(),
            next_seq: 0,
            next_msg: 0,
            nodes,
            clients,
            in_flight: InFlight::default(),
            archive: BTreeMap::new(),
            blocked: BTreeSet::new(),
            held: BTreeSet::new(),
            history: Vec::new(),
            record_trace: true,
            trace: Vec::new(),
            trace_hash: Fnv64::new().finish(),
            replayed: 0,
            stats: Stats::default(),
            unflushed_sent: Vec::new(),
            admin: VecDeque::new(),
            pending_adds: VecDeque::new(),
        };
        let tick = sim.scenario.cluster.tick_us;
        sim.schedule(Time(tick), Queued::Tick);
        if workload_on {
            for i in 0..sim.clients.len() {
                let think = sim.think_time();
                sim.arm_timer(ClientId(i as u16), think);
            }
        }
        Ok(sim)
    }

    /// Whether to keep the trace records (the hash is always kept). The fuzzer turns this
    /// off to save memory and time.
    pub fn set_record_trace(&mut self, on: bool) {
        self.record_trace = on;
    }

    /// The scenario so far, including every intervention applied.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The rolling hash of every step so far.
    pub fn trace_hash(&self) -> u64 {
        self.trace_hash
    }

    /// Everything that happened, in order (empty when recording is off).
    pub fn trace(&self) -> &[TraceRecord] {
        &self.trace
    }

    /// The client history.
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Commands (not no-ops) in the global chosen log so far.
    pub fn committed_commands(&self) -> u64 {
        self.oracles
            .chosen()
            .values()
            .filter(|v| v.command().is_some())
            .count() as u64
    }

    /// Safety violations found so far by the global oracles.
    pub fn violations(&self) -> &[Violation] {
        self.oracles.violations()
    }

    /// The oracles, for checks at the end of a run.
    pub fn oracles_mut(&mut self) -> &mut Oracles {
        &mut self.oracles
    }

    /// Messages on the wire right now.
    pub fn in_flight(&self) -> impl Iterator<Item = &Envelope> {
        self.in_flight.values()
    }

    /// Any message sent so far: in flight, or (while the trace is recorded) delivered or
    /// dropped.
    pub fn message(&self, id: MsgId) -> Option<&Envelope> {
        self.in_flight.get(id).or_else(|| self.archive.get(&id))
    }

    /// A picture of every node (`None` for a crashed one), whole logs included.
    pub fn node_views(&self) -> Vec<Option<NodeView>> {
        self.nodes
            .iter()
            .map(|s| s.node.as_ref().map(Node::view))
            .collect()
    }

    /// A picture of every node with only the last `tail` slots of each log
    /// ([`Node::view_recent`]): what a page redrawing every frame asks for, at a cost that
    /// does not grow with the run.
    pub fn node_views_recent(&self, tail: usize) -> Vec<Option<NodeView>> {
        self.nodes
            .iter()
            .map(|s| s.node.as_ref().map(|n| n.view_recent(tail)))
            .collect()
    }

    /// Node `id`'s whole log as runs of slots in one state ([`Node::log_runs`]); `None` if
    /// the node is down or unknown.
    pub fn log_runs(&self, id: NodeId) -> Option<Vec<LogRun>> {
        self.nodes
            .get(id.index())
            .and_then(|s| s.node.as_ref())
            .map(Node::log_runs)
    }

    /// Live nodes, for oracles and drawing.
    pub fn live_nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node.as_ref().map(|n| (NodeId(i as u8), n)))
    }

    /// Membership changes asked for and not in force yet (a node still waiting to be
    /// created is listed as adding the next free id).
    pub fn pending_admin(&self) -> Vec<AdminCommand> {
        let next = self.node_count();
        let waiting =
            self.pending_adds
                .iter()
                .enumerate()
                .map(|(i, catch_up)| AdminCommand::AddLearner {
                    node: NodeId(next + i as u8),
                    catch_up: *catch_up,
                });
        self.admin
            .iter()
            .map(|r| r.command)
            .chain(waiting)
            .collect()
    }

    /// The newest membership a live leader knows (Multi-Paxos), or failing that any live
    /// node's.
    pub fn current_membership(&self) -> Option<synod_core::Membership> {
        let leader = self
            .live_nodes()
            .filter(|(_, n)| n.role() == Role::Leader)
            .find_map(|(_, n)| n.membership());
        leader.or_else(|| self.live_nodes().find_map(|(_, n)| n.membership()))
    }

    /// Whether a node is paused.
    pub fn is_paused(&self, node: NodeId) -> bool {
        self.nodes.get(node.index()).is_some_and(|s| s.paused)
    }

    /// One-way links that currently lose every message.
    pub fn blocked_links(&self) -> impl Iterator<Item = &(Endpoint, Endpoint)> {
        self.blocked.iter()
    }

    /// One-way links that currently hold their messages.
    pub fn held_links(&self) -> impl Iterator<Item = &(Endpoint, Endpoint)> {
        self.held.iter()
    }

    /// How many nodes there are.
    pub fn node_count(&self) -> u8 {
        self.nodes.len() as u8
    }

    /// How many clients there are.
    pub fn client_count(&self) -> u16 {
        self.clients.len() as u16
    }

    /// The operation a client is waiting for, if any.
    pub fn client_pending(&self, client: ClientId) -> Option<&HistoryEntry> {
        let slot = self.clients.get(client.index())?;
        slot.pending.as_ref().map(|p| &self.history[p.history])
    }

    /// Whether every client is idle.
    pub fn clients_idle(&self) -> bool {
        self.clients.iter().all(|c| c.pending.is_none())
    }

    /// The time of the next queued event, if any.
    pub fn next_event_at(&self) -> Option<Time> {
        self.queue.peek().map(Scheduled::at)
    }

    /// Processes the next event (or applies the next scenario intervention, if it is due
    /// first). Returns false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        let more = self.step_unflushed();
        self.flush_sent();
        more
    }

    /// Adds the messages sent since the last call to `stats.sent`.
    fn flush_sent(&mut self) {
        for (kind, n) in self.unflushed_sent.drain(..) {
            match self.stats.sent.get_mut(kind) {
                Some(count) => *count += n,
                None => {
                    self.stats.sent.insert(kind.to_owned(), n);
                }
            }
        }
    }

    /// [`Simulation::step`], leaving the sent counts to the caller's `flush_sent`.
    fn step_unflushed(&mut self) -> bool {
        let next_event = self.next_event_at();
        if let Some(t) = self.scenario.interventions.get(self.replayed) {
            if next_event.is_none_or(|e| t.at < e) {
                let t = t.clone();
                self.now = self.now.max(t.at);
                self.replayed += 1;
                self.apply(t.action);
                return true;
            }
        }
        let Some(next) = self.queue.pop() else {
            return false;
        };
        let (at, event) = (next.at(), next.event);
        debug_assert!(at >= self.now, "time never runs backwards");
        self.now = at;
        self.oracles.at(self.stats.events, at);
        self.stats.events += 1;
        match event {
            Queued::Deliver(id) => self.deliver(id),
            Queued::Tick => self.tick(),
            Queued::ClientTimer { client, token } => self.client_timer(client, token),
        }
        if self.stats.events.is_multiple_of(SWEEP_EVERY) {
            self.sweep();
        }
        true
    }

    /// Runs the full oracle sweep over every live node now.
    pub fn sweep(&mut self) {
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node.as_ref().map(|n| (NodeId(i as u8), n)));
        self.oracles.sweep(nodes);
    }

    /// Whether the world stands between two events of the same microsecond (after
    /// [`Simulation::step`]): [`Simulation::run_until`] of `now` would process more, so
    /// the moment is named by time and event count ([`Simulation::replay_to`]).
    pub fn mid_moment(&self) -> bool {
        self.next_event_at() == Some(self.now)
    }

    /// Replays to the moment at `t` after exactly `events` events (as counted by
    /// [`Stats::events`]): everything before `t`, then events at `t` one at a time. Stops
    /// early if the world runs out of events or the count lies beyond `t`.
    pub fn replay_to(&mut self, t: Time, events: u64) {
        if let Some(before) = t.as_us().checked_sub(1) {
            self.run_until(Time(before));
        }
        while self.stats.events < events && self.next_event_at().is_some_and(|e| e <= t) {
            if !self.step_unflushed() {
                break;
            }
        }
        self.flush_sent();
        self.now = self.now.max(t);
    }

    /// Processes every event up to and including time `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Time) {
        loop {
            let due_event = self.next_event_at().is_some_and(|e| e <= t);
            let due_intervention = self
                .scenario
                .interventions
                .get(self.replayed)
                .is_some_and(|i| i.at <= t);
            if !(due_event || due_intervention) || !self.step_unflushed() {
                break;
            }
        }
        self.flush_sent();
        self.now = self.now.max(t);
    }

    /// Applies a user's intervention now and records it in the scenario, so that replaying
    /// the scenario applies it at the same point.
    pub fn intervene(&mut self, action: Intervention) -> Result<(), SimError> {
        self.check(&action)?;
        let now = self.now;
        // Everything stamped `now` happens before the intervention, as in a replay.
        self.run_until(now);
        self.scenario.interventions.push(Timed {
            at: now,
            action: action.clone(),
        });
        self.replayed = self.scenario.interventions.len();
        self.apply(action);
        self.flush_sent();
        Ok(())
    }

    fn check(&self, action: &Intervention) -> Result<(), SimError> {
        self.scenario
            .validate_intervention(action, self.node_count())
            .map_err(SimError::Scenario)?;
        match action {
            Intervention::Submit { client, .. }
                if self.clients[client.index()].pending.is_some() =>
            {
                Err(SimError::ClientBusy(*client))
            }
            Intervention::DropMessage { msg }
            | Intervention::DuplicateMessage { msg }
            | Intervention::DelayMessage { msg, .. }
                if !self.in_flight.contains_key(*msg) =>
            {
                Err(SimError::NoSuch(format!("message {msg} in flight")))
            }
            _ => Ok(()),
        }
    }

    fn apply(&mut self, action: Intervention) {
        if !matches!(action, Intervention::Submit { .. }) {
            self.record(TraceKind::Intervened {
                action: action.clone(),
            });
        }
        let target = match &action {
            Intervention::Submit { node, .. }
            | Intervention::Crash { node }
            | Intervention::Restart { node }
            | Intervention::Pause { node }
            | Intervention::Resume { node }
            | Intervention::Snapshot { node } => Some(*node),
            _ => None,
        };
        if let Some(node) = target.filter(|n| n.index() >= self.nodes.len()) {
            // A node whose addition still waits for an earlier membership change.
            self.record(TraceKind::Node {
                node,
                event: Event::Ignored {
                    from: None,
                    what: "intervention".into(),
                    why: "the node has not joined yet".into(),
                },
            });
            return;
        }
        match action {
            Intervention::Submit { client, node, op } => {
                if self.clients[client.index()].pending.is_none() {
                    self.invoke(client, node, op);
                }
            }
            Intervention::Crash { node } => {
                let slot = &mut self.nodes[node.index()];
                // Volatile state is gone; the durable state stays on disk.
                if slot.node.take().is_some() {
                    slot.paused = false;
                    slot.inbox.clear();
                    self.record(TraceKind::Crashed { node });
                }
            }
            Intervention::Restart { node } => {
                let slot = &mut self.nodes[node.index()];
                if slot.node.is_none() {
                    let restarted = Node::restart(slot.config.clone(), slot.durable.clone());
                    self.oracles.restarted(node, &restarted);
                    slot.node = Some(restarted);
                    self.record(TraceKind::Restarted { node });
                    self.drain(node);
                }
            }
            Intervention::Pause { node } => {
                let slot = &mut self.nodes[node.index()];
                slot.paused = slot.node.is_some();
            }
            Intervention::Resume { node } => {
                let slot = &mut self.nodes[node.index()];
                slot.paused = false;
                let inbox = std::mem::take(&mut slot.inbox);
                for env in inbox {
                    self.hand_to_node(env);
                }
            }
            Intervention::Partition { groups } => {
                let group_of = |n: NodeId| groups.iter().position(|g| g.contains(&n));
                for a in 0..self.node_count() {
                    for b in 0..self.node_count() {
                        let (a, b) = (NodeId(a), NodeId(b));
                        if a != b && group_of(a) != group_of(b) {
                            self.blocked.insert((Endpoint::Node(a), Endpoint::Node(b)));
                        }
                    }
                }
            }
            Intervention::Cut { from, to } => {
                self.blocked.insert((from, to));
            }
            Intervention::Heal => self.blocked.clear(),
            Intervention::Hold { from, to } => {
                self.held.insert((from, to));
                self.in_flight.hold(from, to);
            }
            Intervention::Release { from, to } => {
                self.held.remove(&(from, to));
                // Released messages stay set aside until their new delivery time.
                for id in self.in_flight.held_on(from, to) {
                    let latency = self.latency();
                    let at = self.now.plus_us(latency);
                    let env = self.in_flight.get_mut(id).expect("listed above");
                    env.held = false;
                    env.deliver_at = at.max(env.deliver_at);
                    let at = env.deliver_at;
                    self.schedule(at, Queued::Deliver(id));
                }
            }
            Intervention::DropMessage { msg } => {
                if let Some(env) = self.in_flight.get_mut(msg) {
                    env.lost = true;
                }
            }
            Intervention::DuplicateMessage { msg } => {
                if let Some(env) = self.in_flight.get(msg).cloned() {
                    let latency = self.latency();
                    self.put_on_wire(env.from, env.to, env.payload, latency, false);
                }
            }
            Intervention::DelayMessage { msg, by_us } => {
                // Set aside: the ring's front must not wait for a delay of any length.
                if let Some(env) = self.in_flight.set_aside(msg) {
                    env.deliver_at = env.deliver_at.plus_us(by_us);
                    let at = env.deliver_at;
                    self.schedule(at, Queued::Deliver(msg));
                }
            }
            Intervention::SetNetwork { network } => {
                // Timers follow the network: a node whose timeouts are shorter than a round
                // trip never completes an election (see `Timing::for_round_trip`).
                let timing = node_timing(&self.scenario, &network);
                for slot in &mut self.nodes {
                    slot.config.timing = timing;
                    if let Some(node) = &mut slot.node {
                        node.set_timing(timing);
                    }
                }
                self.network = network;
            }
            Intervention::AddNode { catch_up } => {
                // One membership change at a time: a join waits until earlier changes are in
                // force, so the new node starts out knowing the current voters.
                self.pending_adds.push_back(catch_up);
                self.membership_duties();
            }
            Intervention::RemoveNode { node } => self.admin.push_back(AdminRequest {
                command: AdminCommand::Remove { node },
                accepted_at: None,
            }),
            Intervention::Snapshot { node } => {
                if let Some(n) = &mut self.nodes[node.index()].node {
                    if let Err(e) = n.snapshot_now() {
                        let reason = e.to_string();
                        self.record(TraceKind::Node {
                            node,
                            event: Event::Ignored {
                                from: None,
                                what: "snapshot request".into(),
                                why: reason,
                            },
                        });
                    }
                    self.drain(node);
                }
            }
            Intervention::SetWorkload { on } => {
                let was = self.workload_on;
                self.workload_on = on && self.scenario.clients.workload.is_some();
                if self.workload_on && !was {
                    for i in 0..self.clients.len() {
                        if self.clients[i].pending.is_none() {
                            let think = self.think_time();
                            self.arm_timer(ClientId(i as u16), think);
                        }
                    }
                }
            }
        }
    }

    fn schedule(&mut self, at: Time, event: Queued) {
        self.queue.push(Scheduled::new(at, self.next_seq, event));
        self.next_seq += 1;
    }

    fn record(&mut self, kind: TraceKind) {
        let mut h = Fnv64::resume(self.trace_hash);
        h.write_u64(self.now.as_us());
        hash_kind(&mut h, &kind);
        self.trace_hash = h.finish();
        if self.record_trace {
            self.trace.push(TraceRecord { at: self.now, kind });
        }
    }

    fn latency(&mut self) -> u64 {
        let net = &self.network;
        let mut latency = self.net.between(net.latency_min_us, net.latency_max_us);
        if self.net.chance(net.slow) && net.slow_extra_us > 0 {
            latency += self.net.between(1, net.slow_extra_us);
        }
        latency
    }

    fn send(&mut self, from: Endpoint, to: Endpoint, payload: Payload) {
        let kind = payload.kind();
        let same = |k: &&str| std::ptr::eq(*k, kind) || *k == kind;
        match self.unflushed_sent.iter_mut().find(|(k, _)| same(k)) {
            Some((_, count)) => *count += 1,
            None => self.unflushed_sent.push((kind, 1)),
        }
        let copies = if self.net.chance(self.network.duplicate) {
            2
        } else {
            1
        };
        let mut payload = Some(payload);
        for copy in 1..=copies {
            let latency = self.latency();
            let lost = self.net.chance(self.network.loss);
            // Only a duplicate needs a clone; the last copy takes the payload itself.
            let this = if copy == copies {
                payload.take().expect("one payload per copy")
            } else {
                payload.clone().expect("one payload per copy")
            };
            self.put_on_wire(from, to, this, latency, lost);
        }
    }

    fn put_on_wire(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        payload: Payload,
        latency: u64,
        lost: bool,
    ) {
        let id = MsgId(self.next_msg);
        self.next_msg += 1;
        let deliver_at = self.now.plus_us(latency);
        let held = self.held.contains(&(from, to));
        let lost = lost || self.blocked.contains(&(from, to));
        self.in_flight.insert(Envelope {
            id,
            from,
            to,
            payload,
            sent_at: self.now,
            deliver_at,
            lost,
            held,
        });
        self.record(TraceKind::Sent { msg: id, from, to });
        if !held {
            self.schedule(deliver_at, Queued::Deliver(id));
        }
    }

    fn deliver(&mut self, id: MsgId) {
        let Some(env) = self.in_flight.get(id) else {
            return;
        };
        if env.held || env.deliver_at != self.now {
            return; // Held, or rescheduled: another queue entry delivers it.
        }
        let env = self.in_flight.remove(id).expect("checked above");
        if self.record_trace {
            self.archive.insert(id, env.clone());
        }
        let (from, to) = (env.from, env.to);
        let reachable = match to {
            Endpoint::Node(n) => self.nodes[n.index()].node.is_some(),
            Endpoint::Client(_) => true,
        };
        if env.lost || !reachable || self.blocked.contains(&(from, to)) {
            self.stats.dropped += 1;
            self.record(TraceKind::Dropped { msg: id, from, to });
            return;
        }
        self.stats.delivered += 1;
        if let (Endpoint::Node(n), Payload::Peer(m)) = (to, &env.payload) {
            if let Some(join) = self
                .stats
                .joins
                .iter_mut()
                .find(|j| j.node == n && j.caught_up_at.is_none())
            {
                join.messages_in += 1;
                join.bytes_in += m.size_bytes();
            }
        }
        self.record(TraceKind::Delivered { msg: id, from, to });
        match to {
            Endpoint::Node(n) if self.nodes[n.index()].paused => {
                self.nodes[n.index()].inbox.push_back(env)
            }
            Endpoint::Node(_) => self.hand_to_node(env),
            Endpoint::Client(c) => match env.payload {
                Payload::Reply(reply) => self.client_reply(c, from, env.sent_at, reply),
                other => unreachable!("{} cannot be delivered to a client", other.kind()),
            },
        }
    }

    fn hand_to_node(&mut self, env: Envelope) {
        let Endpoint::Node(n) = env.to else {
            unreachable!("only node messages are handed to nodes")
        };
        let Some(node) = &mut self.nodes[n.index()].node else {
            return;
        };
        match (env.from, env.payload) {
            (Endpoint::Client(c), Payload::Request(req)) => node.on_client(c, req),
            (Endpoint::Node(from), Payload::Peer(msg)) => node.on_message(from, msg),
            (from, payload) => unreachable!("{} from {from} to a node", payload.kind()),
        }
        self.drain(n);
    }

    fn tick(&mut self) {
        self.record(TraceKind::Tick);
        for i in 0..self.nodes.len() {
            let slot = &mut self.nodes[i];
            if slot.paused {
                continue;
            }
            if let Some(node) = &mut slot.node {
                let entropy = slot.jitter.next_u64();
                node.on_tick(entropy);
                self.drain(NodeId(i as u8));
            }
        }
        if !self.admin.is_empty()
            || !self.pending_adds.is_empty()
            || self.stats.joins.iter().any(|j| j.promoted_at.is_none())
        {
            self.membership_duties();
        }
        let next = self.now.plus_us(self.scenario.cluster.tick_us);
        self.schedule(next, Queued::Tick);
    }

    /// A new learner node with the next free id; the leader is asked to add it.
    fn add_node(&mut self, catch_up: CatchUpMethod) {
        let id = NodeId(self.node_count());
        let voters = self
            .current_membership()
            .map(|m| m.voters)
            .unwrap_or_else(|| (0..self.scenario.cluster.nodes).map(NodeId).collect());
        let config = node_config(
            &self.scenario,
            &self.network,
            NodeConfig::learner(id, voters, self.scenario.cluster.protocol),
        );
        let slot = node_slot(&self.scenario, config).expect("validated: multi-paxos learner");
        self.nodes.push(slot);
        self.oracles.node_added();
        self.stats.joins.push(JoinStats {
            node: id,
            method: catch_up,
            started_at: self.now,
            caught_up_at: None,
            promoted_at: None,
            messages_in: 0,
            bytes_in: 0,
        });
        self.admin.push_back(AdminRequest {
            command: AdminCommand::AddLearner { node: id, catch_up },
            accepted_at: None,
        });
    }

    /// Once per tick while membership work is pending: notices changes that took effect,
    /// puts caught-up learners up for promotion, and hands the oldest request to a leader.
    fn membership_duties(&mut self) {
        let membership = self
            .live_nodes()
            .filter(|(_, n)| n.role() == Role::Leader)
            .filter_map(|(_, n)| n.membership())
            .next();
        let decided_upto = self
            .live_nodes()
            .map(|(_, n)| n.decided_upto().0)
            .max()
            .unwrap_or(0);
        // Joins: promoted yet? caught up yet?
        for i in 0..self.stats.joins.len() {
            let join = &self.stats.joins[i];
            let node = join.node;
            if join.promoted_at.is_some() {
                continue;
            }
            if membership.as_ref().is_some_and(|m| m.is_voter(node)) {
                self.stats.joins[i].promoted_at = Some(self.now);
                continue;
            }
            let Some(learner) = self.nodes[node.index()].node.as_ref() else {
                continue;
            };
            let listed = membership.as_ref().is_some_and(|m| m.is_learner(node));
            let caught_up = learner.applied_index().0 + CONFIG_DELAY >= decided_upto;
            if listed && caught_up && self.stats.joins[i].caught_up_at.is_none() {
                self.stats.joins[i].caught_up_at = Some(self.now);
                self.admin.push_back(AdminRequest {
                    command: AdminCommand::Promote { node },
                    accepted_at: None,
                });
            }
        }
        // A waiting join starts once every earlier change is in force.
        let idle =
            self.admin.is_empty() && self.stats.joins.iter().all(|j| j.promoted_at.is_some());
        if idle && membership.is_some() {
            if let Some(catch_up) = self.pending_adds.pop_front() {
                self.add_node(catch_up);
            }
        }
        // Requests: done, waiting for the log, or to be (re)sent.
        let Some(request) = self.admin.front().cloned() else {
            return;
        };
        let done = membership.as_ref().is_some_and(|m| match request.command {
            AdminCommand::AddLearner { node, .. } => m.contains(node),
            AdminCommand::Promote { node } => m.is_voter(node),
            AdminCommand::Remove { node } => !m.contains(node),
        });
        if done {
            self.admin.pop_front();
            return;
        }
        if request
            .accepted_at
            .is_some_and(|t| self.now.as_us() < t.as_us() + ADMIN_RESEND_US)
        {
            return;
        }
        let leaders: Vec<NodeId> = self
            .live_nodes()
            .filter(|(id, n)| n.role() == Role::Leader && !self.is_paused(*id))
            .map(|(id, _)| id)
            .collect();
        for leader in leaders {
            let node = self.nodes[leader.index()].node.as_mut().expect("live");
            let result = node.on_admin(request.command);
            self.drain(leader);
            match result {
                Ok(()) => {
                    self.admin[0].accepted_at = Some(self.now);
                    self.record(TraceKind::AdminAccepted {
                        node: leader,
                        command: request.command,
                    });
                    return;
                }
                // Transient: another leader, an earlier change not in force yet, or (for a
                // promotion) the learner's own addition not in force yet.
                Err(AdminError::NotLeader { .. } | AdminError::ChangeInFlight { .. }) => {}
                Err(AdminError::NotALearner(_))
                    if matches!(request.command, AdminCommand::Promote { .. }) => {}
                Err(e) => {
                    self.admin.pop_front();
                    self.record(TraceKind::AdminRefused {
                        command: request.command,
                        reason: e.to_string(),
                    });
                    return;
                }
            }
        }
    }

    /// Carries out everything a node asked for, in order, then runs the per-node oracles.
    fn drain(&mut self, n: NodeId) {
        while let Some(output) = self.nodes[n.index()].node.as_mut().and_then(Node::poll) {
            match output {
                Output::Send { to, msg } => {
                    self.send(Endpoint::Node(n), Endpoint::Node(to), Payload::Peer(msg))
                }
                Output::Reply { to, reply } => {
                    self.oracles.on_reply(n, &reply.status, reply.id);
                    self.send(
                        Endpoint::Node(n),
                        Endpoint::Client(to),
                        Payload::Reply(reply),
                    )
                }
                Output::Persist(write) => self.nodes[n.index()].durable.record(write),
                Output::Event(event) => {
                    match &event {
                        Event::Campaigning { .. } => self.stats.phase1_runs += 1,
                        Event::BecameLeader { .. } => self.stats.leader_changes += 1,
                        _ => {}
                    }
                    self.oracles.on_event(n, &event);
                    self.record(TraceKind::Node { node: n, event });
                }
            }
        }
        if let Some(node) = &self.nodes[n.index()].node {
            self.oracles.after_node(n, node);
        }
    }

    fn invoke(&mut self, client: ClientId, node: NodeId, op: KvOp) {
        let slot = &mut self.clients[client.index()];
        let id = CommandId {
            client,
            seq: slot.next_seq,
        };
        slot.next_seq += 1;
        self.oracles.issued(id, &op);
        let command = Arc::new(Command { id, op: op.clone() });
        let c = &self.scenario.cluster;
        let quorum_read = op.is_read()
            && c.read_mode == ReadMode::Quorum
            && matches!(c.protocol, Protocol::BasicPaxos | Protocol::MultiPaxos);
        // The voters in force as far as the nodes know: only a first guess at how many reports
        // a read needs, since the cluster may have grown or shrunk. The reports themselves
        // say whose majority the read needs (see `synod_core::quorum_read`).
        let quorum = quorum_read.then(|| {
            let voters = self
                .current_membership()
                .map_or(self.node_count(), |m| m.voters.len() as u8);
            Collector::new(op.key(), voters, &self.scenario.cluster.bugs)
        });
        self.history.push(HistoryEntry {
            client,
            id,
            op,
            call: self.now,
            ret: None,
            outcome: Outcome::Pending,
        });
        let history = self.history.len() - 1;
        self.clients[client.index()].pending = Some(Pending {
            command,
            history,
            target: node,
            attempt: 1,
            quorum,
            round_started: self.now,
        });
        self.record(TraceKind::Invoked { client, id });
        self.send_pending(client);
    }

    /// Sends the client's outstanding command (to every node for a quorum read: voters of a
    /// membership the client has not heard of may be needed) and arms its timeout.
    fn send_pending(&mut self, client: ClientId) {
        let timeout = client_timeout_us(&self.scenario, &self.network);
        self.arm_timer(client, timeout);
        let pending = self.clients[client.index()]
            .pending
            .as_ref()
            .expect("only called with a pending command");
        let request = ClientRequest {
            command: pending.command.clone(),
        };
        let targets: Vec<NodeId> = if pending.quorum.is_some() {
            (0..self.node_count()).map(NodeId).collect()
        } else {
            vec![pending.target]
        };
        for to in targets {
            self.send(
                Endpoint::Client(client),
                Endpoint::Node(to),
                Payload::Request(request.clone()),
            );
        }
    }

    fn arm_timer(&mut self, client: ClientId, after_us: u64) -> u64 {
        let slot = &mut self.clients[client.index()];
        slot.token += 1;
        let token = slot.token;
        let at = self.now.plus_us(after_us);
        self.schedule(at, Queued::ClientTimer { client, token });
        token
    }

    fn client_reply(
        &mut self,
        client: ClientId,
        from: Endpoint,
        sent_at: Time,
        reply: ClientReply,
    ) {
        let nodes = self.node_count();
        let slot = &mut self.clients[client.index()];
        let Some(pending) = &mut slot.pending else {
            return; // A late or duplicate reply for something already settled.
        };
        if pending.command.id != reply.id {
            return;
        }
        match reply.status {
            ReplyStatus::Ok { result } => self.settle(client, Outcome::Ok { result }),
            ReplyStatus::Failed { reason } => self.settle(client, Outcome::Failed { reason }),
            ReplyStatus::Redirect { leader } => {
                if pending.quorum.is_none() {
                    pending.target = leader.unwrap_or(NodeId((pending.target.0 + 1) % nodes));
                    self.send_pending(client);
                }
            }
            ReplyStatus::QuorumRead { report } => {
                if sent_at < pending.round_started {
                    return; // A report from an earlier round.
                }
                let (Some(collector), Endpoint::Node(node)) = (&mut pending.quorum, from) else {
                    return;
                };
                match collector.offer(node, report) {
                    Verdict::Waiting { .. } => {}
                    Verdict::Value { value, .. } => {
                        match Collector::result(&pending.command.op, value) {
                            Some(result) => self.settle(client, Outcome::Ok { result }),
                            None => unreachable!("quorum reads are only made for reads"),
                        }
                    }
                    Verdict::AskAgain { .. } => {
                        collector.start_round();
                        pending.round_started = self.now;
                        self.send_pending(client);
                    }
                }
            }
        }
    }

    fn client_timer(&mut self, client: ClientId, token: u64) {
        let nodes = self.node_count();
        let max_attempts = self.scenario.clients.max_attempts;
        let slot = &mut self.clients[client.index()];
        if slot.token != token {
            return; // Superseded by a later timer.
        }
        let Some(pending) = &mut slot.pending else {
            if self.workload_on {
                self.next_auto_op(client);
            }
            return;
        };
        if pending.attempt >= max_attempts {
            self.settle(client, Outcome::Unknown);
            return;
        }
        pending.attempt += 1;
        // Try another node: the one we asked may be down or cut off.
        pending.target = NodeId((pending.target.0 + 1) % nodes);
        if let Some(q) = &mut pending.quorum {
            q.start_round();
            pending.round_started = self.now;
        }
        let (id, attempt) = (pending.command.id, pending.attempt);
        self.record(TraceKind::Retried {
            client,
            id,
            attempt,
        });
        self.send_pending(client);
    }

    fn settle(&mut self, client: ClientId, outcome: Outcome) {
        let slot = &mut self.clients[client.index()];
        let pending = slot.pending.take().expect("settle needs a pending command");
        let entry = &mut self.history[pending.history];
        let id = entry.id;
        match &outcome {
            Outcome::Unknown => {
                self.stats.unknown += 1;
                self.record(TraceKind::GaveUp { client, id });
            }
            other => {
                let latency = self.now.as_us() - entry.call.as_us();
                entry.ret = Some(self.now);
                self.stats.latency_sum_us += latency;
                self.stats.latency_max_us = self.stats.latency_max_us.max(latency);
                if matches!(other, Outcome::Ok { .. }) {
                    self.stats.completed_ok += 1;
                } else {
                    self.stats.failed += 1;
                }
                self.record(TraceKind::Completed { client, id });
            }
        }
        self.history[pending.history].outcome = outcome;
        if self.workload_on {
            let think = self.think_time();
            self.arm_timer(client, think);
        } else {
            // Disarm the retry timer.
            self.clients[client.index()].token += 1;
        }
    }

    fn think_time(&mut self) -> u64 {
        match &self.scenario.clients.workload {
            Some(w) => self.workload.between(w.think_min_us, w.think_max_us),
            None => 0,
        }
    }

    fn next_auto_op(&mut self, client: ClientId) {
        let Some(w) = self.scenario.clients.workload.clone() else {
            return;
        };
        if w.until_us.is_some_and(|until| self.now.as_us() >= until) {
            return;
        }
        let key = if self.workload.chance(w.hot_key) {
            "k1".to_owned()
        } else {
            format!("k{}", self.workload.below(u64::from(w.keys)) + 1)
        };
        let m = w.mix;
        let mut pick = self.workload.below(
            u64::from(m.get) + u64::from(m.set) + u64::from(m.contains) + u64::from(m.remove),
        );
        let op = if pick < u64::from(m.get) {
            KvOp::Get { key }
        } else {
            pick -= u64::from(m.get);
            if pick < u64::from(m.set) {
                let value = (self.workload.below(9) + 1).to_string();
                KvOp::Set { key, value }
            } else if pick - u64::from(m.set) < u64::from(m.contains) {
                KvOp::Contains { key }
            } else {
                KvOp::Remove { key }
            }
        };
        let node = NodeId(self.workload.below(u64::from(self.node_count())) as u8);
        self.invoke(client, node, op);
    }
}

/// A node's configuration from the scenario's cluster settings.
fn node_config(scenario: &Scenario, network: &NetworkConfig, base: NodeConfig) -> NodeConfig {
    let c = &scenario.cluster;
    let id = base.id;
    NodeConfig {
        service_ticks: c.service_ticks,
        read_mode: c.read_mode,
        bugs: c.bugs.clone(),
        timing: node_timing(scenario, network),
        snapshot_every: c.snapshot_every,
        clock_skew_ticks: c.clock_skew_ticks.get(id.index()).copied().unwrap_or(0),
        ..base
    }
}

/// The scenario's timing, stretched to the network's typical round trip (the sum of the
/// shortest and the longest one-way latency, in whole ticks; slow messages are the
/// exception the retries are for). The playground's latency slider reaches a second one
/// way, a hundred ticks; the default timers assume a few.
pub fn node_timing(scenario: &Scenario, network: &NetworkConfig) -> Timing {
    let tick_us = scenario.cluster.tick_us.max(1);
    let round_trip_us = network
        .latency_min_us
        .saturating_add(network.latency_max_us);
    let ticks = u32::try_from(round_trip_us.div_ceil(tick_us)).unwrap_or(u32::MAX);
    scenario.cluster.timing.for_round_trip(ticks)
}

/// How long a client waits for an answer before it tries again: the scenario's timeout, but
/// never less than two and a half round trips at the network's slowest latency (a request to
/// the leader and its reply, the leader's accept round in between, and some slack). Like the
/// nodes' timers (see [`node_timing`]), a client that gave up sooner would never see an
/// answer on a slow network.
pub fn client_timeout_us(scenario: &Scenario, network: &NetworkConfig) -> u64 {
    scenario
        .clients
        .timeout_us
        .max(network.latency_max_us.saturating_mul(5))
}

/// A fresh node in its slot, with its own jitter stream.
fn node_slot(scenario: &Scenario, config: NodeConfig) -> Result<NodeSlot, SimError> {
    let node = Node::try_new(config.clone())
        .map_err(|e| SimError::Scenario(ScenarioError(e.to_string())))?;
    Ok(NodeSlot {
        jitter: Rng::derive(scenario.seed, &format!("node-{}", config.id.0)),
        node: Some(node),
        config,
        durable: Durable::default(),
        paused: false,
        inbox: VecDeque::new(),
    })
}

/// Folds a trace record into the rolling hash: a fixed encoding, the same on every platform.
fn hash_kind(h: &mut Fnv64, kind: &TraceKind) {
    fn id(h: &mut Fnv64, id: &CommandId) {
        h.write_u64(u64::from(id.client.0));
        h.write_u64(id.seq);
    }
    fn ep(h: &mut Fnv64, e: &Endpoint) {
        match e {
            Endpoint::Node(n) => h.write(&[0, n.0]),
            Endpoint::Client(c) => {
                h.write(&[1]);
                h.write_u64(u64::from(c.0));
            }
        }
    }
    match kind {
        TraceKind::Sent { msg, from, to } => {
            h.write(&[11]);
            h.write_u64(msg.0);
            ep(h, from);
            ep(h, to);
        }
        TraceKind::Delivered { msg, .. } => {
            h.write(&[1]);
            h.write_u64(msg.0);
        }
        TraceKind::Dropped { msg, .. } => {
            h.write(&[2]);
            h.write_u64(msg.0);
        }
        TraceKind::Tick => h.write(&[3]),
        TraceKind::Invoked { id: c, .. } => {
            h.write(&[4]);
            id(h, c);
        }
        TraceKind::Completed { id: c, .. } => {
            h.write(&[5]);
            id(h, c);
        }
        TraceKind::Retried { id: c, attempt, .. } => {
            h.write(&[6]);
            id(h, c);
            h.write_u64(u64::from(*attempt));
        }
        TraceKind::GaveUp { id: c, .. } => {
            h.write(&[7]);
            id(h, c);
        }
        TraceKind::Crashed { node } => h.write(&[9, node.0]),
        TraceKind::Restarted { node } => h.write(&[10, node.0]),
        TraceKind::Node { node, event } => {
            h.write(&[8, node.0]);
            hash_serialized(h, event);
        }
        TraceKind::Intervened { action } => {
            h.write(&[12]);
            hash_serialized(h, action);
        }
        TraceKind::AdminAccepted { node, command } => {
            h.write(&[13, node.0]);
            hash_serialized(h, command);
        }
        TraceKind::AdminRefused { command, reason } => {
            h.write(&[14]);
            hash_serialized(h, command);
            h.write_str(reason);
        }
    }
}

/// Whether a history entry's outcome is definite (the operation took effect, or surely not).
pub fn is_definite(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Ok { .. } | Outcome::Failed { .. })
}

/// The report of one oracle violation found outside the simulation loop.
pub fn report(sim: &mut Simulation, oracle: Oracle, detail: String) {
    let (events, now) = (sim.stats.events, sim.now);
    let o = sim.oracles_mut();
    o.at(events, now);
    o.report(oracle, detail);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(id: u64) -> Envelope {
        Envelope {
            id: MsgId(id),
            from: Endpoint::Node(NodeId(0)),
            to: Endpoint::Node(NodeId(1)),
            payload: Payload::Peer(Message::CatchUp {
                from: synod_core::Slot(id),
            }),
            sent_at: Time::ZERO,
            deliver_at: Time(id),
            lost: false,
            held: false,
        }
    }

    #[test]
    fn in_flight_ring_finds_removes_and_trims_out_of_order() {
        let mut f = InFlight::default();
        for id in 5..10 {
            f.insert(env(id));
        }
        assert!(f.get(MsgId(4)).is_none() && f.get(MsgId(10)).is_none());
        assert_eq!(f.remove(MsgId(7)).map(|e| e.id), Some(MsgId(7)));
        assert!(f.remove(MsgId(7)).is_none(), "removed once");
        assert_eq!(f.first, 5, "a hole in the middle keeps the front");
        f.remove(MsgId(5));
        f.remove(MsgId(6));
        assert_eq!(f.first, 8, "the front is trimmed past every hole");
        f.get_mut(MsgId(9)).unwrap().held = true;
        let ids: Vec<u64> = f.values().map(|e| e.id.0).collect();
        assert_eq!(ids, vec![8, 9]);
        f.remove(MsgId(8));
        f.remove(MsgId(9));
        assert_eq!(f.values().count(), 0);
        f.insert(env(10));
        assert!(f.contains_key(MsgId(10)));
    }

    #[test]
    fn in_flight_ring_trims_past_held_messages_and_lists_everything_in_id_order() {
        let mut f = InFlight::default();
        for id in 0..4 {
            f.insert(env(id));
        }
        let link = (Endpoint::Node(NodeId(0)), Endpoint::Node(NodeId(1)));
        f.hold(link.0, link.1);
        assert_eq!(f.slots.len(), 0, "every message was on the held link");
        let mut held = env(4);
        held.held = true;
        f.insert(held);
        f.insert(env(5));
        assert_eq!(
            (f.first, f.slots.len()),
            (5, 1),
            "a held newcomer is a hole"
        );
        let ids: Vec<u64> = f.values().map(|e| e.id.0).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(f.held_on(link.0, link.1).len(), 5);
        assert_eq!(f.remove(MsgId(2)).map(|e| e.id), Some(MsgId(2)));
        assert!(f.get(MsgId(2)).is_none() && f.get(MsgId(3)).is_some());
        f.set_aside(MsgId(5));
        assert_eq!(f.slots.len(), 0, "set aside by hand too");
        assert!(f.get_mut(MsgId(5)).is_some());
    }

    /// Runs the busy cluster to `t` in steps of 50 ms, returning the longest the in-flight
    /// ring got.
    fn run_watching_ring(sim: &mut Simulation, t: Time) -> usize {
        let mut longest = 0;
        while sim.now() < t {
            sim.run_until(sim.now().plus_us(50_000).min(t));
            longest = longest.max(sim.in_flight.slots.len());
        }
        longest
    }

    fn delivered(sim: &Simulation, id: MsgId) -> usize {
        sim.trace()
            .iter()
            .filter(|r| matches!(r.kind, TraceKind::Delivered { msg, .. } if msg == id))
            .count()
    }

    fn dropped(sim: &Simulation, id: MsgId) -> bool {
        sim.trace()
            .iter()
            .any(|r| matches!(r.kind, TraceKind::Dropped { msg, .. } if msg == id))
    }

    #[test]
    fn a_held_link_does_not_pin_the_in_flight_ring_and_its_messages_arrive_on_release() {
        let mut sim = Simulation::new(Scenario::busy_cluster(1)).expect("valid");
        sim.run_until(Time(1_000_000));
        // The leader's link to a follower carries every accept, decide and heartbeat.
        let leader = sim
            .live_nodes()
            .find(|(_, n)| n.role() == Role::Leader)
            .map(|(id, _)| id)
            .expect("a leader after a second");
        let follower = NodeId((leader.0 + 1) % sim.node_count());
        let (n0, n1) = (Endpoint::Node(leader), Endpoint::Node(follower));
        let before = sim.next_msg;
        sim.intervene(Intervention::Hold { from: n0, to: n1 })
            .expect("valid");
        let longest = run_watching_ring(&mut sim, Time(8_000_000));
        let sent_while_held = sim.next_msg - before;
        let held = sim.in_flight.held_on(n0, n1);
        assert!(
            held.len() > 100 && sent_while_held > 2_000,
            "the link stayed busy while held: {} held of {sent_while_held} sent",
            held.len()
        );
        assert!(
            longest < 400,
            "the ring spans the traffic of one latency, not the {sent_while_held} messages \
             sent since the link was held (longest {longest})"
        );
        // Hand interventions still find held messages.
        let (lost, twice) = (held[0], held[1]);
        sim.intervene(Intervention::DropMessage { msg: lost })
            .expect("held messages are in flight");
        sim.intervene(Intervention::DuplicateMessage { msg: twice })
            .expect("held messages are in flight");
        let copy = MsgId(sim.next_msg - 1);
        assert!(
            sim.message(copy).is_some_and(|e| e.held),
            "the copy waits too"
        );
        sim.intervene(Intervention::Release { from: n0, to: n1 })
            .expect("valid");
        sim.run_until(Time(8_500_000));
        assert!(dropped(&sim, lost) && delivered(&sim, lost) == 0);
        assert_eq!((delivered(&sim, twice), delivered(&sim, copy)), (1, 1));
        for id in &held[2..] {
            assert!(
                delivered(&sim, *id) == 1 || dropped(&sim, *id),
                "{id} arrived (or was lost by the network) after the release"
            );
        }
        assert!(sim.in_flight.aside.is_empty(), "nothing is left set aside");
        // A message delayed by hand arrives late, without pinning the ring meanwhile.
        let slow = sim
            .in_flight()
            .find(|e| !e.lost)
            .map(|e| (e.id, e.deliver_at))
            .expect("a busy cluster has messages in flight");
        sim.intervene(Intervention::DelayMessage {
            msg: slow.0,
            by_us: 1_500_000,
        })
        .expect("in flight");
        let longest = run_watching_ring(&mut sim, Time(10_500_000));
        assert!(longest < 400, "a delayed message does not pin the ring");
        let arrival = sim.trace().iter().find_map(|r| match r.kind {
            TraceKind::Delivered { msg, .. } | TraceKind::Dropped { msg, .. } if msg == slow.0 => {
                Some(r.at)
            }
            _ => None,
        });
        assert_eq!(arrival, Some(slow.1.plus_us(1_500_000)));
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    }
}
