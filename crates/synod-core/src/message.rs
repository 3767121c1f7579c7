//! What travels between clients and nodes, and between nodes.
//!
//! Every message has a plain-language [`Display`](fmt::Display) (a phrase without sender and
//! receiver, e.g. "promise of ballot 3.1, reporting slot 4 accepted at ballot 2.3") and a
//! full sentence from [`Message::narrate`] ("n2 promised ballot 3.1 to n1 and reported slot 4
//! accepted at ballot 2.3"). [`Message::kind`] is a short type name for counting and
//! colouring; [`Message::ballot`] is the ballot the message is about, when it has one.

use crate::ids::{Ballot, CommandId, NodeId, Slot};
use crate::kv::{KvOp, KvResult};
use crate::membership::{Membership, Snapshot};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A client command: the operation and the id that makes retries recognisable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Command {
    pub id: CommandId,
    pub op: KvOp,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.op)
    }
}

/// What a log slot holds: a client command, a no-op a new leader uses to fill a gap, or a
/// change of membership.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "value", rename_all = "snake_case")]
pub enum Value {
    /// Does nothing when applied; fills a slot nobody proposed anything for.
    Noop,
    /// A client's command, shared: a value is copied into every accept, decide, durable
    /// write and log that holds it, and a shared command makes each copy a reference count
    /// instead of fresh strings. (It serializes, hashes and compares as the command.)
    Command(Arc<Command>),
    /// The cluster's membership from now on (in force `CONFIG_DELAY` slots later; see
    /// [`crate::membership`]). Changes nothing in the key-value table.
    Reconfigure(Membership),
}

impl Value {
    /// The command, unless this is a no-op.
    pub fn command(&self) -> Option<&Command> {
        match self {
            Value::Noop | Value::Reconfigure(_) => None,
            Value::Command(c) => Some(c),
        }
    }

    /// The shared command, unless this is a no-op (a copy of it is a reference count).
    pub fn shared_command(&self) -> Option<&Arc<Command>> {
        match self {
            Value::Noop | Value::Reconfigure(_) => None,
            Value::Command(c) => Some(c),
        }
    }

    /// The new membership, if this is a reconfiguration.
    pub fn membership(&self) -> Option<&Membership> {
        match self {
            Value::Reconfigure(m) => Some(m),
            _ => None,
        }
    }

    /// The command's id, unless this is a no-op.
    pub fn id(&self) -> Option<CommandId> {
        self.command().map(|c| c.id)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Noop => f.write_str("no-op"),
            Value::Command(c) => write!(f, "{c}"),
            Value::Reconfigure(m) => write!(f, "reconfigure to {m}"),
        }
    }
}

/// A timestamp for ordering by clocks: the stamping node's clock reading, then the node id as
/// the deterministic tie-break the story asks for, then a per-node counter for two commands
/// stamped in the same tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    pub time: i64,
    pub node: NodeId,
    pub seq: u32,
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}@{}", self.time, self.node)?;
        if self.seq > 0 {
            write!(f, "+{}", self.seq)?;
        }
        Ok(())
    }
}

/// One slot an acceptor reports in a promise: the value it accepted there and at which
/// ballot, or the value it knows was decided there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseEntry {
    pub slot: Slot,
    /// The ballot the value was accepted at ([`Ballot::ZERO`] when the acceptor only learned
    /// the decision and never accepted it).
    pub ballot: Ballot,
    pub value: Value,
    /// The acceptor knows this value was chosen.
    pub decided: bool,
}

/// The newest write to one key that a node knows of, for quorum reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWrite {
    pub slot: Slot,
    /// The ballot the node accepted it at ([`Ballot::ZERO`] if it only learned the decision).
    pub ballot: Ballot,
    pub id: CommandId,
    /// Whether the node knows this write was chosen *and* takes effect: every slot up to
    /// it is decided at the node, so it can tell that the write is not a retried command's
    /// second copy (which the replicas skip).
    pub decided: bool,
    /// The key's value right after this write: `Some` for a set, `None` for a remove.
    pub value: Option<String>,
}

