//! A fixed sequencer: the story's third idea.
//!
//! "I need some way to order the commands, by a sequence number for example, and someone
//! responsible for putting that sequence number on them." One fixed node, the lowest member
//! (`n1`), is the sequencer. Every command, read or write, goes to it; the other nodes
//! redirect clients there. The sequencer gives each command the next number, applies it,
//! answers the client, and sends a [`Message::Sequenced`] to every other node. The others
//! apply numbered commands strictly in number order, asking the sequencer for missing
//! numbers with a [`Message::CatchUp`] when they notice a gap.
//!
//! Message loss alone must not stall a follower: a follower that misses the *last*
//! `Sequenced` sees no later number that would reveal the gap. So the sequencer announces
//! the next number it will hand out in a [`Message::Heartbeat`] (ballot zero: there are no
//! ballots here) every [`Timing::retry_ticks`] in which it sent followers nothing else, and
//! a follower that knows of numbers it does not have asks again every `retry_ticks` until
//! it has them (one request in flight at a time, at most [`MAX_CATCH_UP`] entries a reply).
//!
//! This works, and is even linearizable, for as long as the sequencer is up. When it
//! crashes, nothing can be ordered any more: every client is redirected to a node that does
//! not answer. And since the sequencer keeps its counter in memory, when it restarts it
//! hands out numbers from zero again. The followers already have commands under those
//! numbers, keep their first one and drop the new one (an [`Event::SequenceConflict`]),
//! while the sequencer applies the new ones: acknowledged writes are missing from the
//! followers and the replicas diverge. A single point of failure, in the story's words.
//! (Retransmission does not help there: the restarted sequencer's announcements are below
//! what the followers hold, and what it sends under reused numbers still conflicts.)
//!
//! [`Timing::retry_ticks`]: crate::config::Timing::retry_ticks

use crate::config::Timing;
use crate::ids::{Ballot, ClientId, CommandId, NodeId, Slot};
use crate::kv::KvStore;
use crate::message::{ClientRequest, Command, Message, ReplyStatus, Value};
use crate::naive::view_of_local_log;
use crate::node::{emit, reply, send, Engine, Event, NodeConfig, NodeView, Outbox, Role};
use crate::replica::Replica;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A catch-up reply carries at most this many entries; the follower asks again for more.
pub const MAX_CATCH_UP: usize = 64;

/// A node of the fixed-sequencer protocol.
#[derive(Clone, Debug)]
pub struct SequencerNode {
    config: NodeConfig,
    replica: Replica,
    /// The node that numbers commands.
    sequencer: NodeId,
    /// The next number to hand out (sequencer only; forgotten on a crash).
    next_number: Slot,
    /// Numbered commands received, applied or waiting for a gap to fill.
    log: BTreeMap<Slot, Value>,
    now: u64,
    /// When this node last asked for missing numbers, to avoid asking every message.
    asked_at: Option<u64>,
    /// Every number below this one was handed out, as far as this node heard (from a
    /// `Sequenced`, a catch-up reply or the sequencer's heartbeat).
    known_upto: Slot,
    /// Sequencer: when it last sent its followers anything (a number or a heartbeat).
    announced_at: u64,
}

impl SequencerNode {
    /// A node with an empty table; the sequencer starts numbering at zero.
    pub fn new(config: NodeConfig) -> SequencerNode {
        let sequencer = *config.members.iter().min().expect("validated: not empty");
        SequencerNode {
            replica: Replica::new(&config.bugs),
            config,
            sequencer,
            next_number: Slot(0),
            log: BTreeMap::new(),
            now: 0,
            asked_at: None,
            known_upto: Slot(0),
            announced_at: 0,
        }
    }

    fn is_sequencer(&self) -> bool {
        self.config.id == self.sequencer
    }

    fn apply_ready(&mut self, out: &mut Outbox) {
        while let Some(value) = self.log.get(&self.replica.next()).cloned() {
            self.replica.apply_next(&value, out);
        }
    }

    /// Records a numbered command, keeping the first command seen under each number.
    /// Returns whether the number was new here.
    fn record(&mut self, slot: Slot, command: Arc<Command>, out: &mut Outbox) -> bool {
        self.known_upto = self.known_upto.max(slot.next());
        match self.log.get(&slot) {
            Some(Value::Command(kept)) if kept.id != command.id => emit(
                out,
                Event::SequenceConflict {
                    slot,
                    kept: kept.id,
                    dropped: command.id,
                },
            ),
            Some(_) => {}
            None => {
                self.log.insert(slot, Value::Command(command));
                return true;
            }
        }
        false
    }

    /// Whether this node knows of numbers handed out that it has not applied: a number
    /// received above a missing one, or announced by the sequencer.
    fn has_gap(&self) -> bool {
        let next = self.replica.next();
        self.known_upto > next
            || self
                .log
                .keys()
                .next_back()
                .is_some_and(|last| *last >= next)
    }

