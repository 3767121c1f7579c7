//! Deliberately broken variants of the protocols, as switches in the node configuration.
//!
//! The playground teaches by letting a learner break Paxos on purpose and watch the checkers
//! catch it. Each [`Bug`] is one real, well-known way to get a replication protocol wrong
//! (numbered as in `correctness.md` §2). A bug is not a scripted outcome: switching it on
//! changes one code path inside the node, and the protocol then goes wrong only when the
//! schedule of messages, crashes and clients exposes that path, exactly as in real systems.
//!
//! All bugs are off by default. [`Bugs`] is a small set of them, serialized as a list of
//! kebab-case names (`["minority-quorum", "no-dedup"]`) so scenario files stay readable.
//!
//! Where each bug lives:
//!
//! | bug | code path |
//! |---|---|
//! | `accept-below-promise` | the acceptor's `Accept` handler skips the ballot check |
//! | `ignore-promised-values` | a new leader drops the accepted values its promises report |
//! | `minority-quorum` | quorum size is `n/2` instead of `n/2 + 1` |
//! | `stale-local-read` | any replica answers reads from its own table |
//! | `leader-read-without-lease` | a node that believes it leads answers reads from its table |
//! | `ack-before-chosen` | the leader replies when it proposes, before a majority accepted |
//! | `no-dedup` | the apply step forgets the per-client table of answered commands |
//! | `apply-accepted` | the apply step also applies accepted, undecided entries |
//! | `no-persist` | promise and accept writes never reach stable storage |
//! | `ballot-reuse` | a restarted node carries on leading with its pre-crash ballot |
//! | `naive-quorum-read` | [`crate::quorum_read::Collector`] answers without waiting for a decision |
//! | `snapshot-off-by-one` | installing a snapshot through slot `u` (received, or restored after a restart) resumes applying at `u + 2`, skipping `u + 1` |
//! | `two-config-changes` | the leader accepts an admin request while another change is in flight, and quorums count learners' answers as if they were voters |

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// One deliberately broken behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    /// 1. The acceptor accepts a ballot below its promise.
    AcceptBelowPromise,
    /// 2. The new leader ignores values reported in promises and proposes its own commands.
    IgnorePromisedValues,
    /// 3. Quorums that do not intersect: a minority counted as a majority.
    MinorityQuorum,
    /// 4. Reads served from a replica's local state.
    StaleLocalRead,
    /// 5. The leader serves reads without confirming it is still the leader.
    LeaderReadWithoutLease,
    /// 6. The client is acknowledged when the leader accepts locally, before the command is
    ///    chosen.
    AckBeforeChosen,
    /// 7. Retried commands are not de-duplicated.
    NoDedup,
    /// 8. A follower applies entries that are accepted but not decided.
    ApplyAccepted,
    /// 9. Promises and accepts are not persisted before replying.
    NoPersist,
    /// 10. Off-by-one when installing a snapshot: the slot after it is skipped.
    SnapshotOffByOne,
    /// 11. Two configuration changes in flight at once, and learners counted in quorums.
    TwoConfigChanges,
    /// 12. Ballot numbers reused after restart.
    BallotReuse,
    /// 13. Naive majority read without waiting for the highest accepted write to be decided.
    NaiveQuorumRead,
}

impl Bug {
    /// Every bug, in the order of `correctness.md` §2.
    pub const ALL: [Bug; 13] = [
        Bug::AcceptBelowPromise,
        Bug::IgnorePromisedValues,
        Bug::MinorityQuorum,
        Bug::StaleLocalRead,
        Bug::LeaderReadWithoutLease,
        Bug::AckBeforeChosen,
        Bug::NoDedup,
        Bug::ApplyAccepted,
        Bug::NoPersist,
        Bug::SnapshotOffByOne,
        Bug::TwoConfigChanges,
        Bug::BallotReuse,
        Bug::NaiveQuorumRead,
    ];

