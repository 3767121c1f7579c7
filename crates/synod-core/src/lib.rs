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
//!   host ──on_tick()────────────────▶ └──────┘
//! ```
//!
//! The call order a host must respect is documented on [`node::Node`]. Logical time inside a
//! node is counted in ticks; the simulator decides how much virtual time a tick is.
//!
//! The state every protocol replicates is the key-value store of the story
//! ([`kv::KvStore`]): `get`, `set`, `contains` and `remove`, applied deterministically behind
//! the [`kv::StateMachine`] trait.

pub mod ids;
pub mod kv;
pub mod message;
pub mod node;
pub mod single;

pub use ids::{Ballot, ClientId, CommandId, NodeId, Slot};
pub use kv::{KvOp, KvResult, KvStore, StateMachine};
pub use message::{ClientReply, ClientRequest, Command, Message, ReplyStatus};
pub use node::{Durable, DurableWrite, Event, Node, NodeConfig, NodeView, Output, Protocol, Role};
