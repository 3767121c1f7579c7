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
//! [`bugs`] lists the deliberately broken variants a learner can switch on,
//! [`quorum_read`] is the client's half of the story's quorum read, and [`membership`]
//! holds the end of the story: snapshots, and adding a node by replaying the log from the
//! start or by installing a snapshot.
//!
//! # Design decisions a host should know
//!
//! - **Decisions spread with explicit `Decide` messages** from the proposer that counted the
//!   majority, to every other node: steady-state Multi-Paxos costs 3(n-1) messages per
//!   command (accept, accepted, decide), basic Paxos 5(n-1). Heartbeats also carry the
//!   leader's decided prefix so a replica that missed a `Decide` asks for `CatchUp`.
//!   Basic Paxos has no leader and no heartbeat, so it runs anti-entropy instead: every
//!   [`Timing::anti_entropy_ticks`] (3 retry periods) each node asks one peer, in turn, for
//!   the decided entries from its first gap on, and asks at once when an `Accept` or
//!   `Prepare` for a later slot shows it lags. A peer with nothing newer does not answer.
//! - **The sequencer survives message loss** (not its own crash): when idle for a retry
//!   period it sends a `Heartbeat` (ballot zero) with the next number it will hand out, and
//!   a follower that knows of numbers it lacks asks again every retry period.
//! - **[`Node::decided_upto`] is O(1)** for the Paxos protocols (the first gap is tracked
//!   as decisions arrive) and for the sequencer; the other strategies' logs have no holes
//!   and answer in O(log n).
//! - **Followers redirect, they do not forward**: a Multi-Paxos follower answers
//!   [`ReplyStatus::Redirect`] with the leader it knows; a node that knows no leader keeps
//!   the command and campaigns at once. Basic Paxos never redirects (any node proposes).
//!   The sequencer's followers redirect to the sequencer.
//! - **Timers are in ticks** ([`Timing`]): heartbeat every 3, election after 12 plus 0..=8
//!   drawn from `on_tick`'s entropy each time the timer is reset, retransmission after 8,
//!   back-off of 4 × failed attempts (capped at 4) plus 0..=8 drawn, hold-back of 6.
//! - **Everything queued is bounded**: pending commands per node
//!   ([`paxos::MAX_PENDING`]), slots in flight ([`paxos::MAX_IN_FLIGHT`]), waiting clients,
//!   the timestamp hold-back queue and catch-up replies. The decided log grows until a
//!   snapshot compacts it ([`NodeConfig::snapshot_every`], or [`Node::snapshot_now`]).
//! - **Snapshots** (both Paxos variants) cover applied slots only, carry the table, the
//!   de-duplication table and the memberships, and are durable
//!   ([`DurableWrite::Snapshot`]): a restarted node restores its snapshot and replays the
//!   decided entries after it. A replica behind the sender's compaction point receives
//!   `InstallSnapshot` (kind `"snapshot"`, size [`Snapshot::size_bytes`]) and then the tail.
//! - **Membership** (Multi-Paxos only) changes through the log ([`Value::Reconfigure`]) on an
//!   admin request to the leader ([`Node::on_admin`] with an [`AdminCommand`]); a new node
//!   is created with [`NodeConfig::learner`], joins as a learner that never counts toward a
//!   quorum, catches up by [`CatchUpMethod::Replay`] or [`CatchUpMethod::Snapshot`], and is
//!   then promoted. A change decided in slot `s` governs slots from `s + α` on
//!   ([`CONFIG_DELAY`] = [`paxos::MAX_IN_FLIGHT`]); one change at a time. The other
//!   strategies answer [`AdminError::Unsupported`].
//! - **At-most-once** assumes each client has one command outstanding at a time with
//!   increasing sequence numbers (see the `replica` module).

pub mod bugs;
pub mod config;
pub mod ids;
pub mod kv;
pub mod membership;
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
pub use membership::{
    replay_digest, AdminCommand, AdminError, CatchUpMethod, LastWrite, Learner, Membership,
    Session, Snapshot, CONFIG_DELAY,
};
pub use message::{
    ClientReply, ClientRequest, Command, KeyWrite, Message, PromiseEntry, ReadReport, ReplyStatus,
    Timestamp, Value, VoterSet,
};
pub use node::{
    AcceptedValue, CatchUpProgress, Durable, DurableWrite, Event, LogEntryView, LogRun, Node,
    NodeView, Output, Protocol, Role, SlotState,
};
pub use quorum_read::{Collector, Verdict};