    /// The kebab-case name used on the command line and in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Bug::AcceptBelowPromise => "accept-below-promise",
            Bug::IgnorePromisedValues => "ignore-promised-values",
            Bug::MinorityQuorum => "minority-quorum",
            Bug::StaleLocalRead => "stale-local-read",
            Bug::LeaderReadWithoutLease => "leader-read-without-lease",
            Bug::AckBeforeChosen => "ack-before-chosen",
            Bug::NoDedup => "no-dedup",
            Bug::ApplyAccepted => "apply-accepted",
            Bug::NoPersist => "no-persist",
            Bug::SnapshotOffByOne => "snapshot-off-by-one",
            Bug::TwoConfigChanges => "two-config-changes",
            Bug::BallotReuse => "ballot-reuse",
            Bug::NaiveQuorumRead => "naive-quorum-read",
        }
    }

    /// The bug's number in `correctness.md` §2.
    pub fn number(self) -> u8 {
        match self {
            Bug::AcceptBelowPromise => 1,
            Bug::IgnorePromisedValues => 2,
            Bug::MinorityQuorum => 3,
            Bug::StaleLocalRead => 4,
            Bug::LeaderReadWithoutLease => 5,
            Bug::AckBeforeChosen => 6,
            Bug::NoDedup => 7,
            Bug::ApplyAccepted => 8,
            Bug::NoPersist => 9,
            Bug::SnapshotOffByOne => 10,
            Bug::TwoConfigChanges => 11,
            Bug::BallotReuse => 12,
            Bug::NaiveQuorumRead => 13,
        }
    }

    /// Looks a bug up by its kebab-case name.
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Whether switching the bug on changes behaviour in this version of the crate.
    pub fn implemented(self) -> bool {
        true
    }

    /// What goes wrong, in a sentence or two for the page.
    pub fn describe(self) -> &'static str {
        match self {
            Bug::AcceptBelowPromise => {
                "An acceptor accepts a proposal whose ballot is below the one it promised, so \
                 an old leader can still get a value chosen after a new leader has recovered \
                 the slot with a different one."
            }
            Bug::IgnorePromisedValues => {
                "A new leader ignores the values its promises report and proposes its own \
                 commands in those slots, overwriting a value that may already be chosen."
            }
            Bug::MinorityQuorum => {
                "Quorums are counted as n/2 instead of n/2 + 1, so two quorums need not \
                 share a node and two leaders can each get a different value chosen."
            }
            Bug::StaleLocalRead => {
                "Every replica answers reads from its own table, which may lag behind \
                 writes that were already acknowledged."
            }
            Bug::LeaderReadWithoutLease => {
                "A node that believes it is the leader answers reads from its table without \
                 checking that it still is; a deposed leader cut off from the others serves \
                 stale values."
            }
            Bug::AckBeforeChosen => {
                "The leader acknowledges a write as soon as it proposes it, before a majority \
                 accepted it; if the leader then fails, an acknowledged write can be lost."
            }
            Bug::NoDedup => {
                "Replicas forget which client commands they already applied, so a retried \
                 command is applied twice."
            }
            Bug::ApplyAccepted => {
                "Replicas apply entries as soon as they accept them, before they are chosen; \
                 if a later leader chooses a different value for the slot, replicas diverge."
            }
            Bug::NoPersist => {
                "Promises and accepted values are kept only in memory; after a restart the \
                 node has forgotten them and can promise or accept against its word."
            }
            Bug::SnapshotOffByOne => {
                "Installing a snapshot replays the last slot it covers again, or skips the \
                 slot after it. Here it skips it: the replica's table misses that command \
                 and disagrees with every other replica at the same log position."
            }
            Bug::TwoConfigChanges => {
                "Two membership changes are in flight at once, or a learner is counted in a \
                 quorum. Here both: the leader starts a second change before the first is in \
                 force, and a learner's answer completes a quorum, so a value can be chosen \
                 without a majority of the voters."
            }
            Bug::BallotReuse => {
                "After a restart the node reuses the ballot it held before the crash and \
                 carries on as leader without a new phase 1, so one ballot ends up naming two \
                 different proposals for the same slot."
            }
            Bug::NaiveQuorumRead => {
                "A quorum read returns the newest write a majority reports even when that \
                 write is only accepted, not decided; it may never be chosen."
            }
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Bug {
    type Err = UnknownBug;

    fn from_str(s: &str) -> Result<Bug, UnknownBug> {
        Bug::from_name(s).ok_or_else(|| UnknownBug(s.to_owned()))
    }
}

/// A bug name that matched none of [`Bug::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownBug(pub String);

impl fmt::Display for UnknownBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown bug `{}`; known bugs:", self.0)?;
        for bug in Bug::ALL {
            write!(f, " {bug}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownBug {}

/// The set of bugs switched on for a node (empty by default: the correct protocol).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bugs(BTreeSet<Bug>);

impl Bugs {
    /// No bugs: the correct protocol.
    pub fn none() -> Bugs {
        Bugs::default()
    }

    /// Exactly one bug.
    pub fn only(bug: Bug) -> Bugs {
        Bugs::none().with(bug)
    }

    /// This set plus one more bug.
    pub fn with(mut self, bug: Bug) -> Bugs {
        self.0.insert(bug);
        self
    }

    /// Whether a bug is switched on.
    pub fn has(&self, bug: Bug) -> bool {
        self.0.contains(&bug)
    }

    /// Whether the protocol runs as designed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bugs switched on, in order.
    pub fn iter(&self) -> impl Iterator<Item = Bug> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Bug> for Bugs {
    fn from_iter<I: IntoIterator<Item = Bug>>(iter: I) -> Bugs {
        Bugs(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_name_round_trips_and_is_unique() {
        for bug in Bug::ALL {
            assert_eq!(Bug::from_name(bug.name()), Some(bug));
            assert_eq!(bug.name().parse::<Bug>(), Ok(bug));
            let json = serde_json::to_string(&bug).unwrap();
            assert_eq!(json, format!("\"{}\"", bug.name()));
            assert!(!bug.describe().is_empty());
        }
        let numbers: BTreeSet<u8> = Bug::ALL.iter().map(|b| b.number()).collect();
        assert_eq!(numbers, (1..=13).collect());
        assert!("no-such-bug".parse::<Bug>().is_err());
    }

    #[test]
    fn bug_set_serializes_as_a_list_of_names() {
        let bugs = Bugs::only(Bug::NoDedup).with(Bug::MinorityQuorum);
        let json = serde_json::to_string(&bugs).unwrap();
        assert_eq!(json, r#"["minority-quorum","no-dedup"]"#);
        let back: Bugs = serde_json::from_str(&json).unwrap();
        assert_eq!(back, bugs);
        assert!(back.has(Bug::NoDedup) && !back.has(Bug::NoPersist));
        assert!(Bugs::none().is_empty());
    }

    #[test]
    fn every_bug_is_implemented() {
        let missing: Vec<Bug> = Bug::ALL.into_iter().filter(|b| !b.implemented()).collect();
        assert_eq!(missing, vec![]);
    }
}
