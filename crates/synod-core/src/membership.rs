//! Who is in the cluster, how that changes, and the snapshots that let a node join (or catch
//! up) without replaying the whole log.
//!
//! # Membership
//!
//! A [`Membership`] lists the *voters* (the acceptors whose answers make quorums) and the
//! *learners* (nodes that receive every decision and apply it, but never count toward a
//! quorum). The membership changes only through the log: a leader proposes
//! [`Value::Reconfigure`] with the whole new membership, and the
//! change is a decision like any other.
//!
//! **Which configuration governs a slot.** A reconfiguration decided in slot `s` is *in force*
//! for every slot from `s + α` on, where α is [`CONFIG_DELAY`] (the leader's pipeline
//! window, [`crate::paxos::MAX_IN_FLIGHT`]). Every slot below that keeps the previous
//! membership. A leader only ever proposes in slots below `decided_upto + α`, so when it acts on
//! slot `t` it knows every decision up to `t - α` and therefore the membership of `t`: two
//! nodes never disagree about the quorum of a slot, and no slot is decided under two
//! configurations.
//!
//! **Phase 1 covers every configuration it may be used for.** A candidate's promises must
//! include a majority of the voters of every membership it knows to be in force at some slot
//! from its `from` on (the one in force there, and any decided change not yet in force). When
//! a leader learns that a new change was decided, it cannot know it is covered, so it runs
//! phase 1 again with a fresh ballot before it proposes under the new membership.
//!
//! **One change at a time.** A leader refuses a new change while an earlier one is proposed
//! and not yet in force (it answers [`AdminError::ChangeInFlight`]). Each change adds or
//! removes at most one voter ([`AdminCommand`]): adding a node is two changes, *add as a
//! learner* and then *promote*. Once a change is decided and nothing else waits, the leader
//! fills the rest of the window with no-ops so the change comes into force promptly.
//!
//! A change carries the whole new membership, computed from the newest decided one. If a
//! leader is deposed with its change accepted by a minority, the next leader may not see it
//! and start another; a later leader can still recover and decide the first one, which then
//! replaces the second. Safety does not depend on it (every quorum is counted in the
//! membership of its slot, and phase 1 covers every known membership), but the page should
//! show the decided memberships, not the requests.
//!
//! # Snapshots
//!
//! A [`Snapshot`] is the state machine after applying slot [`Snapshot::last`], with the
//! de-duplication table (so a retried command is still recognised after the log below it is
//! gone) and the memberships that govern the slots after it. Its digest equals the digest of
//! replaying the chosen values of slots `0..=last` from the empty state ([`replay_digest`]).
//! Taking a snapshot compacts the log: the decided and accepted entries at `last` and below
//! are dropped. Only applied slots are ever covered, and applied slots are always decided,
//! so compaction never drops an undecided or unapplied entry.

use crate::ids::{ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvResult, KvStore, StateMachine};
use crate::message::Value;
use crate::node::Protocol;
use serde::{Deserialize, Serialize};
use std::fmt;

/// α: a reconfiguration decided in slot `s` governs the slots from `s + CONFIG_DELAY` on.
pub const CONFIG_DELAY: u64 = crate::paxos::MAX_IN_FLIGHT;

/// At most this many voters and this many learners (the page draws up to seven nodes, plus a
/// few joining).
pub const MAX_VOTERS: usize = 7;
pub const MAX_LEARNERS: usize = 4;

/// How a joining learner gets the state it missed (the story's two options).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CatchUpMethod {
    /// Start from the empty state and replay every decided command from slot 0, in order.
    /// If the log below some slot was already compacted away, the leader has no choice and
    /// sends its snapshot instead (and says so).
    #[default]
    Replay,
    /// Install a snapshot of an up-to-date replica, then replay only the commands after it.
    Snapshot,
}

impl CatchUpMethod {
    pub fn name(self) -> &'static str {
        match self {
            CatchUpMethod::Replay => "replay",
            CatchUpMethod::Snapshot => "snapshot",
        }
    }
}

impl fmt::Display for CatchUpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A node that learns every decision but does not vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Learner {
    pub node: NodeId,
    /// How it catches up when it joins.
    #[serde(default)]
    pub catch_up: CatchUpMethod,
}

