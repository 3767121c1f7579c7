//! A tiny deterministic harness for tests: a vector of nodes and a message queue that the
//! test delivers in whatever order it chooses. Durable writes are applied as the node hands
//! them out, so crash and restart behave as with a real host.

use crate::ids::{ClientId, CommandId, NodeId, Slot};
use crate::kv::KvOp;
use crate::message::{ClientReply, ClientRequest, Command, Message, ReplyStatus, Value};
use crate::node::{
    Durable, Event, LogRun, Node, NodeConfig, NodeView, Output, Protocol, SlotState,
};
use crate::{Ballot, Bugs, KvResult, CONFIG_DELAY};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub from: NodeId,
    pub to: NodeId,
    pub msg: Message,
}

/// A cluster under test.
#[derive(Debug)]
pub struct Cluster {
    pub configs: Vec<NodeConfig>,
    pub nodes: Vec<Option<Node>>,
    pub durable: Vec<Durable>,
    /// Messages sent and not yet delivered or dropped, in send order.
    pub net: Vec<Envelope>,
    /// Every message ever sent.
    pub sent: Vec<Envelope>,
    /// Every client reply, with the node that sent it.
    pub replies: Vec<(NodeId, ClientId, ClientReply)>,
    /// Every event, with the node that narrated it.
    pub events: Vec<(NodeId, Event)>,
    /// Who answered `Accepted` for each (ballot, slot).
    acks: BTreeMap<(Ballot, Slot), BTreeSet<NodeId>>,
    /// Safety violations seen while draining (a slot chosen without a quorum of voters).
    pub violations: Vec<String>,
    /// Every decision any node ever reported, kept after nodes compact their logs.
    chosen: RefCell<BTreeMap<Slot, Value>>,
    seed: u64,
}

pub fn cid(client: u16, seq: u64) -> CommandId {
    CommandId {
        client: ClientId(client),
        seq,
    }
}

pub fn set(k: &str, v: &str) -> KvOp {
    KvOp::Set {
        key: k.into(),
        value: v.into(),
    }
}

pub fn get(k: &str) -> KvOp {
    KvOp::Get { key: k.into() }
}

pub fn n(i: u8) -> NodeId {
    NodeId(i)
}

impl Cluster {
    /// `size` nodes running `protocol` with default configuration.
    pub fn new(size: u8, protocol: Protocol) -> Cluster {
        Cluster::with(NodeConfig::cluster(size, protocol))
    }

    /// `size` nodes with these bugs.
    pub fn with_bugs(size: u8, protocol: Protocol, bugs: Bugs) -> Cluster {
        let configs = NodeConfig::cluster(size, protocol)
            .into_iter()
            .map(|c| c.with_bugs(bugs.clone()))
            .collect();
        Cluster::with(configs)
    }

    pub fn with(configs: Vec<NodeConfig>) -> Cluster {
        let nodes = configs.iter().map(|c| Some(Node::new(c.clone()))).collect();
        let durable = configs.iter().map(|_| Durable::default()).collect();
        Cluster {
            configs,
            nodes,
            durable,
            net: Vec::new(),
            sent: Vec::new(),
            replies: Vec::new(),
            events: Vec::new(),
            acks: BTreeMap::new(),
            violations: Vec::new(),
            chosen: RefCell::new(BTreeMap::new()),
            seed: 0x5eed,
        }
    }

    /// Node `i`, if it exists and is up.
    pub fn node_opt(&self, i: u8) -> Option<&Node> {
        self.nodes.get(usize::from(i)).and_then(Option::as_ref)
    }

    pub fn node(&self, i: u8) -> &Node {
        self.nodes[usize::from(i)].as_ref().expect("node is up")
    }

