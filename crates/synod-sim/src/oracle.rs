//! Global oracles: cluster-wide safety properties checked from outside the nodes.
//!
//! The simulator calls [`Oracles`] after every event: with each event a node narrates
//! ([`Oracles::on_event`]), after each input a node handled ([`Oracles::after_node`]), and
//! for each reply a node sends ([`Oracles::on_reply`]). These checks are incremental, so they
//! cost little per event. [`Oracles::sweep`] re-reads every node's whole decided log; the
//! simulator runs it periodically and at the end, to catch a decided slot that changed
//! silently. [`Oracles::finish`] checks, after the liveness phase, that every live replica
//! holds the effect of every chosen command.
//!
//! The oracles are the ones in `shared/guides/correctness.md` §1. Agreement, validity,
//! decided-prefix and "no acknowledged write lost" only mean something for protocols with a
//! shared log ([`synod_core::Protocol::has_shared_log`]); at-most-once, acceptor monotonicity
//! and convergence are checked for every protocol.

use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use synod_core::{
    replay_digest, Ballot, CommandId, Event, KvOp, KvStore, Node, NodeId, ReplyStatus, Slot,
    StateMachine, Value, CONFIG_DELAY,
};

/// Which property failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oracle {
    /// A slot was decided with two different values.
    Agreement,
    /// A decided value is not a no-op, a reconfiguration or a command a client issued.
    Validity,
    /// A command changed a replica's state twice.
    AtMostOnce,
    /// A decided slot changed or vanished, or a replica applied out of order or beyond what
    /// it had decided.
    DecidedPrefix,
    /// A promise went down, or one ballot proposed two values for a slot.
    AcceptorMonotonicity,
    /// Replicas that applied the same prefix hold different states.
    Convergence,
    /// A client was told a write succeeded that is not (or not yet) chosen, or a live
    /// replica lacks a chosen command's effect at the end.
    AcknowledgedWriteLost,
    /// The client history is not linearizable.
    Linearizability,
    /// A snapshot's state differs from replaying the chosen log up to its slot.
    Snapshot,
    /// A value was chosen without a majority of the voters in force for its slot, or two
    /// configuration changes were in flight at once.
    Membership,
    /// After faults healed, the cluster did not recover within the bound.
    Liveness,
}

impl Oracle {
    /// The kebab-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Agreement => "agreement",
            Oracle::Validity => "validity",
            Oracle::AtMostOnce => "at-most-once",
            Oracle::DecidedPrefix => "decided-prefix",
            Oracle::AcceptorMonotonicity => "acceptor-monotonicity",
            Oracle::Convergence => "convergence",
            Oracle::AcknowledgedWriteLost => "acknowledged-write-lost",
            Oracle::Linearizability => "linearizability",
            Oracle::Snapshot => "snapshot",
            Oracle::Membership => "membership",
            Oracle::Liveness => "liveness",
        }
    }

    /// Whether this is a safety property (as opposed to liveness).
    pub fn is_safety(self) -> bool {
        !matches!(self, Oracle::Liveness)
    }
}

impl fmt::Display for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One failed check: which oracle, where in the run, and what exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub oracle: Oracle,
    /// The index of the event after which the check failed (0-based count of events).
    pub event: u64,
    pub at: Time,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} violated at event {} ({}): {}",
            self.oracle, self.event, self.at, self.detail
        )
    }
}

/// A sweep re-reads at most this many decided entries per node.
pub const SWEEP_ENTRIES: usize = 256;

/// Keep at most this many violations: the first one is what matters.
const MAX_VIOLATIONS: usize = 16;

#[derive(Clone, Debug, Default)]
struct Watch {
    /// The highest promise seen from this node (kept across restarts: promises are durable).
    promised: Ballot,
    /// How many entries of `applied_commands` were checked (volatile: reset on restart).
    applied_checked: usize,
    applied_ids: BTreeSet<CommandId>,
    /// Commands this node answered from its de-duplication table instead of applying.
    deduplicated: BTreeSet<CommandId>,
    /// The slot this node must apply next.
    next_apply: u64,
    /// The longest decided prefix this node ever held.
    decided_count: usize,
    /// Where the next sweep of this node's decided log starts.
    sweep_cursor: Slot,
    /// The applied count at which this node's table was last compared (`None`: compare at
    /// the next chance). The table changes only by applying entries, which moves the
    /// count, or by a restart or an installed snapshot, which reset this; digesting the
    /// whole table after every event in between found nothing new and cost more than any
    /// other oracle.
    digest_checked_at: Option<u64>,
}

