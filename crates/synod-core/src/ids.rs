//! Identifiers with the names the papers give them.
//!
//! Every identifier is a newtype with a fixed-width integer inside, so that nothing hashed or
//! serialized depends on the platform's `usize` (wasm32 and x86_64 must agree bit for bit).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A replica in the cluster. Nodes are numbered from 0 and shown to people as `n1`, `n2`, ...
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u8);

impl NodeId {
    /// The index of this node in per-node tables.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", u16::from(self.0) + 1)
    }
}

/// A client of the cluster, shown as `c1`, `c2`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub u16);

impl ClientId {
    /// The index of this client in per-client tables.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", u32::from(self.0) + 1)
    }
}

/// The identity of one client command: the client and its own sequence number.
///
/// A client that retries a command after a timeout sends the *same* id again, which is what
/// lets replicas de-duplicate it and answer from their table instead of applying it twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CommandId {
    pub client: ClientId,
    pub seq: u64,
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.client, self.seq)
    }
}

/// A ballot (the story's "sequence number" for a proposal): a round number made unique by the
/// proposing node. Ballots are totally ordered, round first, then node.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    pub round: u64,
    pub node: NodeId,
}

impl Ballot {
    /// The ballot below every real one: nothing has been promised yet.
    pub const ZERO: Ballot = Ballot {
        round: 0,
        node: NodeId(0),
    };

    /// The smallest ballot owned by `node` that is higher than `self`.
    pub fn next_for(self, node: NodeId) -> Ballot {
        Ballot {
            round: self.round + 1,
            node,
        }
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, u16::from(self.node.0) + 1)
    }
}

/// A position in the replicated log.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Slot(pub u64);

impl Slot {
    /// The slot after this one.
    pub fn next(self) -> Slot {
        Slot(self.0 + 1)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_node() {
        let a = Ballot {
            round: 1,
            node: NodeId(2),
        };
        let b = Ballot {
            round: 2,
            node: NodeId(0),
        };
        let c = Ballot {
            round: 2,
            node: NodeId(1),
        };
        assert!(Ballot::ZERO < a && a < b && b < c);
        assert_eq!(a.next_for(NodeId(0)), b);
    }

    #[test]
    fn identifiers_display_one_based_like_the_story() {
        assert_eq!(NodeId(0).to_string(), "n1");
        assert_eq!(ClientId(2).to_string(), "c3");
        let b = Ballot {
            round: 3,
            node: NodeId(0),
        };
        assert_eq!(b.to_string(), "3.1");
    }
}
