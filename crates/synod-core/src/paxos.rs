//! Paxos over a replicated log: basic Paxos (a full round per command) and Multi-Paxos (a
//! stable leader).
//!
//! # The acceptor
//!
//! Every node is an acceptor with three pieces of durable state ([`Durable`]): the highest
//! ballot it *promised*, the value it *accepted* in each slot (with the ballot it accepted
//! it at), and the values it knows were *decided*. It answers:
//!
//! - `Prepare(b, from)`: if `b` is not below its promise, it promises `b` (durably, before
//!   the `Promise` leaves) and reports every value it accepted or knows decided from slot
//!   `from` on. A prepare equal to the promise is a duplicate and is answered again. If `b`
//!   is below the promise it answers `Nack(b, promised)`.
//! - `Accept(b, slot, v)`: if `b` is not below its promise, it accepts `v` in `slot` at `b`
//!   (durably, before the `Accepted` leaves); otherwise `Nack`.
//!
//! # The proposer
//!
//! A proposer picks a ballot higher than every ballot it has seen, `(round + 1, itself)`, so
//! ballots are unique and never reused (its own promise to itself is durable, so even after
//! a crash its next ballot is higher). Phase 1 sends `Prepare` to everyone. With promises
//! from a majority, for each slot the proposer must propose the value accepted at the
//! *highest ballot* any promise reported (it might already be chosen, and any majority of
//! promises contains at least one acceptor of any chosen value), and may propose anything it
//! likes only in slots nobody reported. Phase 2 sends `Accept` to everyone; with `Accepted`
//! from a majority the value is *chosen*. The proposer then records the decision durably and
//! spreads it with an explicit `Decide(slot, v)` to every other node (so the cost is
//! 3(n-1) messages per command in steady state: accept, accepted, decide). A `Nack` tells the
//! proposer the ballot it lost to; it steps down, backs off for a jittered number of ticks
//! (growing with failed attempts, drawn from the host's entropy) and retries higher, so that
//! duelling proposers settle.
//!
//! # Basic Paxos
//!
//! Any node that receives a command proposes it for the first slot it does not know to be
//! decided, running phase 1 and phase 2 for that one slot with a fresh ballot: five message
//! delays' worth of prepare, promise, accept, accepted and decide for every command, 5(n-1)
//! messages. If the promises report a value for the slot, that value is proposed instead and
//! the node's own command waits for the next slot. There is no leader: nodes never redirect
//! clients, and two nodes proposing at once duel until back-off separates them.
//!
//! # Multi-Paxos
//!
//! A node becomes *leader* by running phase 1 once for *every* slot from its first undecided
//! one on. It re-proposes every value the promises reported (recovery), fills slots between
//! them that nobody reported with no-ops (gap filling), and from then on proposes each new
//! command in the next free slot with phase 2 only, pipelining up to [`MAX_IN_FLIGHT`] slots.
//! The leader sends a heartbeat every [`Timing::heartbeat_ticks`], carrying its decided
//! prefix; a follower that hears nothing from a leader for
//! [`Timing::election_timeout_ticks`] plus up to [`Timing::election_jitter_ticks`] (drawn
//! afresh each time) campaigns itself. Followers answer clients with a redirect to the
//! leader they know; a node that knows no leader keeps the command and campaigns at once.
//! A follower whose decided prefix is behind the leader's (it missed `Decide`s or restarted)
//! asks for the missing entries with `CatchUp` and gets them in bounded `CatchUpReply`s.
//!
//! # Crash and restart
//!
//! The promise, accepted values, decided entries and the newest snapshot survive a crash.
//! Everything else is volatile: the key-value table and de-duplication table are restored
//! from the snapshot (if any) and rebuilt by replaying the decided entries after it, and the
//! node restarts as a follower (or idle acceptor) with no leader.
//!
//! # Snapshots, compaction and catch-up (both variants)
//!
//! A node snapshots its applied state on demand ([`crate::Node::snapshot_now`]) or every
//! [`NodeConfig::snapshot_every`] applied slots, and drops the log at and below the
//! snapshot. A replica that asks for entries the sender has compacted gets the sender's
//! current state as an `InstallSnapshot`, followed by the decided entries after it. An
//! acceptor reports its compaction point in every promise: a candidate whose own decided
//! prefix is shorter fetches the snapshot before it leads, because it cannot recover slots
//! nobody reports entry by entry any more.
//!
//! # Membership (Multi-Paxos)
//!
//! Voters, learners, the α rule that says which membership governs a slot, and the
//! one-change-at-a-time rule are described in [`crate::membership`]. Quorums here are always
//! counted among the voters of the membership governing the slot (phase 2) or of every
//! membership the candidate knows from its first undecided slot on (phase 1). A learner
//! accepts and answers like an acceptor, but its answers are never counted. A leader that
//! learns of a new membership runs phase 1 again; a leader that learns it was removed steps
//! down.
//!
//! [`Timing::heartbeat_ticks`]: crate::config::Timing::heartbeat_ticks
//! [`Timing::election_timeout_ticks`]: crate::config::Timing::election_timeout_ticks
//! [`Timing::election_jitter_ticks`]: crate::config::Timing::election_jitter_ticks

use crate::bugs::Bug;
use crate::config::ReadMode;
use crate::config::Timing;
use crate::ids::{Ballot, ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvResult, KvStore, StateMachine};
use crate::membership::{AdminCommand, AdminError, Learner, Membership, Snapshot, CONFIG_DELAY};
use crate::message::{
    write_effect, ClientRequest, Command, KeyWrite, Message, PromiseEntry, ReadReport, ReplyStatus,
    Value, VoterSet,
};
use crate::node::{
    emit, log_view, reply, send, AcceptedValue, CatchUpProgress, Durable, DurableWrite, Engine,
    Event, NodeConfig, NodeView, Outbox, Output, Role,
};
use crate::replica::Replica;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// A Multi-Paxos leader proposes only in slots below its first undecided slot plus this
/// window; further commands wait in its pending queue. This is also α, the delay after which
/// a reconfiguration comes into force ([`crate::membership::CONFIG_DELAY`]), which is what
/// guarantees that a leader knows the membership of every slot it proposes in.
pub const MAX_IN_FLIGHT: u64 = 8;
/// At most this many commands wait at a node to be proposed; more are refused (a definite
/// failure, since they were never proposed).
pub const MAX_PENDING: usize = 64;
/// A catch-up reply carries at most this many decided entries.
pub const MAX_CATCH_UP: usize = 64;

/// What the node is doing as a proposer.
#[derive(Clone, Debug)]
enum Phase {
    /// Not proposing: a follower (Multi-Paxos) or an idle acceptor (basic Paxos).
    Idle,
    /// Phase 1: waiting for promises on `ballot` for the slots from `from` on.
    Preparing {
        ballot: Ballot,
        from: Slot,
        promises: BTreeMap<NodeId, Vec<PromiseEntry>>,
        /// Each promiser's compaction point.
        compacted: BTreeMap<NodeId, Slot>,
        started_at: u64,
        sent_at: u64,
    },
    /// Phase 2: `ballot` is prepared; proposing in slots from `next_slot` on.
    Leading {
        ballot: Ballot,
        next_slot: Slot,
        proposals: BTreeMap<Slot, Proposal>,
        /// Recovered values (or gap-filling no-ops) for slots beyond the window, proposed as
        /// the window advances.
        backlog: BTreeMap<Slot, Value>,
    },
}

/// A value in phase 2 and the acceptors that accepted it.
#[derive(Clone, Debug)]
struct Proposal {
    value: Value,
    acks: BTreeSet<NodeId>,
    sent_at: u64,
}

/// A node running basic Paxos or Multi-Paxos.
#[derive(Clone, Debug)]
pub struct PaxosNode {
    config: NodeConfig,
    /// Multi-Paxos (stable leader) rather than basic Paxos.
    multi: bool,
    /// The acceptor's and learner's stable state, as this node knows it. The host's copy is
    /// the same unless [`Bug::NoPersist`] keeps writes from reaching it.
    durable: Durable,
    replica: Replica,
    phase: Phase,
    /// Ticks since the node (re)started.
    now: u64,
    /// The host's latest entropy and how many numbers were drawn from it.
    entropy: u64,
    draws: u64,
    /// The highest ballot seen in any message (so the next ballot beats it).
    highest_seen: Ballot,
    leader_hint: Option<NodeId>,
    /// Multi-Paxos: campaign at this tick unless a leader is heard from first. Basic Paxos:
    /// retry the pending command at this tick. `None` until the first tick draws it.
    wake_at: Option<u64>,
    /// No new campaign before this tick (back-off after a rejection).
    backoff_until: u64,
    /// Failed phase 1 or phase 2 attempts in a row, for the growing back-off.
    attempts: u32,
    /// Commands waiting to be proposed (or, at a follower, for a leader to redirect to).
    pending: VecDeque<Arc<Command>>,
    /// When this node last asked for catch-up, so it asks at most once per retry period.
    asked_at: Option<u64>,
    last_heartbeat: u64,
    /// Memberships keyed by the first slot they govern (the initial one at slot 0, or those
    /// a snapshot carried). Derived from the decided log and the snapshot only.
    configs: BTreeMap<Slot, Membership>,
    /// The leader learned of a reconfiguration decided in this slot and must run phase 1
    /// again before proposing anything else.
    recampaign_due: Option<Slot>,
    /// An accepted admin request waiting for room in the window.
    pending_config: Option<(AdminCommand, Membership)>,
    /// The highest decided prefix this node heard of elsewhere (catch-up progress).
    known_upto: Slot,
    /// Every slot below this one is decided here: [`Durable::decided_upto`], kept up to date
    /// on every durable write instead of scanning the decided log on every call (the
    /// simulator and the page ask after every event, the proposer on every message).
    decided_upto: Slot,
    /// Basic Paxos anti-entropy: the next tick at which this node asks a peer for decided
    /// entries from its first gap on, and how many times it asked (to rotate peers).
    sync_at: u64,
    syncs: u64,
    /// When this node last sent a lagging proposer its snapshot unasked.
    helped_at: Option<u64>,
}