/// The oracles' memory of the run.
#[derive(Clone, Debug)]
pub struct Oracles {
    shared_log: bool,
    chosen: BTreeMap<Slot, Value>,
    chosen_ids: BTreeMap<CommandId, Slot>,
    issued: BTreeMap<CommandId, KvOp>,
    proposals: BTreeMap<(Slot, Ballot), Value>,
    digests: BTreeMap<u64, (NodeId, u64)>,
    watch: Vec<Watch>,
    /// The voters before any reconfiguration.
    initial_voters: Vec<NodeId>,
    /// Reconfigurations in the chosen log: slot and the voters from `slot + CONFIG_DELAY` on.
    reconfigs: BTreeMap<Slot, Vec<NodeId>>,
    /// Who narrated accepting each (slot, ballot).
    accepted_by: BTreeMap<(Slot, Ballot), BTreeSet<NodeId>>,
    /// Nodes whose snapshot changed during the input being handled.
    pending_snapshots: Vec<NodeId>,
    /// Applications narrated by the node being handled, checked once its input is done.
    pending_applies: Vec<(NodeId, Slot, Option<CommandId>)>,
    /// Write acknowledgements sent by the node being handled, checked likewise.
    pending_acks: Vec<(NodeId, CommandId)>,
    violations: Vec<Violation>,
    /// Where the next violation is said to happen.
    event: u64,
    at: Time,
}

impl Oracles {
    /// Oracles for a cluster whose voters are `members`; `shared_log` says whether the
    /// protocol promises one log for all replicas.
    pub fn new(members: &[NodeId], shared_log: bool) -> Oracles {
        let nodes = members.len();
        Oracles {
            shared_log,
            initial_voters: members.to_vec(),
            reconfigs: BTreeMap::new(),
            accepted_by: BTreeMap::new(),
            pending_snapshots: Vec::new(),
            chosen: BTreeMap::new(),
            chosen_ids: BTreeMap::new(),
            issued: BTreeMap::new(),
            proposals: BTreeMap::new(),
            digests: BTreeMap::new(),
            watch: vec![Watch::default(); nodes],
            pending_applies: Vec::new(),
            pending_acks: Vec::new(),
            violations: Vec::new(),
            event: 0,
            at: Time::ZERO,
        }
    }

    /// A node joined the world.
    pub fn node_added(&mut self) {
        self.watch.push(Watch::default());
    }

    /// The voters in force for `slot`: a change chosen at slot `s` governs slots from
    /// `s + CONFIG_DELAY` on.
    fn voters_at(&self, slot: Slot) -> &[NodeId] {
        self.reconfigs
            .range(..=Slot(slot.0.saturating_sub(CONFIG_DELAY)))
            .next_back()
            .filter(|(s, _)| s.0 + CONFIG_DELAY <= slot.0)
            .map_or(&self.initial_voters, |(_, v)| v)
    }

    /// Sets where the following checks happen, for reports.
    pub fn at(&mut self, event: u64, at: Time) {
        self.event = event;
        self.at = at;
    }

    /// Every violation found so far (at most 16), in order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The global chosen log.
    pub fn chosen(&self) -> &BTreeMap<Slot, Value> {
        &self.chosen
    }

