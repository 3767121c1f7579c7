//! A node's static configuration: who it is, who its peers are, which protocol it runs, how
//! it reads, how long its timers are (in ticks), and which deliberate bugs are switched on.
//!
//! Every field added after the first scenario files were written carries `serde(default)`, so
//! an old file (`id`, `members`, `protocol`, `service_ticks`) still loads and means the same.

use crate::bugs::Bugs;
use crate::ids::NodeId;
use crate::node::Protocol;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a replicated cluster answers `get` and `contains`.
///
/// The modes only differ for the Paxos protocols. The earlier strategies of the story have a
/// single read path of their own: naive replication reads locally, timestamp ordering reads
/// at the read's timestamp on the receiving node, the sequencer orders reads like writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadMode {
    /// Reads go through the log like writes: linearizable, and as slow as a write.
    #[default]
    Log,
    /// The story's quorum read: the client asks every node, and each answers with the newest
    /// write to the key it knows of (slot, ballot, whether it is decided). The client decides
    /// with [`crate::quorum_read::Collector`] once a majority answered, and asks again while
    /// the newest write is not yet decided.
    Quorum,
    /// Any node answers from its own table at once. Fast and **unsafe**: the table may lag
    /// behind acknowledged writes.
    Local,
}

impl ReadMode {
    /// Every read mode.
    pub const ALL: [ReadMode; 3] = [ReadMode::Log, ReadMode::Quorum, ReadMode::Local];

    /// The kebab-case name for menus and the command line.
    pub fn name(self) -> &'static str {
        match self {
            ReadMode::Log => "log",
            ReadMode::Quorum => "quorum",
            ReadMode::Local => "local",
        }
    }

    /// Whether reads in this mode are linearizable when the protocol is correct.
    pub fn is_safe(self) -> bool {
        !matches!(self, ReadMode::Local)
    }
}

impl fmt::Display for ReadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The node's timers, all counted in its own ticks. The host decides how long a tick is.
///
/// Randomized timers draw from the `entropy` the host passes to [`crate::Node::on_tick`], so
/// two nodes with the same configuration still time out at different moments, and a seeded
/// host replays them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Timing {
    /// A Multi-Paxos leader sends a heartbeat this often.
    pub heartbeat_ticks: u32,
    /// A follower that hears nothing from a leader for this long (plus jitter) campaigns.
    pub election_timeout_ticks: u32,
    /// Up to this many extra ticks, drawn afresh every time the election timer is reset.
    pub election_jitter_ticks: u32,
    /// A proposer re-sends prepares and accepts that got no answer after this long, and
    /// gives a phase 1 up (retrying with a higher ballot) after twice this long.
    pub retry_ticks: u32,
    /// After a rejection, a proposer waits this long times the number of failed attempts
    /// (capped at 4), plus up to as much again at random, before it tries a higher ballot.
    pub backoff_ticks: u32,
    /// Timestamp ordering holds a command back this long after its timestamp before
    /// applying it, hoping every command with a smaller timestamp has arrived by then.
    pub holdback_ticks: u32,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            heartbeat_ticks: 3,
            election_timeout_ticks: 12,
            election_jitter_ticks: 8,
            retry_ticks: 8,
            backoff_ticks: 4,
            holdback_ticks: 6,
        }
    }
}

impl Timing {
    /// These timers stretched so that the protocol still settles when a message round trip
    /// takes up to `round_trip_ticks`. A timer already longer is left alone, so for a fast
    /// network this is the timing itself.
    ///
    /// Why each bound: a proposer that retries before an answer can arrive only floods the
    /// network, and one that gives phase 1 up (after twice `retry_ticks`) before the promises
    /// can arrive never leads, so `retry_ticks` exceeds a round trip. Two followers whose
    /// election timers fire less than a round trip apart both campaign before either hears
    /// of the other, and the higher ballot pre-empts the lower one over and over, so the
    /// jitter spreads timers over two round trips, and the back-off after a rejection is at
    /// least one. A follower must not give up on a live leader because heartbeats arrive
    /// unevenly (latency varies by up to a round trip's half) or because a new leader's
    /// first heartbeat is still on its way, so the election timeout is two heartbeats plus a
    /// round trip.
    pub fn for_round_trip(self, round_trip_ticks: u32) -> Timing {
        let rtt = round_trip_ticks;
        Timing {
            heartbeat_ticks: self.heartbeat_ticks,
            election_timeout_ticks: self
                .election_timeout_ticks
                .max(self.heartbeat_ticks.saturating_mul(2).saturating_add(rtt)),
            election_jitter_ticks: self.election_jitter_ticks.max(rtt.saturating_mul(2)),
            retry_ticks: self.retry_ticks.max(rtt.saturating_add(rtt / 4 + 1)),
            backoff_ticks: self.backoff_ticks.max(rtt),
            holdback_ticks: self.holdback_ticks,
        }
    }