impl PaxosNode {
    /// A node rebuilt from durable state (fresh when `durable` is the default): the decided
    /// prefix is replayed into the table, and the node starts without a leader.
    pub fn restart(config: NodeConfig, durable: Durable, out: &mut Outbox) -> PaxosNode {
        let multi = config.protocol == crate::Protocol::MultiPaxos;
        let mut node = PaxosNode {
            replica: Replica::new(&config.bugs),
            multi,
            phase: Phase::Idle,
            now: 0,
            entropy: 0,
            draws: 0,
            highest_seen: durable.promised,
            leader_hint: None,
            wake_at: None,
            backoff_until: 0,
            attempts: 0,
            pending: VecDeque::new(),
            asked_at: None,
            last_heartbeat: 0,
            configs: BTreeMap::new(),
            recampaign_due: None,
            pending_config: None,
            known_upto: Slot(0),
            decided_upto: durable.decided_upto(),
            sync_at: 0,
            syncs: 0,
            helped_at: None,
            durable,
            config,
        };
        node.rebuild_configs();
        if let Some(snapshot) = node.durable.snapshot.clone() {
            node.install(&snapshot, None, out);
        }
        if node.durable != Durable::default() {
            // Replaying the log re-narrates every entry; the restart event says it all.
            let mut replay = Outbox::new();
            node.apply_ready(&mut replay);
            emit(
                out,
                Event::Restarted {
                    promised: node.durable.promised,
                    decided: node.durable.decided.len() as u64,
                },
            );
        }
        node.resume_with_reused_ballot(out);
        node
    }

    /// [`Bug::BallotReuse`]: instead of starting over with a fresh ballot, a restarted node
    /// whose promise is its own ballot takes it up again and leads as if its old phase 1
    /// still held, proposing from its decided prefix on, over slots its previous
    /// incarnation may already have had accepted under this very ballot.
    fn resume_with_reused_ballot(&mut self, out: &mut Outbox) {
        let promised = self.durable.promised;
        if !self.has(Bug::BallotReuse)
            || !self.multi
            || promised == Ballot::ZERO
            || promised.node != self.config.id
        {
            return;
        }
        emit(
            out,
            Event::BugTriggered {
                bug: Bug::BallotReuse,
            },
        );
        self.phase = Phase::Leading {
            ballot: promised,
            next_slot: self.decided_upto(),
            proposals: BTreeMap::new(),
            backlog: BTreeMap::new(),
        };
        self.leader_hint = Some(self.config.id);
    }

    fn has(&self, bug: Bug) -> bool {
        self.config.bugs.has(bug)
    }

    /// The number of voters of `m` that make a quorum.
    fn quorum(&self, m: &Membership) -> usize {
        let n = m.voters.len();
        if self.has(Bug::MinorityQuorum) {
            (n / 2).max(1)
        } else {
            n / 2 + 1
        }
    }

    /// Whether the answers of `nodes` make a quorum of `m`: only voters count (unless
    /// [`Bug::TwoConfigChanges`] counts learners too). Narrates when only a bug makes it one.
    fn is_quorum(&self, m: &Membership, nodes: &BTreeSet<NodeId>, out: &mut Outbox) -> bool {
        let voters = nodes.iter().filter(|n| m.is_voter(**n)).count();
        let learners = nodes.iter().filter(|n| m.is_learner(**n)).count();
        let mut count = voters;
        if self.has(Bug::TwoConfigChanges) {
            count += learners;
        }
        let enough = count >= self.quorum(m);
        if enough && voters < m.majority() {
            let bug = if voters >= self.quorum(m) {
                Bug::MinorityQuorum
            } else {
                Bug::TwoConfigChanges
            };
            emit(out, Event::BugTriggered { bug });
        }
        enough
    }

    // ----- Membership ----------------------------------------------------------------------

    pub(crate) fn is_multi(&self) -> bool {
        self.multi
    }

    /// The membership a node starts with before it knows any decision.
    fn initial_membership(&self) -> Membership {
        let mut m = Membership::of(&self.config.members);
        if self.config.learner {
            m.learners.push(Learner {
                node: self.config.id,
                catch_up: Default::default(),
            });
        }
        m
    }

    /// Recomputes the memberships from the snapshot and the decided log.
    fn rebuild_configs(&mut self) {
        self.configs.clear();
        match &self.durable.snapshot {
            Some(s) if !s.configs.is_empty() => self.configs.extend(s.configs.iter().cloned()),
            _ => {
                let initial = self.initial_membership();
                self.configs.insert(Slot(0), initial);
            }
        }
        for (slot, value) in &self.durable.decided {
            if let Value::Reconfigure(m) = value {
                self.configs.insert(Slot(slot.0 + CONFIG_DELAY), m.clone());
            }
        }
    }

    /// The membership governing `slot`, as far as this node knows.
    pub(crate) fn membership_at(&self, slot: Slot) -> &Membership {
        self.configs
            .range(..=slot)
            .next_back()
            .or_else(|| self.configs.iter().next())
            .map(|(_, m)| m)
            .expect("there is always a membership")
    }

    /// The newest decided membership (possibly not in force yet).
    pub(crate) fn latest_membership(&self) -> &Membership {
        self.configs
            .values()
            .next_back()
            .expect("there is always a membership")
    }

    /// Every membership governing some slot at or after `from`.
    fn configs_from(&self, from: Slot) -> Vec<&Membership> {
        let mut all = vec![self.membership_at(from)];
        all.extend(self.configs.range(from.next()..).map(|(_, m)| m));
        all
    }

    /// The slot a decided change not yet in force takes effect at, if there is one.
    fn change_pending_effect(&self) -> Option<Slot> {
        let upto = self.decided_upto();
        self.configs.range(upto.next()..).map(|(s, _)| *s).next()
    }

    /// The memberships a snapshot through `last` must carry.
    fn configs_for_snapshot(&self, last: Slot) -> Vec<(Slot, Membership)> {
        let next = last.next();
        let in_force = self
            .configs
            .range(..=next)
            .next_back()
            .or_else(|| self.configs.iter().next());
        in_force
            .into_iter()
            .chain(
                self.configs
                    .range(next.next()..=Slot(last.0 + CONFIG_DELAY)),
            )
            .map(|(s, m)| (*s, m.clone()))
            .collect()
    }

    /// Whether messages from `node` are expected: it is, or was, a member.
    pub(crate) fn knows(&self, node: NodeId) -> bool {
        self.config.is_member(node) || self.configs.values().any(|m| m.contains(node))
    }

    /// A message from a node this one does not know of. That node may be a member added by a
    /// configuration change decided in a slot this node has not learned yet; if it is now the
    /// leader, its heartbeats are the only news this node gets, and ignoring them would leave
    /// it behind for good (it would never learn the change that makes the sender a member).
    /// So in Multi-Paxos a heartbeat from a stranger that has decided more than this node
    /// starts a catch-up from it ([`Event::StrangerAhead`]), and while this node knows it is
    /// behind, catch-up replies and snapshots (decided entries, the same whoever sends them)
    /// are taken from anyone. Nothing else from a stranger is: its ballot changes no promise
    /// or leader here, and it cannot vote or propose. Gives the message back when it was not
    /// taken, for the caller to ignore.
    pub(crate) fn hear_stranger(
        &mut self,
        from: NodeId,
        msg: Message,
        out: &mut Outbox,
    ) -> Option<Message> {
        if !self.multi {
            return Some(msg);
        }
        match msg {
            Message::Heartbeat { decided_upto, .. } if decided_upto > self.decided_upto() => {
                emit(out, Event::StrangerAhead { from, decided_upto });
                self.known_upto = self.known_upto.max(decided_upto);
                self.ask_for_catch_up(from, out);
                self.settle(out);
                None
            }
            Message::CatchUpReply { .. } | Message::InstallSnapshot { .. }
                if self.known_upto > self.decided_upto() =>
            {
                self.on_message(from, msg, out);
                None
            }
            other => Some(other),
        }
    }

    fn is_voter(&self) -> bool {
        self.latest_membership().is_voter(self.config.id)
    }

    /// Everyone who should hear proposals and decisions: the voters and learners of every
    /// membership governing a slot from the first undecided one on, except this node.
    /// In id order, each once. (Called for every broadcast: a bit set of the 256 possible
    /// ids gives the order a sorted set would, without building one.)
    fn recipients(&self) -> Vec<NodeId> {
        let mut bits = [0u64; 4];
        let from = self.decided_upto();
        let later = self.configs.range(from.next()..).map(|(_, m)| m);
        for m in std::iter::once(self.membership_at(from)).chain(later) {
            for n in m.nodes() {
                bits[usize::from(n.0 / 64)] |= 1 << (n.0 % 64);
            }
        }
        let me = self.config.id.0;
        bits[usize::from(me / 64)] &= !(1 << (me % 64));
        let mut all = Vec::with_capacity(bits.iter().map(|w| w.count_ones() as usize).sum());
        for (w, word) in (0u8..).zip(bits) {
            let mut rest = word;
            while rest != 0 {
                // Below 64, and w below 4: the id fits in a u8.
                all.push(NodeId(w * 64 + rest.trailing_zeros() as u8));
                rest &= rest - 1;
            }
        }
        all
    }

