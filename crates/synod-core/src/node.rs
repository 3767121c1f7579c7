//! The sans-IO node API shared by every protocol.
//!
//! # Call order
//!
//! A host owns a [`Node`] and, for as long as the node is up:
//!
//! 1. delivers inputs one at a time: [`Node::on_client`] for a client request,
//!    [`Node::on_message`] for a message from another node, [`Node::on_tick`] once per logical
//!    tick of the node's own clock;
//! 2. after *each* input, drains [`Node::poll`] until it returns `None`, and carries out every
//!    [`Output`] in the order given. An [`Output::Persist`] must be made durable before any
//!    output that follows it is carried out: that is what lets a node promise something and
//!    still keep the promise after a crash. (The node always emits the write for a promise
//!    before the `Promise` message, and the write for an accept before the `Accepted`
//!    message.)
//!
//! A crash is modelled by the host dropping the node and later calling [`Node::restart`] with
//! the durable state it kept ([`Durable::default`] plus every [`DurableWrite`] applied with
//! [`Durable::apply`]). Nothing else survives: the key-value table, the role, timers, queues
//! and the de-duplication table are rebuilt by replaying the decided log.
//!
//! # Oracles
//!
//! The simulator's global checkers read a node through accessors that never change it:
//! [`Node::decided`] / [`Node::decided_since`] (the decided log), [`Node::accepted`] (the
//! acceptor's per-slot ballot and value), [`Node::promised`], [`Node::applied_index`],
//! [`Node::applied_commands`] (every command id that changed the state machine, in order,
//! repeats included, for the at-most-once check) and [`Node::applied_digest`]; for snapshots
//! and membership, [`Node::snapshot_info`], [`Node::membership`] and
//! [`Node::membership_at`].
//!
//! # Snapshots and membership (Multi-Paxos; snapshots also basic Paxos)
//!
//! The host may call [`Node::snapshot_now`] at any time, or set
//! [`NodeConfig::snapshot_every`]; either compacts the log below the snapshot and hands the
//! host a [`DurableWrite::Snapshot`]. Membership changes enter through the leader's
//! [`Node::on_admin`]; a brand-new node is created with [`NodeConfig::learner`]. The rules
//! are in [`crate::membership`].

use crate::bugs::Bug;
use crate::ids::{Ballot, ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvStore, StateMachine};
use crate::membership::{AdminCommand, AdminError, Membership, Snapshot};
use crate::message::{ClientReply, ClientRequest, Message, Timestamp, Value};
use crate::naive::NaiveNode;
use crate::paxos::PaxosNode;
use crate::sequencer::SequencerNode;
use crate::single::SingleNode;
use crate::timestamps::TimestampNode;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

pub use crate::config::{ConfigError, NodeConfig, ReadMode, Timing};

/// The replication strategies of the story, each behind the same node API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// One single-threaded node: concurrent calls queue and execute one at a time.
    #[default]
    SingleNode,
    /// Every node applies a write at once, replies, and tells the others.
    Naive,
    /// Commands are stamped with the receiving node's clock and applied in timestamp order.
    Timestamps,
    /// One fixed node numbers every command; the others apply them in that order.
    Sequencer,
    /// Any node proposes each command for the next slot with a full two-phase Paxos round.
    BasicPaxos,
    /// Paxos over a log with a stable leader that runs phase 1 once per leadership.
    MultiPaxos,
}

impl Protocol {
    /// Every protocol, in the order the story introduces them.
    pub const ALL: [Protocol; 6] = [
        Protocol::SingleNode,
        Protocol::Naive,
        Protocol::Timestamps,
        Protocol::Sequencer,
        Protocol::BasicPaxos,
        Protocol::MultiPaxos,
    ];

    /// A short name for menus and the command line.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::SingleNode => "single-node",
            Protocol::Naive => "naive",
            Protocol::Timestamps => "timestamps",
            Protocol::Sequencer => "sequencer",
            Protocol::BasicPaxos => "basic-paxos",
            Protocol::MultiPaxos => "multi-paxos",
        }
    }

    /// Looks a protocol up by [`Protocol::name`].
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The guarantee the protocol gives, in one sentence for the page.
    pub fn guarantee(self) -> &'static str {
        match self {
            Protocol::SingleNode => {
                "Strongly consistent: one thread executes one call at a time, so even \
                 overlapping calls behave as if they ran in some sequence. But the one node is \
                 a single point of failure."
            }
            Protocol::Naive => {
                "No guarantee: each node applies its own writes first and the others' when \
                 they arrive, so two concurrent writes to one key leave replicas disagreeing."
            }
            Protocol::Timestamps => {
                "Replicas agree only if clocks agree and every message arrives within the \
                 hold-back time; with clock skew a later write can carry an earlier timestamp, \
                 and replicas diverge or reads go back in time."
            }
            Protocol::Sequencer => {
                "Strongly consistent while the sequencer is up: it alone numbers commands. \
                 When it crashes nothing is ordered any more, and a restarted sequencer that \
                 forgot its counter hands out numbers already used."
            }
            Protocol::BasicPaxos => {
                "Strongly consistent and fault tolerant: a majority must promise and accept \
                 before a slot is decided. Every command pays for both phases, and competing \
                 proposers retry with higher numbers."
            }
            Protocol::MultiPaxos => {
                "Strongly consistent and fault tolerant, like basic Paxos, but a stable leader \
                 runs phase 1 once for all future slots and then needs one round trip to a \
                 majority per command."
            }
        }
    }

    /// How many nodes the protocol supports.
    pub fn node_range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Protocol::SingleNode => 1..=1,
            _ => 1..=7,
        }
    }

    /// Whether the protocol keeps a decided log that replicas must agree on slot by slot
    /// (sequencer and Paxos). The others only have each node's local order of application.
    pub fn has_shared_log(self) -> bool {
        matches!(
            self,
            Protocol::SingleNode
                | Protocol::Sequencer
                | Protocol::BasicPaxos
                | Protocol::MultiPaxos
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something a node wants its host to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    /// Send a message to another node.
    Send { to: NodeId, msg: Message },
    /// Answer a client.
    Reply { to: ClientId, reply: ClientReply },
    /// Make this write durable before carrying out any later output.
    Persist(DurableWrite),
    /// Something worth narrating happened.
    Event(Event),
}

/// A value an acceptor accepted in one slot, and at which ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedValue {
    pub ballot: Ballot,
    pub value: Value,
}