    /// How many retry periods apart a basic-Paxos node asks a peer for decided entries from
    /// its first gap on (anti-entropy).
    pub const ANTI_ENTROPY_RETRIES: u32 = 3;

    /// A basic-Paxos node asks one peer (in turn) for the decided entries from its first
    /// gap on this often: [`Timing::ANTI_ENTROPY_RETRIES`] × `retry_ticks`, at least 1.
    /// Basic Paxos has no leader and so no heartbeat that would reveal a missed `Decide`.
    pub fn anti_entropy_ticks(&self) -> u32 {
        self.retry_ticks
            .saturating_mul(Timing::ANTI_ENTROPY_RETRIES)
            .max(1)
    }
}

/// A node's static configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConfig {
    pub id: NodeId,
    /// Every voting member, including this node, when the node is created. For a learner
    /// ([`NodeConfig::learner`]) these are the cluster's *current* voters, and the node itself
    /// is not among them. Later changes come from the log, not from this list.
    pub members: Vec<NodeId>,
    pub protocol: Protocol,
    /// How many ticks a single-threaded node spends executing one command.
    #[serde(default)]
    pub service_ticks: u32,
    /// How reads are answered (Paxos protocols only).
    #[serde(default)]
    pub read_mode: ReadMode,
    /// Timers, in ticks.
    #[serde(default)]
    pub timing: Timing,
    /// Added to the tick count to give the node's wall clock (timestamp ordering only).
    /// Negative means the clock runs behind.
    #[serde(default)]
    pub clock_skew_ticks: i64,
    /// Deliberately broken behaviours switched on (none by default).
    #[serde(default)]
    pub bugs: Bugs,
    /// Snapshot policy: take a snapshot (and compact the log) each time this many slots were
    /// applied since the last one. 0, the default, means never on its own (the host can still
    /// call [`crate::Node::snapshot_now`]). Paxos protocols only.
    #[serde(default)]
    pub snapshot_every: u64,
    /// The node joins an existing Multi-Paxos cluster as a learner: it is not in `members`,
    /// never votes or campaigns, and waits for the leader to add it
    /// ([`crate::AdminCommand::AddLearner`]) and later promote it.
    #[serde(default)]
    pub learner: bool,
}

impl NodeConfig {
    /// A one-node cluster running the single-node protocol.
    pub fn single(service_ticks: u32) -> NodeConfig {
        NodeConfig {
            service_ticks,
            ..NodeConfig::new(NodeId(0), vec![NodeId(0)], Protocol::SingleNode)
        }
    }

    /// Node `id` of a cluster of `members` running `protocol`, with linearizable reads
    /// through the log, default timers, no clock skew and no bugs.
    pub fn new(id: NodeId, members: Vec<NodeId>, protocol: Protocol) -> NodeConfig {
        NodeConfig {
            id,
            members,
            protocol,
            service_ticks: 1,
            read_mode: ReadMode::Log,
            timing: Timing::default(),
            clock_skew_ticks: 0,
            bugs: Bugs::none(),
            snapshot_every: 0,
            learner: false,
        }
    }

    /// A brand-new node `id` that will join a Multi-Paxos cluster whose voters are now
    /// `voters`, as a learner.
    pub fn learner(id: NodeId, voters: Vec<NodeId>, protocol: Protocol) -> NodeConfig {
        NodeConfig {
            learner: true,
            ..NodeConfig::new(id, voters, protocol)
        }
    }

    /// The same configuration with a snapshot every `slots` applied slots (0: never).
    pub fn with_snapshot_every(mut self, slots: u64) -> NodeConfig {
        self.snapshot_every = slots;
        self
    }

    /// Configurations for every node of an `n`-node cluster `n1..=nn`.
    pub fn cluster(n: u8, protocol: Protocol) -> Vec<NodeConfig> {
        let members: Vec<NodeId> = (0..n).map(NodeId).collect();
        members
            .iter()
            .map(|&id| NodeConfig::new(id, members.clone(), protocol))
            .collect()
    }

    /// The same configuration with another read mode.
    pub fn with_read_mode(mut self, read_mode: ReadMode) -> NodeConfig {
        self.read_mode = read_mode;
        self
    }

    /// The same configuration with these bugs switched on.
    pub fn with_bugs(mut self, bugs: Bugs) -> NodeConfig {
        self.bugs = bugs;
        self
    }

