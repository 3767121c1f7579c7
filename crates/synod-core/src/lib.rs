//! # synod-core: the protocols a learner watches
//!
//! Everything in this crate is *sans-IO*: a node never reads a clock, never draws a random
//! number from the operating system, never touches a socket or a file. The host (the
//! simulator, a test, or one day a real server) feeds a node three kinds of input and drains
//! what the node wants done:
//!
//! ```text
//!   host ──on_client(from, request)──▶ ┌──────┐
//!   host ──on_message(from, message)─▶ │ Node │ ──poll()──▶ Output::{Send, Reply, Persist, Event}
//!   host ──on_tick(entropy)──────────▶ └──────┘
//! ```
//!
//! The call order a host must respect is documented on [`node::Node`]. Logical time inside a
//! node is counted in ticks; the simulator decides how much virtual time a tick is.
//!
//! The state every protocol replicates is the key-value store of the story
//! ([`kv::KvStore`]): `get`, `set`, `contains` and `remove`, applied deterministically behind
//! the [`kv::StateMachine`] trait.
//!
//! The protocols follow the story in order ([`Protocol::ALL`]):
//!
//! - [`single`]: one single-threaded node;
//! - [`naive`]: apply locally, tell the others, reply at once;
//! - [`timestamps`]: order by the receiving node's (skewed) clock with a hold-back;
//! - [`sequencer`]: one fixed node numbers every command;
//! - [`paxos`]: basic Paxos (two phases per command) and Multi-Paxos (a stable leader).
//!
//! [`bugs`] lists the deliberately broken variants a learner can switch on, and
//! [`quorum_read`] is the client's half of the story's quorum read.

pub mod bugs;
pub mod config;
pub mod ids;
pub mod kv;
pub mod message;
pub mod naive;
pub mod node;
pub mod paxos;
pub mod quorum_read;
mod replica;
pub mod sequencer;
pub mod single;
pub mod timestamps;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use bugs::{Bug, Bugs};
pub use config::{ConfigError, NodeConfig, ReadMode, Timing};
pub use ids::{Ballot, ClientId, CommandId, NodeId, Slot};
pub use kv::{KvOp, KvResult, KvStore, StateMachine};
pub use message::{
    ClientReply, ClientRequest, Command, KeyWrite, Message, PromiseEntry, ReadReport, ReplyStatus,
    Timestamp, Value,
};
pub use node::{
    AcceptedValue, Durable, DurableWrite, Event, LogEntryView, Node, NodeView, Output, Protocol,
    Role,
};
pub use quorum_read::{Collector, Verdict};
