//! The simulated world: nodes, clients, a network, and one queue of events in virtual time.
//!
//! # How a step works
//!
//! Every future happening (a message arriving, the nodes' clock ticking, a client's timer or
//! think time running out) is an entry in one priority queue ordered by `(time, insertion
//! order)`: a total order, so two runs of the same scenario process the same events in the
//! same order. [`Simulation::step`] pops the earliest entry, feeds it to the node or client
//! it concerns, drains the node's [`Output`]s into new queue entries, records what happened
//! in the trace, and folds it into the rolling trace hash.
//!
//! The user's interventions are not queue entries: an intervention stamped with time `t`
//! happens after every event at or before `t`. [`Simulation::intervene`] records the
//! intervention in the scenario and applies it at once; replaying the scenario applies it at
//! the same point, which is why a replay reaches the same trace hash.

use crate::rng::Rng;
use crate::scenario::{Intervention, Scenario, ScenarioError, Timed};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use synod_core::kv::Fnv64;
use synod_core::{
    ClientId, ClientReply, ClientRequest, Command, CommandId, Durable, Event, KvOp, KvResult,
    Message, Node, NodeConfig, NodeId, NodeView, Output, ReplyStatus,
};

/// Identifies one message on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MsgId(pub u64);

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
                ReplyStatus::QuorumRead { report } => {
                    write!(
                        f,
                        "reply {}: newest write to {} is {:?}",
                        r.id, report.key, report.newest
                    )
                }
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
}

/// How a client operation ended, as far as the client knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// A message reached its destination.
    Delivered { msg: MsgId },
    /// A message was lost by the network or arrived at a crashed node.
    Dropped { msg: MsgId },
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
    /// No such client or node.
    NoSuch(String),
    /// The scenario is not valid.
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
    /// Sum of latencies of operations that completed, in microseconds.
    pub latency_sum_us: u64,
    pub latency_max_us: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Queued {
    Deliver(MsgId),
    Tick,
    ClientTimer { client: ClientId, token: u64 },
}

#[derive(Clone, Debug)]
struct NodeSlot {
    config: NodeConfig,
    durable: Durable,
    node: Option<Node>,
    jitter: Rng,
}

#[derive(Clone, Debug)]
struct Pending {
    command: Command,
    history: usize,
    target: NodeId,
    attempt: u32,
    token: u64,
}

#[derive(Clone, Debug)]
struct ClientSlot {
    next_seq: u64,
    pending: Option<Pending>,
    /// Bumped whenever a timer is armed, so stale timers are recognised and ignored.
    token: u64,
    /// Whether the automatic workload drives this client.
    auto: bool,
}

/// A whole simulated world.
#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Scenario,
    now: Time,
    queue: BinaryHeap<Reverse<(Time, u64, Queued)>>,
    next_seq: u64,
    next_msg: u64,
    nodes: Vec<NodeSlot>,
    clients: Vec<ClientSlot>,
    in_flight: BTreeMap<MsgId, Envelope>,
    net: Rng,
    workload: Rng,
    history: Vec<HistoryEntry>,
    trace: Vec<TraceRecord>,
    trace_hash: u64,
    /// Index of the next scenario intervention not yet applied.
    replayed: usize,
    stats: Stats,
}