/// The state a node keeps across a crash. The host starts from `Durable::default()`, applies
/// every [`DurableWrite`] the node hands it in an [`Output::Persist`] (with
/// [`Durable::apply`]), and gives the result back to [`Node::restart`].
///
/// Only the Paxos protocols persist anything: the promise, the accepted value per slot and
/// the decided entries. The earlier strategies of the story keep everything in memory, which
/// is part of why they fail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durable {
    /// The highest ballot this node promised (zero before any promise).
    pub promised: Ballot,
    /// Per slot, the value accepted at the highest ballot.
    #[serde(default)]
    pub accepted: BTreeMap<Slot, AcceptedValue>,
    /// Per slot, the value known to be chosen. Never changes once written. Slots covered by
    /// `snapshot` are compacted away.
    #[serde(default)]
    pub decided: BTreeMap<Slot, Value>,
    /// The newest snapshot, if any: the state after its last slot.
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
}

/// One write to stable storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum DurableWrite {
    /// The node promised not to accept ballots below this one.
    Promise { ballot: Ballot },
    /// The node accepted `value` in `slot` at `ballot` (which also promises `ballot`).
    Accept {
        slot: Slot,
        ballot: Ballot,
        value: Value,
    },
    /// The node learned that `value` was chosen in `slot`.
    Decide { slot: Slot, value: Value },
    /// The node took or installed a snapshot: keep it, and drop every decided and accepted
    /// entry at or below `snapshot.last` (older snapshots are ignored).
    Snapshot { snapshot: Snapshot },
}

impl Durable {
    /// Records one write, as stable storage would.
    pub fn apply(&mut self, write: &DurableWrite) {
        self.record(write.clone());
    }

    /// Records one write the host owns, without copying the value it carries.
    pub fn record(&mut self, write: DurableWrite) {
        match write {
            DurableWrite::Promise { ballot } => self.promised = self.promised.max(ballot),
            DurableWrite::Accept {
                slot,
                ballot,
                value,
            } => {
                self.promised = self.promised.max(ballot);
                self.accepted.insert(slot, AcceptedValue { ballot, value });
            }
            DurableWrite::Decide { slot, value } => {
                // A decided slot never changes: the first decision written is the one kept.
                // A slot under the snapshot is decided already and stays compacted.
                if slot >= self.compacted_upto() {
                    self.decided.entry(slot).or_insert(value);
                }
            }
            DurableWrite::Snapshot { snapshot } => {
                if snapshot.next() <= self.compacted_upto() {
                    return;
                }
                let next = snapshot.next();
                self.decided = self.decided.split_off(&next);
                self.accepted = self.accepted.split_off(&next);
                self.snapshot = Some(snapshot);
            }
        }
    }

    /// The first slot not covered by the snapshot (slot 0 without one).
    pub fn compacted_upto(&self) -> Slot {
        self.snapshot.as_ref().map_or(Slot(0), Snapshot::next)
    }

    /// The first slot that is not decided: every slot below it is (the snapshot's included).
    pub fn decided_upto(&self) -> Slot {
        first_gap_from(&self.decided, self.compacted_upto())
    }
}

/// The first slot missing from a log keyed by slot.
pub(crate) fn first_gap<V>(log: &BTreeMap<Slot, V>) -> Slot {
    first_gap_from(log, Slot(0))
}

/// The first slot at or after `start` missing from a log keyed by slot.
///
/// O(log n) when the log is gapless from `start` (the usual case for a log that holds no
/// slot below `start`: the earlier strategies' local logs, and a durable log without
/// holes): its entries then run from `start` to `start + len - 1`. Otherwise it scans up to
/// the gap; hosts that ask often keep the prefix incrementally instead (as `PaxosNode`
/// does).
pub(crate) fn first_gap_from<V>(log: &BTreeMap<Slot, V>, start: Slot) -> Slot {
    let first = log.keys().next().copied();
    let last = log.keys().next_back().copied();
    if let (Some(first), Some(last)) = (first, last) {
        let len = u64::try_from(log.len()).expect("a log fits in u64 slots");
        if first == start && last.0 - first.0 + 1 == len {
            return last.next();
        }
    }
    let mut next = start;
    for slot in log.range(start..).map(|(s, _)| s) {
        if *slot != next {
            break;
        }
        next = next.next();
    }
    next
}