    /// Records a violation found outside (linearizability, liveness).
    pub fn report(&mut self, oracle: Oracle, detail: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(Violation {
                oracle,
                event: self.event,
                at: self.at,
                detail,
            });
        }
    }

    /// A client issued a command: validity accepts exactly these.
    pub fn issued(&mut self, id: CommandId, op: &KvOp) {
        self.issued.insert(id, op.clone());
    }

    /// A node narrated an event.
    pub fn on_event(&mut self, node: NodeId, event: &Event) {
        match event {
            Event::Accepted { slot, ballot, .. } if self.shared_log => {
                self.accepted_by
                    .entry((*slot, *ballot))
                    .or_default()
                    .insert(node);
            }
            Event::Chosen {
                slot,
                ballot,
                value,
            } => {
                self.decided(node, *slot, value);
                self.quorum_of_voters(node, *slot, *ballot);
            }
            Event::Learned { slot, value } => self.decided(node, *slot, value),
            Event::SnapshotTaken { .. } => self.pending_snapshots.push(node),
            Event::SnapshotInstalled { last, from } => {
                self.pending_snapshots.push(node);
                self.watch[node.index()].digest_checked_at = None;
                // A snapshot from a peer covers everything up to `last`: the next slot to
                // apply is the one after it. (A node restoring its own snapshot on restart
                // is accounted for by `restarted`.)
                if from.is_some() {
                    self.watch[node.index()].next_apply = last.0 + 1;
                }
            }
            Event::ConflictingDecision { slot, kept, other } => self.report(
                Oracle::Agreement,
                format!("{node} saw {slot} decided as {kept:?} and as {other:?}"),
            ),
            Event::Proposed {
                slot,
                ballot,
                value,
            } => {
                // Proposing is accepting locally: the proposer is one of the acceptors.
                if self.shared_log {
                    self.accepted_by
                        .entry((*slot, *ballot))
                        .or_default()
                        .insert(node);
                }
                self.proposed(*slot, *ballot, value);
            }
            _ => {}
        }
        self.other_events(node, event);
    }

    fn proposed(&mut self, slot: Slot, ballot: Ballot, value: &Value) {
        match self.proposals.get(&(slot, ballot)) {
            Some(v) if v != value => self.report(
                Oracle::AcceptorMonotonicity,
                format!(
                    "ballot {ballot} proposed two values for {slot}: {v:?} and {value:?} \
                     (ballots must be unique)"
                ),
            ),
            Some(_) => {}
            None => {
                self.proposals.insert((slot, ballot), value.clone());
            }
        }
    }

    fn other_events(&mut self, node: NodeId, event: &Event) {
        match event {
            Event::Applied { slot, id } if self.shared_log => {
                self.pending_applies.push((node, *slot, Some(*id)))
            }
            Event::AppliedNoop { slot } | Event::AppliedConfig { slot, .. } if self.shared_log => {
                self.pending_applies.push((node, *slot, None))
            }
            Event::Deduplicated { id } => {
                self.watch[node.index()].deduplicated.insert(*id);
            }
            _ => {}
        }
    }

    /// The proposer counted a quorum: a majority of the voters in force for the slot must
    /// have narrated accepting this ballot there (learners do not count).
    fn quorum_of_voters(&mut self, node: NodeId, slot: Slot, ballot: Ballot) {
        if !self.shared_log {
            return;
        }
        let voters = self.voters_at(slot).to_vec();
        let acks = self
            .accepted_by
            .get(&(slot, ballot))
            .map_or(0, |who| voters.iter().filter(|v| who.contains(v)).count());
        let need = voters.len() / 2 + 1;
        if acks < need {
            self.report(
                Oracle::Membership,
                format!(
                    "{node} chose {slot} at ballot {ballot} with {acks} of the {} voters in force                      accepting (a majority is {need})",
                    voters.len()
                ),
            );
        }
    }

    fn decided(&mut self, node: NodeId, slot: Slot, value: &Value) {
        if !self.shared_log {
            return;
        }
        if let Some(m) = value.membership() {
            if !self.chosen.contains_key(&slot) {
                let previous = self.reconfigs.range(..slot).next_back().map(|(s, _)| *s);
                let next = self.reconfigs.range(slot.next()..).next().map(|(s, _)| *s);
                for other in previous.into_iter().chain(next) {
                    if other.0.abs_diff(slot.0) < CONFIG_DELAY {
                        self.report(
                            Oracle::Membership,
                            format!(
                                "configuration changes chosen in {other} and {slot}: two                                  changes in flight at once"
                            ),
                        );
                    }
                }
                self.reconfigs.insert(slot, m.voters.clone());
            }
        }
        match self.chosen.get(&slot) {
            Some(v) if v != value => self.report(
                Oracle::Agreement,
                format!("{node} decided {slot} as {value:?}, but it was chosen as {v:?}"),
            ),
            Some(_) => {}
            None => {
                if let Some(cmd) = value.command() {
                    match self.issued.get(&cmd.id) {
                        Some(op) if *op == cmd.op => {}
                        Some(op) => self.report(
                            Oracle::Validity,
                            format!("{slot} holds {cmd}, but the client issued {} {op}", cmd.id),
                        ),
                        None => self.report(
                            Oracle::Validity,
                            format!("{slot} holds {cmd}, which no client issued"),
                        ),
                    }
                    self.chosen_ids.entry(cmd.id).or_insert(slot);
                }
                self.chosen.insert(slot, value.clone());
            }
        }
    }

    fn applied(&mut self, node: NodeId, slot: Slot, id: Option<CommandId>) {
        let w = &self.watch[node.index()];
        let expected = w.next_apply;
        // Slots skipped between the last application and this one are legitimate only when
        // they hold commands this node answered from its table instead (retries).
        let skipped_ok = (expected..slot.0).all(|s| {
            self.chosen
                .get(&Slot(s))
                .and_then(Value::id)
                .is_some_and(|c| w.applied_ids.contains(&c) || w.deduplicated.contains(&c))
        });
        if slot.0 < expected || !skipped_ok {
            self.report(
                Oracle::DecidedPrefix,
                format!("{node} applied {slot} when slot {expected} was next"),
            );
        }
        self.watch[node.index()].next_apply = slot.0 + 1;
        match self.chosen.get(&slot) {
            None => self.report(
                Oracle::DecidedPrefix,
                format!("{node} applied {slot}, which is not decided"),
            ),
            Some(v) if v.id() != id => self.report(
                Oracle::DecidedPrefix,
                format!("{node} applied {id:?} at {slot}, but {v:?} was chosen there"),
            ),
            Some(_) => {}
        }
    }

    /// A node restarted: its volatile progress was rebuilt from its durable state (a
    /// restart replays the decided log without narrating each entry).
    pub fn restarted(&mut self, id: NodeId, node: &Node) {
        let w = &mut self.watch[id.index()];
        w.applied_checked = 0;
        w.applied_ids.clear();
        w.deduplicated.clear();
        w.next_apply = node.applied_index().0;
        w.digest_checked_at = None;
    }

    /// A node handled an input (and its outputs were carried out).
    pub fn after_node(&mut self, id: NodeId, node: &Node) {
        let promised = node.promised();
        let w = &mut self.watch[id.index()];
        if promised < w.promised {
            let was = w.promised;
            self.report(
                Oracle::AcceptorMonotonicity,
                format!("{id}'s promise went down from {was} to {promised}"),
            );
        } else {
            w.promised = promised;
        }
        let applied = node.applied_commands();
        let w = &mut self.watch[id.index()];
        let fresh = applied.get(w.applied_checked..).unwrap_or_default();
        let mut twice = None;
        for cmd in fresh {
            if !w.applied_ids.insert(*cmd) {
                twice = Some(*cmd);
            }
        }
        w.applied_checked = applied.len();
        if let Some(cmd) = twice {
            self.report(Oracle::AtMostOnce, format!("{id} applied {cmd} twice"));
        }
        if let Some(low) = self.pending_applies.iter().map(|(_, s, _)| *s).min() {
            // From the first slot this node had not applied: slots in between may hold
            // retries it answered from its table without narrating a slot.
            let low = low.min(Slot(self.watch[id.index()].next_apply));
            // Protocols that narrate no decisions (single node, sequencer) are read here:
            // whatever the node now holds as decided, from the lowest slot it applied.
            let fresh: Vec<(Slot, Value)> = node
                .decided_since(low)
                .filter(|(slot, _)| !self.chosen.contains_key(slot))
                .map(|(slot, v)| (slot, v.clone()))
                .collect();
            for (slot, value) in fresh {
                self.decided(id, slot, &value);
            }
            for (n, slot, cmd) in std::mem::take(&mut self.pending_applies) {
                self.applied(n, slot, cmd);
            }
        }
        if self.pending_snapshots.contains(&id) {
            self.pending_snapshots.retain(|n| *n != id);
            self.check_snapshot(id, node);
        }
        for (n, cmd) in std::mem::take(&mut self.pending_acks) {
            if !self.chosen_ids.contains_key(&cmd) {
                self.report(
                    Oracle::AcknowledgedWriteLost,
                    format!("{n} acknowledged {cmd} before it was chosen"),
                );
            }
        }
        let count = node.applied_index().0;
        if self.shared_log && self.watch[id.index()].digest_checked_at != Some(count) {
            self.watch[id.index()].digest_checked_at = Some(count);
            let (count, digest) = node.applied_digest();
            match self.digests.get(&count) {
                Some((other, d)) if *d != digest => {
                    let other = *other;
                    self.report(
                        Oracle::Convergence,
                        format!(
                            "{id} and {other} both applied {count} entries but hold different tables"
                        ),
                    )
                }
                Some(_) => {}
                None => {
                    self.digests.insert(count, (id, digest));
                }
            }
        }
    }

    /// A snapshot at slot `u` must hold the state of replaying `chosen[..=u]`.
    fn check_snapshot(&mut self, id: NodeId, node: &Node) {
        let Some((last, digest)) = node.snapshot_info() else {
            return;
        };
        let prefix: Vec<&Value> = self
            .chosen
            .range(..=last)
            .enumerate()
            .take_while(|(i, (s, _))| s.0 == *i as u64)
            .map(|(_, (_, v))| v)
            .collect();
        if prefix.len() as u64 != last.0 + 1 {
            return; // Some of the prefix was never narrated; nothing to compare with.
        }
        if replay_digest(prefix) != digest {
            self.report(
                Oracle::Snapshot,
                format!("{id}'s snapshot at {last} differs from replaying the chosen log up to it"),
            );
        }
    }

    /// A node sent a reply: an acknowledged write must already be chosen.
    pub fn on_reply(&mut self, node: NodeId, status: &ReplyStatus, id: CommandId) {
        if !self.shared_log || !matches!(status, ReplyStatus::Ok { .. }) {
            return;
        }
        let is_write = self.issued.get(&id).is_some_and(|op| !op.is_read());
        if is_write {
            // Checked once the node's input is done: protocols that narrate no decisions
            // are read then.
            self.pending_acks.push((node, id));
        }
    }

    /// Re-reads part of every live node's decided log: nothing decided may change or vanish.
    /// Each sweep reads at most [`SWEEP_ENTRIES`] entries per node, resuming where the last
    /// one stopped and wrapping around, so that the whole log is re-read over a few sweeps
    /// while the cost per sweep stays bounded however long the run.
    pub fn sweep<'a>(&mut self, nodes: impl Iterator<Item = (NodeId, &'a Node)>) {
        if !self.shared_log {
            return;
        }
        for (id, node) in nodes {
            let cursor = self.watch[id.index()].sweep_cursor;
            let mut wrong = None;
            let mut fresh = Vec::new();
            let mut last = None;
            for (slot, value) in node.decided_since(cursor).take(SWEEP_ENTRIES) {
                last = Some(slot);
                match self.chosen.get(&slot) {
                    Some(v) if v != value => wrong = Some((slot, v.clone(), value.clone())),
                    Some(_) => {}
                    None => fresh.push((slot, value.clone())),
                }
            }
            self.watch[id.index()].sweep_cursor = match last {
                Some(s) => s.next(),
                None => Slot(0),
            };
            for (slot, value) in fresh {
                self.decided(id, slot, &value);
            }
            if let Some((slot, chosen, held)) = wrong {
                self.report(
                    Oracle::Agreement,
                    format!("{id} holds {held:?} in {slot}, but {chosen:?} was chosen there"),
                );
            }
            // The decided prefix (snapshot included) never shrinks, across restarts too.
            let upto = node.decided_upto().0 as usize;
            let w = &mut self.watch[id.index()];
            if upto < w.decided_count {
                let was = w.decided_count;
                self.report(
                    Oracle::DecidedPrefix,
                    format!("{id}'s decided prefix shrank from {was} slots to {upto}"),
                );
            } else {
                w.decided_count = upto;
            }
        }
    }

    /// After the liveness phase: every live replica holds the effect of the chosen log.
    pub fn finish<'a>(&mut self, nodes: impl Iterator<Item = (NodeId, &'a Node)>) {
        let nodes: Vec<_> = nodes.collect();
        if !self.shared_log {
            // Without a shared log there is nothing to replay; replicas must still agree.
            let digests: BTreeSet<u64> = nodes.iter().map(|(_, n)| n.store().digest()).collect();
            if digests.len() > 1 {
                self.report(
                    Oracle::Convergence,
                    format!(
                        "after the run the {} live replicas hold {} different tables",
                        nodes.len(),
                        digests.len()
                    ),
                );
            }
            return;
        }
        let mut reference = KvStore::new();
        let mut applied = BTreeSet::new();
        let mut expected = 0;
        for (slot, value) in &self.chosen {
            if slot.0 != expected {
                break;
            }
            expected += 1;
            if let Some(cmd) = value.command() {
                if applied.insert(cmd.id) {
                    reference.apply(&cmd.op);
                }
            }
        }
        let want = reference.digest();
        for (id, node) in nodes {
            let (count, digest) = node.applied_digest();
            if count < expected {
                self.report(
                    Oracle::Liveness,
                    format!("after the run {id} applied {count} of {expected} chosen entries"),
                );
            } else if count == expected && digest != want {
                self.report(
                    Oracle::AcknowledgedWriteLost,
                    format!("after the run {id}'s table differs from replaying the chosen log"),
                );
            }
        }
    }
}