    /// Carries out everything node `i` wants done, checking that every `Promise` and
    /// `Accepted` message is preceded (in the same batch) by the durable write it depends on.
    pub fn drain(&mut self, i: u8) {
        let id = NodeId(i);
        let mut persisted_promise = false;
        let mut persisted_accept = false;
        while let Some(output) = self.nodes[usize::from(i)].as_mut().and_then(Node::poll) {
            match output {
                Output::Send { to, msg } => {
                    let bugs = &self.configs[usize::from(i)].bugs;
                    if !bugs.has(crate::Bug::NoPersist) {
                        if let Message::Accepted { .. } = msg {
                            assert!(
                                persisted_accept || self.accepted_already(i, &msg),
                                "Accepted sent before its accept was persisted"
                            );
                        }
                        if let Message::Promise { ballot, .. } = msg {
                            assert!(
                                persisted_promise
                                    || self.durable[usize::from(i)].promised >= ballot,
                                "Promise sent before the promise was persisted"
                            );
                        }
                    }
                    if let Message::Accepted { ballot, slot } = msg {
                        self.acks.entry((ballot, slot)).or_default().insert(id);
                    }
                    let env = Envelope { from: id, to, msg };
                    self.sent.push(env.clone());
                    self.net.push(env);
                }
                Output::Reply { to, reply } => self.replies.push((id, to, reply)),
                Output::Persist(w) => {
                    match w {
                        crate::DurableWrite::Promise { .. } => persisted_promise = true,
                        crate::DurableWrite::Accept { .. } => persisted_accept = true,
                        crate::DurableWrite::Decide { .. }
                        | crate::DurableWrite::Snapshot { .. } => {}
                    }
                    self.durable[usize::from(i)].apply(&w);
                }
                Output::Event(e) => {
                    if let Event::Chosen { slot, ballot, .. } = &e {
                        self.check_chosen_by_voters(i, *slot, *ballot);
                    }
                    self.events.push((id, e));
                }
            }
        }
    }

    /// Oracle 8: a value is chosen only when a majority of the *voters* governing the slot
    /// accepted it (the proposer's own acceptance included); learners never count.
    fn check_chosen_by_voters(&mut self, i: u8, slot: Slot, ballot: Ballot) {
        let Some(node) = self.nodes[usize::from(i)].as_ref() else {
            return;
        };
        let Some(m) = node.membership_at(slot) else {
            return;
        };
        let mut voters: BTreeSet<NodeId> =
            self.acks.get(&(ballot, slot)).cloned().unwrap_or_default();
        voters.insert(NodeId(i));
        voters.retain(|n| m.is_voter(*n));
        if voters.len() < m.majority() {
            self.violations.push(format!(
                "{slot} chosen at ballot {ballot} by {voters:?}, not a majority of {m}"
            ));
        }
    }

    /// Adds a brand-new node (its config says whether it is a learner); returns its index.
    pub fn add_node(&mut self, config: NodeConfig) -> u8 {
        assert_eq!(
            config.id.index(),
            self.nodes.len(),
            "nodes are numbered in order"
        );
        self.nodes.push(Some(Node::new(config.clone())));
        self.configs.push(config);
        self.durable.push(Durable::default());
        self.size() - 1
    }

    fn accepted_already(&self, i: u8, msg: &Message) -> bool {
        let Message::Accepted { ballot, slot } = msg else {
            return false;
        };
        self.durable[usize::from(i)]
            .accepted
            .get(slot)
            .is_some_and(|a| a.ballot == *ballot)
    }

    /// A client sends `op` with id `(client, seq)` to node `to`.
    pub fn client(&mut self, to: u8, client: u16, seq: u64, op: KvOp) {
        let request = ClientRequest {
            command: Command {
                id: cid(client, seq),
                op,
            }
            .into(),
        };
        if let Some(node) = self.nodes[usize::from(to)].as_mut() {
            node.on_client(ClientId(client), request);
            self.drain(to);
        }
    }

    /// Delivers the first in-flight message matching `pred`; returns whether there was one.
    pub fn deliver_where(&mut self, pred: impl Fn(&Envelope) -> bool) -> bool {
        let Some(pos) = self.net.iter().position(pred) else {
            return false;
        };
        let env = self.net.remove(pos);
        self.deliver_envelope(env);
        true
    }

    pub fn deliver_envelope(&mut self, env: Envelope) {
        let to = env.to.0;
        // A message to a node that was never created is lost, as on a real network.
        if let Some(node) = self.nodes.get_mut(usize::from(to)).and_then(Option::as_mut) {
            node.on_message(env.from, env.msg);
            self.drain(to);
        }
    }

    /// Delivers messages in send order until none is left (bounded).
    pub fn deliver_all(&mut self) {
        for _ in 0..100_000 {
            if !self.deliver_where(|_| true) {
                return;
            }
        }
        let tail: Vec<String> = self
            .sent
            .iter()
            .rev()
            .take(6)
            .map(|e| format!("{} -> {}: {}", e.from, e.to, e.msg))
            .collect();
        panic!("messages never stopped flowing: {tail:#?}");
    }