/// What a node narrates, for the page's story log and the simulator's trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A command arrived while the node was busy and waits in its queue.
    Queued { id: CommandId, depth: u32 },
    /// The node started executing a command.
    Started { id: CommandId },
    /// A command was applied to the state machine at a log position.
    Applied { slot: Slot, id: CommandId },
    /// A retried command was answered from the de-duplication table, not applied again.
    Deduplicated { id: CommandId },
    /// A no-op was applied (it changes nothing).
    AppliedNoop { slot: Slot },
    /// The node is not the one to ask and sent the client elsewhere.
    Redirected {
        id: CommandId,
        leader: Option<NodeId>,
    },
    /// A read was answered from this node's own table without any coordination.
    ReadLocally { id: CommandId },
    /// The node answered its part of a quorum read.
    ReadReported { id: CommandId, key: String },
    /// Naive replication: the node applied a write and told `peers` others.
    Replicated { id: CommandId, peers: u8 },
    /// Timestamp ordering: the node stamped a client's command with its clock.
    Stamped { id: CommandId, ts: Timestamp },
    /// Timestamp ordering: a command arrived after a later-stamped one was already applied,
    /// so it is applied out of timestamp order.
    AppliedLate {
        id: CommandId,
        ts: Timestamp,
        behind: Timestamp,
    },
    /// Sequencer: the command got a number.
    Sequenced { slot: Slot, id: CommandId },
    /// Sequencer: a number arrived that was already used for a different command.
    SequenceConflict {
        slot: Slot,
        kept: CommandId,
        dropped: CommandId,
    },
    /// Phase 1 started: the node asks for promises on a new ballot.
    Campaigning {
        ballot: Ballot,
        from: Slot,
        /// The previous attempt was rejected or timed out; this is the higher-ballot retry.
        retry: bool,
    },
    /// After a rejection the node waits before trying a higher ballot.
    BackingOff { ticks: u32 },
    /// The acceptor promised a ballot to a proposer.
    Promised { ballot: Ballot, to: NodeId },
    /// The acceptor refused a ballot below its promise.
    Rejected {
        ballot: Ballot,
        promised: Ballot,
        from: NodeId,
    },
    /// Phase 1 succeeded with a majority of promises.
    BecameLeader {
        ballot: Ballot,
        recovered: u32,
        noops: u32,
    },
    /// A new proposer adopted a value a promise reported for a slot.
    Recovered {
        slot: Slot,
        accepted_at: Ballot,
        value: Value,
    },
    /// A new leader filled a slot nobody reported with a no-op.
    FilledGap { slot: Slot },
    /// A proposer learned of a higher ballot and gave up its own.
    SteppedDown { ballot: Ballot, higher: Ballot },
    /// A proposer started phase 2 for a slot.
    Proposed {
        slot: Slot,
        ballot: Ballot,
        value: Value,
    },
    /// The acceptor accepted a value.
    Accepted {
        slot: Slot,
        ballot: Ballot,
        value: Value,
    },
    /// The proposer counted a majority of accepts: the value is chosen.
    Chosen {
        slot: Slot,
        ballot: Ballot,
        value: Value,
    },
    /// The node learned a decision made elsewhere.
    Learned { slot: Slot, value: Value },
    /// A decision arrived for a slot already decided with a different value. This never
    /// happens in a correct protocol; the agreement checker will flag it.
    ConflictingDecision {
        slot: Slot,
        kept: Value,
        other: Value,
    },
    /// A lagging node received decided entries from another.
    CaughtUp { from: NodeId, entries: u32 },
    /// A node it does not know of (perhaps a member added by a change it has not learned)
    /// has decided more than this one, which asks it for the missing entries.
    StrangerAhead { from: NodeId, decided_upto: Slot },
    /// A node came back from a crash with its durable state.
    Restarted { promised: Ballot, decided: u64 },
    /// A stale, duplicate or misdirected input was ignored.
    Ignored {
        from: Option<NodeId>,
        what: String,
        why: String,
    },
    /// A deliberately broken code path ran and changed what the node did.
    BugTriggered { bug: Bug },
    /// A reconfiguration was applied (it changes nothing in the table).
    AppliedConfig { slot: Slot, membership: Membership },
    /// The node snapshotted its state through `last` and dropped `compacted` log entries.
    SnapshotTaken {
        last: Slot,
        compacted: u64,
        bytes: u64,
    },
    /// The node sent a snapshot through `last` to a node that needs it.
    SnapshotSent {
        to: NodeId,
        last: Slot,
        bytes: u64,
        /// The requester asked to replay the log, but the log below `last` is compacted.
        instead_of_replay: bool,
    },
    /// The node installed a snapshot (`from` is `None` when it restored its own after a
    /// restart) and will apply from the slot after `last`.
    SnapshotInstalled { from: Option<NodeId>, last: Slot },
    /// The leader accepted an admin request and proposed the new membership in `slot`.
    ConfigChangeProposed {
        slot: Slot,
        change: AdminCommand,
        membership: Membership,
    },
    /// A reconfiguration was decided in `slot`; it governs slots from `effective` on.
    /// `change` names the single change it makes, when it makes exactly one.
    ConfigChangeDecided {
        slot: Slot,
        effective: Slot,
        change: Option<AdminCommand>,
        membership: Membership,
    },
    /// The leader learned of a new membership and runs phase 1 again so that its promises
    /// cover it.
    Recampaigning { slot: Slot },
    /// An admin or snapshot request was refused.
    AdminRefused { request: String, reason: String },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Queued { id, depth } => write!(f, "queued {id} behind {depth} other call(s)"),
            Event::Started { id } => write!(f, "started executing {id}"),
            Event::Applied { slot, id } => write!(f, "applied {id} at {slot}"),
            Event::Deduplicated { id } => {
                write!(
                    f,
                    "answered retried {id} from its table without applying it again"
                )
            }
            Event::AppliedNoop { slot } => write!(f, "applied the no-op in {slot}"),
            Event::Redirected {
                id,
                leader: Some(l),
            } => write!(f, "sent {id} to the leader {l}"),
            Event::Redirected { id, leader: None } => {
                write!(f, "turned {id} away: it knows no leader")
            }
            Event::ReadLocally { id } => {
                write!(f, "answered read {id} from its own table (may be stale)")
            }
            Event::ReadReported { id, key } => {
                write!(f, "reported the newest write to {key} it knows for {id}")
            }
            Event::Replicated { id, peers } => {
                write!(f, "applied {id} and told {peers} other node(s) to apply it")
            }
            Event::Stamped { id, ts } => write!(f, "stamped {id} with its clock: {ts}"),
            Event::AppliedLate { id, ts, behind } => write!(
                f,
                "applied {id} (stamped {ts}) out of order: {behind} was already applied"
            ),
            Event::Sequenced { slot, id } => write!(f, "gave {id} number {}", slot.0),
            Event::SequenceConflict {
                slot,
                kept,
                dropped,
            } => write!(
                f,
                "number {} was handed out twice: kept {kept}, dropped {dropped}",
                slot.0
            ),
            Event::Campaigning {
                ballot,
                from,
                retry: true,
            } => write!(
                f,
                "retried with a higher ballot {ballot} for slots from {}",
                from.0
            ),
            Event::Campaigning { ballot, from, .. } => {
                write!(f, "started phase 1 with ballot {ballot} for slots from {}", from.0)
            }
            Event::BackingOff { ticks } => {
                write!(f, "backs off {ticks} tick(s) before trying a higher ballot")
            }
            Event::Promised { ballot, to } => write!(f, "promised ballot {ballot} to {to}"),
            Event::Rejected {
                ballot,
                promised,
                from,
            } => write!(
                f,
                "rejected ballot {ballot} from {from}: it promised {promised}"
            ),
            Event::BecameLeader {
                ballot,
                recovered,
                noops,
            } => write!(
                f,
                "became leader with ballot {ballot}, recovering {recovered} value(s) and filling {noops} gap(s) with no-ops"
            ),
            Event::Recovered {
                slot,
                accepted_at,
                value,
            } => write!(
                f,
                "recovered {value} in {slot} (accepted at ballot {accepted_at}) from a promise"
            ),
            Event::FilledGap { slot } => write!(f, "filled the gap at {slot} with a no-op"),
            Event::SteppedDown { ballot, higher } => {
                write!(f, "gave up ballot {ballot}: saw higher ballot {higher}")
            }
            Event::Proposed {
                slot,
                ballot,
                value,
            } => write!(f, "proposed {value} in {slot} at ballot {ballot}"),
            Event::Accepted {
                slot,
                ballot,
                value,
            } => write!(f, "accepted {value} in {slot} at ballot {ballot}"),
            Event::Chosen {
                slot,
                ballot,
                value,
            } => write!(
                f,
                "{value} was chosen in {slot}: a majority accepted ballot {ballot}"
            ),
            Event::Learned { slot, value } => write!(f, "learned that {value} was chosen in {slot}"),
            Event::ConflictingDecision { slot, kept, other } => write!(
                f,
                "heard {other} was chosen in {slot}, but it already decided {kept} there"
            ),
            Event::CaughtUp { from, entries } => {
                write!(f, "caught up {entries} decided entr(ies) from {from}")
            }
            Event::StrangerAhead { from, decided_upto } => write!(
                f,
                "heard from {from}, which it does not know as a member, that everything before \
                 {decided_upto} is decided: asked it for the entries it is missing (it may \
                 have joined in a slot this node has not learned yet)"
            ),
            Event::Restarted { promised, decided } => write!(
                f,
                "restarted from stable storage: promised {promised}, {decided} decided entr(ies)"
            ),
            Event::Ignored {
                from: Some(n),
                what,
                why,
            } => write!(f, "ignored {what} from {n}: {why}"),
            Event::Ignored {
                from: None,
                what,
                why,
            } => write!(f, "ignored {what}: {why}"),
            Event::BugTriggered { bug } => {
                write!(f, "deliberate bug `{bug}` changed what it did here")
            }
            Event::AppliedConfig { slot, membership } => {
                write!(f, "applied the reconfiguration in {slot}: {membership}")
            }
            Event::SnapshotTaken {
                last,
                compacted,
                bytes,
            } => write!(
                f,
                "took a snapshot through {last} ({bytes} bytes) and compacted {compacted} log entr(ies)"
            ),
            Event::SnapshotSent {
                to,
                last,
                bytes,
                instead_of_replay,
            } => {
                write!(f, "sent {to} a snapshot through {last} ({bytes} bytes)")?;
                if *instead_of_replay {
                    f.write_str(": the log it asked to replay is compacted")?;
                }
                Ok(())
            }
            Event::SnapshotInstalled {
                from: Some(n),
                last,
            } => write!(
                f,
                "installed {n}'s snapshot through {last}; applies from slot {} on",
                last.0 + 1
            ),
            Event::SnapshotInstalled { from: None, last } => write!(
                f,
                "restored its own snapshot through {last}; replays the decided entries after it"
            ),
            Event::ConfigChangeProposed {
                slot,
                change,
                membership,
            } => write!(f, "proposed to {change} in {slot}: {membership}"),
            Event::ConfigChangeDecided {
                slot,
                effective,
                change,
                membership,
            } => {
                match change {
                    Some(AdminCommand::AddLearner { node, catch_up }) => write!(
                        f,
                        "learned {node} joins as a learner (catching up by {catch_up}), decided in {slot}"
                    )?,
                    Some(AdminCommand::Promote { node }) => {
                        write!(f, "learned {node} is promoted to voter, decided in {slot}")?
                    }
                    Some(AdminCommand::Remove { node }) => {
                        write!(f, "learned {node} is removed, decided in {slot}")?
                    }
                    None => write!(f, "learned a configuration change decided in {slot}")?,
                }
                write!(f, "; {membership} governs slots from {} on", effective.0)
            }
            Event::Recampaigning { slot } => write!(
                f,
                "runs phase 1 again so its promises cover the membership decided in {slot}"
            ),
            Event::AdminRefused { request, reason } => {
                write!(f, "refused to {request}: {reason}")
            }
        }
    }
}