/// A node's answer to one quorum-read probe: the newest write to the key it has seen,
/// whether decided or only accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReport {
    pub key: String,
    /// `None` when the node knows of no write to the key at all.
    pub newest: Option<KeyWrite>,
    /// The node's decided prefix: every slot below this one is decided at the node.
    pub decided_upto: Slot,
    /// The voter sets that may govern slots from `decided_upto` on, as far as the node knows:
    /// the one in force there, decided changes that come into force later, and changes it
    /// has only accepted (keyed by the slot they would come into force at). The reader needs
    /// a majority of each (see [`crate::quorum_read`]). Empty in reports recorded before it
    /// existed; the reader then counts a majority of the cluster it was given.
    #[serde(default)]
    pub governing: Vec<VoterSet>,
}

/// The voters of a membership and the first slot it governs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoterSet {
    pub from: Slot,
    pub voters: Vec<NodeId>,
}

/// A request from a client to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    /// Shared with the value the leader proposes for it (see [`Value::Command`]).
    pub command: Arc<Command>,
}

/// A node's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReply {
    pub id: CommandId,
    pub status: ReplyStatus,
}

/// The three outcomes a client can learn, plus a redirect and a quorum-read report.
///
/// A client that hears nothing (a timeout) knows *nothing*: the command may or may not take
/// effect later. That third outcome is never sent; the client infers it, and the history
/// records it as unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReplyStatus {
    /// The command took effect (or, for a read, was answered) with this result.
    Ok { result: KvResult },
    /// The command definitely did not and will not take effect.
    Failed { reason: String },
    /// Ask another node: this one is not the leader (`None` when it does not know one).
    Redirect { leader: Option<NodeId> },
    /// One node's part of a quorum read ([`crate::config::ReadMode::Quorum`]): not an
    /// answer by itself. Feed it to a [`crate::quorum_read::Collector`].
    QuorumRead { report: ReadReport },
}

/// Messages between nodes, for every protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// Naive replication: "I applied this; apply it too."
    Replicate { command: Arc<Command> },
    /// Timestamp ordering: a command stamped by the node that received it.
    Stamped {
        ts: Timestamp,
        command: Arc<Command>,
    },
    /// Fixed sequencer: the command's number in the total order.
    Sequenced { slot: Slot, command: Arc<Command> },
    /// Paxos phase 1a: "promise me ballot `ballot` for every slot from `from` on."
    Prepare { ballot: Ballot, from: Slot },
    /// Paxos phase 1b: the promise, with every value the acceptor accepted (or knows
    /// decided) from slot `from` on.
    Promise {
        ballot: Ballot,
        from: Slot,
        entries: Vec<PromiseEntry>,
        /// Every slot below this one is covered by the acceptor's snapshot and compacted away:
        /// decided, but no longer reported entry by entry. A proposer whose own decided
        /// prefix is shorter must install a snapshot before it may lead.
        #[serde(default)]
        compacted_upto: Slot,
    },
    /// Paxos phase 2a: "accept `value` in `slot` at `ballot`."
    Accept {
        ballot: Ballot,
        slot: Slot,
        value: Value,
    },
    /// Paxos phase 2b: "I accepted slot `slot` at `ballot`."
    Accepted { ballot: Ballot, slot: Slot },
    /// A rejection: the acceptor promised `promised`, above the `ballot` it was asked for.
    Nack { ballot: Ballot, promised: Ballot },
    /// The learner step: `value` was chosen in `slot`.
    Decide { slot: Slot, value: Value },
    /// Multi-Paxos: the leader of `ballot` is alive; every slot below `decided_upto` is
    /// decided at the leader.
    Heartbeat { ballot: Ballot, decided_upto: Slot },
    /// "Send me the decided entries from slot `from` on."
    CatchUp { from: Slot },
    /// Decided entries for a lagging replica, in slot order (bounded in length).
    CatchUpReply { entries: Vec<(Slot, Value)> },
    /// A snapshot for a replica that is behind the sender's compaction point, or a learner
    /// that joins by snapshot. Decided entries after it follow in a `CatchUpReply`.
    InstallSnapshot { snapshot: Snapshot },
}