    /// A decided reconfiguration: record it, narrate it, and, at a leader, arrange to run
    /// phase 1 again before proposing under it.
    fn config_decided(&mut self, slot: Slot, membership: Membership, out: &mut Outbox) {
        let effective = Slot(slot.0 + CONFIG_DELAY);
        let change = self.latest_membership().change_to(&membership);
        self.configs.insert(effective, membership.clone());
        emit(
            out,
            Event::ConfigChangeDecided {
                slot,
                effective,
                change,
                membership,
            },
        );
        if self.is_leader() {
            self.recampaign_due = Some(slot);
        }
    }

    /// Whether a change is proposed and not yet in force; the slot it was (or will be)
    /// proposed in.
    fn change_in_flight(&self) -> Option<Slot> {
        if let Some(effective) = self.change_pending_effect() {
            return Some(Slot(effective.0 - CONFIG_DELAY));
        }
        if let Phase::Leading {
            proposals,
            backlog,
            next_slot,
            ..
        } = &self.phase
        {
            let proposed = proposals
                .iter()
                .map(|(s, p)| (s, &p.value))
                .chain(backlog.iter())
                .find(|(_, v)| v.membership().is_some());
            if let Some((slot, _)) = proposed {
                return Some(*slot);
            }
            if self.pending_config.is_some() {
                return Some(*next_slot);
            }
        }
        None
    }