/// The role a node plays right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The only node there is.
    Solo,
    /// An equal among equals (naive replication, timestamp ordering).
    Peer,
    /// The node that numbers every command.
    Sequencer,
    /// Applies what the sequencer numbered, or what the Multi-Paxos leader had chosen.
    Follower,
    /// Running phase 1 to become the Multi-Paxos leader.
    Candidate,
    /// The Multi-Paxos leader: proposes commands in phase 2 only.
    Leader,
    /// Basic Paxos: running a two-phase round for one slot.
    Proposer,
    /// Basic Paxos: answering other nodes' proposals only.
    Acceptor,
    /// Multi-Paxos: receives and applies every decision but never counts toward a quorum.
    Learner,
    /// Multi-Paxos: the node was removed from the cluster.
    Removed,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Role::Solo => "solo",
            Role::Peer => "peer",
            Role::Sequencer => "sequencer",
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Proposer => "proposer",
            Role::Acceptor => "acceptor",
            Role::Learner => "learner",
            Role::Removed => "removed",
        };
        f.write_str(name)
    }
}

/// One log position as drawn by the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    pub slot: Slot,
    /// The decided value, or else the accepted one (`None` for an empty slot).
    pub command: Option<String>,
    pub chosen: bool,
    /// The ballot the value was accepted at, if this node accepted one.
    #[serde(default)]
    pub accepted_ballot: Option<Ballot>,
    /// Whether the entry has been applied to the table.
    #[serde(default)]
    pub applied: bool,
}

