//! One single-threaded node: the first step of the story.
//!
//! The node executes one command at a time. A command takes `service_ticks` ticks to execute;
//! calls that arrive meanwhile wait in a first-come, first-served queue. From the outside the
//! calls may overlap in time, yet their effects happen in one sequence: that is strong
//! consistency, and the simulator's checker confirms it on every history this node produces.
//!
//! Retried commands (same [`CommandId`]) are answered from a table of last results per client
//! instead of being applied again.

use crate::config::Timing;
use crate::ids::{Ballot, ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvResult, KvStore, StateMachine};
use crate::message::{ClientReply, ClientRequest, Command, Message, ReplyStatus, Value};
use crate::node::{
    emit, log_view, Durable, Engine, Event, NodeConfig, NodeView, Outbox, Output, Role,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// At most this many calls wait in the queue; later ones are refused (a definite failure).
pub const MAX_QUEUE: usize = 64;

/// The single-threaded node.
#[derive(Clone, Debug)]
pub struct SingleNode {
    config: NodeConfig,
    store: KvStore,
    /// The command being executed and the ticks it still needs.
    executing: Option<(ClientId, Arc<Command>, u32)>,
    queue: VecDeque<(ClientId, Arc<Command>)>,
    /// Commands in the order they were executed: the node's own log.
    log: BTreeMap<Slot, Value>,
    /// The ids of the commands applied, in order.
    applied_ids: Vec<CommandId>,
    /// Per client, the last command applied and its result.
    last: BTreeMap<ClientId, (u64, KvResult)>,
}

impl SingleNode {
    /// A node with an empty table. A single node keeps nothing durable: a crash loses its
    /// table, which is exactly the single point of failure the story moves away from.
    pub fn new(config: NodeConfig, _durable: Durable) -> SingleNode {
        SingleNode {
            config,
            store: KvStore::new(),
            executing: None,
            queue: VecDeque::new(),
            log: BTreeMap::new(),
            applied_ids: Vec::new(),
            last: BTreeMap::new(),
        }
    }

    /// A client's call arrived: answer a retry from the table, queue it, or start it now.
    pub fn on_client(
        &mut self,
        from: ClientId,
        request: ClientRequest,
        out: &mut VecDeque<Output>,
    ) {
        let command = request.command;
        if let Some(result) = self.answered(command.id) {
            out.push_back(Output::Event(Event::Deduplicated { id: command.id }));
            out.push_back(reply(from, command.id, ReplyStatus::Ok { result }));
            return;
        }
        let in_progress = self
            .executing
            .iter()
            .map(|(_, c, _)| c)
            .chain(self.queue.iter().map(|(_, c)| c))
            .any(|c| c.id == command.id);
        if in_progress {
            // A retry of a call that is still waiting: the original will answer it.
            return;
        }
        if self.executing.is_none() {
            self.start(from, command, out);
        } else if self.queue.len() >= MAX_QUEUE {
            let status = ReplyStatus::Failed {
                reason: format!("queue full ({MAX_QUEUE} calls waiting)"),
            };
            out.push_back(reply(from, command.id, status));
        } else {
            let depth = u32::try_from(self.queue.len() + 1).expect("queue is bounded");
            out.push_back(Output::Event(Event::Queued {
                id: command.id,
                depth,
            }));
            self.queue.push_back((from, command));
        }
    }

    /// One tick of work on the command being executed.
    pub fn on_tick(&mut self, out: &mut VecDeque<Output>) {
        let Some((_, _, remaining)) = &mut self.executing else {
            return;
        };
        *remaining = remaining.saturating_sub(1);
        if *remaining == 0 {
            let (from, command, _) = self.executing.take().expect("checked above");
            self.finish(from, command, out);
            if let Some((from, next)) = self.queue.pop_front() {
                self.start(from, next, out);
            }
        }
    }

    fn start(&mut self, from: ClientId, command: Arc<Command>, out: &mut VecDeque<Output>) {
        out.push_back(Output::Event(Event::Started { id: command.id }));
        if self.config.service_ticks == 0 {
            self.finish(from, command, out);
        } else {
            self.executing = Some((from, command, self.config.service_ticks));
        }
    }

    fn finish(&mut self, from: ClientId, command: Arc<Command>, out: &mut VecDeque<Output>) {
        let result = self.store.apply(&command.op);
        let slot = Slot(self.log.len() as u64);
        self.last
            .insert(command.id.client, (command.id.seq, result.clone()));
        out.push_back(Output::Event(Event::Applied {
            slot,
            id: command.id,
        }));
        out.push_back(reply(from, command.id, ReplyStatus::Ok { result }));
        self.applied_ids.push(command.id);
        self.log.insert(slot, Value::Command(command));
    }

    fn answered(&self, id: CommandId) -> Option<KvResult> {
        match self.last.get(&id.client) {
            Some((seq, result)) if *seq == id.seq => Some(result.clone()),
            _ => None,
        }
    }

    /// How many commands have been applied.
    pub fn applied(&self) -> u64 {
        self.log.len() as u64
    }

    /// The table.
    pub fn store(&self) -> &KvStore {
        &self.store
    }

    /// A picture for the page, with the last `tail` slots of the log.
    pub fn view(&self, tail: usize) -> NodeView {
        let (log, earlier_slots) = log_view(&self.log, None, Slot(self.applied()), tail);
        NodeView {
            id: self.config.id,
            role: Role::Solo,
            promised: Ballot::ZERO,
            leader_hint: Some(self.config.id),
            log,
            applied: self.applied(),
            table: self
                .store
                .entries()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            digest: self.store.digest(),
            executing: self.executing.as_ref().map(|(_, c, _)| c.id),
            queue: self.queue.iter().map(|(_, c)| c.id).collect(),
            ballot: None,
            decided_upto: self.applied(),
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
}

impl Engine for SingleNode {
    fn set_timing(&mut self, timing: Timing) {
        self.config.timing = timing;
    }

    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
        SingleNode::on_client(self, from, request, out);
    }

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox) {
        emit(
            out,
            Event::Ignored {
                from: Some(from),
                what: msg.kind().to_owned(),
                why: String::from("a single node has no peers"),
            },
        );
    }

    fn on_tick(&mut self, _entropy: u64, out: &mut Outbox) {
        SingleNode::on_tick(self, out);
    }

    fn view(&self, tail: usize) -> NodeView {
        SingleNode::view(self, tail)
    }

    fn store(&self) -> &KvStore {
        &self.store
    }

    fn applied(&self) -> Slot {
        Slot(self.applied())
    }

    fn applied_commands(&self) -> &[CommandId] {
        &self.applied_ids
    }

    fn decided(&self) -> &BTreeMap<Slot, Value> {
        &self.log
    }

    fn role(&self) -> Role {
        Role::Solo
    }

    fn leader_hint(&self) -> Option<NodeId> {
        Some(self.config.id)
    }
}

fn reply(to: ClientId, id: CommandId, status: ReplyStatus) -> Output {
    Output::Reply {
        to,
        reply: ClientReply { id, status },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::KvOp;
    use crate::node::Node;

    fn cmd(client: u16, seq: u64, op: KvOp) -> ClientRequest {
        ClientRequest {
            command: Command {
                id: CommandId {
                    client: ClientId(client),
                    seq,
                },
                op,
            }
            .into(),
        }
    }

    fn set(k: &str, v: &str) -> KvOp {
        KvOp::Set {
            key: k.into(),
            value: v.into(),
        }
    }

    fn drain(node: &mut Node) -> Vec<Output> {
        std::iter::from_fn(|| node.poll()).collect()
    }

    fn replies(outputs: &[Output]) -> Vec<(ClientId, ClientReply)> {
        outputs
            .iter()
            .filter_map(|o| match o {
                Output::Reply { to, reply } => Some((*to, reply.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn overlapping_calls_execute_one_after_the_other_in_arrival_order() {
        let mut node = Node::new(NodeConfig::single(2));
        node.on_client(ClientId(0), cmd(0, 1, set("k1", "v1")));
        node.on_client(ClientId(1), cmd(1, 1, KvOp::Get { key: "k1".into() }));
        let out = drain(&mut node);
        assert!(replies(&out).is_empty(), "nothing finishes before a tick");
        assert!(out.contains(&Output::Event(Event::Queued {
            id: CommandId {
                client: ClientId(1),
                seq: 1
            },
            depth: 1
        })));
        node.on_tick(0);
        assert!(replies(&drain(&mut node)).is_empty(), "set needs two ticks");
        node.on_tick(0);
        let first = replies(&drain(&mut node));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, ClientId(0));
        node.on_tick(0);
        node.on_tick(0);
        let second = replies(&drain(&mut node));
        assert_eq!(
            second[0].1.status,
            ReplyStatus::Ok {
                result: KvResult::Value {
                    value: Some("v1".into())
                }
            },
            "the get queued behind the set sees its value: strong consistency"
        );
    }

    #[test]
    fn retried_command_is_answered_from_the_table_not_applied_twice() {
        let mut node = Node::new(NodeConfig::single(0));
        let rm = cmd(0, 7, KvOp::Remove { key: "k".into() });
        node.on_client(ClientId(0), cmd(0, 6, set("k", "v")));
        node.on_client(ClientId(0), rm.clone());
        let first = replies(&drain(&mut node));
        node.on_client(ClientId(0), rm);
        let out = drain(&mut node);
        let retry = replies(&out);
        assert_eq!(first[1].1, retry[0].1, "same answer: existed = true");
        assert!(out
            .iter()
            .any(|o| matches!(o, Output::Event(Event::Deduplicated { .. }))));
        assert_eq!(node.view().applied, 2);
    }

    #[test]
    fn a_full_queue_refuses_with_a_definite_failure() {
        let mut node = Node::new(NodeConfig::single(100));
        for seq in 0..=MAX_QUEUE as u64 {
            node.on_client(ClientId(0), cmd(0, seq, set("k", "v")));
        }
        assert!(replies(&drain(&mut node)).is_empty());
        node.on_client(ClientId(1), cmd(1, 0, set("k", "v")));
        let out = replies(&drain(&mut node));
        assert!(matches!(out[0].1.status, ReplyStatus::Failed { .. }));
    }

    #[test]
    fn view_shows_queue_and_table() {
        let mut node = Node::new(NodeConfig::single(1));
        node.on_client(ClientId(0), cmd(0, 1, set("a", "1")));
        node.on_client(ClientId(1), cmd(1, 1, set("b", "2")));
        let v = node.view();
        assert_eq!(v.executing.map(|c| c.client), Some(ClientId(0)));
        assert_eq!(v.queue.len(), 1);
        node.on_tick(0);
        node.on_tick(0);
        let v = node.view();
        assert_eq!(
            v.table,
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(v.log.len(), 2);
    }
}