    /// Delivers messages in send order until only those matching `held` are left in flight
    /// (bounded); the held ones stay there for the test to drop or deliver.
    pub fn deliver_all_but(&mut self, held: impl Fn(&Envelope) -> bool) {
        for _ in 0..100_000 {
            if !self.deliver_where(|e| !held(e)) {
                return;
            }
        }
        panic!("messages never stopped flowing");
    }

    /// Drops every in-flight message matching `pred`; returns how many.
    pub fn drop_where(&mut self, pred: impl Fn(&Envelope) -> bool) -> usize {
        let before = self.net.len();
        self.net.retain(|e| !pred(e));
        before - self.net.len()
    }

    /// One tick on node `i`.
    pub fn tick(&mut self, i: u8) {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let entropy = self.seed ^ (u64::from(i) << 56);
        if let Some(node) = self.nodes[usize::from(i)].as_mut() {
            node.on_tick(entropy);
            self.drain(i);
        }
    }

    /// `ticks` rounds of: tick every live node, then deliver everything in flight.
    pub fn run(&mut self, ticks: u32) {
        for _ in 0..ticks {
            for i in 0..self.size() {
                self.tick(i);
            }
            self.deliver_all();
        }
    }

    /// Runs until `done` holds (at most `max` rounds); panics if it never does.
    pub fn run_until(&mut self, max: u32, done: impl Fn(&Cluster) -> bool) {
        for _ in 0..max {
            if done(self) {
                return;
            }
            self.run(1);
        }
        assert!(done(self), "condition not reached in {max} rounds");
    }

    pub fn size(&self) -> u8 {
        u8::try_from(self.nodes.len()).expect("small cluster")
    }

    pub fn crash(&mut self, i: u8) {
        self.nodes[usize::from(i)] = None;
        self.net.retain(|e| e.to != NodeId(i));
    }

    pub fn restart(&mut self, i: u8) {
        let node = Node::restart(
            self.configs[usize::from(i)].clone(),
            self.durable[usize::from(i)].clone(),
        );
        self.nodes[usize::from(i)] = Some(node);
        self.drain(i);
    }

    /// The node currently leading (Multi-Paxos), if exactly one believes it leads.
    pub fn leader(&self) -> Option<u8> {
        let leaders: Vec<u8> = (0..self.size())
            .filter(|&i| {
                self.nodes[usize::from(i)]
                    .as_ref()
                    .is_some_and(|n| n.role() == crate::Role::Leader)
            })
            .collect();
        match leaders.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Replies `client` got for command `seq`.
    pub fn replies_for(&self, client: u16, seq: u64) -> Vec<ReplyStatus> {
        self.replies
            .iter()
            .filter(|(_, c, r)| *c == ClientId(client) && r.id == cid(client, seq))
            .map(|(_, _, r)| r.status.clone())
            .collect()
    }

    /// The `Ok` result `client` got for `seq`, if any.
    pub fn ok_result(&self, client: u16, seq: u64) -> Option<KvResult> {
        self.replies_for(client, seq)
            .into_iter()
            .find_map(|s| match s {
                ReplyStatus::Ok { result } => Some(result),
                _ => None,
            })
    }

    /// Messages of `kind` ever sent.
    pub fn count(&self, kind: &str) -> usize {
        self.sent.iter().filter(|e| e.msg.kind() == kind).count()
    }

    pub fn events_of(&self, i: u8) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(move |(id, _)| *id == NodeId(i))
            .map(|(_, e)| e)
    }