/// A read-only picture of a node, for drawing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub id: NodeId,
    pub role: Role,
    pub promised: Ballot,
    pub leader_hint: Option<NodeId>,
    pub log: Vec<LogEntryView>,
    /// How many log entries have been applied to the table.
    pub applied: u64,
    pub table: Vec<(String, String)>,
    pub digest: u64,
    /// The command being executed right now, if any.
    pub executing: Option<CommandId>,
    /// Commands waiting behind it (or, for replicated protocols, waiting to be proposed,
    /// numbered or released).
    pub queue: Vec<CommandId>,
    /// The ballot this node campaigns or leads with, if it does.
    #[serde(default)]
    pub ballot: Option<Ballot>,
    /// Every slot below this one is decided at this node.
    #[serde(default)]
    pub decided_upto: u64,
    /// The node's wall clock (tick count plus skew), for timestamp ordering.
    #[serde(default)]
    pub clock: i64,
    /// The last slot the node's snapshot covers (`log` holds only the slots after it).
    #[serde(default)]
    pub snapshot_slot: Option<u64>,
    /// The snapshot's estimated size.
    #[serde(default)]
    pub snapshot_bytes: u64,
    /// The membership in force at the node's first undecided slot (Paxos protocols).
    #[serde(default)]
    pub membership: Option<Membership>,
    /// A decided membership not in force yet, and the slot it takes effect at.
    #[serde(default)]
    pub next_membership: Option<(u64, Membership)>,
    /// Whether the node is a learner (it applies decisions but does not vote).
    #[serde(default)]
    pub learner: bool,
    /// While the node knows it is behind: how far it got and how far it must go.
    #[serde(default)]
    pub catch_up: Option<CatchUpProgress>,
    /// How many slot positions of the log come before the first entry of `log`: 0 for a
    /// whole view ([`Node::view`]), the ones left out by [`Node::view_recent`].
    #[serde(default)]
    pub earlier_slots: u64,
}

/// What a stretch of a node's log holds, for drawing the whole log as one strip
/// ([`Node::log_runs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// Compacted into the node's snapshot.
    Snapshot,
    /// No entry here (a hole the node has not heard of, or past its log's end).
    Missing,
    /// Decided and applied to the table.
    Applied,
    /// Decided, not applied yet.
    Chosen,
    /// A value accepted, not known to be decided.
    Accepted,
}

/// Consecutive slots `from..to` in one [`SlotState`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRun {
    pub from: u64,
    pub to: u64,
    pub state: SlotState,
}