impl Simulation {
    /// Builds the world a scenario describes, at time zero. Interventions in the scenario are
    /// applied as time reaches them.
    pub fn new(scenario: Scenario) -> Result<Simulation, SimError> {
        scenario.validate().map_err(SimError::Scenario)?;
        let members: Vec<NodeId> = (0..scenario.cluster.nodes).map(NodeId).collect();
        let nodes = members
            .iter()
            .map(|&id| {
                let config = NodeConfig {
                    service_ticks: scenario.cluster.service_ticks,
                    ..NodeConfig::new(id, members.clone(), scenario.cluster.protocol)
                };
                NodeSlot {
                    node: Some(Node::new(config.clone())),
                    config,
                    durable: Durable::default(),
                    jitter: Rng::derive(scenario.seed, &format!("node-{}", id.0)),
                }
            })
            .collect();
        let auto = scenario.clients.workload.is_some();
        let clients = (0..scenario.clients.count)
            .map(|_| ClientSlot {
                next_seq: 1,
                pending: None,
                token: 0,
                auto,
            })
            .collect();
        let mut sim = Simulation {
            net: Rng::derive(scenario.seed, "network"),
            workload: Rng::derive(scenario.seed, "workload"),
            scenario,
            now: Time::ZERO,
            queue: BinaryHeap::new(),
            next_seq: 0,
            next_msg: 0,
            nodes,
            clients,
            in_flight: BTreeMap::new(),
            history: Vec::new(),
            trace: Vec::new(),
            trace_hash: Fnv64::new().finish(),
            replayed: 0,
            stats: Stats::default(),
        };
        let tick = sim.scenario.cluster.tick_us;
        sim.schedule(Time(tick), Queued::Tick);
        if auto {
            for i in 0..sim.clients.len() {
                let think = sim.think_time();
                sim.arm_timer(ClientId(i as u16), think);
            }
        }
        Ok(sim)
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

    /// Everything that happened, in order.
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

    /// Messages on the wire right now.
    pub fn in_flight(&self) -> impl Iterator<Item = &Envelope> {
        self.in_flight.values()
    }

    /// A picture of every node (`None` for a crashed one).
    pub fn node_views(&self) -> Vec<Option<NodeView>> {
        self.nodes
            .iter()
            .map(|s| s.node.as_ref().map(Node::view))
            .collect()
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

    /// The time of the next queued event, if any.
    pub fn next_event_at(&self) -> Option<Time> {
        self.queue.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Processes the next event (or applies the next scenario intervention, if it is due
    /// first). Returns false when nothing is left to do.
    pub fn step(&mut self) -> bool {
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
        let Some(Reverse((at, _, event))) = self.queue.pop() else {
            return false;
        };
        debug_assert!(at >= self.now, "time never runs backwards");
        self.now = at;
        self.stats.events += 1;
        match event {
            Queued::Deliver(id) => self.deliver(id),
            Queued::Tick => self.tick(),
            Queued::ClientTimer { client, token } => self.client_timer(client, token),
        }
        true
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
            if !(due_event || due_intervention) || !self.step() {
                break;
            }
        }
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
        Ok(())
    }

    fn check(&self, action: &Intervention) -> Result<(), SimError> {
        let node_exists = |n: &NodeId| {
            if n.index() < self.nodes.len() {
                Ok(())
            } else {
                Err(SimError::NoSuch(n.to_string()))
            }
        };
        match action {
            Intervention::Crash { node } | Intervention::Restart { node } => node_exists(node),
            Intervention::Submit { client, node, .. } => {
                let slot = self
                    .clients
                    .get(client.index())
                    .ok_or_else(|| SimError::NoSuch(client.to_string()))?;
                if node.index() >= self.nodes.len() {
                    return Err(SimError::NoSuch(node.to_string()));
                }
                if slot.pending.is_some() {
                    return Err(SimError::ClientBusy(*client));
                }
                Ok(())
            }
        }
    }

    fn apply(&mut self, action: Intervention) {
        match action {
            Intervention::Crash { node } => {
                // Volatile state is gone; the durable state stays on disk.
                if self.nodes[node.index()].node.take().is_some() {
                    self.record(TraceKind::Crashed { node });
                }
            }
            Intervention::Restart { node } => {
                let slot = &mut self.nodes[node.index()];
                if slot.node.is_none() {
                    slot.node = Some(Node::restart(slot.config.clone(), slot.durable.clone()));
                    self.record(TraceKind::Restarted { node });
                    self.drain(node);
                }
            }
            Intervention::Submit { client, node, op } => {
                if self.clients[client.index()].pending.is_none() {
                    self.invoke(client, node, op);
                }
            }
        }
    }

    fn schedule(&mut self, at: Time, event: Queued) {
        self.queue.push(Reverse((at, self.next_seq, event)));
        self.next_seq += 1;
    }

    fn record(&mut self, kind: TraceKind) {
        let mut h = Fnv64::resume(self.trace_hash);
        h.write_u64(self.now.as_us());
        hash_kind(&mut h, &kind);
        self.trace_hash = h.finish();
        self.trace.push(TraceRecord { at: self.now, kind });
    }

    fn send(&mut self, from: Endpoint, to: Endpoint, payload: Payload) {
        let net = self.scenario.network.clone();
        *self
            .stats
            .sent
            .entry(payload.kind().to_owned())
            .or_default() += 1;
        let copies = if self.net.chance(net.duplicate) { 2 } else { 1 };
        for _ in 0..copies {
            let latency = self.net.between(net.latency_min_us, net.latency_max_us);
            let lost = self.net.chance(net.loss);
            let id = MsgId(self.next_msg);
            self.next_msg += 1;
            let deliver_at = self.now.plus_us(latency);
            self.in_flight.insert(
                id,
                Envelope {
                    id,
                    from,
                    to,
                    payload: payload.clone(),
                    sent_at: self.now,
                    deliver_at,
                    lost,
                },
            );
            self.schedule(deliver_at, Queued::Deliver(id));
        }
    }

    fn deliver(&mut self, id: MsgId) {
        let Some(env) = self.in_flight.remove(&id) else {
            return;
        };
        let reachable = match env.to {
            Endpoint::Node(n) => self.nodes[n.index()].node.is_some(),
            Endpoint::Client(_) => true,
        };
        if env.lost || !reachable {
            self.stats.dropped += 1;
            self.record(TraceKind::Dropped { msg: id });
            return;
        }
        self.stats.delivered += 1;
        self.record(TraceKind::Delivered { msg: id });
        match (env.to, env.payload) {
            (Endpoint::Node(n), Payload::Request(req)) => {
                let Endpoint::Client(c) = env.from else {
                    unreachable!("requests come from clients")
                };
                if let Some(node) = &mut self.nodes[n.index()].node {
                    node.on_client(c, req);
                }
                self.drain(n);
            }
            (Endpoint::Node(n), Payload::Peer(msg)) => {
                let Endpoint::Node(from) = env.from else {
                    unreachable!("peer messages come from nodes")
                };
                if let Some(node) = &mut self.nodes[n.index()].node {
                    node.on_message(from, msg);
                }
                self.drain(n);
            }
            (Endpoint::Client(c), Payload::Reply(reply)) => self.client_reply(c, reply),
            (to, payload) => unreachable!("{} cannot be delivered to {to}", payload.kind()),
        }
    }

    fn tick(&mut self) {
        self.record(TraceKind::Tick);
        for i in 0..self.nodes.len() {
            let slot = &mut self.nodes[i];
            if let Some(node) = &mut slot.node {
                let entropy = slot.jitter.next_u64();
                node.on_tick(entropy);
                self.drain(NodeId(i as u8));
            }
        }
        let next = self.now.plus_us(self.scenario.cluster.tick_us);
        self.schedule(next, Queued::Tick);
    }

    /// Carries out everything a node asked for, in order.
    fn drain(&mut self, n: NodeId) {
        while let Some(output) = self.nodes[n.index()].node.as_mut().and_then(Node::poll) {
            match output {
                Output::Send { to, msg } => {
                    self.send(Endpoint::Node(n), Endpoint::Node(to), Payload::Peer(msg))
                }
                Output::Reply { to, reply } => self.send(
                    Endpoint::Node(n),
                    Endpoint::Client(to),
                    Payload::Reply(reply),
                ),
                Output::Persist(write) => self.nodes[n.index()].durable.apply(&write),
                Output::Event(event) => self.record(TraceKind::Node { node: n, event }),
            }
        }
    }

    fn invoke(&mut self, client: ClientId, node: NodeId, op: KvOp) {
        let slot = &mut self.clients[client.index()];
        let id = CommandId {
            client,
            seq: slot.next_seq,
        };
        slot.next_seq += 1;
        let command = Command { id, op: op.clone() };
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
            token: 0,
        });
        self.record(TraceKind::Invoked { client, id });
        self.send_pending(client);
    }

    /// Sends the client's outstanding command to its current target and arms its timeout.
    fn send_pending(&mut self, client: ClientId) {
        let timeout = self.scenario.clients.timeout_us;
        let token = self.arm_timer(client, timeout);
        let slot = &mut self.clients[client.index()];
        let pending = slot
            .pending
            .as_mut()
            .expect("only called with a pending command");
        pending.token = token;
        let request = ClientRequest {
            command: pending.command.clone(),
        };
        let to = Endpoint::Node(pending.target);
        self.send(Endpoint::Client(client), to, Payload::Request(request));
    }

    fn arm_timer(&mut self, client: ClientId, after_us: u64) -> u64 {
        let slot = &mut self.clients[client.index()];
        slot.token += 1;
        let token = slot.token;
        let at = self.now.plus_us(after_us);
        self.schedule(at, Queued::ClientTimer { client, token });
        token
    }

    fn client_reply(&mut self, client: ClientId, reply: ClientReply) {
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
                let nodes = self.nodes.len() as u8;
                pending.target = leader.unwrap_or(NodeId((pending.target.0 + 1) % nodes));
                self.send_pending(client);
            }
            // Quorum-read reports are collected by quorum-read clients, which come with
            // the replicated scenarios; a client reading through one node ignores them.
            ReplyStatus::QuorumRead { .. } => {}
        }
    }

    fn client_timer(&mut self, client: ClientId, token: u64) {
        let slot = &self.clients[client.index()];
        if slot.token != token {
            return; // Superseded by a later timer.
        }
        let Some(pending) = &slot.pending else {
            if slot.auto {
                self.next_auto_op(client);
            }
            return;
        };
        if pending.attempt >= self.scenario.clients.max_attempts {
            self.settle(client, Outcome::Unknown);
            return;
        }
        let nodes = self.nodes.len() as u8;
        let pending = self.clients[client.index()]
            .pending
            .as_mut()
            .expect("checked above");
        pending.attempt += 1;
        // Try another node: the one we asked may be down or cut off.
        pending.target = NodeId((pending.target.0 + 1) % nodes);
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
                if matches!(other, Outcome::Ok { .. }) {
                    self.stats.completed_ok += 1;
                    self.stats.latency_sum_us += latency;
                    self.stats.latency_max_us = self.stats.latency_max_us.max(latency);
                } else {
                    self.stats.failed += 1;
                }
                self.record(TraceKind::Completed { client, id });
            }
        }
        self.history[pending.history].outcome = outcome;
        if self.clients[client.index()].auto {
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
        let key = format!("k{}", self.workload.below(u64::from(w.keys)) + 1);
        let m = w.mix;
        let total =
            u64::from(m.get) + u64::from(m.set) + u64::from(m.contains) + u64::from(m.remove);
        let mut pick = self.workload.below(total);
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
        let node = NodeId(self.workload.below(self.nodes.len() as u64) as u8);
        self.invoke(client, node, op);
    }
}

/// Folds a trace record into the rolling hash: a fixed encoding, the same on every platform.
fn hash_kind(h: &mut Fnv64, kind: &TraceKind) {
    let id = |h: &mut Fnv64, id: &CommandId| {
        h.write_u64(u64::from(id.client.0));
        h.write_u64(id.seq);
    };
    match kind {
        TraceKind::Delivered { msg } => {
            h.write(&[1]);
            h.write_u64(msg.0);
        }
        TraceKind::Dropped { msg } => {
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
            h.write_str(&event.to_string());
        }
    }
}