/// The voters and learners of the cluster, each list sorted by node id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    pub voters: Vec<NodeId>,
    #[serde(default)]
    pub learners: Vec<Learner>,
}

impl Membership {
    /// A membership of these voters and no learners.
    pub fn of(voters: &[NodeId]) -> Membership {
        let mut voters = voters.to_vec();
        voters.sort();
        voters.dedup();
        Membership {
            voters,
            learners: Vec::new(),
        }
    }

    /// How many voters make a majority.
    pub fn majority(&self) -> usize {
        self.voters.len() / 2 + 1
    }

    pub fn is_voter(&self, node: NodeId) -> bool {
        self.voters.contains(&node)
    }

    pub fn is_learner(&self, node: NodeId) -> bool {
        self.learners.iter().any(|l| l.node == node)
    }

    /// Whether `node` is a voter or a learner.
    pub fn contains(&self, node: NodeId) -> bool {
        self.is_voter(node) || self.is_learner(node)
    }

    /// The learners' ids, in order.
    pub fn learner_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.learners.iter().map(|l| l.node)
    }

    /// Voters, then learners.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().copied().chain(self.learner_ids())
    }

    /// How `node` catches up, if it is a learner.
    pub fn catch_up_of(&self, node: NodeId) -> Option<CatchUpMethod> {
        self.learners
            .iter()
            .find(|l| l.node == node)
            .map(|l| l.catch_up)
    }

    /// The membership after `change`, or why the change makes no sense here.
    pub fn apply(&self, change: &AdminCommand) -> Result<Membership, AdminError> {
        let mut next = self.clone();
        match *change {
            AdminCommand::AddLearner { node, catch_up } => {
                if self.contains(node) {
                    return Err(AdminError::AlreadyMember(node));
                }
                if self.learners.len() >= MAX_LEARNERS {
                    return Err(AdminError::TooManyNodes);
                }
                next.learners.push(Learner { node, catch_up });
                next.learners.sort();
            }
            AdminCommand::Promote { node } => {
                if !self.is_learner(node) {
                    return Err(AdminError::NotALearner(node));
                }
                if self.voters.len() >= MAX_VOTERS {
                    return Err(AdminError::TooManyNodes);
                }
                next.learners.retain(|l| l.node != node);
                next.voters.push(node);
                next.voters.sort();
            }
            AdminCommand::Remove { node } => {
                if !self.contains(node) {
                    return Err(AdminError::NotAMember(node));
                }
                if self.voters == [node] {
                    return Err(AdminError::LastVoter);
                }
                next.voters.retain(|v| *v != node);
                next.learners.retain(|l| l.node != node);
            }
        }
        Ok(next)
    }

    /// The single change that turns `self` into `next`, if there is one (for narration).
    pub fn change_to(&self, next: &Membership) -> Option<AdminCommand> {
        let added: Vec<&Learner> = next
            .learners
            .iter()
            .filter(|l| !self.contains(l.node))
            .collect();
        let promoted: Vec<NodeId> = next
            .voters
            .iter()
            .copied()
            .filter(|v| self.is_learner(*v))
            .collect();
        let removed: Vec<NodeId> = self.nodes().filter(|n| !next.contains(*n)).collect();
        match (added.as_slice(), promoted.as_slice(), removed.as_slice()) {
            ([l], [], []) => Some(AdminCommand::AddLearner {
                node: l.node,
                catch_up: l.catch_up,
            }),
            ([], [p], []) => Some(AdminCommand::Promote { node: *p }),
            ([], [], [r]) => Some(AdminCommand::Remove { node: *r }),
            _ => None,
        }
    }
}

impl fmt::Display for Membership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let voters: Vec<String> = self.voters.iter().map(NodeId::to_string).collect();
        write!(f, "voters {}", voters.join(" "))?;
        if !self.learners.is_empty() {
            let learners: Vec<String> = self.learner_ids().map(|n| n.to_string()).collect();
            write!(f, "; learners {}", learners.join(" "))?;
        }
        Ok(())
    }
}