    pub fn any_event(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, e)| pred(e))
    }

    pub fn bug_triggered(&self, bug: crate::Bug) -> bool {
        self.any_event(|e| *e == Event::BugTriggered { bug })
    }

    /// The value of `key` in node `i`'s table.
    pub fn value(&self, i: u8, key: &str) -> Option<String> {
        self.node(i)
            .store()
            .entries()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    }

    /// Every live node's decided entries, merged: a slot with two values breaks agreement.
    pub fn decisions(&self) -> BTreeMap<Slot, Vec<Value>> {
        let mut all: BTreeMap<Slot, Vec<Value>> = BTreeMap::new();
        for node in self.nodes.iter().flatten() {
            for (slot, value) in node.decided() {
                let seen = all.entry(slot).or_default();
                if !seen.contains(value) {
                    seen.push(value.clone());
                }
            }
        }
        all
    }

    /// Agreement: no slot decided with two different values anywhere.
    pub fn agreement_holds(&self) -> bool {
        self.decisions().values().all(|v| v.len() == 1)
    }

    /// Panics unless [`Cluster::check_safe`] passes.
    pub fn assert_safe(&self) {
        if let Err(e) = self.check_safe() {
            panic!("{e}");
        }
    }

    /// The global oracles: agreement (also against decisions nodes have since compacted),
    /// replicas at the same applied index have the same digest, at-most-once, every
    /// snapshot has the digest of replaying the chosen prefix it covers and covers only
    /// decided slots, no slot chosen without a majority of its voters, and reconfigurations
    /// decided at least α slots apart (one change in flight at a time).
    pub fn check_safe(&self) -> Result<(), String> {
        if !self.agreement_holds() {
            return Err(format!("agreement broken: {:?}", self.decisions()));
        }
        let mut chosen = self.chosen.borrow_mut();
        for node in self.nodes.iter().flatten() {
            for (slot, value) in node.decided() {
                match chosen.get(&slot) {
                    Some(v) if v != value => {
                        return Err(format!("{slot} decided as {v} and later as {value}"));
                    }
                    Some(_) => {}
                    None => {
                        chosen.insert(slot, value.clone());
                    }
                }
            }
        }
        let mut digests: BTreeMap<u64, u64> = BTreeMap::new();
        for node in self.nodes.iter().flatten() {
            let (applied, digest) = node.applied_digest();
            let d = *digests.entry(applied).or_insert(digest);
            if d != digest {
                return Err(format!("replicas at {applied} applied entries differ"));
            }
            let ids = node.applied_commands();
            let mut unique = ids.to_vec();
            unique.sort();
            unique.dedup();
            if unique.len() != ids.len() {
                return Err(String::from("a command was applied twice"));
            }
            if let Some((last, digest)) = node.snapshot_info() {
                check_snapshot(node, last, digest, &chosen)?;
            }
        }
        if let Some(v) = self.violations.first() {
            return Err(v.clone());
        }
        let reconfigs: Vec<Slot> = chosen
            .iter()
            .filter(|(_, v)| v.membership().is_some())
            .map(|(s, _)| *s)
            .collect();
        for pair in reconfigs.windows(2) {
            if pair[1].0 < pair[0].0 + CONFIG_DELAY {
                return Err(format!(
                    "two configuration changes in flight: {} and {}",
                    pair[0], pair[1]
                ));
            }
        }
        Ok(())
    }

    /// Whether any two ballots in Accept messages named different values for one slot.
    pub fn ballot_named_two_values(&self) -> bool {
        let mut seen: BTreeMap<(Slot, crate::Ballot), &Value> = BTreeMap::new();
        for env in &self.sent {
            if let Message::Accept {
                ballot,
                slot,
                value,
            } = &env.msg
            {
                if let Some(prev) = seen.insert((*slot, *ballot), value) {
                    if prev != value {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// Oracle 7 for one node's snapshot through `last`.
fn check_snapshot(
    node: &Node,
    last: Slot,
    digest: u64,
    chosen: &BTreeMap<Slot, Value>,
) -> Result<(), String> {
    if last >= node.decided_upto() || last >= node.applied_index() {
        return Err(format!(
            "{} compacted an undecided or unapplied slot: snapshot through {last}",
            node.id()
        ));
    }
    let prefix: Vec<&Value> = (0..=last.0).filter_map(|s| chosen.get(&Slot(s))).collect();
    if prefix.len() as u64 == last.0 + 1 && crate::replay_digest(prefix) != digest {
        return Err(format!(
            "{}'s snapshot through {last} differs from replaying the chosen prefix",
            node.id()
        ));
    }
    Ok(())
}

/// The runs of a whole view's log, slot by slot: what [`Node::log_runs`] must give without
/// formatting the log.
pub fn runs_of(view: &NodeView) -> Vec<LogRun> {
    let mut runs: Vec<LogRun> = Vec::new();
    let mut push = |from: u64, state: SlotState| match runs.last_mut() {
        Some(last) if last.state == state && last.to == from => last.to += 1,
        _ => runs.push(LogRun {
            from,
            to: from + 1,
            state,
        }),
    };
    let mut next = 0;
    if let Some(last) = view.snapshot_slot {
        (0..=last).for_each(|s| push(s, SlotState::Snapshot));
        next = last + 1;
    }
    for e in &view.log {
        (next..e.slot.0).for_each(|s| push(s, SlotState::Missing));
        let state = if e.applied {
            SlotState::Applied
        } else if e.chosen {
            SlotState::Chosen
        } else {
            SlotState::Accepted
        };
        push(e.slot.0, state);
        next = e.slot.0 + 1;
    }
    runs
}