    fn ask_for_gap(&mut self, from: NodeId, out: &mut Outbox) {
        let has_gap = self.has_gap();
        let recently = self
            .asked_at
            .is_some_and(|t| self.now < t + u64::from(self.config.timing.retry_ticks));
        if has_gap && !recently {
            self.asked_at = Some(self.now);
            send(
                out,
                from,
                Message::CatchUp {
                    from: self.replica.next(),
                },
            );
        }
    }

    fn sequence(&mut self, from: ClientId, command: Arc<Command>, out: &mut Outbox) {
        let id = command.id;
        let slot = self.next_number;
        self.next_number = slot.next();
        emit(out, Event::Sequenced { slot, id });
        self.announced_at = self.now;
        self.replica.wait(id, from);
        self.record(slot, command.clone(), out);
        for peer in self.config.peers().collect::<Vec<_>>() {
            send(
                out,
                peer,
                Message::Sequenced {
                    slot,
                    command: command.clone(),
                },
            );
        }
        self.apply_ready(out);
    }
}

impl Engine for SequencerNode {
    fn set_timing(&mut self, timing: Timing) {
        self.config.timing = timing;
    }

    fn on_client(&mut self, from: ClientId, request: ClientRequest, out: &mut Outbox) {
        let command = request.command;
        let id = command.id;
        if self.replica.answer_retry(from, id, out) {
            return;
        }
        if !self.is_sequencer() {
            emit(
                out,
                Event::Redirected {
                    id,
                    leader: Some(self.sequencer),
                },
            );
            let leader = Some(self.sequencer);
            reply(out, from, id, ReplyStatus::Redirect { leader });
            return;
        }
        let numbered = self
            .log
            .range(self.replica.next()..)
            .any(|(_, v)| v.id() == Some(id));
        if numbered {
            self.replica.wait(id, from);
            return;
        }
        self.sequence(from, command, out);
    }

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::Sequenced { slot, command } if from == self.sequencer => {
                self.record(slot, command, out);
                self.apply_ready(out);
                self.ask_for_gap(from, out);
            }
            Message::CatchUp { from: start } => {
                let entries: Vec<(Slot, Value)> = self
                    .log
                    .range(start..)
                    .take(MAX_CATCH_UP)
                    .map(|(s, v)| (*s, v.clone()))
                    .collect();
                send(out, from, Message::CatchUpReply { entries });
            }
            Message::CatchUpReply { entries } if from == self.sequencer => {
                let mut news = 0u32;
                for (slot, value) in entries {
                    if let Value::Command(c) = value {
                        news += u32::from(self.record(slot, c, out));
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
                    // Progress: ask for the rest at once. Without progress (a restarted
                    // sequencer no longer has the numbers) wait for the retry period, or
                    // the two would bounce requests and empty replies forever.
                    self.asked_at = None;
                }
                self.ask_for_gap(from, out);
            }
            Message::Heartbeat { decided_upto, .. } if from == self.sequencer => {
                self.known_upto = self.known_upto.max(decided_upto);
                self.ask_for_gap(from, out);
            }
            other => emit(
                out,
                Event::Ignored {
                    from: Some(from),
                    what: other.kind().to_owned(),
                    why: format!("only the sequencer {} numbers commands", self.sequencer),
                },
            ),
        }
    }

    fn on_tick(&mut self, _entropy: u64, out: &mut Outbox) {
        self.now += 1;
        let retry = u64::from(self.config.timing.retry_ticks);
        if self.is_sequencer() {
            // Announce the next number when the followers heard nothing for a while, so one
            // that lost the last `Sequenced` learns that it is missing something.
            let handed_out = self.next_number > Slot(0);
            if handed_out && self.now >= self.announced_at + retry {
                self.announced_at = self.now;
                let upto = self.next_number;
                for peer in self.config.peers().collect::<Vec<_>>() {
                    let msg = Message::Heartbeat {
                        ballot: Ballot::ZERO,
                        decided_upto: upto,
                    };
                    send(out, peer, msg);
                }
            }
        } else {
            // Retransmission: a request or its reply may have been lost.
            self.ask_for_gap(self.sequencer, out);
        }
    }

    fn view(&self, tail: usize) -> NodeView {
        view_of_local_log(
            &self.config,
            self.role(),
            &self.log,
            &self.replica,
            Some(self.sequencer),
            self.replica.waiting_ids().collect(),
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

    fn decided_upto(&self) -> Slot {
        // Every number received is applied as soon as the ones below it are, so the first
        // unapplied number is the first gap: O(1) instead of walking the log.
        self.replica.next()
    }

    fn role(&self) -> Role {
        if self.is_sequencer() {
            Role::Sequencer
        } else {
            Role::Follower
        }
    }

    fn leader_hint(&self) -> Option<NodeId> {
        Some(self.sequencer)
    }
}