/// A change of membership the host asks the leader for ([`crate::Node::on_admin`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "admin", rename_all = "snake_case")]
pub enum AdminCommand {
    /// `node` joins as a learner and catches up with `catch_up`.
    AddLearner {
        node: NodeId,
        #[serde(default)]
        catch_up: CatchUpMethod,
    },
    /// The learner `node` becomes a voter.
    Promote { node: NodeId },
    /// `node` (a voter or a learner) leaves the cluster.
    Remove { node: NodeId },
}

impl AdminCommand {
    /// The node the command is about.
    pub fn node(&self) -> NodeId {
        match *self {
            AdminCommand::AddLearner { node, .. }
            | AdminCommand::Promote { node }
            | AdminCommand::Remove { node } => node,
        }
    }
}

impl fmt::Display for AdminCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminCommand::AddLearner { node, catch_up } => {
                write!(f, "add {node} as a learner (catching up by {catch_up})")
            }
            AdminCommand::Promote { node } => write!(f, "promote learner {node} to voter"),
            AdminCommand::Remove { node } => write!(f, "remove {node}"),
        }
    }
}

/// Why the node refused an admin request or a snapshot request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AdminError {
    /// The protocol does not support this (membership changes need Multi-Paxos; snapshots
    /// need a Paxos protocol).
    Unsupported {
        protocol: Protocol,
    },
    /// Only the leader changes the membership; ask `leader` (if known).
    NotLeader {
        leader: Option<NodeId>,
    },
    /// A change proposed in `slot` is not in force yet; one change at a time.
    ChangeInFlight {
        slot: Slot,
    },
    AlreadyMember(NodeId),
    NotALearner(NodeId),
    NotAMember(NodeId),
    /// The membership would exceed [`MAX_VOTERS`] voters or [`MAX_LEARNERS`] learners.
    TooManyNodes,
    /// The last voter cannot leave.
    LastVoter,
    /// Nothing has been applied since the last snapshot.
    NothingToSnapshot,
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Unsupported { protocol } => write!(f, "{protocol} does not support it"),
            AdminError::NotLeader { leader: Some(l) } => write!(f, "not the leader; ask {l}"),
            AdminError::NotLeader { leader: None } => f.write_str("not the leader"),
            AdminError::ChangeInFlight { slot } => write!(
                f,
                "the change proposed in {slot} is not in force yet (one change at a time)"
            ),
            AdminError::AlreadyMember(n) => write!(f, "{n} is already a member"),
            AdminError::NotALearner(n) => write!(f, "{n} is not a learner"),
            AdminError::NotAMember(n) => write!(f, "{n} is not a member"),
            AdminError::TooManyNodes => {
                write!(f, "at most {MAX_VOTERS} voters and {MAX_LEARNERS} learners")
            }
            AdminError::LastVoter => f.write_str("the last voter cannot leave"),
            AdminError::NothingToSnapshot => {
                f.write_str("nothing was applied since the last snapshot")
            }
        }
    }
}

impl std::error::Error for AdminError {}

/// One client's entry in the de-duplication table: its last applied command and the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub client: ClientId,
    pub seq: u64,
    pub result: KvResult,
}

/// The slot of the last write to one key that took effect at or below a snapshot's `last`.
///
/// A quorum read asks each node for the newest write to a key it knows of; once the log is
/// compacted, the entries that would say so are gone, so the snapshot keeps this much of
/// them. Without it a node would report "no write" for a key only its snapshot covers, and
/// a majority of such reports reads as absent: a stale read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastWrite {
    pub key: String,
    pub slot: Slot,
    pub id: CommandId,
}

/// A replica's state after applying every slot up to and including `last`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The last slot the snapshot covers: the next slot to apply after installing it is
    /// `last + 1`.
    pub last: Slot,
    pub store: KvStore,
    /// The de-duplication table, sorted by client.
    pub sessions: Vec<Session>,
    /// Per key, the last write that took effect, sorted by key (for quorum reads). Absent in
    /// snapshots recorded before it existed, which therefore vouch for no write.
    #[serde(default)]
    pub writes: Vec<LastWrite>,
    /// The memberships that govern slots after `last`: the one in force at `last + 1` and any
    /// decided change not yet in force, keyed by the slot they take effect at.
    pub configs: Vec<(Slot, Membership)>,
    /// The store's digest ([`StateMachine::digest`]).
    pub digest: u64,
}

