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
//! The promise, accepted values and decided entries survive a crash. Everything else is
//! volatile: the key-value table and de-duplication table are rebuilt by replaying the
//! decided prefix, and the node restarts as a follower (or idle acceptor) with no leader.
//!
//! [`Timing::heartbeat_ticks`]: crate::config::Timing::heartbeat_ticks
//! [`Timing::election_timeout_ticks`]: crate::config::Timing::election_timeout_ticks
//! [`Timing::election_jitter_ticks`]: crate::config::Timing::election_jitter_ticks

use crate::bugs::Bug;
use crate::config::ReadMode;
use crate::ids::{Ballot, ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvResult, KvStore, StateMachine};
use crate::message::{
    write_effect, ClientRequest, Command, KeyWrite, Message, PromiseEntry, ReadReport, ReplyStatus,
    Value,
};
use crate::node::{
    emit, first_gap, reply, send, AcceptedValue, Durable, DurableWrite, Engine, Event,
    LogEntryView, NodeConfig, NodeView, Outbox, Output, Role,
};
use crate::replica::Replica;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A Multi-Paxos leader has at most this many undecided slots in phase 2 at once; further
/// commands wait in its pending queue.
pub const MAX_IN_FLIGHT: u64 = 32;
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
        started_at: u64,
        sent_at: u64,
    },
    /// Phase 2: `ballot` is prepared; proposing in slots from `next_slot` on.
    Leading {
        ballot: Ballot,
        next_slot: Slot,
        proposals: BTreeMap<Slot, Proposal>,
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
    pending: VecDeque<Command>,
    /// When this node last asked for catch-up, so it asks at most once per retry period.
    asked_at: Option<u64>,
    last_heartbeat: u64,
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
            durable,
            config,
        };
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
            next_slot: self.durable.decided_upto(),
            proposals: BTreeMap::new(),
        };
        self.leader_hint = Some(self.config.id);
    }

    fn has(&self, bug: Bug) -> bool {
        self.config.bugs.has(bug)
    }

    /// The number of acceptors that make a quorum.
    fn quorum(&self) -> usize {
        let n = self.config.members.len();
        if self.has(Bug::MinorityQuorum) {
            (n / 2).max(1)
        } else {
            n / 2 + 1
        }
    }

    /// Whether `count` answers make a quorum, narrating when only the bug makes it one.
    fn is_quorum(&self, count: usize, out: &mut Outbox) -> bool {
        let enough = count >= self.quorum();
        if enough && count < self.config.majority() {
            emit(
                out,
                Event::BugTriggered {
                    bug: Bug::MinorityQuorum,
                },
            );
        }
        enough
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

    fn peers(&self) -> Vec<NodeId> {
        self.config.peers().collect()
    }

    fn broadcast(&self, msg: &Message, out: &mut Outbox) {
        for peer in self.peers() {
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
                self.persist(DurableWrite::Decide { slot, value }, out);
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
        if !self.has(Bug::ApplyAccepted) {
            assert!(
                self.replica.next() <= self.durable.decided_upto(),
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
                from: self.durable.decided_upto(),
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

    /// The newest write to `key` this node knows of, decided or only accepted.
    pub fn read_report(&self, key: &str) -> ReadReport {
        let last = self
            .durable
            .decided
            .keys()
            .next_back()
            .max(self.durable.accepted.keys().next_back())
            .copied();
        let mut newest = None;
        let mut slot = last.map(|s| s.0 + 1).unwrap_or(0);
        while slot > 0 && newest.is_none() {
            slot -= 1;
            newest = self.write_at(Slot(slot), key);
        }
        ReadReport {
            key: key.to_owned(),
            newest,
            decided_upto: self.durable.decided_upto(),
        }
    }

    fn write_at(&self, slot: Slot, key: &str) -> Option<KeyWrite> {
        let accepted = self.durable.accepted.get(&slot);
        let (value, decided, ballot) = match self.durable.decided.get(&slot) {
            Some(v) => {
                let ballot = accepted
                    .filter(|a| a.value == *v)
                    .map_or(Ballot::ZERO, |a| a.ballot);
                (v, true, ballot)
            }
            None => {
                let a = accepted?;
                (&a.value, false, a.ballot)
            }
        };
        let command = value.command().filter(|c| c.op.key() == key)?;
        let value = write_effect(&command.op)?;
        Some(KeyWrite {
            slot,
            ballot,
            id: command.id,
            decided,
            value,
        })
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

    fn enqueue(&mut self, from: ClientId, command: Command, out: &mut Outbox) -> bool {
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
        let retry = self.attempts > 0;
        let ballot = self
            .durable
            .promised
            .max(self.highest_seen)
            .next_for(self.config.id);
        let from = self.durable.decided_upto();
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
        self.phase = Phase::Preparing {
            ballot,
            from,
            promises,
            started_at: self.now,
            sent_at: self.now,
        };
        if self.multi {
            self.reset_election_timer();
        }
        self.broadcast(&Message::Prepare { ballot, from }, out);
        self.check_promises(out);
    }

    fn on_prepare(&mut self, from: NodeId, ballot: Ballot, start: Slot, out: &mut Outbox) {
        let promised = self.durable.promised;
        if ballot < promised {
            emit(
                out,
                Event::Rejected {
                    ballot,
                    promised,
                    from,
                },
            );
            send(out, from, Message::Nack { ballot, promised });
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
            },
        );
    }

    fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        entries: Vec<PromiseEntry>,
        out: &mut Outbox,
    ) {
        match &mut self.phase {
            Phase::Preparing {
                ballot: mine,
                promises,
                ..
            } if *mine == ballot => {
                promises.insert(from, entries);
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
        let Phase::Preparing { promises, .. } = &self.phase else {
            return;
        };
        if !self.is_quorum(promises.len(), out) {
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
        recovered.retain(|slot, _| !self.durable.decided.contains_key(slot));
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
        for (slot, value) in to_propose {
            self.propose(slot, value, out);
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
        if self.durable.decided.contains_key(&slot) {
            // The promises taught us the slot is already decided: start over for the next
            // one at once.
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
        };
        self.propose(slot, value, out);
    }

    /// Multi-Paxos: proposes pending commands while the pipeline has room.
    fn fill_window(&mut self, out: &mut Outbox) {
        while self.multi && !self.pending.is_empty() {
            let Phase::Leading { next_slot, .. } = &self.phase else {
                return;
            };
            let next_slot = *next_slot;
            if next_slot.0 >= self.durable.decided_upto().0 + MAX_IN_FLIGHT {
                return;
            }
            let command = self.pending.pop_front().expect("checked non-empty");
            if let Phase::Leading { next_slot, .. } = &mut self.phase {
                *next_slot = next_slot.next();
            }
            self.propose(next_slot, Value::Command(command), out);
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
        let promised = self.durable.promised;
        if ballot < promised {
            if !self.has(Bug::AcceptBelowPromise) {
                emit(
                    out,
                    Event::Rejected {
                        ballot,
                        promised,
                        from,
                    },
                );
                send(out, from, Message::Nack { ballot, promised });
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
            proposal.acks.iter().all(|a| self.config.is_member(*a)),
            "only members' acceptances are counted"
        );
        if !self.is_quorum(proposal.acks.len(), out) {
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
        if slot > self.durable.decided_upto() {
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
        if let Phase::Leading { proposals, .. } = std::mem::replace(&mut self.phase, Phase::Idle) {
            for proposal in proposals.into_values().rev() {
                if let Value::Command(c) = proposal.value {
                    if !self.pending.iter().any(|p| p.id == c.id) {
                        self.pending.push_front(c);
                    }
                }
            }
            self.pending.truncate(MAX_PENDING);
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
        let promised = self.durable.promised;
        if ballot < promised {
            emit(
                out,
                Event::Rejected {
                    ballot,
                    promised,
                    from,
                },
            );
            send(out, from, Message::Nack { ballot, promised });
            return;
        }
        self.observe(ballot, out);
        self.follow(from, out);
        if upto > self.durable.decided_upto() {
            self.ask_for_catch_up(from, out);
        }
    }

    fn on_catch_up(&mut self, from: NodeId, start: Slot, out: &mut Outbox) {
        let entries: Vec<(Slot, Value)> = self
            .durable
            .decided
            .range(start..)
            .take(MAX_CATCH_UP)
            .map(|(s, v)| (*s, v.clone()))
            .collect();
        send(out, from, Message::CatchUpReply { entries });
    }

    fn on_catch_up_reply(&mut self, from: NodeId, entries: Vec<(Slot, Value)>, out: &mut Outbox) {
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
        self.asked_at = None;
    }

    fn send_heartbeats(&mut self, out: &mut Outbox) {
        let Some(ballot) = self.my_ballot() else {
            return;
        };
        self.last_heartbeat = self.now;
        let decided_upto = self.durable.decided_upto();
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
        let peers = self.peers();
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
        let peers = self.peers();
        let Phase::Preparing {
            ballot,
            from,
            promises,
            started_at,
            sent_at,
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
}

impl Engine for PaxosNode {
    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
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

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::Prepare { ballot, from: s } => self.on_prepare(from, ballot, s, out),
            Message::Promise {
                ballot, entries, ..
            } => self.on_promise(from, ballot, entries, out),
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
            other => self.ignore(from, &other, "not a message of this protocol", out),
        }
    }

    fn on_tick(&mut self, entropy: u64, out: &mut Outbox) {
        self.now += 1;
        self.entropy = entropy;
        match self.phase {
            Phase::Idle => self.tick_idle(out),
            Phase::Preparing { .. } => self.tick_preparing(out),
            Phase::Leading { .. } => self.tick_leading(out),
        }
    }

    fn view(&self) -> NodeView {
        let applied = self.replica.next();
        let mut slots: BTreeSet<Slot> = self.durable.accepted.keys().copied().collect();
        slots.extend(self.durable.decided.keys().copied());
        let log = slots
            .into_iter()
            .map(|slot| {
                let accepted = self.durable.accepted.get(&slot);
                let decided = self.durable.decided.get(&slot);
                LogEntryView {
                    slot,
                    command: decided
                        .or(accepted.map(|a| &a.value))
                        .map(|v| v.to_string()),
                    chosen: decided.is_some(),
                    accepted_ballot: accepted.map(|a| a.ballot),
                    applied: slot < applied,
                }
            })
            .collect();
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
            decided_upto: first_gap(&self.durable.decided).0,
            clock: 0,
        }
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
