//! Naive replication: the story's first idea for three nodes.
//!
//! "If any of the nodes gets a write, it tells the rest what to change." A node that receives
//! a write applies it to its own table at once, answers the client at once, and sends a
//! [`Message::Replicate`] to every other node, which applies it when (and if) it arrives.
//! Reads are answered from the receiving node's table.
//!
//! Nothing orders the writes. When `c1` sends `set(k1, v1)` to `n1` while `c2` sends
//! `set(k1, v2)` to `n2`, `n1` applies v1 then v2 and `n2` applies v2 then v1: the replicas
//! end up disagreeing for ever, which is the failure the story uses to motivate a total
//! order. A lost `Replicate` loses the write on that replica, and a crashed node restarts
//! with an empty table, since nothing here is durable.

use crate::config::Timing;
use crate::ids::{ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvStore, StateMachine};
use crate::message::{ClientRequest, Message, ReplyStatus, Value};
use crate::node::{emit, reply, send, Engine, Event, NodeConfig, NodeView, Outbox, Role};
use crate::replica::Replica;
use std::collections::BTreeMap;

/// A naive-replication node.
#[derive(Clone, Debug)]
pub struct NaiveNode {
    config: NodeConfig,
    replica: Replica,
    /// The node's own order of application (not agreed with anybody).
    log: BTreeMap<Slot, Value>,
}

impl NaiveNode {
    /// A node with an empty table.
    pub fn new(config: NodeConfig) -> NaiveNode {
        NaiveNode {
            replica: Replica::new(&config.bugs),
            config,
            log: BTreeMap::new(),
        }
    }

    fn apply(&mut self, value: Value, out: &mut Outbox) -> Option<crate::KvResult> {
        let slot = self.replica.next();
        let result = self.replica.apply_next(&value, out);
        self.log.insert(slot, value);
        result
    }
}

impl Engine for NaiveNode {
    fn set_timing(&mut self, timing: Timing) {
        self.config.timing = timing;
    }

    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
        let command = request.command;
        let id = command.id;
        if self.replica.answer_retry(from, id, out) {
            return;
        }
        if let Some(result) = self.replica.store().read(&command.op) {
            emit(out, Event::ReadLocally { id });
            reply(out, from, id, ReplyStatus::Ok { result });
            return;
        }
        // Apply first, answer at once, and only then tell the others: the write is
        // acknowledged before anybody else has it.
        let peers: Vec<NodeId> = self.config.peers().collect();
        let result = self.apply(Value::Command(command.clone()), out);
        emit(
            out,
            Event::Replicated {
                id,
                peers: u8::try_from(peers.len()).expect("at most 7 nodes"),
            },
        );
        if let Some(result) = result {
            reply(out, from, id, ReplyStatus::Ok { result });
        }
        for peer in peers {
            send(
                out,
                peer,
                Message::Replicate {
                    command: command.clone(),
                },
            );
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::Replicate { command } => {
                // A duplicate delivery is caught by the de-duplication table in apply.
                self.apply(Value::Command(command), out);
            }
            other => emit(
                out,
                Event::Ignored {
                    from: Some(from),
                    what: other.kind().to_owned(),
                    why: String::from("naive replication only sends replicate messages"),
                },
            ),
        }
    }

    fn on_tick(&mut self, _entropy: u64, _out: &mut Outbox) {}

    fn view(&self, tail: usize) -> NodeView {
        view_of_local_log(
            &self.config,
            Role::Peer,
            &self.log,
            &self.replica,
            None,
            Vec::new(),
            tail,
        )
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
        &self.log
    }

    fn role(&self) -> Role {
        Role::Peer
    }

    fn leader_hint(&self) -> Option<NodeId> {
        None
    }
}

/// The view of a node whose log is simply what it applied, in order.
pub(crate) fn view_of_local_log(
    config: &NodeConfig,
    role: Role,
    log: &BTreeMap<Slot, Value>,
    replica: &Replica,
    leader_hint: Option<NodeId>,
    queue: Vec<CommandId>,
    tail: usize,
) -> NodeView {
    let applied = replica.next();
    let (entries, earlier_slots) = crate::node::log_view(log, None, applied, tail);
    NodeView {
        id: config.id,
        role,
        promised: crate::Ballot::ZERO,
        leader_hint,
        log: entries,
        applied: applied.0,
        table: replica
            .store()
            .entries()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        digest: replica.store().digest(),
        executing: None,
        queue,
        ballot: None,
        decided_upto: crate::node::first_gap(log).0,
        clock: 0,
        snapshot_slot: None,
        snapshot_bytes: 0,
        membership: None,
        next_membership: None,
        learner: false,
        catch_up: None,
        earlier_slots,
    }
}