/// The last `tail` slots of a log, oldest first, from its decided values and (for the Paxos
/// strategies) the values accepted there, and how many slot positions of the log come before
/// them. Only the slots returned are formatted, so a picture of a long log costs its tail.
pub(crate) fn log_view(
    decided: &BTreeMap<Slot, Value>,
    accepted: Option<&BTreeMap<Slot, AcceptedValue>>,
    applied: Slot,
    tail: usize,
) -> (Vec<LogEntryView>, u64) {
    let mut d = decided.iter().rev().peekable();
    let mut a = accepted.into_iter().flat_map(|m| m.iter().rev()).peekable();
    let mut log = Vec::new();
    while log.len() < tail {
        let slot = match (d.peek(), a.peek()) {
            (Some((x, _)), Some((y, _))) => *(*x).max(*y),
            (Some((x, _)), None) | (None, Some((x, _))) => **x,
            (None, None) => break,
        };
        let chosen = d.next_if(|(s, _)| **s == slot).map(|(_, v)| v);
        let taken = a.next_if(|(s, _)| **s == slot).map(|(_, v)| v);
        log.push(LogEntryView {
            slot,
            command: chosen.or(taken.map(|t| &t.value)).map(Value::to_string),
            chosen: chosen.is_some(),
            accepted_ballot: taken.map(|t| t.ballot),
            applied: slot < applied,
        });
    }
    log.reverse();
    let first = decided
        .keys()
        .next()
        .into_iter()
        .chain(accepted.and_then(|m| m.keys().next()))
        .min();
    let earlier = match (first, log.first()) {
        (Some(first), Some(shown)) => shown.slot.0 - first.0,
        _ => 0,
    };
    (log, earlier)
}

/// A lagging node's progress, in slots: every slot below `decided_upto` is decided here, and
/// the node knows slots up to `target` are decided elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUpProgress {
    pub decided_upto: u64,
    pub target: u64,
}

/// The per-protocol state machines behind [`Node`].
pub(crate) trait Engine: fmt::Debug {
    /// Adopts new timer lengths from the next tick on (see [`Node::set_timing`]).
    fn set_timing(&mut self, timing: Timing);
    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox);
    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox);
    fn on_tick(&mut self, entropy: u64, out: &mut Outbox);
    /// A picture of the node with the last `tail` slots of its log.
    fn view(&self, tail: usize) -> NodeView;
    fn store(&self) -> &KvStore;
    fn applied(&self) -> Slot;
    fn applied_commands(&self) -> &[CommandId];
    fn decided(&self) -> &BTreeMap<Slot, Value>;
    fn promised(&self) -> Ballot {
        Ballot::ZERO
    }
    fn accepted(&self) -> Option<&BTreeMap<Slot, AcceptedValue>> {
        None
    }
    fn role(&self) -> Role;
    fn leader_hint(&self) -> Option<NodeId>;
    fn decided_upto(&self) -> Slot {
        first_gap(self.decided())
    }
    /// The last slot the node's snapshot covers, if it has one.
    fn snapshot_last(&self) -> Option<Slot> {
        None
    }
}

/// Where a protocol handler puts its outputs, in order.
pub(crate) type Outbox = VecDeque<Output>;

/// Pushes an event.
pub(crate) fn emit(out: &mut Outbox, event: Event) {
    out.push_back(Output::Event(event));
}

/// Pushes a message.
pub(crate) fn send(out: &mut Outbox, to: NodeId, msg: Message) {
    out.push_back(Output::Send { to, msg });
}

/// Pushes a client reply.
pub(crate) fn reply(out: &mut Outbox, to: ClientId, id: CommandId, status: crate::ReplyStatus) {
    out.push_back(Output::Reply {
        to,
        reply: ClientReply { id, status },
    });
}

/// A node of any protocol.
#[derive(Clone, Debug)]
pub struct Node {
    config: NodeConfig,
    inner: Inner,
    outbox: Outbox,
}

#[derive(Clone, Debug)]
enum Inner {
    Single(SingleNode),
    Naive(NaiveNode),
    Timestamps(TimestampNode),
    Sequencer(SequencerNode),
    Paxos(Box<PaxosNode>),
}

impl Node {
    /// A fresh node: empty state, nothing promised.
    ///
    /// # Panics
    /// If the configuration is invalid ([`NodeConfig::validate`]); use [`Node::try_new`] to get
    /// the error instead.
    pub fn new(config: NodeConfig) -> Node {
        Node::restart(config, Durable::default())
    }

    /// A node rebuilt after a crash from the durable state it persisted.
    ///
    /// # Panics
    /// If the configuration is invalid; use [`Node::try_restart`] to get the error instead.
    pub fn restart(config: NodeConfig, durable: Durable) -> Node {
        match Node::try_restart(config, durable) {
            Ok(node) => node,
            Err(e) => panic!("invalid node configuration: {e}"),
        }
    }

    /// Like [`Node::new`], returning a typed error for an invalid configuration.
    pub fn try_new(config: NodeConfig) -> Result<Node, ConfigError> {
        Node::try_restart(config, Durable::default())
    }

    /// Like [`Node::restart`], returning a typed error for an invalid configuration.
    pub fn try_restart(config: NodeConfig, durable: Durable) -> Result<Node, ConfigError> {
        config.validate()?;
        let mut outbox = Outbox::new();
        let inner = match config.protocol {
            Protocol::SingleNode => Inner::Single(SingleNode::new(config.clone(), durable)),
            Protocol::Naive => Inner::Naive(NaiveNode::new(config.clone())),
            Protocol::Timestamps => Inner::Timestamps(TimestampNode::new(config.clone())),
            Protocol::Sequencer => Inner::Sequencer(SequencerNode::new(config.clone())),
            Protocol::BasicPaxos | Protocol::MultiPaxos => Inner::Paxos(Box::new(
                PaxosNode::restart(config.clone(), durable, &mut outbox),
            )),
        };
        Ok(Node {
            config,
            inner,
            outbox,
        })
    }

