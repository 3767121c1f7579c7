//! The part every replicated protocol shares: applying log entries to the key-value store in
//! order, de-duplicating retried commands, and answering the clients that wait at this node.
//!
//! # At-most-once
//!
//! A client that times out retries its command with the *same* [`CommandId`], possibly at
//! another node, so one command can end up in two log slots. The replica keeps, per client,
//! the sequence number of the last command it applied and that command's result. When the
//! apply step meets a command whose sequence number is not above the one in the table, it
//! skips it (the state machine does not change) and answers from the table. This relies on
//! each client having one command outstanding at a time with increasing sequence numbers,
//! which is how the simulator's clients behave. A retry of an *older* command than the last
//! one cannot be answered (its result was overwritten), so it is left unanswered and the
//! client, which moved on long ago, never notices.
//!
//! The table is volatile: a restarted replica rebuilds it by replaying the decided log, or
//! restores it from a [`Snapshot`] (which carries the table, so that a command retried after
//! its slot was compacted away is still recognised) and replays the suffix.

use crate::bugs::Bug;
use crate::ids::{ClientId, CommandId, Slot};
use crate::kv::{KvResult, KvStore, StateMachine};
use crate::membership::{LastWrite, Membership, Session, Snapshot};
use crate::message::{write_effect, ReplyStatus, Value};
use crate::node::{emit, reply, Event, Outbox};
use std::collections::BTreeMap;

/// At most this many clients wait for an answer at one node; the oldest is dropped (and
/// will time out) when a new one arrives.
pub const MAX_WAITING: usize = 256;

/// Store, apply index, de-duplication table and waiting clients of one replica.
#[derive(Clone, Debug, Default)]
pub(crate) struct Replica {
    store: KvStore,
    /// The next slot to apply: every slot below it has been applied.
    next: Slot,
    /// Per client, the last command applied and its result.
    table: BTreeMap<ClientId, (u64, KvResult)>,
    /// Per key, the slot and command of the last write applied (what a snapshot keeps for
    /// quorum reads, see [`crate::membership::LastWrite`]).
    last_writes: BTreeMap<String, (Slot, CommandId)>,
    /// Every command that changed the store, in order (an oracle for at-most-once).
    applied_ids: Vec<CommandId>,
    /// Clients waiting at this node for a command to be applied.
    waiting: BTreeMap<CommandId, ClientId>,
    /// `false` with [`Bug::NoDedup`].
    dedup: bool,
}

impl Replica {
    /// An empty replica; `bugs` decides whether retried commands are recognised.
    pub fn new(bugs: &crate::bugs::Bugs) -> Replica {
        Replica {
            dedup: !bugs.has(Bug::NoDedup),
            ..Replica::default()
        }
    }

    pub fn store(&self) -> &KvStore {
        &self.store
    }

    pub fn next(&self) -> Slot {
        self.next
    }

    pub fn applied_ids(&self) -> &[CommandId] {
        &self.applied_ids
    }

    /// The stored answer to `id`, if that exact command was the client's last one applied.
    pub fn answered(&self, id: CommandId) -> Option<KvResult> {
        if !self.dedup {
            return None;
        }
        match self.table.get(&id.client) {
            Some((seq, result)) if *seq == id.seq => Some(result.clone()),
            _ => None,
        }
    }

    /// Whether applying `id` again would be a duplicate.
    pub fn is_duplicate(&self, id: CommandId) -> bool {
        self.dedup
            && self
                .table
                .get(&id.client)
                .is_some_and(|(seq, _)| *seq >= id.seq)
    }

    /// Remembers that `client` waits here for `id`.
    pub fn wait(&mut self, id: CommandId, client: ClientId) {
        if self.waiting.len() >= MAX_WAITING && !self.waiting.contains_key(&id) {
            let oldest = *self.waiting.keys().next().expect("map is full");
            self.waiting.remove(&oldest);
        }
        self.waiting.insert(id, client);
    }