    /// The host asks this node (which must lead) to change the membership.
    pub(crate) fn on_admin(
        &mut self,
        command: AdminCommand,
        out: &mut Outbox,
    ) -> Result<(), AdminError> {
        if !self.is_leader() || self.recampaign_due.is_some() {
            return Err(AdminError::NotLeader {
                leader: self.leader_hint.filter(|l| *l != self.config.id),
            });
        }
        if let Some(slot) = self.change_in_flight() {
            if !self.has(Bug::TwoConfigChanges) {
                return Err(AdminError::ChangeInFlight { slot });
            }
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::TwoConfigChanges,
                },
            );
        }
        let next = self.latest_membership().apply(&command)?;
        self.pending_config = Some((command, next));
        self.fill_window(out);
        self.settle(out);
        Ok(())
    }

    // ----- Snapshots -----------------------------------------------------------------------

    pub(crate) fn snapshot(&self) -> Option<&Snapshot> {
        self.durable.snapshot.as_ref()
    }

    /// A snapshot of the applied state, if anything decided was applied.
    fn fresh_snapshot(&self) -> Option<Snapshot> {
        let applied = self.replica.next();
        if applied == Slot(0) || applied > self.decided_upto() {
            return None;
        }
        Some(
            self.replica
                .snapshot(self.configs_for_snapshot(Slot(applied.0 - 1))),
        )
    }

    /// Snapshots the applied state and compacts the log below it.
    pub(crate) fn snapshot_now(&mut self, out: &mut Outbox) -> Result<Slot, AdminError> {
        let snapshot = self
            .fresh_snapshot()
            .filter(|s| s.next() > self.durable.compacted_upto())
            .ok_or(AdminError::NothingToSnapshot)?;
        let last = snapshot.last;
        assert!(
            last < self.decided_upto() && last < self.replica.next(),
            "a snapshot covers only decided, applied slots"
        );
        let compacted = self.durable.decided.range(..=last).count()
            + self.durable.accepted.range(..=last).count();
        let bytes = snapshot.size_bytes();
        self.persist(DurableWrite::Snapshot { snapshot }, out);
        emit(
            out,
            Event::SnapshotTaken {
                last,
                compacted: compacted as u64,
                bytes,
            },
        );
        Ok(last)
    }

    /// The snapshot policy: every `snapshot_every` applied slots.
    fn maybe_snapshot(&mut self, out: &mut Outbox) {
        let every = self.config.snapshot_every;
        let since = self
            .replica
            .next()
            .0
            .saturating_sub(self.durable.compacted_upto().0);
        if every > 0 && since >= every {
            // Refused only when nothing new is decided and applied, which `since` rules out
            // unless a deliberate bug made the replica run ahead; either way nothing to do.
            let _ = self.snapshot_now(out);
        }
    }

    /// Replaces the replica's state with `snapshot` (already durable) and carries on from the
    /// slot after it. `from` is the sender, `None` when restoring our own after a restart.
    fn install(&mut self, snapshot: &Snapshot, from: Option<NodeId>, out: &mut Outbox) {
        let mut next = snapshot.next();
        if self.has(Bug::SnapshotOffByOne) {
            // The classic confusion of "last slot covered" with "next slot to apply".
            next = next.next();
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::SnapshotOffByOne,
                },
            );
        }
        self.replica.install(snapshot, next, out);
        self.rebuild_configs();
        let replica = &self.replica;
        self.pending.retain(|c| !replica.is_duplicate(c.id));
        emit(
            out,
            Event::SnapshotInstalled {
                from,
                last: snapshot.last,
            },
        );
    }

    fn on_install_snapshot(&mut self, from: NodeId, snapshot: Snapshot, out: &mut Outbox) {
        if snapshot.next() <= self.replica.next() {
            let msg = Message::InstallSnapshot { snapshot };
            self.ignore(from, &msg, "it already applied past that slot", out);
            return;
        }
        self.persist(
            DurableWrite::Snapshot {
                snapshot: snapshot.clone(),
            },
            out,
        );
        self.install(&snapshot, Some(from), out);
        self.known_upto = self.known_upto.max(snapshot.next());
        self.apply_ready(out);
        if matches!(self.phase, Phase::Preparing { .. }) {
            self.check_promises(out);
        }
    }

    /// Work left after every input: run phase 1 again for a new membership, and take a
    /// snapshot when the policy says so.
    fn settle(&mut self, out: &mut Outbox) {
        self.drop_decided_proposals(out);
        if let Some(slot) = self.recampaign_due.take() {
            if let Some(ballot) = self.my_ballot().filter(|_| self.is_leader()) {
                emit(out, Event::Recampaigning { slot });
                self.abandon(out);
                if self.is_voter() {
                    self.campaign(out);
                } else {
                    // Removed: another voter takes over after its election timeout.
                    emit(
                        out,
                        Event::SteppedDown {
                            ballot,
                            higher: ballot,
                        },
                    );
                }
            }
        }
        if self.multi && !self.is_voter() {
            // It learned of its own removal while campaigning (from a promise): a node that
            // no longer votes does not lead either.
            if let Some(ballot) = self.my_ballot() {
                emit(
                    out,
                    Event::SteppedDown {
                        ballot,
                        higher: ballot,
                    },
                );
                self.abandon(out);
            }
            // Commands waiting here will never be proposed by this node.
            for command in std::mem::take(&mut self.pending) {
                if let Some(client) = self.replica.unwait(command.id) {
                    let leader = self.non_voter_hint();
                    reply(out, client, command.id, ReplyStatus::Redirect { leader });
                }
            }
        }
        self.maybe_snapshot(out);
    }

    /// A proposer whose `Accept` is for a slot this node compacted lags behind the cluster:
    /// acceptors ignore such accepts, so without help it would retransmit them forever. It
    /// gets what a `CatchUp` from that slot would get (the snapshot and the entries after
    /// it), at most once per retry period.
    fn help_lagging_proposer(&mut self, to: NodeId, slot: Slot, out: &mut Outbox) {
        let retry = u64::from(self.config.timing.retry_ticks);
        if self.helped_at.is_some_and(|t| self.now < t + retry) {
            return;
        }
        self.helped_at = Some(self.now);
        self.on_catch_up(to, slot, out);
    }

    /// A proposer that learned (from a catch-up or a snapshot) that slots it still proposes
    /// in are compacted stops proposing there: acceptors ignore accepts for compacted slots,
    /// so it could never gather a quorum. (A slot only decided elsewhere is left alone: the
    /// acceptors still answer, and a current ballot completes it with the same value.) A
    /// command that was not the one chosen goes back to the pending
    /// queue (unless it was applied elsewhere in the log); a Multi-Paxos leader carries on
    /// from its decided prefix, a basic-Paxos proposer starts over for the next slot.
    fn drop_decided_proposals(&mut self, out: &mut Outbox) {
        let compacted = self.durable.compacted_upto();
        let Phase::Leading {
            proposals,
            backlog,
            next_slot,
            ..
        } = &mut self.phase
        else {
            return;
        };
        let decided = &self.durable.decided;
        let is_decided = |slot: &Slot| *slot < compacted;
        let stale: Vec<Slot> = proposals
            .keys()
            .filter(|s| is_decided(s))
            .copied()
            .collect();
        let stale_backlog: Vec<Slot> = backlog.keys().filter(|s| is_decided(s)).copied().collect();
        if stale.is_empty() && stale_backlog.is_empty() && *next_slot >= compacted {
            return;
        }
        let mut requeue = Vec::new();
        for slot in &stale {
            let value = proposals.remove(slot).expect("listed above").value;
            if decided.get(slot) != Some(&value) {
                requeue.extend(value.shared_command().cloned());
            }
        }
        for slot in &stale_backlog {
            let value = backlog.remove(slot).expect("listed above");
            if decided.get(slot) != Some(&value) {
                requeue.extend(value.shared_command().cloned());
            }
        }
        *next_slot = (*next_slot).max(compacted);
        let emptied = proposals.is_empty();
        for command in requeue.into_iter().rev() {
            let known = self.pending.iter().any(|c| c.id == command.id);
            if !known && !self.replica.is_duplicate(command.id) {
                self.pending.push_front(command);
            }
        }
        self.pending.truncate(MAX_PENDING);
        if !stale.is_empty() {
            emit(
                out,
                Event::Ignored {
                    from: None,
                    what: String::from("proposal"),
                    why: format!("slots {stale:?} are decided and compacted already"),
                },
            );
        }
        if self.multi {
            self.fill_window(out);
        } else if emptied && !stale.is_empty() {
            // Basic Paxos proposes in one slot per ballot: try the next slot afresh.
            self.phase = Phase::Idle;
            self.wake_at = Some(self.now);
        }
    }

    /// A number in `0..=max` from the host's entropy.
    fn jitter(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        self.draws += 1;
        let mut z = self.entropy ^ self.draws.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        u32::try_from(z % (u64::from(max) + 1)).expect("below max")
    }

    fn reset_election_timer(&mut self) {
        let t = self.config.timing;
        let jitter = self.jitter(t.election_jitter_ticks);
        self.wake_at = Some(self.now + u64::from(t.election_timeout_ticks) + u64::from(jitter));
    }

    /// Writes durable state: applied to this node's copy, and handed to the host (unless
    /// [`Bug::NoPersist`] drops promise and accept writes on the floor).
    fn persist(&mut self, write: DurableWrite, out: &mut Outbox) {
        self.durable.apply(&write);
        let volatile_only = matches!(
            write,
            DurableWrite::Promise { .. } | DurableWrite::Accept { .. }
        );
        // Only decisions and snapshots move the decided prefix.
        if !volatile_only {
            self.advance_decided_upto();
        }
        if volatile_only && self.has(Bug::NoPersist) {
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::NoPersist,
                },
            );
            return;
        }
        out.push_back(Output::Persist(write));
    }

    /// Moves the cached first gap past every slot decided since: each slot is stepped over
    /// once in the node's life, so the cost is amortized O(log n) per decision, and reading
    /// the prefix is O(1).
    fn advance_decided_upto(&mut self) {
        let mut upto = self.decided_upto.max(self.durable.compacted_upto());
        while self.durable.decided.contains_key(&upto) {
            upto = upto.next();
        }
        self.decided_upto = upto;
        // The cache is exact: the slot it names is missing, and (unless the snapshot covers
        // it) the one before it is decided.
        assert!(
            !self.durable.decided.contains_key(&upto),
            "the decided prefix stops at a gap"
        );
        assert!(
            upto == self.durable.compacted_upto()
                || self.durable.decided.contains_key(&Slot(upto.0 - 1)),
            "the decided prefix is contiguous"
        );
    }

    /// Every slot below this one is decided at this node (the snapshot's included). O(1).
    fn decided_upto(&self) -> Slot {
        self.decided_upto
    }

    fn broadcast(&self, msg: &Message, out: &mut Outbox) {
        for peer in self.recipients() {
            send(out, peer, msg.clone());
        }
    }

    fn my_ballot(&self) -> Option<Ballot> {
        match &self.phase {
            Phase::Idle => None,
            Phase::Preparing { ballot, .. } | Phase::Leading { ballot, .. } => Some(*ballot),
        }
    }

    fn is_leader(&self) -> bool {
        matches!(self.phase, Phase::Leading { .. })
    }

    fn ignore(&self, from: NodeId, msg: &Message, why: &str, out: &mut Outbox) {
        emit(
            out,
            Event::Ignored {
                from: Some(from),
                what: msg.kind().to_owned(),
                why: why.to_owned(),
            },
        );
    }

    // ----- Learning and applying ---------------------------------------------------------

    /// Records that `value` was chosen in `slot`. Returns whether this was news.
    fn learn(&mut self, slot: Slot, value: Value, out: &mut Outbox) -> bool {
        if slot < self.durable.compacted_upto() {
            // Covered by our snapshot: decided long ago, and agreement was checked then.
            return false;
        }
        match self.durable.decided.get(&slot) {
            Some(kept) if *kept == value => false,
            Some(kept) => {
                let kept = kept.clone();
                emit(
                    out,
                    Event::ConflictingDecision {
                        slot,
                        kept,
                        other: value,
                    },
                );
                false
            }
            None => {
                self.persist(
                    DurableWrite::Decide {
                        slot,
                        value: value.clone(),
                    },
                    out,
                );
                self.known_upto = self.known_upto.max(slot.next());
                if let Value::Reconfigure(m) = value {
                    self.config_decided(slot, m, out);
                }
                true
            }
        }
    }

    /// Applies every decided entry in order (and, with [`Bug::ApplyAccepted`], accepted ones).
    fn apply_ready(&mut self, out: &mut Outbox) {
        loop {
            let slot = self.replica.next();
            let value = if let Some(v) = self.durable.decided.get(&slot) {
                v.clone()
            } else if let Some(a) = self
                .durable
                .accepted
                .get(&slot)
                .filter(|_| self.has(Bug::ApplyAccepted))
            {
                let v = a.value.clone();
                emit(
                    out,
                    Event::BugTriggered {
                        bug: Bug::ApplyAccepted,
                    },
                );
                v
            } else {
                break;
            };
            self.replica.apply_next(&value, out);
            if let Some(id) = value.id() {
                self.pending.retain(|c| c.id != id);
            }
        }
        if !self.has(Bug::ApplyAccepted) && !self.has(Bug::SnapshotOffByOne) {
            assert!(
                self.replica.next() <= self.decided_upto(),
                "applied beyond the decided prefix"
            );
        }
    }

    fn ask_for_catch_up(&mut self, to: NodeId, out: &mut Outbox) {
        let recently = self
            .asked_at
            .is_some_and(|t| self.now < t + u64::from(self.config.timing.retry_ticks));
        if recently {
            return;
        }
        self.asked_at = Some(self.now);
        send(
            out,
            to,
            Message::CatchUp {
                from: self.decided_upto(),
            },
        );
    }

    // ----- Clients -------------------------------------------------------------------------

    fn read_locally(&self, from: ClientId, command: &Command, out: &mut Outbox) {
        let result = self
            .replica
            .store()
            .read(&command.op)
            .expect("only reads are answered locally");
        emit(out, Event::ReadLocally { id: command.id });
        reply(out, from, command.id, ReplyStatus::Ok { result });
    }

    /// The newest write to `key` this node knows of, decided or only accepted, that takes
    /// effect.
    ///
    /// A retried command can be chosen in two slots; the replica applies it at the first and
    /// skips the second ([`crate::replica`]'s at-most-once rule: a command whose client
    /// already had one with this or a higher sequence number applied). Such a copy is not a
    /// write: reporting it as the newest would bring back a value that later writes
    /// replaced. So the log is walked upwards, applying the same rule to the decided prefix,
    /// and a copy that rule skips is not reported. Only the prefix counts: a write above this
    /// node's first gap may still turn out to be a copy of a command chosen in the gap, so
    /// it is reported as not known to be decided, and the client asks again.
    ///
    /// The report also names the voter sets that may govern slots from the node's decided
    /// prefix on, including reconfigurations it has only accepted, so that the reader can
    /// tell whose majority it needs when the membership changes (see [`crate::quorum_read`]).
    pub fn read_report(&self, key: &str) -> ReadReport {
        let upto = self.decided_upto();
        let dedup = !self.has(Bug::NoDedup);
        // Per client, the highest sequence number applied in the decided prefix walked so far.
        let mut applied: BTreeMap<ClientId, u64> = self
            .durable
            .snapshot
            .iter()
            .flat_map(|s| s.sessions.iter().map(|x| (x.client, x.seq)))
            .collect();
        let compacted = self.durable.compacted_upto();
        let mut slots: BTreeSet<Slot> = self
            .durable
            .accepted
            .range(compacted..)
            .map(|(s, _)| *s)
            .collect();
        slots.extend(self.durable.decided.range(compacted..).map(|(s, _)| *s));
        // The log below the snapshot is gone, but the snapshot remembers the last write to
        // each key it covers: that write is decided and took effect, and the snapshot's
        // table holds the value it left.
        let in_force = self
            .configs
            .range(..=upto)
            .next_back()
            .or_else(|| self.configs.iter().next());
        let mut governing: Vec<VoterSet> = in_force
            .into_iter()
            .chain(self.configs.range(upto.next()..))
            .map(|(from, m)| VoterSet {
                from: *from,
                voters: m.voters.clone(),
            })
            .collect();
        let mut newest = self.durable.snapshot.as_ref().and_then(|s| {
            s.last_write(key).map(|w| KeyWrite {
                slot: w.slot,
                ballot: Ballot::ZERO,
                id: w.id,
                decided: true,
                value: s.store.get(key).map(str::to_owned),
            })
        });
        for slot in slots {
            let Some((value, ballot)) = self.value_at(slot) else {
                continue;
            };
            if let Value::Reconfigure(m) = value {
                if !self.durable.decided.contains_key(&slot) {
                    governing.push(VoterSet {
                        from: Slot(slot.0 + CONFIG_DELAY),
                        voters: m.voters.clone(),
                    });
                }
            }
            let Some(command) = value.command() else {
                continue;
            };
            let id = command.id;
            let seen = applied.get(&id.client).copied();
            if dedup && seen.is_some_and(|seq| seq >= id.seq) {
                continue;
            }
            if slot < upto {
                applied.insert(id.client, id.seq);
            }
            if command.op.key() != key {
                continue;
            }
            if let Some(effect) = write_effect(&command.op) {
                newest = Some(KeyWrite {
                    slot,
                    ballot,
                    id,
                    decided: slot < upto,
                    value: effect,
                });
            }
        }
        ReadReport {
            key: key.to_owned(),
            newest,
            decided_upto: upto,
            governing,
        }
    }

    /// The value this node holds for `slot` (the decided one, or else the accepted one) and
    /// the ballot it accepted it at ([`Ballot::ZERO`] if it only learned the decision).
    fn value_at(&self, slot: Slot) -> Option<(&Value, Ballot)> {
        let accepted = self.durable.accepted.get(&slot);
        match self.durable.decided.get(&slot) {
            Some(v) => {
                let ballot = accepted
                    .filter(|a| a.value == *v)
                    .map_or(Ballot::ZERO, |a| a.ballot);
                Some((v, ballot))
            }
            None => accepted.map(|a| (&a.value, a.ballot)),
        }
    }

    /// Answers a read outside the log when the read mode (or a bug) says so. Returns whether
    /// it did.
    fn answer_read(&mut self, from: ClientId, command: &Command, out: &mut Outbox) -> bool {
        if !command.op.is_read() {
            return false;
        }
        if self.has(Bug::StaleLocalRead) {
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::StaleLocalRead,
                },
            );
            self.read_locally(from, command, out);
            return true;
        }
        match self.config.read_mode {
            ReadMode::Local => {
                self.read_locally(from, command, out);
                return true;
            }
            ReadMode::Quorum => {
                let key = command.op.key().to_owned();
                let report = self.read_report(&key);
                emit(
                    out,
                    Event::ReadReported {
                        id: command.id,
                        key,
                    },
                );
                reply(out, from, command.id, ReplyStatus::QuorumRead { report });
                return true;
            }
            ReadMode::Log => {}
        }
        if self.multi && self.is_leader() && self.has(Bug::LeaderReadWithoutLease) {
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::LeaderReadWithoutLease,
                },
            );
            self.read_locally(from, command, out);
            return true;
        }
        false
    }

    fn is_in_progress(&self, id: CommandId) -> bool {
        let proposed = match &self.phase {
            Phase::Leading { proposals, .. } => {
                proposals.values().any(|p| p.value.id() == Some(id))
            }
            _ => false,
        };
        proposed || self.pending.iter().any(|c| c.id == id)
    }

    fn enqueue(&mut self, from: ClientId, command: Arc<Command>, out: &mut Outbox) -> bool {
        if self.pending.len() >= MAX_PENDING {
            let reason = format!("{MAX_PENDING} commands already wait to be proposed");
            reply(out, from, command.id, ReplyStatus::Failed { reason });
            return false;
        }
        self.replica.wait(command.id, from);
        self.pending.push_back(command);
        true
    }

    fn redirect(&mut self, from: ClientId, id: CommandId, leader: NodeId, out: &mut Outbox) {
        emit(
            out,
            Event::Redirected {
                id,
                leader: Some(leader),
            },
        );
        reply(
            out,
            from,
            id,
            ReplyStatus::Redirect {
                leader: Some(leader),
            },
        );
    }

    /// A follower that learned who leads sends every client waiting on it there.
    fn redirect_pending(&mut self, leader: NodeId, out: &mut Outbox) {
        for command in std::mem::take(&mut self.pending) {
            if let Some(client) = self.replica.unwait(command.id) {
                self.redirect(client, command.id, leader, out);
            }
        }
    }

    // ----- Phase 1 -----------------------------------------------------------------------

    /// The promise entries this acceptor reports for slots from `from` on.
    fn entries_from(&self, from: Slot) -> Vec<PromiseEntry> {
        let from = from.max(self.durable.compacted_upto());
        let mut slots: BTreeSet<Slot> = self
            .durable
            .accepted
            .range(from..)
            .map(|(s, _)| *s)
            .collect();
        slots.extend(self.durable.decided.range(from..).map(|(s, _)| *s));
        slots
            .into_iter()
            .map(|slot| {
                let accepted = self.durable.accepted.get(&slot);
                match self.durable.decided.get(&slot) {
                    Some(v) => PromiseEntry {
                        slot,
                        ballot: accepted
                            .filter(|a| a.value == *v)
                            .map_or(Ballot::ZERO, |a| a.ballot),
                        value: v.clone(),
                        decided: true,
                    },
                    None => {
                        let a = accepted.expect("slot came from one of the two maps");
                        PromiseEntry {
                            slot,
                            ballot: a.ballot,
                            value: a.value.clone(),
                            decided: false,
                        }
                    }
                }
            })
            .collect()
    }

    /// Starts phase 1 with a ballot above everything seen.
    fn campaign(&mut self, out: &mut Outbox) {
        if !self.is_voter() {
            // Learners and removed nodes never lead.
            return;
        }
        let retry = self.attempts > 0;
        let ballot = self
            .durable
            .promised
            .max(self.highest_seen)
            .next_for(self.config.id);
        let from = self.decided_upto();
        self.highest_seen = ballot;
        self.leader_hint = None;
        self.persist(DurableWrite::Promise { ballot }, out);
        emit(
            out,
            Event::Campaigning {
                ballot,
                from,
                retry,
            },
        );
        let mut promises = BTreeMap::new();
        promises.insert(self.config.id, self.entries_from(from));
        let compacted = BTreeMap::from([(self.config.id, self.durable.compacted_upto())]);
        self.phase = Phase::Preparing {
            ballot,
            from,
            promises,
            compacted,
            started_at: self.now,
            sent_at: self.now,
        };
        if self.multi {
            self.reset_election_timer();
        }
        self.broadcast(&Message::Prepare { ballot, from }, out);
        self.check_promises(out);
    }

    /// Turns down a message at a ballot below our promise: narrate it, and tell the sender
    /// the promise it must beat (the story's "conflict").
    fn reject(&self, from: NodeId, ballot: Ballot, out: &mut Outbox) {
        let promised = self.durable.promised;
        emit(
            out,
            Event::Rejected {
                ballot,
                promised,
                from,
            },
        );
        send(out, from, Message::Nack { ballot, promised });
    }

    fn on_prepare(&mut self, from: NodeId, ballot: Ballot, start: Slot, out: &mut Outbox) {
        let promised = self.durable.promised;
        if ballot < promised {
            self.reject(from, ballot, out);
            return;
        }
        self.observe(ballot, out);
        if ballot > promised {
            self.persist(DurableWrite::Promise { ballot }, out);
            if self.multi {
                // Someone is campaigning: give it time before campaigning too.
                self.leader_hint = None;
                self.reset_election_timer();
            }
        }
        emit(out, Event::Promised { ballot, to: from });
        let entries = self.entries_from(start);
        send(
            out,
            from,
            Message::Promise {
                ballot,
                from: start,
                entries,
                compacted_upto: self.durable.compacted_upto(),
            },
        );
        self.notice_lag(from, start, out);
    }

    fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        entries: Vec<PromiseEntry>,
        compacted_upto: Slot,
        out: &mut Outbox,
    ) {
        match &self.phase {
            Phase::Preparing { ballot: mine, .. } if *mine == ballot => {
                // Decisions are facts: learn them now, so that the quorum check below knows
                // every membership they decided.
                for e in entries.iter().filter(|e| e.decided) {
                    if self.learn(e.slot, e.value.clone(), out) {
                        emit(
                            out,
                            Event::Learned {
                                slot: e.slot,
                                value: e.value.clone(),
                            },
                        );
                    }
                }
                if let Phase::Preparing {
                    promises,
                    compacted,
                    ..
                } = &mut self.phase
                {
                    promises.insert(from, entries);
                    compacted.insert(from, compacted_upto);
                }
                self.apply_ready(out);
                self.check_promises(out);
            }
            _ => emit(
                out,
                Event::Ignored {
                    from: Some(from),
                    what: String::from("promise"),
                    why: format!("not preparing ballot {ballot} any more"),
                },
            ),
        }
    }

    fn check_promises(&mut self, out: &mut Outbox) {
        let Phase::Preparing {
            promises,
            compacted,
            from,
            ..
        } = &self.phase
        else {
            return;
        };
        let promisers: BTreeSet<NodeId> = promises.keys().copied().collect();
        let covered = self
            .configs_from(*from)
            .into_iter()
            .all(|m| self.is_quorum(m, &promisers, out));
        if !covered {
            return;
        }
        // An acceptor compacted slots we have not learned: nobody reports them entry by
        // entry any more, so fetch its snapshot before leading.
        let ahead = compacted
            .iter()
            .max_by_key(|(_, s)| **s)
            .map(|(n, s)| (*n, *s));
        if let Some((node, upto)) = ahead.filter(|(_, s)| *s > self.decided_upto()) {
            let _ = upto;
            self.ask_for_catch_up(node, out);
            return;
        }
        let Phase::Preparing {
            ballot,
            from,
            promises,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            unreachable!("matched above");
        };
        let recovered = self.merge_promises(promises, out);
        if self.multi {
            self.lead(ballot, from, recovered, out);
        } else {
            self.propose_single_slot(ballot, from, recovered, out);
        }
    }

    /// Learns the decisions the promises report and keeps, per undecided slot, the value
    /// accepted at the highest ballot.
    fn merge_promises(
        &mut self,
        promises: BTreeMap<NodeId, Vec<PromiseEntry>>,
        out: &mut Outbox,
    ) -> BTreeMap<Slot, AcceptedValue> {
        let mut recovered: BTreeMap<Slot, AcceptedValue> = BTreeMap::new();
        let mut ignored = false;
        for entry in promises.into_values().flatten() {
            if entry.decided {
                if self.learn(entry.slot, entry.value.clone(), out) {
                    emit(
                        out,
                        Event::Learned {
                            slot: entry.slot,
                            value: entry.value,
                        },
                    );
                }
                continue;
            }
            if self.has(Bug::IgnorePromisedValues) {
                ignored = true;
                continue;
            }
            let better = recovered
                .get(&entry.slot)
                .is_none_or(|known| entry.ballot > known.ballot);
            if better {
                recovered.insert(
                    entry.slot,
                    AcceptedValue {
                        ballot: entry.ballot,
                        value: entry.value,
                    },
                );
            }
        }
        if ignored {
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::IgnorePromisedValues,
                },
            );
        }
        let compacted = self.durable.compacted_upto();
        recovered.retain(|slot, _| *slot >= compacted && !self.durable.decided.contains_key(slot));
        self.apply_ready(out);
        recovered
    }

    // ----- Phase 2 -----------------------------------------------------------------------

    /// Multi-Paxos: phase 1 is won for every slot from `from` on.
    fn lead(
        &mut self,
        ballot: Ballot,
        from: Slot,
        recovered: BTreeMap<Slot, AcceptedValue>,
        out: &mut Outbox,
    ) {
        let from = from.max(self.durable.compacted_upto());
        let top = recovered
            .keys()
            .next_back()
            .copied()
            .max(self.durable.decided.keys().next_back().copied());
        let end = top.map_or(from, |s| s.next()).max(from);
        self.phase = Phase::Leading {
            ballot,
            next_slot: end,
            proposals: BTreeMap::new(),
            backlog: BTreeMap::new(),
        };
        self.leader_hint = Some(self.config.id);
        self.attempts = 0;
        let (mut n_recovered, mut noops) = (0u32, 0u32);
        let mut to_propose = Vec::new();
        for s in from.0..end.0 {
            let slot = Slot(s);
            if self.durable.decided.contains_key(&slot) {
                continue;
            }
            let value = match recovered.get(&slot) {
                Some(a) => {
                    n_recovered += 1;
                    emit(
                        out,
                        Event::Recovered {
                            slot,
                            accepted_at: a.ballot,
                            value: a.value.clone(),
                        },
                    );
                    a.value.clone()
                }
                None => {
                    noops += 1;
                    emit(out, Event::FilledGap { slot });
                    Value::Noop
                }
            };
            to_propose.push((slot, value));
        }
        emit(
            out,
            Event::BecameLeader {
                ballot,
                recovered: n_recovered,
                noops,
            },
        );
        self.send_heartbeats(out);
        // Slots beyond the window wait: their membership may depend on slots not decided yet.
        if let Phase::Leading { backlog, .. } = &mut self.phase {
            backlog.extend(to_propose);
        }
        self.fill_window(out);
    }

    /// Basic Paxos: phase 1 is won for slot `slot`; propose the reported value or our own.
    fn propose_single_slot(
        &mut self,
        ballot: Ballot,
        slot: Slot,
        recovered: BTreeMap<Slot, AcceptedValue>,
        out: &mut Outbox,
    ) {
        if slot < self.durable.compacted_upto() || self.durable.decided.contains_key(&slot) {
            // The promises taught us the slot is already decided (perhaps by a snapshot
            // installed while we were preparing, which compacts the slot away): start over
            // for the next one at once.
            self.wake_at = Some(self.now);
            return;
        }
        let value = match recovered.get(&slot) {
            Some(a) => {
                emit(
                    out,
                    Event::Recovered {
                        slot,
                        accepted_at: a.ballot,
                        value: a.value.clone(),
                    },
                );
                a.value.clone()
            }
            None => match self.pending.front() {
                Some(c) => Value::Command(c.clone()),
                None => return,
            },
        };
        self.phase = Phase::Leading {
            ballot,
            next_slot: slot.next(),
            proposals: BTreeMap::new(),
            backlog: BTreeMap::new(),
        };
        self.propose(slot, value, out);
    }

    /// Multi-Paxos: while the window (slots below `decided_upto + MAX_IN_FLIGHT`) has
    /// room, proposes in order: recovered values, an accepted admin request, pending
    /// commands, and, when a decided change is not in force yet and nothing else waits,
    /// no-ops to bring it into force.
    fn fill_window(&mut self, out: &mut Outbox) {
        while self.multi && self.recampaign_due.is_none() {
            let window_end = Slot(self.decided_upto().0 + MAX_IN_FLIGHT);
            let pad_until = self.change_pending_effect();
            let Phase::Leading {
                next_slot, backlog, ..
            } = &mut self.phase
            else {
                return;
            };
            if let Some(entry) = backlog.first_entry() {
                if *entry.key() >= window_end {
                    return;
                }
                let (slot, value) = entry.remove_entry();
                self.propose(slot, value, out);
                continue;
            }
            let slot = *next_slot;
            if slot >= window_end {
                return;
            }
            let value = if let Some((change, membership)) = self.pending_config.take() {
                emit(
                    out,
                    Event::ConfigChangeProposed {
                        slot,
                        change,
                        membership: membership.clone(),
                    },
                );
                Value::Reconfigure(membership)
            } else if let Some(command) = self.pending.pop_front() {
                Value::Command(command)
            } else if pad_until.is_some_and(|e| slot < e) {
                Value::Noop
            } else {
                return;
            };
            *next_slot = slot.next();
            self.propose(slot, value, out);
        }
    }

    /// Phase 2 for one slot: accept locally, then ask everyone else.
    fn propose(&mut self, slot: Slot, value: Value, out: &mut Outbox) {
        let Some(ballot) = self.my_ballot() else {
            return;
        };
        // A proposer that promised anything higher has stepped down already.
        assert_eq!(
            self.durable.promised, ballot,
            "a leader proposes only under the ballot it promised itself"
        );
        emit(
            out,
            Event::Proposed {
                slot,
                ballot,
                value: value.clone(),
            },
        );
        self.persist(
            DurableWrite::Accept {
                slot,
                ballot,
                value: value.clone(),
            },
            out,
        );
        if let Phase::Leading { proposals, .. } = &mut self.phase {
            proposals.insert(
                slot,
                Proposal {
                    value: value.clone(),
                    acks: BTreeSet::from([self.config.id]),
                    sent_at: self.now,
                },
            );
        }
        self.broadcast(
            &Message::Accept {
                ballot,
                slot,
                value: value.clone(),
            },
            out,
        );
        if self.has(Bug::AckBeforeChosen) {
            self.ack_early(&value, out);
        }
        self.check_chosen(slot, out);
    }

    /// [`Bug::AckBeforeChosen`]: answers the client from a guess at the result, now.
    fn ack_early(&mut self, value: &Value, out: &mut Outbox) {
        let Some(command) = value.command() else {
            return;
        };
        let Some(client) = self.replica.unwait(command.id) else {
            return;
        };
        emit(
            out,
            Event::BugTriggered {
                bug: Bug::AckBeforeChosen,
            },
        );
        let mut guess = self.replica.store().clone();
        let result: KvResult = guess.apply(&command.op);
        reply(out, client, command.id, ReplyStatus::Ok { result });
    }

    fn on_accept(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        slot: Slot,
        value: Value,
        out: &mut Outbox,
    ) {
        if slot < self.durable.compacted_upto() {
            let msg = Message::Accept {
                ballot,
                slot,
                value,
            };
            self.ignore(from, &msg, "the slot is decided and compacted here", out);
            self.help_lagging_proposer(from, slot, out);
            return;
        }
        if ballot < self.durable.promised {
            if !self.has(Bug::AcceptBelowPromise) {
                self.reject(from, ballot, out);
                return;
            }
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::AcceptBelowPromise,
                },
            );
        } else {
            self.observe(ballot, out);
            if self.multi {
                self.follow(from, out);
            }
        }
        // Accepting also promises the ballot; the write goes before the reply.
        self.persist(
            DurableWrite::Accept {
                slot,
                ballot,
                value: value.clone(),
            },
            out,
        );
        emit(
            out,
            Event::Accepted {
                slot,
                ballot,
                value,
            },
        );
        send(out, from, Message::Accepted { ballot, slot });
        self.apply_ready(out);
        self.notice_lag(from, slot, out);
    }

    /// Basic Paxos: a proposer works on the first slot it does not know decided, so an
    /// `Accept` or `Prepare` for `slot` tells us every slot below it is decided at `from`.
    /// If we have a gap below it, ask `from` now rather than at the next anti-entropy round.
    fn notice_lag(&mut self, from: NodeId, slot: Slot, out: &mut Outbox) {
        if self.multi || slot <= self.decided_upto() {
            return;
        }
        self.known_upto = self.known_upto.max(slot);
        self.ask_for_catch_up(from, out);
    }

    fn on_accepted(&mut self, from: NodeId, ballot: Ballot, slot: Slot, out: &mut Outbox) {
        let counted = match &mut self.phase {
            Phase::Leading {
                ballot: mine,
                proposals,
                ..
            } if *mine == ballot => match proposals.get_mut(&slot) {
                Some(p) => p.acks.insert(from),
                None => false,
            },
            _ => false,
        };
        if !counted {
            let msg = Message::Accepted { ballot, slot };
            self.ignore(
                from,
                &msg,
                "a duplicate, or the slot is already chosen",
                out,
            );
            return;
        }
        self.check_chosen(slot, out);
    }

    fn check_chosen(&mut self, slot: Slot, out: &mut Outbox) {
        let Phase::Leading {
            ballot, proposals, ..
        } = &self.phase
        else {
            return;
        };
        let ballot = *ballot;
        let Some(proposal) = proposals.get(&slot) else {
            return;
        };
        assert!(
            proposal.acks.iter().all(|a| self.knows(*a)),
            "only members' acceptances are collected"
        );
        if !self.is_quorum(self.membership_at(slot), &proposal.acks, out) {
            return;
        }
        let Phase::Leading { proposals, .. } = &mut self.phase else {
            unreachable!("matched above");
        };
        let value = proposals.remove(&slot).expect("looked up above").value;
        emit(
            out,
            Event::Chosen {
                slot,
                ballot,
                value: value.clone(),
            },
        );
        self.learn(slot, value.clone(), out);
        self.broadcast(&Message::Decide { slot, value }, out);
        self.attempts = 0;
        self.apply_ready(out);
        if self.multi {
            self.fill_window(out);
        } else {
            // Basic Paxos keeps no leadership: the next command pays for phase 1 again.
            self.phase = Phase::Idle;
            if !self.pending.is_empty() {
                self.campaign(out);
            }
        }
    }

    fn on_decide(&mut self, from: NodeId, slot: Slot, value: Value, out: &mut Outbox) {
        if self.learn(slot, value.clone(), out) {
            emit(out, Event::Learned { slot, value });
        } else {
            let msg = Message::Decide { slot, value };
            self.ignore(from, &msg, "the slot is already decided here", out);
        }
        self.apply_ready(out);
        if slot > self.decided_upto() {
            self.ask_for_catch_up(from, out);
        }
    }

    // ----- Rejections, leadership and catch-up ----------------------------------------------

    /// A ballot was seen in a message: remember it, and step down if it beats ours.
    fn observe(&mut self, ballot: Ballot, out: &mut Outbox) {
        self.highest_seen = self.highest_seen.max(ballot);
        if let Some(mine) = self.my_ballot() {
            if ballot > mine {
                self.step_down(mine, ballot, out);
                if !self.multi {
                    // Basic Paxos: our command still needs a slot; try again later.
                    self.back_off(out);
                }
            }
        }
    }

    /// Gives up proposing: unfinished proposals' commands go back to the pending queue.
    fn step_down(&mut self, mine: Ballot, higher: Ballot, out: &mut Outbox) {
        emit(
            out,
            Event::SteppedDown {
                ballot: mine,
                higher,
            },
        );
        self.abandon(out);
    }

    /// Stops proposing: unfinished proposals' commands go back to the pending queue; an
    /// admin request not yet proposed, or proposed and not chosen, is dropped (the host may
    /// ask the next leader again).
    fn abandon(&mut self, out: &mut Outbox) {
        if let Phase::Leading {
            proposals, backlog, ..
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        {
            let values = proposals
                .into_iter()
                .map(|(s, p)| (s, p.value))
                .chain(backlog)
                .collect::<BTreeMap<Slot, Value>>();
            for value in values.into_values().rev() {
                if let Value::Command(c) = value {
                    if !self.pending.iter().any(|p| p.id == c.id) {
                        self.pending.push_front(c);
                    }
                }
            }
            self.pending.truncate(MAX_PENDING);
        }
        if let Some((change, _)) = self.pending_config.take() {
            emit(
                out,
                Event::AdminRefused {
                    request: change.to_string(),
                    reason: String::from("this node stopped leading before proposing it"),
                },
            );
        }
        if self.leader_hint == Some(self.config.id) {
            self.leader_hint = None;
        }
    }

    fn back_off(&mut self, out: &mut Outbox) {
        self.attempts = self.attempts.saturating_add(1);
        let base = self.config.timing.backoff_ticks;
        let ticks = base * self.attempts.min(4) + self.jitter(base * 2);
        self.backoff_until = self.now + u64::from(ticks);
        self.wake_at = Some(self.backoff_until);
        emit(out, Event::BackingOff { ticks });
    }

    fn on_nack(&mut self, from: NodeId, ballot: Ballot, promised: Ballot, out: &mut Outbox) {
        self.highest_seen = self.highest_seen.max(promised);
        if self.my_ballot() != Some(ballot) {
            let msg = Message::Nack { ballot, promised };
            self.ignore(from, &msg, "about a ballot this node no longer uses", out);
            return;
        }
        self.step_down(ballot, promised, out);
        self.back_off(out);
    }

    /// Multi-Paxos: `leader` is alive and not below our promise.
    fn follow(&mut self, leader: NodeId, out: &mut Outbox) {
        self.leader_hint = Some(leader);
        self.reset_election_timer();
        if leader != self.config.id {
            self.redirect_pending(leader, out);
        }
    }

    fn on_heartbeat(&mut self, from: NodeId, ballot: Ballot, upto: Slot, out: &mut Outbox) {
        if ballot < self.durable.promised {
            self.reject(from, ballot, out);
            return;
        }
        self.observe(ballot, out);
        self.follow(from, out);
        self.known_upto = self.known_upto.max(upto);
        if upto > self.decided_upto() {
            self.ask_for_catch_up(from, out);
        }
    }

    /// Answers a lagging replica: decided entries from `start` on, preceded by a snapshot
    /// when the entries below some slot are compacted here, or when the requester is a
    /// learner that asked to join by snapshot and has nothing yet.
    fn on_catch_up(&mut self, from: NodeId, start: Slot, out: &mut Outbox) {
        let mut start = start;
        let compacted = start < self.durable.compacted_upto();
        let by_snapshot = start == Slot(0)
            && self.latest_membership().catch_up_of(from)
                == Some(crate::membership::CatchUpMethod::Snapshot);
        if compacted || by_snapshot {
            if let Some(snapshot) = self.fresh_snapshot().filter(|s| s.next() > start) {
                emit(
                    out,
                    Event::SnapshotSent {
                        to: from,
                        last: snapshot.last,
                        bytes: snapshot.size_bytes(),
                        instead_of_replay: compacted && !by_snapshot,
                    },
                );
                start = snapshot.next();
                send(out, from, Message::InstallSnapshot { snapshot });
            }
        }
        let entries: Vec<(Slot, Value)> = self
            .durable
            .decided
            .range(start..)
            .take(MAX_CATCH_UP)
            .map(|(s, v)| (*s, v.clone()))
            .collect();
        if entries.is_empty() && !self.multi {
            // Basic Paxos asks periodically (anti-entropy); an empty answer would only tell
            // the asker it is up to date, which it assumes until the next period anyway.
            return;
        }
        send(out, from, Message::CatchUpReply { entries });
    }

    fn on_catch_up_reply(&mut self, from: NodeId, entries: Vec<(Slot, Value)>, out: &mut Outbox) {
        let full = entries.len() >= MAX_CATCH_UP;
        let mut news = 0u32;
        for (slot, value) in entries {
            if self.learn(slot, value, out) {
                news += 1;
            }
        }
        emit(
            out,
            Event::CaughtUp {
                from,
                entries: news,
            },
        );
        self.apply_ready(out);
        if news > 0 {
            // Progress: the next request need not wait for the retry period. (Without
            // progress it must, or two nodes could bounce requests forever.)
            self.asked_at = None;
        }
        if full && news > 0 {
            // There is more, and this batch helped: ask for the next one at once.
            self.ask_for_catch_up(from, out);
        }
        if matches!(self.phase, Phase::Preparing { .. }) {
            self.check_promises(out);
        }
    }

    fn send_heartbeats(&mut self, out: &mut Outbox) {
        let Some(ballot) = self.my_ballot() else {
            return;
        };
        self.last_heartbeat = self.now;
        let decided_upto = self.decided_upto();
        self.broadcast(
            &Message::Heartbeat {
                ballot,
                decided_upto,
            },
            out,
        );
    }

    // ----- Timers --------------------------------------------------------------------------

    fn tick_leading(&mut self, out: &mut Outbox) {
        let retry = u64::from(self.config.timing.retry_ticks);
        if self.multi
            && self.now >= self.last_heartbeat + u64::from(self.config.timing.heartbeat_ticks)
        {
            self.send_heartbeats(out);
        }
        let now = self.now;
        let peers = self.recipients();
        let Phase::Leading {
            ballot, proposals, ..
        } = &mut self.phase
        else {
            return;
        };
        for (slot, proposal) in proposals.iter_mut() {
            if now < proposal.sent_at + retry {
                continue;
            }
            proposal.sent_at = now;
            for peer in peers.iter().filter(|p| !proposal.acks.contains(p)) {
                send(
                    out,
                    *peer,
                    Message::Accept {
                        ballot: *ballot,
                        slot: *slot,
                        value: proposal.value.clone(),
                    },
                );
            }
        }
    }

    fn tick_preparing(&mut self, out: &mut Outbox) {
        let retry = u64::from(self.config.timing.retry_ticks);
        let now = self.now;
        let peers = self.recipients();
        let Phase::Preparing {
            ballot,
            from,
            promises,
            started_at,
            sent_at,
            ..
        } = &mut self.phase
        else {
            return;
        };
        if now >= *started_at + 2 * retry {
            // Phase 1 got no majority in time: give the ballot up and retry higher later.
            self.phase = Phase::Idle;
            self.back_off(out);
            return;
        }
        if now >= *sent_at + retry {
            *sent_at = now;
            for peer in peers.iter().filter(|p| !promises.contains_key(p)) {
                send(
                    out,
                    *peer,
                    Message::Prepare {
                        ballot: *ballot,
                        from: *from,
                    },
                );
            }
        }
    }

    /// Basic Paxos anti-entropy. Without a leader there is no heartbeat carrying the decided
    /// prefix, so a node that never proposes and missed the last `Decide` (lost, or sent
    /// while it was partitioned or down) would otherwise never learn the slot. Every
    /// [`Timing::anti_entropy_ticks`] it asks one peer, in turn, for the decided entries
    /// from its first gap on. A peer with nothing newer stays silent (see
    /// [`PaxosNode::on_catch_up`]), so a converged cluster pays one small message per node
    /// per period, and a lagging node catches up within a period of a peer that knows.
    ///
    /// [`Timing::anti_entropy_ticks`]: crate::config::Timing::anti_entropy_ticks
    fn tick_anti_entropy(&mut self, out: &mut Outbox) {
        if self.multi {
            return;
        }
        let period = u64::from(self.config.timing.anti_entropy_ticks());
        if self.sync_at == 0 {
            self.sync_at = self.now + period;
        }
        if self.now < self.sync_at {
            return;
        }
        self.sync_at = self.now + period;
        let peers = self.recipients();
        if peers.is_empty() {
            return;
        }
        let index = usize::try_from(self.syncs % peers.len() as u64).expect("below len");
        self.syncs += 1;
        self.ask_for_catch_up(peers[index], out);
    }

    fn tick_idle(&mut self, out: &mut Outbox) {
        if !self.multi {
            // Basic Paxos: retry a pending command once any back-off has passed.
            let due = self.wake_at.is_none_or(|t| self.now >= t);
            if self.pending.is_empty() {
                self.wake_at = None;
            } else if due && self.now >= self.backoff_until {
                self.campaign(out);
            }
            return;
        }
        let Some(wake_at) = self.wake_at else {
            if self.multi {
                self.reset_election_timer();
            }
            return;
        };
        if self.now < wake_at || self.now < self.backoff_until {
            return;
        }
        // No word from a leader in time: presume it dead and campaign.
        self.campaign(out);
    }

    /// Where a node that does not vote sends clients: the leader it knows of, if that node
    /// still votes, or else a voter of the newest membership it knows (which leads, or
    /// knows who does, or soon campaigns). A removed node's leader may have been removed
    /// too, and two removed nodes naming each other sent a client back and forth forever.
    fn non_voter_hint(&self) -> Option<NodeId> {
        let me = self.config.id;
        let m = self.latest_membership();
        self.leader_hint
            .filter(|l| *l != me && m.is_voter(*l))
            .or_else(|| m.voters.iter().copied().find(|v| *v != me))
    }

    fn take_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
        let command = request.command;
        let id = command.id;
        if self.replica.answer_retry(from, id, out) || self.answer_read(from, &command, out) {
            return;
        }
        if self.is_in_progress(id) {
            // A retry of a command already on its way: answer when it is applied.
            self.replica.wait(id, from);
            return;
        }
        if !self.multi {
            if self.enqueue(from, command, out) && matches!(self.phase, Phase::Idle) {
                if self.now >= self.backoff_until {
                    self.campaign(out);
                } else {
                    self.wake_at = Some(self.backoff_until);
                }
            }
            return;
        }
        if !self.is_voter() {
            // Learners and removed nodes do not take commands.
            let leader = self.non_voter_hint();
            emit(out, Event::Redirected { id, leader });
            reply(out, from, id, ReplyStatus::Redirect { leader });
            return;
        }
        match (&self.phase, self.leader_hint) {
            (Phase::Leading { .. }, _) => {
                if self.enqueue(from, command, out) {
                    self.fill_window(out);
                }
            }
            (Phase::Preparing { .. }, _) => {
                self.enqueue(from, command, out);
            }
            (Phase::Idle, Some(leader)) if leader != self.config.id => {
                self.redirect(from, id, leader, out);
            }
            (Phase::Idle, _) => {
                if self.enqueue(from, command, out) && self.now >= self.backoff_until {
                    self.campaign(out);
                }
            }
        }
    }
}

