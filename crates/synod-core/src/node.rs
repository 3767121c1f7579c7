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
//!    still keep the promise after a crash.
//!
//! A crash is modelled by the host dropping the node and later calling [`Node::restart`] with
//! the durable state it kept. Nothing else survives.

use crate::ids::{Ballot, ClientId, CommandId, NodeId, Slot};
use crate::kv::{KvStore, StateMachine};
use crate::message::{ClientReply, ClientRequest, Message};
use crate::single::SingleNode;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// The replication strategies of the story, each behind the same node API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// One single-threaded node: concurrent calls queue and execute one at a time.
    #[default]
    SingleNode,
}

impl Protocol {
    /// Every protocol, in the order the story introduces them.
    pub const ALL: [Protocol; 1] = [Protocol::SingleNode];

    /// A short name for menus and the command line.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::SingleNode => "single-node",
        }
    }

    /// The guarantee the protocol gives, in one sentence for the page.
    pub fn guarantee(self) -> &'static str {
        match self {
            Protocol::SingleNode => {
                "Strongly consistent: one thread executes one call at a time, so even \
                 overlapping calls behave as if they ran in some sequence. But the one node is \
                 a single point of failure."
            }
        }
    }

    /// How many nodes the protocol supports.
    pub fn node_range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Protocol::SingleNode => 1..=1,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A node's static configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConfig {
    pub id: NodeId,
    /// Every voting member, including this node.
    pub members: Vec<NodeId>,
    pub protocol: Protocol,
    /// How many ticks a single-threaded node spends executing one command.
    pub service_ticks: u32,
}

impl NodeConfig {
    /// A one-node cluster running the single-node protocol.
    pub fn single(service_ticks: u32) -> NodeConfig {
        NodeConfig {
            id: NodeId(0),
            members: vec![NodeId(0)],
            protocol: Protocol::SingleNode,
            service_ticks,
        }
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

/// The state a node keeps across a crash. The host starts from `Durable::default()`, applies
/// every [`DurableWrite`] the node hands it in an [`Output::Persist`] (with
/// [`Durable::apply`]), and gives the result back to [`Node::restart`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durable {
    /// The highest ballot this node promised (zero before any promise).
    pub promised: Ballot,
}

/// One write to stable storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum DurableWrite {
    /// The node promised not to accept ballots below this one.
    Promise { ballot: Ballot },
}

impl Durable {
    /// Records one write, as stable storage would.
    pub fn apply(&mut self, write: &DurableWrite) {
        match write {
            DurableWrite::Promise { ballot } => self.promised = self.promised.max(*ballot),
        }
    }
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
        }
    }
}

/// The role a node plays right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The only node there is.
    Solo,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Solo => f.write_str("solo"),
        }
    }
}

/// One log position as drawn by the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    pub slot: Slot,
    pub command: Option<String>,
    pub chosen: bool,
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
    /// Commands waiting behind it.
    pub queue: Vec<CommandId>,
}

/// A node of any protocol.
#[derive(Clone, Debug)]
pub struct Node {
    inner: Inner,
    outbox: VecDeque<Output>,
}

#[derive(Clone, Debug)]
enum Inner {
    Single(SingleNode),
}

impl Node {
    /// A fresh node: empty state, nothing promised.
    pub fn new(config: NodeConfig) -> Node {
        Node::restart(config, Durable::default())
    }

    /// A node rebuilt after a crash from the durable state it persisted.
    pub fn restart(config: NodeConfig, durable: Durable) -> Node {
        let inner = match config.protocol {
            Protocol::SingleNode => Inner::Single(SingleNode::new(config, durable)),
        };
        Node {
            inner,
            outbox: VecDeque::new(),
        }
    }

    /// A client request arrived.
    pub fn on_client(&mut self, from: ClientId, request: ClientRequest) {
        match &mut self.inner {
            Inner::Single(n) => n.on_client(from, request, &mut self.outbox),
        }
    }

    /// A message from another node arrived.
    pub fn on_message(&mut self, from: NodeId, msg: Message) {
        let _ = from;
        match msg {}
    }

    /// One tick of this node's logical clock passed. `entropy` is a fresh random number from
    /// the host, for the protocols that randomize timeouts or back-off (the node has no
    /// randomness of its own, so a seeded host replays it exactly).
    pub fn on_tick(&mut self, entropy: u64) {
        let _ = entropy;
        match &mut self.inner {
            Inner::Single(n) => n.on_tick(&mut self.outbox),
        }
    }

    /// The next thing the node wants done, in order.
    pub fn poll(&mut self) -> Option<Output> {
        self.outbox.pop_front()
    }

    /// A picture of the node for drawing.
    pub fn view(&self) -> NodeView {
        match &self.inner {
            Inner::Single(n) => n.view(),
        }
    }

    /// The fingerprint of the node's applied state and how many entries it reflects.
    pub fn applied_digest(&self) -> (u64, u64) {
        match &self.inner {
            Inner::Single(n) => (n.applied(), n.store().digest()),
        }
    }

    /// The node's state machine, for the oracles.
    pub fn store(&self) -> &KvStore {
        match &self.inner {
            Inner::Single(n) => n.store(),
        }
    }
}
