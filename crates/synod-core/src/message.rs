//! What travels between clients and nodes, and between nodes.

use crate::ids::{CommandId, NodeId};
use crate::kv::{KvOp, KvResult};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A client command: the operation and the id that makes retries recognisable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Command {
    pub id: CommandId,
    pub op: KvOp,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.op)
    }
}

/// A request from a client to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    pub command: Command,
}

/// A node's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReply {
    pub id: CommandId,
    pub status: ReplyStatus,
}

/// The three outcomes a client can learn, plus a redirect.
///
/// A client that hears nothing (a timeout) knows *nothing*: the command may or may not take
/// effect later. That third outcome is never sent; the client infers it, and the history
/// records it as unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReplyStatus {
    /// The command took effect (or, for a read, was answered) with this result.
    Ok { result: KvResult },
    /// The command definitely did not and will not take effect.
    Failed { reason: String },
    /// Ask another node: this one is not the leader (`None` when it does not know one).
    Redirect { leader: Option<NodeId> },
}

/// Messages between nodes. Single-node clusters send none; the replicated protocols add
/// their own variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Message {}

impl fmt::Display for Message {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}