impl Engine for PaxosNode {
    fn set_timing(&mut self, timing: Timing) {
        self.config.timing = timing;
    }

    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
        self.take_client(from, request, out);
        self.settle(out);
    }

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::Prepare { ballot, from: s } => self.on_prepare(from, ballot, s, out),
            Message::Promise {
                ballot,
                entries,
                compacted_upto,
                ..
            } => self.on_promise(from, ballot, entries, compacted_upto, out),
            Message::Accept {
                ballot,
                slot,
                value,
            } => self.on_accept(from, ballot, slot, value, out),
            Message::Accepted { ballot, slot } => self.on_accepted(from, ballot, slot, out),
            Message::Nack { ballot, promised } => self.on_nack(from, ballot, promised, out),
            Message::Decide { slot, value } => self.on_decide(from, slot, value, out),
            Message::Heartbeat {
                ballot,
                decided_upto,
            } if self.multi => self.on_heartbeat(from, ballot, decided_upto, out),
            Message::CatchUp { from: s } => self.on_catch_up(from, s, out),
            Message::CatchUpReply { entries } => self.on_catch_up_reply(from, entries, out),
            Message::InstallSnapshot { snapshot } => {
                self.on_install_snapshot(from, snapshot, out);
            }
            other => self.ignore(from, &other, "not a message of this protocol", out),
        }
        self.settle(out);
    }

    fn on_tick(&mut self, entropy: u64, out: &mut Outbox) {
        self.now += 1;
        self.entropy = entropy;
        self.tick_anti_entropy(out);
        match self.phase {
            Phase::Idle => self.tick_idle(out),
            Phase::Preparing { .. } => self.tick_preparing(out),
            Phase::Leading { .. } => {
                self.tick_leading(out);
                // Padding no-ops or backlog may be waiting for the window to move.
                self.fill_window(out);
            }
        }
        self.settle(out);
    }

    fn view(&self, tail: usize) -> NodeView {
        let applied = self.replica.next();
        let decided_upto = self.decided_upto();
        let (log, earlier_slots) = log_view(
            &self.durable.decided,
            Some(&self.durable.accepted),
            applied,
            tail,
        );
        let mut queue: Vec<CommandId> = self.pending.iter().map(|c| c.id).collect();
        if let Phase::Leading { proposals, .. } = &self.phase {
            queue.extend(proposals.values().filter_map(|p| p.value.id()));
        }
        NodeView {
            id: self.config.id,
            role: self.role(),
            promised: self.durable.promised,
            leader_hint: self.leader_hint,
            log,
            applied: applied.0,
            table: self
                .replica
                .store()
                .entries()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            digest: self.replica.store().digest(),
            executing: None,
            queue,
            ballot: self.my_ballot(),
            decided_upto: decided_upto.0,
            clock: 0,
            snapshot_slot: self.durable.snapshot.as_ref().map(|s| s.last.0),
            snapshot_bytes: self
                .durable
                .snapshot
                .as_ref()
                .map_or(0, Snapshot::size_bytes),
            membership: Some(self.membership_at(decided_upto).clone()),
            next_membership: self
                .change_pending_effect()
                .map(|e| (e.0, self.membership_at(e).clone())),
            learner: self.role() == Role::Learner,
            catch_up: (self.known_upto > decided_upto).then_some(CatchUpProgress {
                decided_upto: decided_upto.0,
                target: self.known_upto.0,
            }),
            earlier_slots,
        }
    }

    fn snapshot_last(&self) -> Option<Slot> {
        self.durable.snapshot.as_ref().map(|s| s.last)
    }

    fn decided_upto(&self) -> Slot {
        self.decided_upto
    }

    fn store(&self) -> &KvStore {
        self.replica.store()
    }

    fn applied(&self) -> Slot {
        self.replica.next()
    }

    fn applied_commands(&self) -> &[CommandId] {
        self.replica.applied_ids()
    }

    fn decided(&self) -> &BTreeMap<Slot, Value> {
        &self.durable.decided
    }

    fn promised(&self) -> Ballot {
        self.durable.promised
    }

    fn accepted(&self) -> Option<&BTreeMap<Slot, AcceptedValue>> {
        Some(&self.durable.accepted)
    }

    fn role(&self) -> Role {
        if self.multi && !self.is_voter() {
            return if self.latest_membership().is_learner(self.config.id) {
                Role::Learner
            } else {
                Role::Removed
            };
        }
        match (&self.phase, self.multi) {
            (Phase::Idle, true) => Role::Follower,
            (Phase::Idle, false) => Role::Acceptor,
            (Phase::Preparing { .. }, true) => Role::Candidate,
            (Phase::Leading { .. }, true) => Role::Leader,
            (_, false) => Role::Proposer,
        }
    }

    fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }
}