impl Snapshot {
    /// The first slot after the snapshot.
    pub fn next(&self) -> Slot {
        self.last.next()
    }

    /// A rough size in bytes, for the simulator's byte counters: every key and value, 16
    /// bytes per session and per table entry, 8 per node in each membership, 24 of header.
    pub fn size_bytes(&self) -> u64 {
        let table: usize = self
            .store
            .entries()
            .map(|(k, v)| k.len() + v.len() + 16)
            .sum();
        let configs: usize = self
            .configs
            .iter()
            .map(|(_, m)| 8 + 8 * (m.voters.len() + m.learners.len()))
            .sum();
        let writes: usize = self.writes.iter().map(|w| w.key.len() + 24).sum();
        (24 + table + 16 * self.sessions.len() + writes + configs) as u64
    }

    /// The last write to `key` the snapshot covers, if any.
    pub fn last_write(&self, key: &str) -> Option<&LastWrite> {
        self.writes
            .binary_search_by(|w| w.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.writes[i])
    }

    /// The membership in force at `slot` (for slots after the snapshot).
    pub fn membership_at(&self, slot: Slot) -> Option<&Membership> {
        self.configs
            .iter()
            .rev()
            .find(|(from, _)| *from <= slot)
            .or(self.configs.first())
            .map(|(_, m)| m)
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "snapshot through {} ({} key(s), {} byte(s))",
            self.last,
            self.store.len(),
            self.size_bytes()
        )
    }
}

/// The digest of the state machine after applying `values` (slots 0, 1, 2, ...) from the
/// empty state, with the same de-duplication every replica uses. Oracle 7: a snapshot through
/// slot `u` must have the digest of replaying the chosen values of slots `0..=u`.
pub fn replay_digest<'a>(values: impl IntoIterator<Item = &'a Value>) -> u64 {
    let mut replica = crate::replica::Replica::new(&crate::Bugs::none());
    let mut scratch = crate::node::Outbox::new();
    for value in values {
        replica.apply_next(value, &mut scratch);
        scratch.clear();
    }
    replica.store().digest()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(i: u8) -> NodeId {
        NodeId(i)
    }

    #[test]
    fn changes_add_or_remove_at_most_one_voter_and_are_checked() {
        let m = Membership::of(&[n(0), n(1), n(2)]);
        let add = AdminCommand::AddLearner {
            node: n(3),
            catch_up: CatchUpMethod::Snapshot,
        };
        let with_learner = m.apply(&add).unwrap();
        assert_eq!(with_learner.voters, m.voters, "a learner is not a voter");
        assert!(with_learner.is_learner(n(3)));
        assert_eq!(with_learner.majority(), 2);
        assert_eq!(m.change_to(&with_learner), Some(add));
        let promoted = with_learner
            .apply(&AdminCommand::Promote { node: n(3) })
            .unwrap();
        assert_eq!(promoted.voters.len(), 4);
        assert_eq!(promoted.majority(), 3);
        assert_eq!(
            m.apply(&AdminCommand::Promote { node: n(3) }),
            Err(AdminError::NotALearner(n(3)))
        );
        assert_eq!(
            m.apply(&add.clone()).unwrap().apply(&add),
            Err(AdminError::AlreadyMember(n(3)))
        );
        let removed = promoted
            .apply(&AdminCommand::Remove { node: n(0) })
            .unwrap();
        assert_eq!(removed.voters, vec![n(1), n(2), n(3)]);
        let single = Membership::of(&[n(0)]);
        assert_eq!(
            single.apply(&AdminCommand::Remove { node: n(0) }),
            Err(AdminError::LastVoter)
        );
    }

    #[test]
    fn membership_serializes_readably_and_old_files_without_learners_load() {
        let m: Membership = serde_json::from_str(r#"{"voters":[0,1,2]}"#).unwrap();
        assert_eq!(m, Membership::of(&[n(0), n(1), n(2)]));
        assert_eq!(m.to_string(), "voters n1 n2 n3");
        let c: AdminCommand =
            serde_json::from_str(r#"{"admin":"add_learner","node":3,"catch_up":"snapshot"}"#)
                .unwrap();
        assert_eq!(c.node(), n(3));
    }
}