impl Message {
    /// Every kind name, for counters and legends.
    pub const KINDS: [&'static str; 13] = [
        "replicate",
        "stamped",
        "sequenced",
        "prepare",
        "promise",
        "accept",
        "accepted",
        "nack",
        "decide",
        "heartbeat",
        "catch-up",
        "catch-up-reply",
        "snapshot",
    ];

    /// A short type name for counting and colouring.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Replicate { .. } => "replicate",
            Message::Stamped { .. } => "stamped",
            Message::Sequenced { .. } => "sequenced",
            Message::Prepare { .. } => "prepare",
            Message::Promise { .. } => "promise",
            Message::Accept { .. } => "accept",
            Message::Accepted { .. } => "accepted",
            Message::Nack { .. } => "nack",
            Message::Decide { .. } => "decide",
            Message::Heartbeat { .. } => "heartbeat",
            Message::CatchUp { .. } => "catch-up",
            Message::CatchUpReply { .. } => "catch-up-reply",
            Message::InstallSnapshot { .. } => "snapshot",
        }
    }

    /// A rough size in bytes for the simulator's byte counters: the snapshot's estimate
    /// ([`Snapshot::size_bytes`]) for `InstallSnapshot`, 32 bytes per entry plus 16 of header
    /// for everything else.
    pub fn size_bytes(&self) -> u64 {
        let entries = match self {
            Message::InstallSnapshot { snapshot } => return snapshot.size_bytes(),
            Message::Promise { entries, .. } => entries.len(),
            Message::CatchUpReply { entries } => entries.len(),
            _ => 1,
        };
        16 + 32 * entries as u64
    }

    /// The ballot the message is about, for colouring (`None` for messages without one).
    /// For a nack this is the rejected ballot.
    pub fn ballot(&self) -> Option<Ballot> {
        match self {
            Message::Prepare { ballot, .. }
            | Message::Promise { ballot, .. }
            | Message::Accept { ballot, .. }
            | Message::Accepted { ballot, .. }
            | Message::Nack { ballot, .. }
            | Message::Heartbeat { ballot, .. } => Some(*ballot),
            _ => None,
        }
    }

    /// The log slot the message is about, if it is about exactly one.
    pub fn slot(&self) -> Option<Slot> {
        match self {
            Message::Sequenced { slot, .. }
            | Message::Accept { slot, .. }
            | Message::Accepted { slot, .. }
            | Message::Decide { slot, .. } => Some(*slot),
            _ => None,
        }
    }

    /// A full sentence for the story log: "n2 promised ballot 3.1 to n1 and reported ...".
    pub fn narrate(&self, from: NodeId, to: NodeId) -> String {
        match self {
            Message::Replicate { command } => {
                format!("{from} tells {to} it applied {command}; apply it too")
            }
            Message::Stamped { ts, command } => {
                format!("{from} tells {to} about {command}, stamped {ts}")
            }
            Message::Sequenced { slot, command } => {
                format!("sequencer {from} tells {to} that {command} is number {}", slot.0)
            }
            Message::Prepare { ballot, from: s } => format!(
                "{from} asks {to} to promise ballot {ballot} for every slot from {}",
                s.0
            ),
            Message::Promise { ballot, entries, .. } => {
                format!(
                    "{from} promised ballot {ballot} to {to}{}",
                    report(entries, " and reported")
                )
            }
            Message::Accept {
                ballot,
                slot,
                value,
            } => format!("{from} asks {to} to accept {value} in {slot} at ballot {ballot}"),
            Message::Accepted { ballot, slot } => {
                format!("{from} tells {to} it accepted {slot} at ballot {ballot}")
            }
            Message::Nack { ballot, promised } => format!(
                "{from} rejects ballot {ballot} from {to}: it already promised {promised}"
            ),
            Message::Decide { slot, value } => {
                format!("{from} tells {to} that {value} was chosen in {slot}")
            }
            Message::Heartbeat {
                ballot,
                decided_upto,
            } => format!(
                "leader {from} (ballot {ballot}) tells {to} it is alive; slots below {} are decided",
                decided_upto.0
            ),
            Message::CatchUp { from: s } => {
                format!("{from} asks {to} for the decided entries from {s} on")
            }
            Message::CatchUpReply { entries } => {
                format!("{from} sends {to} {}", catch_up_span(entries))
            }
            Message::InstallSnapshot { snapshot } => format!(
                "{from} sends {to} its {snapshot}: install it and apply only what follows"
            ),
        }
    }
}