    /// How many members make a majority: `n/2 + 1`, for odd and even `n` alike.
    pub fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// The members other than this node, in order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.iter().copied().filter(move |&m| m != self.id)
    }

    /// Whether `node` is a member of the cluster.
    pub fn is_member(&self, node: NodeId) -> bool {
        self.members.contains(&node)
    }

    /// Checks that the configuration describes a cluster the protocol can run.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let n = self.members.len();
        let range = self.protocol.node_range();
        if n == 0 || n > usize::from(*range.end()) || n < usize::from(*range.start()) {
            return Err(ConfigError::ClusterSize {
                protocol: self.protocol,
                nodes: u8::try_from(n).unwrap_or(u8::MAX),
            });
        }
        let mut sorted = self.members.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != n {
            return Err(ConfigError::DuplicateMember);
        }
        if self.learner {
            if self.protocol != Protocol::MultiPaxos {
                return Err(ConfigError::LearnerUnsupported(self.protocol));
            }
            if self.is_member(self.id) {
                return Err(ConfigError::LearnerIsVoter(self.id));
            }
        } else if !self.is_member(self.id) {
            return Err(ConfigError::NotAMember(self.id));
        }
        Ok(())
    }
}

/// A configuration the node cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigError {
    /// The protocol does not support this many nodes.
    ClusterSize { protocol: Protocol, nodes: u8 },
    /// A node is listed twice in `members`.
    DuplicateMember,
    /// The node's own id is not among the members.
    NotAMember(NodeId),
    /// Only Multi-Paxos supports learners.
    LearnerUnsupported(Protocol),
    /// A learner's id is listed among the voting members.
    LearnerIsVoter(NodeId),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ClusterSize { protocol, nodes } => {
                let r = protocol.node_range();
                write!(
                    f,
                    "{protocol} runs on {} to {} nodes, not {nodes}",
                    r.start(),
                    r.end()
                )
            }
            ConfigError::DuplicateMember => f.write_str("a node is listed twice in members"),
            ConfigError::NotAMember(id) => write!(f, "{id} is not one of the members"),
            ConfigError::LearnerUnsupported(p) => write!(f, "{p} does not support learners"),
            ConfigError::LearnerIsVoter(id) => {
                write!(f, "learner {id} must not be listed among the voters")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_for_a_fast_network_is_the_timing_itself() {
        let t = Timing::default();
        assert_eq!(t.for_round_trip(0), t);
        assert_eq!(t.for_round_trip(3), t);
    }

    #[test]
    fn timing_for_a_slow_network_outlasts_its_round_trip() {
        let rtt = 134; // a second one way at most, a third of it at least, 10 ms ticks
        let t = Timing::default().for_round_trip(rtt);
        assert!(t.retry_ticks > rtt, "a retry waits for the answer");
        assert!(
            t.election_jitter_ticks >= 2 * rtt,
            "candidates spread apart"
        );
        assert!(t.election_timeout_ticks > rtt + t.heartbeat_ticks);
        assert!(t.backoff_ticks >= rtt);
        assert_eq!(t.heartbeat_ticks, Timing::default().heartbeat_ticks);
        assert_eq!(t.holdback_ticks, Timing::default().holdback_ticks);
    }

    #[test]
    fn old_scenario_config_without_new_fields_still_loads() {
        let json = r#"{"id":1,"members":[0,1,2],"protocol":"single_node","service_ticks":2}"#;
        let c: NodeConfig = serde_json::from_str(json).unwrap();
        assert_eq!(c.read_mode, ReadMode::Log);
        assert_eq!(c.timing, Timing::default());
        assert!(c.bugs.is_empty());
        assert_eq!(c.clock_skew_ticks, 0);
    }

    #[test]
    fn majority_is_half_plus_one_for_odd_and_even_sizes() {
        let expect = [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)];
        for (n, q) in expect {
            let c = &NodeConfig::cluster(n, Protocol::MultiPaxos)[0];
            assert_eq!(c.majority(), q, "n = {n}");
            assert_eq!(c.validate(), Ok(()));
        }
    }

    #[test]
    fn invalid_configurations_are_typed_errors() {
        let mut c = NodeConfig::new(NodeId(3), vec![NodeId(0), NodeId(1)], Protocol::MultiPaxos);
        assert_eq!(c.validate(), Err(ConfigError::NotAMember(NodeId(3))));
        c.members = vec![NodeId(3), NodeId(3)];
        assert_eq!(c.validate(), Err(ConfigError::DuplicateMember));
        let big = &NodeConfig::cluster(8, Protocol::MultiPaxos)[0];
        assert!(matches!(
            big.validate(),
            Err(ConfigError::ClusterSize { nodes: 8, .. })
        ));
        let two_single = &NodeConfig::cluster(2, Protocol::SingleNode)[0];
        assert!(two_single.validate().is_err());
    }
}
