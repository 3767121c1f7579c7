//! Ordering by timestamps: the story's second idea.
//!
//! "Attach the timestamp from the server." A node that receives a client's command stamps
//! it with its own wall clock, which here is its tick count plus a configurable skew
//! ([`NodeConfig::clock_skew_ticks`]). Two commands with the same reading are ordered by node
//! id, the deterministic tie-break the story asks for. A write is sent to every other node
//! as a [`Message::Stamped`]; a read stays on the node that received it.
//!
//! Every node keeps a hold-back queue ordered by timestamp and applies a command only once
//! its own clock has passed the command's timestamp by [`Timing::holdback_ticks`], hoping that
//! by then every command with a smaller timestamp has arrived. The client of a write is
//! answered when the receiving node applies it; a read is answered with the table at the
//! read's place in timestamp order.
//!
//! That hope is the flaw. When clocks are skewed, a command stamped by a slow clock carries
//! a timestamp that the fast-clock nodes have already released past; such a *late* command
//! can only be applied out of timestamp order (an [`Event::AppliedLate`]), while the slow
//! node applies it in order. The replicas then apply the same commands in different orders
//! and diverge, and a write that happened after another in real time can lose to it
//! (non-linearizable). With perfectly synchronised clocks and messages faster than the
//! hold-back, the replicas agree. Nothing is durable.
//!
//! [`Timing::holdback_ticks`]: crate::config::Timing::holdback_ticks

use crate::config::Timing;
use crate::ids::{ClientId, CommandId, NodeId, Slot};
use crate::kv::KvStore;
use crate::message::{ClientRequest, Command, Message, ReplyStatus, Timestamp, Value};
use crate::naive::view_of_local_log;
use crate::node::{emit, reply, send, Engine, Event, NodeConfig, NodeView, Outbox, Role};
use crate::replica::Replica;
use std::collections::BTreeMap;
use std::sync::Arc;

/// At most this many commands wait in the hold-back queue; a client's command that finds it
/// full is refused.
pub const MAX_HOLDBACK: usize = 128;

/// A timestamp-ordering node.
#[derive(Clone, Debug)]
pub struct TimestampNode {
    config: NodeConfig,
    replica: Replica,
    /// Ticks since the node (re)started.
    now: u64,
    /// The last timestamp this node handed out.
    last_stamp: Option<Timestamp>,
    /// Commands waiting for their turn, in timestamp order.
    holdback: BTreeMap<Timestamp, Arc<Command>>,
    /// The timestamp of the last command applied in order.
    last_applied: Option<Timestamp>,
    /// The node's own order of application.
    log: BTreeMap<Slot, Value>,
}

impl TimestampNode {
    /// A node whose clock starts at its skew.
    pub fn new(config: NodeConfig) -> TimestampNode {
        TimestampNode {
            replica: Replica::new(&config.bugs),
            config,
            now: 0,
            last_stamp: None,
            holdback: BTreeMap::new(),
            last_applied: None,
            log: BTreeMap::new(),
        }
    }

    /// The node's wall clock: its tick count plus its skew.
    pub fn clock(&self) -> i64 {
        i64::try_from(self.now).unwrap_or(i64::MAX) + self.config.clock_skew_ticks
    }

    fn stamp(&mut self) -> Timestamp {
        let time = self.clock();
        let seq = match self.last_stamp {
            Some(last) if last.time == time => last.seq + 1,
            _ => 0,
        };
        let ts = Timestamp {
            time,
            node: self.config.id,
            seq,
        };
        self.last_stamp = Some(ts);
        ts
    }

    fn apply(&mut self, command: Arc<Command>, out: &mut Outbox) {
        let slot = self.replica.next();
        let value = Value::Command(command);
        self.replica.apply_next(&value, out);
        self.log.insert(slot, value);
    }

    fn release_due(&mut self, out: &mut Outbox) {
        let due = self.clock() - i64::from(self.config.timing.holdback_ticks);
        while let Some(entry) = self.holdback.first_entry() {
            if entry.key().time > due {
                break;
            }
            let (ts, command) = entry.remove_entry();
            self.last_applied = Some(ts);
            self.apply(command, out);
        }
    }

    fn receive(&mut self, ts: Timestamp, command: Arc<Command>, out: &mut Outbox) {
        match self.last_applied {
            Some(behind) if ts <= behind => {
                // Its place in the order has passed: the only choices left are to drop the
                // write or apply it out of order. The story's design applies it.
                emit(
                    out,
                    Event::AppliedLate {
                        id: command.id,
                        ts,
                        behind,
                    },
                );
                self.apply(command, out);
            }
            _ if self.holdback.contains_key(&ts) => emit(
                out,
                Event::Ignored {
                    from: Some(ts.node),
                    what: String::from("stamped"),
                    why: String::from("a duplicate of a command already waiting"),
                },
            ),
            _ => {
                if self.holdback.len() >= MAX_HOLDBACK {
                    // Bounded queue: make room by releasing the oldest early.
                    if let Some((old_ts, old)) = self.holdback.pop_first() {
                        self.last_applied = Some(old_ts);
                        self.apply(old, out);
                    }
                }
                self.holdback.insert(ts, command);
            }
        }
    }
}

impl Engine for TimestampNode {
    fn set_timing(&mut self, timing: Timing) {
        self.config.timing = timing;
    }

    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
        let command = request.command;
        let id = command.id;
        if self.replica.answer_retry(from, id, out) {
            return;
        }
        if self.holdback.values().any(|c| c.id == id) {
            self.replica.wait(id, from);
            return;
        }
        if self.holdback.len() >= MAX_HOLDBACK {
            let reason = format!("hold-back queue full ({MAX_HOLDBACK} commands)");
            reply(out, from, id, ReplyStatus::Failed { reason });
            return;
        }
        let ts = self.stamp();
        emit(out, Event::Stamped { id, ts });
        self.replica.wait(id, from);
        if !command.op.is_read() {
            for peer in self.config.peers().collect::<Vec<_>>() {
                send(
                    out,
                    peer,
                    Message::Stamped {
                        ts,
                        command: command.clone(),
                    },
                );
            }
        }
        self.receive(ts, command, out);
        self.release_due(out);
    }

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::Stamped { ts, command } => self.receive(ts, command, out),
            other => emit(
                out,
                Event::Ignored {
                    from: Some(from),
                    what: other.kind().to_owned(),
                    why: String::from("timestamp ordering only sends stamped commands"),
                },
            ),
        }
    }

    fn on_tick(&mut self, _entropy: u64, out: &mut Outbox) {
        self.now += 1;
        self.release_due(out);
    }

    fn view(&self, tail: usize) -> NodeView {
        NodeView {
            clock: self.clock(),
            ..view_of_local_log(
                &self.config,
                Role::Peer,
                &self.log,
                &self.replica,
                None,
                self.holdback.values().map(|c| c.id).collect(),
                tail,
            )
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
        &self.log
    }

    fn role(&self) -> Role {
        Role::Peer
    }

    fn leader_hint(&self) -> Option<NodeId> {
        None
    }
}