/// "slot 4 accepted at ballot 2.3, slot 5 decided" for promises.
fn report(entries: &[PromiseEntry], lead: &str) -> String {
    if entries.is_empty() {
        return String::from(", with nothing accepted");
    }
    let parts: Vec<String> = entries
        .iter()
        .take(4)
        .map(|e| {
            if e.decided {
                format!("{} decided as {}", e.slot, e.value)
            } else {
                format!("{} accepted at ballot {} ({})", e.slot, e.ballot, e.value)
            }
        })
        .collect();
    let more = entries.len().saturating_sub(4);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("{lead} {}{tail}", parts.join(", "))
}

fn catch_up_span(entries: &[(Slot, Value)]) -> String {
    match (entries.first(), entries.last()) {
        (Some((a, _)), Some((b, _))) if a == b => format!("the decided entry for {a}"),
        (Some((a, _)), Some((b, _))) => {
            format!(
                "{} decided entries, slots {} to {}",
                entries.len(),
                a.0,
                b.0
            )
        }
        _ => String::from("no decided entries (it has none newer)"),
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Replicate { command } => write!(f, "replicate {command}"),
            Message::Stamped { ts, command } => write!(f, "{command} stamped {ts}"),
            Message::Sequenced { slot, command } => write!(f, "{command} is number {}", slot.0),
            Message::Prepare { ballot, from } => {
                write!(f, "prepare ballot {ballot} for slots from {}", from.0)
            }
            Message::Promise {
                ballot, entries, ..
            } => write!(
                f,
                "promise of ballot {ballot}{}",
                report(entries, ", reporting")
            ),
            Message::Accept {
                ballot,
                slot,
                value,
            } => write!(f, "accept {value} in {slot} at ballot {ballot}"),
            Message::Accepted { ballot, slot } => {
                write!(f, "accepted {slot} at ballot {ballot}")
            }
            Message::Nack { ballot, promised } => {
                write!(f, "reject ballot {ballot}: already promised {promised}")
            }
            Message::Decide { slot, value } => write!(f, "{value} chosen in {slot}"),
            Message::Heartbeat {
                ballot,
                decided_upto,
            } => write!(
                f,
                "heartbeat of ballot {ballot}, decided below slot {}",
                decided_upto.0
            ),
            Message::CatchUp { from } => write!(f, "catch up from {from}"),
            Message::CatchUpReply { entries } => f.write_str(&catch_up_span(entries)),
            Message::InstallSnapshot { snapshot } => write!(f, "install {snapshot}"),
        }
    }
}

/// Applies `op`'s effect on one key to that key's previous value, for quorum reads:
/// the key's value right after the write, or `None` if the operation is not a write.
pub fn write_effect(op: &KvOp) -> Option<Option<String>> {
    match op {
        KvOp::Set { value, .. } => Some(Some(value.clone())),
        KvOp::Remove { .. } => Some(None),
        KvOp::Get { .. } | KvOp::Contains { .. } => None,
    }
}

/// The answer a read operation gets from a key's value (for reads answered outside the
/// state machine, such as quorum reads).
pub fn read_result(op: &KvOp, value: Option<String>) -> Option<KvResult> {
    match op {
        KvOp::Get { .. } => Some(KvResult::Value { value }),
        KvOp::Contains { .. } => Some(KvResult::Present {
            present: value.is_some(),
        }),
        KvOp::Set { .. } | KvOp::Remove { .. } => None,
    }
}