    fn engine(&self) -> &dyn Engine {
        match &self.inner {
            Inner::Single(n) => n,
            Inner::Naive(n) => n,
            Inner::Timestamps(n) => n,
            Inner::Sequencer(n) => n,
            Inner::Paxos(n) => n.as_ref(),
        }
    }

    fn engine_mut(&mut self) -> &mut dyn Engine {
        match &mut self.inner {
            Inner::Single(n) => n,
            Inner::Naive(n) => n,
            Inner::Timestamps(n) => n,
            Inner::Sequencer(n) => n,
            Inner::Paxos(n) => n.as_mut(),
        }
    }

    /// A client request arrived.
    pub fn on_client(&mut self, from: ClientId, request: ClientRequest) {
        let mut out = std::mem::take(&mut self.outbox);
        self.engine_mut().on_client(from, request, &mut out);
        self.outbox = out;
    }

    /// A message from another node arrived. Messages from non-members, from the node itself,
    /// or of a kind the protocol does not use are ignored with an [`Event::Ignored`], except
    /// that a Multi-Paxos node behind on the log learns decided entries from anyone (see
    /// `PaxosNode::hear_stranger`): a member it does not know of yet may be one added by a
    /// configuration change it has not learned.
    pub fn on_message(&mut self, from: NodeId, msg: Message) {
        let mut out = std::mem::take(&mut self.outbox);
        let known = match &self.inner {
            Inner::Paxos(p) => p.knows(from),
            _ => self.config.is_member(from),
        };
        let mut msg = msg;
        if from != self.config.id && !known {
            if let Inner::Paxos(p) = &mut self.inner {
                match p.hear_stranger(from, msg, &mut out) {
                    Some(refused) => msg = refused,
                    None => {
                        self.outbox = out;
                        return;
                    }
                }
            }
        }
        if from == self.config.id || !known {
            emit(
                &mut out,
                Event::Ignored {
                    from: Some(from),
                    what: msg.kind().to_owned(),
                    why: String::from("the sender is not another member of this cluster"),
                },
            );
        } else {
            self.engine_mut().on_message(from, msg, &mut out);
        }
        self.outbox = out;
    }

    /// One tick of this node's logical clock passed. `entropy` is a fresh random number from
    /// the host, for the protocols that randomize timeouts or back-off (the node has no
    /// randomness of its own, so a seeded host replays it exactly).
    pub fn on_tick(&mut self, entropy: u64) {
        let mut out = std::mem::take(&mut self.outbox);
        self.engine_mut().on_tick(entropy, &mut out);
        self.outbox = out;
    }

    /// The host changed the timer lengths (for instance because the network got slower,
    /// see [`Timing::for_round_trip`]). Timers already running keep their deadlines; the
    /// new lengths apply from the next time each is armed. Like the rest of the
    /// configuration, the timing is not durable: the host passes it again on restart.
    pub fn set_timing(&mut self, timing: Timing) {
        self.config.timing = timing;
        self.engine_mut().set_timing(timing);
    }

    /// The next thing the node wants done, in order.
    pub fn poll(&mut self) -> Option<Output> {
        self.outbox.pop_front()
    }

    /// A picture of the node for drawing, its whole log included.
    pub fn view(&self) -> NodeView {
        self.engine().view(usize::MAX)
    }

    /// A picture of the node with only the last `tail` slots of its log (and
    /// [`NodeView::earlier_slots`] saying how many came before): what a page drawing every
    /// frame asks for, since the whole log's picture grows with the run.
    pub fn view_recent(&self, tail: usize) -> NodeView {
        self.engine().view(tail)
    }

    /// The whole log as runs of slots in the same state, from slot 0 to the end of the log:
    /// the snapshot, holes, applied, chosen and accepted stretches. Every slot below both the
    /// applied index and the decided prefix was decided and applied in order, and stays in the
    /// log until a snapshot covers it, so that stretch is one run without walking it; only the
    /// slots after it are visited, and no command is formatted. (The applied index alone is
    /// not enough: with the snapshot off-by-one bug a node applies past a slot it never
    /// decided, and the strip must show that hole.)
    pub fn log_runs(&self) -> Vec<LogRun> {
        let e = self.engine();
        let applied = e.applied();
        let mut runs: Vec<LogRun> = Vec::new();
        let mut push = |from: u64, to: u64, state: SlotState| {
            if to <= from {
                return;
            }
            match runs.last_mut() {
                Some(last) if last.state == state && last.to == from => last.to = to,
                _ => runs.push(LogRun { from, to, state }),
            }
        };
        let compacted = e.snapshot_last().map_or(0, |last| last.0 + 1);
        push(0, compacted, SlotState::Snapshot);
        let start = compacted.max(applied.min(e.decided_upto()).0);
        push(compacted, start, SlotState::Applied);
        let mut next = start;
        let mut decided = e.decided().range(Slot(start)..).map(|(s, _)| *s).peekable();
        let mut accepted = e
            .accepted()
            .into_iter()
            .flat_map(|m| m.range(Slot(start)..).map(|(s, _)| *s))
            .peekable();
        loop {
            let slot = match (decided.peek(), accepted.peek()) {
                (Some(x), Some(y)) => *x.min(y),
                (Some(x), None) | (None, Some(x)) => *x,
                (None, None) => break,
            };
            let chosen = decided.next_if_eq(&slot).is_some();
            accepted.next_if_eq(&slot);
            push(next, slot.0, SlotState::Missing);
            let state = if slot < applied {
                SlotState::Applied
            } else if chosen {
                SlotState::Chosen
            } else {
                SlotState::Accepted
            };
            push(slot.0, slot.0 + 1, state);
            next = slot.0 + 1;
        }
        runs
    }