    /// Forgets a waiting client and returns it.
    pub fn unwait(&mut self, id: CommandId) -> Option<ClientId> {
        self.waiting.remove(&id)
    }

    /// The commands clients wait for here, for drawing.
    pub fn waiting_ids(&self) -> impl Iterator<Item = CommandId> + '_ {
        self.waiting.keys().copied()
    }

    /// Answers a retried command from the table, if it can. Returns whether it did.
    pub fn answer_retry(&self, from: ClientId, id: CommandId, out: &mut Outbox) -> bool {
        match self.answered(id) {
            Some(result) => {
                emit(out, Event::Deduplicated { id });
                reply(out, from, id, ReplyStatus::Ok { result });
                true
            }
            None => false,
        }
    }

    /// Applies `value` as the entry at the next slot, answers the client waiting for it here,
    /// and advances. Returns the command's result, if it was a command.
    pub fn apply_next(&mut self, value: &Value, out: &mut Outbox) -> Option<KvResult> {
        let slot = self.next;
        self.next = slot.next();
        let command = match value {
            Value::Noop => {
                emit(out, Event::AppliedNoop { slot });
                return None;
            }
            Value::Reconfigure(membership) => {
                emit(
                    out,
                    Event::AppliedConfig {
                        slot,
                        membership: membership.clone(),
                    },
                );
                return None;
            }
            Value::Command(c) => c,
        };
        let id = command.id;
        let result = if self.is_duplicate(id) {
            emit(out, Event::Deduplicated { id });
            self.answered(id)
        } else {
            let result = self.store.apply(&command.op);
            if write_effect(&command.op).is_some() {
                let key = command.op.key();
                match self.last_writes.get_mut(key) {
                    Some(last) => *last = (slot, id),
                    None => {
                        self.last_writes.insert(key.to_owned(), (slot, id));
                    }
                }
            }
            self.table.insert(id.client, (id.seq, result.clone()));
            self.applied_ids.push(id);
            emit(out, Event::Applied { slot, id });
            Some(result)
        };
        if let (Some(client), Some(result)) = (self.unwait(id), result.clone()) {
            reply(out, client, id, ReplyStatus::Ok { result });
        }
        result
    }

    /// A snapshot of everything applied so far (the caller checks that something was).
    pub fn snapshot(&self, configs: Vec<(Slot, Membership)>) -> Snapshot {
        let last = Slot(
            self.next
                .0
                .checked_sub(1)
                .expect("a snapshot covers at least one applied slot"),
        );
        Snapshot {
            last,
            store: self.store.snapshot(),
            sessions: self
                .table
                .iter()
                .map(|(client, (seq, result))| Session {
                    client: *client,
                    seq: *seq,
                    result: result.clone(),
                })
                .collect(),
            writes: self
                .last_writes
                .iter()
                .map(|(key, (slot, id))| LastWrite {
                    key: key.clone(),
                    slot: *slot,
                    id: *id,
                })
                .collect(),
            configs,
            digest: self.store.digest(),
        }
    }

    /// Replaces the state with `snapshot`; the next slot to apply becomes `next` (which is
    /// `snapshot.last + 1` unless a deliberate bug says otherwise). Clients waiting here for
    /// a command the snapshot already covers are answered from its table.
    pub fn install(&mut self, snapshot: &Snapshot, next: Slot, out: &mut Outbox) {
        self.store.restore(&snapshot.store);
        self.table = snapshot
            .sessions
            .iter()
            .map(|s| (s.client, (s.seq, s.result.clone())))
            .collect();
        self.last_writes = snapshot
            .writes
            .iter()
            .map(|w| (w.key.clone(), (w.slot, w.id)))
            .collect();
        self.next = next;
        let answered: Vec<(CommandId, KvResult)> = self
            .waiting
            .keys()
            .filter_map(|id| self.answered(*id).map(|r| (*id, r)))
            .collect();
        for (id, result) in answered {
            if let Some(client) = self.unwait(id) {
                reply(out, client, id, ReplyStatus::Ok { result });
            }
        }
    }
}