    /// How many entries the node's applied state reflects, and its fingerprint:
    /// `(applied_count, digest)`.
    pub fn applied_digest(&self) -> (u64, u64) {
        (self.engine().applied().0, self.engine().store().digest())
    }

    /// The node's state machine, for the oracles.
    pub fn store(&self) -> &KvStore {
        self.engine().store()
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The node's current role.
    pub fn role(&self) -> Role {
        self.engine().role()
    }

    /// Whom the node believes leads (or sequences), if anyone.
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.engine().leader_hint()
    }

    /// Oracle: the decided log, in slot order. For protocols without a shared log
    /// ([`Protocol::has_shared_log`] is false) this is the node's own order of application,
    /// which replicas are *not* promised to agree on.
    pub fn decided(&self) -> impl Iterator<Item = (Slot, &Value)> + '_ {
        self.engine().decided().iter().map(|(s, v)| (*s, v))
    }

    /// Oracle: the decided entries at `from` and above, in slot order.
    pub fn decided_since(&self, from: Slot) -> impl Iterator<Item = (Slot, &Value)> + '_ {
        self.engine().decided().range(from..).map(|(s, v)| (*s, v))
    }

    /// Oracle: every slot below this one is decided at this node (the slots its snapshot
    /// covers included).
    pub fn decided_upto(&self) -> Slot {
        self.engine().decided_upto()
    }

    /// Oracle: the acceptor's promise ([`Ballot::ZERO`] for protocols without ballots).
    pub fn promised(&self) -> Ballot {
        self.engine().promised()
    }

    /// Oracle: per slot, the ballot and value this node accepted (Paxos only; empty
    /// otherwise).
    pub fn accepted(&self) -> impl Iterator<Item = (Slot, Ballot, &Value)> + '_ {
        self.engine()
            .accepted()
            .into_iter()
            .flat_map(|m| m.iter().map(|(s, a)| (*s, a.ballot, &a.value)))
    }

    /// Oracle: how many log entries have been applied (the next slot to apply).
    pub fn applied_index(&self) -> Slot {
        self.engine().applied()
    }

    /// Oracle: the id of every command that changed this node's state machine, in the order
    /// applied. A correct node lists each id at most once (at-most-once); with
    /// [`Bug::NoDedup`] a retried command appears twice.
    ///
    /// Commands covered by a snapshot the node installed (from a peer, or its own after a
    /// restart) are not listed: the list starts over with what it applied itself since.
    pub fn applied_commands(&self) -> &[CommandId] {
        self.engine().applied_commands()
    }

    /// An admin request from the host: change the membership through the log. Only a
    /// Multi-Paxos leader accepts one, and only while no other change is in flight; the
    /// change is then narrated step by step ([`Event::ConfigChangeProposed`],
    /// [`Event::ConfigChangeDecided`]). A refusal is returned as a typed error and also
    /// narrated ([`Event::AdminRefused`]).
    pub fn on_admin(&mut self, command: AdminCommand) -> Result<(), AdminError> {
        let mut out = std::mem::take(&mut self.outbox);
        let protocol = self.config.protocol;
        let result = match &mut self.inner {
            Inner::Paxos(p) if p.is_multi() => p.on_admin(command, &mut out),
            _ => Err(AdminError::Unsupported { protocol }),
        };
        if let Err(e) = &result {
            emit(
                &mut out,
                Event::AdminRefused {
                    request: command.to_string(),
                    reason: e.to_string(),
                },
            );
        }
        self.outbox = out;
        result
    }

    /// Snapshots the state machine at the last applied slot now and compacts the log below
    /// it (Paxos protocols). Returns the snapshot's last slot.
    pub fn snapshot_now(&mut self) -> Result<Slot, AdminError> {
        let mut out = std::mem::take(&mut self.outbox);
        let protocol = self.config.protocol;
        let result = match &mut self.inner {
            Inner::Paxos(p) => p.snapshot_now(&mut out),
            _ => Err(AdminError::Unsupported { protocol }),
        };
        if let Err(e) = &result {
            emit(
                &mut out,
                Event::AdminRefused {
                    request: String::from("take a snapshot"),
                    reason: e.to_string(),
                },
            );
        }
        self.outbox = out;
        result
    }

    /// Oracle: the last slot the node's snapshot covers and the snapshot's digest.
    pub fn snapshot_info(&self) -> Option<(Slot, u64)> {
        self.snapshot().map(|s| (s.last, s.digest))
    }

    /// The node's snapshot, if it has one.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        match &self.inner {
            Inner::Paxos(p) => p.snapshot(),
            _ => None,
        }
    }

    /// Oracle: the membership governing `slot`, as far as this node knows (`None` for
    /// protocols without membership). Exact for every slot below `decided_upto + α`.
    pub fn membership_at(&self, slot: Slot) -> Option<Membership> {
        match &self.inner {
            Inner::Paxos(p) => Some(p.membership_at(slot).clone()),
            _ => None,
        }
    }

    /// The newest membership this node knows was decided (it may not be in force yet).
    pub fn membership(&self) -> Option<Membership> {
        match &self.inner {
            Inner::Paxos(p) => Some(p.latest_membership().clone()),
            _ => None,
        }
    }

    /// Whether the node is a learner right now.
    pub fn is_learner(&self) -> bool {
        self.role() == Role::Learner
    }
}
