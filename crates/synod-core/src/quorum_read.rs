//! The client's side of a quorum read, as a pure state machine the simulator's clients use.
//!
//! The story's read: "the client must send the read command to all nodes and get the
//! majority of the reads, because a write is accepted by a majority." Each node answers with
//! a [`ReadReport`]: the newest write to the key it knows of, with its slot, the ballot it
//! accepted it at, and whether it knows the write was decided (see
//! [`ReadMode::Quorum`](crate::config::ReadMode::Quorum)).
//!
//! Why a majority is enough to find the latest *acknowledged* write: a write is acknowledged
//! only after it is chosen, and chosen means a majority accepted it, so any majority of
//! reports contains at least one node that has it. The newest write among the reports is
//! therefore at least as new as every acknowledged one.
//!
//! Why that alone is not enough: the newest write a majority reports may be *accepted but
//! not decided*. It may still lose its slot to another value, or be chosen a moment later.
//! Returning it could show a value that never takes effect; returning the older decided
//! value could miss a write that is chosen (and acknowledged) before the read returns.
//! Either way a read could go back in time. So the correct rule is:
//!
//! 1. wait for reports from a majority of distinct voters (of every voter set that may
//!    govern a recent slot, see below);
//! 2. find the newest write among them (highest slot, then highest ballot);
//! 3. if some report says that slot is decided, answer with the decided write's value;
//! 4. otherwise, ask every node again later ([`Verdict::AskAgain`]): the write will be
//!    decided (or replaced) and the next round of reports will say so.
//!
//! A "write" here is one that takes effect. A client that retries a write can get it
//! chosen in two slots, and the replicas skip the second copy (at-most-once), so a node
//! reports the newest write that its decided prefix shows is not such a copy, and marks a
//! write above its first gap as not known to be decided (it cannot rule the copy out yet).
//! Reporting the copy would bring back a value that later writes replaced: a stale read.
//!
//! # Whose majority, when the membership changes
//!
//! "A majority" means a majority of the voters that governed the slot of the write, and
//! with reconfiguration that is not one fixed set. Let `D` be the longest decided prefix
//! among the reports. The node that reported `D` knows every decided slot below `D`, so its
//! report alone covers the writes there (including those its snapshot covers). A write
//! chosen in a slot at or above `D` was accepted by a majority of the voters governing that
//! slot, so the read needs a majority of every voter set that may govern a slot from `D`
//! on: the one in force at `D` (which the node with prefix `D` knows, since a change only
//! comes into force `CONFIG_DELAY` slots after its own slot) and every later one any report
//! mentions, decided or only accepted. A change chosen at or above `D` was itself accepted by
//! a majority of the voters before it, one of whom therefore reports it, so the chain of
//! voter sets the read needs is closed. Each node reports these voter sets
//! ([`ReadReport::governing`]); the client asks every node it knows, not only the voters it
//! believes are current, and counts each report toward every voter set its sender is in.
//!
//! [`Bug::NaiveQuorumRead`] drops step 4 and answers with the undecided write.

use crate::bugs::{Bug, Bugs};
use crate::ids::{Ballot, NodeId, Slot};
use crate::kv::{KvOp, KvResult};
use crate::message::{read_result, KeyWrite, ReadReport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the client should do after a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Not enough reports yet.
    Waiting { have: u8, need: u8 },
    /// The read's answer: the key's value (`None`: absent), and the slot of the write it
    /// comes from (`None`: no write to the key anywhere).
    Value {
        value: Option<String>,
        slot: Option<Slot>,
    },
    /// The newest write (in `slot`) is not known to be decided: start a new round.
    AskAgain { slot: Slot },
}

/// Collects one round of quorum-read reports for one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collector {
    key: String,
    cluster_size: u8,
    naive: bool,
    reports: BTreeMap<NodeId, ReadReport>,
    rounds: u32,
}

impl Collector {
    /// A collector for `key` in a cluster of `cluster_size` nodes; `bugs` says whether the
    /// naive rule ([`Bug::NaiveQuorumRead`]) is used.
    pub fn new(key: &str, cluster_size: u8, bugs: &Bugs) -> Collector {
        Collector {
            key: key.to_owned(),
            cluster_size,
            naive: bugs.has(Bug::NaiveQuorumRead),
            reports: BTreeMap::new(),
            rounds: 1,
        }
    }

    /// How many distinct nodes must report before the reports can settle anything (a
    /// majority of the cluster size given; a changed membership may ask for more, see
    /// [`Collector::verdict`]).
    pub fn needed(&self) -> u8 {
        self.cluster_size / 2 + 1
    }

    /// The first voter set whose majority the reports lack, with how many of its voters
    /// reported and how many must, or `None` when every voter set that may govern a slot
    /// from the longest reported decided prefix on has its majority (see the module docs).
    /// When the report with the longest prefix names no voter sets (it was recorded before
    /// they existed), the voters in force at that prefix are unknown, and a majority of the
    /// cluster size given stands in for them.
    fn missing_majority(&self) -> Option<(u8, u8)> {
        let count = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
        let Some(d) = self.reports.values().map(|r| r.decided_upto).max() else {
            return Some((0, self.needed()));
        };
        // Of the reports tied at the longest prefix, one that names its voter sets.
        let longest = self
            .reports
            .values()
            .filter(|r| r.decided_upto == d)
            .find(|r| !r.governing.is_empty())
            .or_else(|| self.reports.values().find(|r| r.decided_upto == d))
            .expect("some report has the longest prefix");
        let in_force = longest
            .governing
            .iter()
            .filter(|v| v.from <= d)
            .max_by_key(|v| v.from)
            .or(longest.governing.first());
        if in_force.is_none() {
            let have = count(self.reports.len());
            if have < self.needed() {
                return Some((have, self.needed()));
            }
        }
        let later = self
            .reports
            .values()
            .flat_map(|r| r.governing.iter())
            .filter(|v| v.from > d);
        for set in in_force.into_iter().chain(later) {
            let have = count(
                self.reports
                    .keys()
                    .filter(|n| set.voters.contains(n))
                    .count(),
            );
            let need = count(set.voters.len() / 2 + 1);
            if have < need {
                return Some((have, need));
            }
        }
        None
    }

    /// How many rounds this read has started (1 for the first).
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Forgets the reports to start a new round (after [`Verdict::AskAgain`]).
    pub fn start_round(&mut self) {
        self.reports.clear();
        self.rounds += 1;
    }

    /// Adds one node's report (a later one from the same node replaces its earlier one;
    /// a report about another key is ignored) and returns the verdict so far. Reports from
    /// nodes outside every voter set are kept: they may know a longer decided prefix.
    pub fn offer(&mut self, from: NodeId, report: ReadReport) -> Verdict {
        if report.key == self.key {
            self.reports.insert(from, report);
        }
        self.verdict()
    }

    /// The verdict on the reports collected so far.
    pub fn verdict(&self) -> Verdict {
        if let Some((have, need)) = self.missing_majority() {
            return Verdict::Waiting { have, need };
        }
        // An undecided write below the longest decided prefix was either never chosen, or
        // chosen and then vouched for by the node with that prefix (whose newest write is at
        // least as new); either way it need not be waited for. A node that was removed, or
        // cut off, may hold such a write and never learn its fate.
        let longest = self.reports.values().map(|r| r.decided_upto).max();
        let writes = self
            .reports
            .values()
            .filter_map(|r| r.newest.as_ref())
            .filter(move |w| w.decided || Some(w.slot) >= longest);
        let Some(newest) = writes.clone().max_by_key(|w| (w.slot, w.ballot)) else {
            return Verdict::Value {
                value: None,
                slot: None,
            };
        };
        let decided: Option<&KeyWrite> =
            writes.clone().find(|w| w.slot == newest.slot && w.decided);
        match decided {
            Some(w) => Verdict::Value {
                value: w.value.clone(),
                slot: Some(w.slot),
            },
            None if self.naive => Verdict::Value {
                value: newest.value.clone(),
                slot: Some(newest.slot),
            },
            None => Verdict::AskAgain { slot: newest.slot },
        }
    }

    /// The answer a read operation gets from a [`Verdict::Value`]'s value.
    pub fn result(op: &KvOp, value: Option<String>) -> Option<KvResult> {
        read_result(op, value)
    }
}

/// The newest write among reports, by slot then ballot (exposed for drawing).
pub fn newest_write(reports: &[ReadReport]) -> Option<(Slot, Ballot)> {
    reports
        .iter()
        .filter_map(|r| r.newest.as_ref())
        .map(|w| (w.slot, w.ballot))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientId, CommandId};
    use crate::message::VoterSet;

    fn write(slot: u64, round: u64, decided: bool, value: &str) -> Option<KeyWrite> {
        Some(KeyWrite {
            slot: Slot(slot),
            ballot: Ballot {
                round,
                node: NodeId(0),
            },
            id: CommandId {
                client: ClientId(0),
                seq: slot,
            },
            decided,
            value: Some(value.to_owned()),
        })
    }

    fn report(newest: Option<KeyWrite>) -> ReadReport {
        ReadReport {
            key: "k".into(),
            newest,
            decided_upto: Slot(0),
            governing: vec![],
        }
    }

    fn voters(from: u64, nodes: &[u8]) -> VoterSet {
        VoterSet {
            from: Slot(from),
            voters: nodes.iter().map(|n| NodeId(*n)).collect(),
        }
    }

    /// A report from a node whose decided prefix ends at `upto`, knowing `governing`.
    fn report_at(upto: u64, newest: Option<KeyWrite>, governing: Vec<VoterSet>) -> ReadReport {
        ReadReport {
            decided_upto: Slot(upto),
            governing,
            ..report(newest)
        }
    }

    #[test]
    fn a_read_across_a_membership_change_needs_a_majority_of_the_voters_of_recent_slots() {
        // {n0, n1, n2} govern slots up to 11; {n0..n4} from 12 on. The newest write, "new"
        // in slot 10, was chosen by n0 and n1 alone; n2 missed it (its prefix ends at 10),
        // and the joiners n3 and n4 caught up to slot 10 as well. Three of the five new
        // voters report, which is a majority of the new membership but only one voter of
        // the membership that governed slot 10, so no report can vouch for slot 10.
        let both = || vec![voters(0, &[0, 1, 2]), voters(12, &[0, 1, 2, 3, 4])];
        let mut c = Collector::new("k", 5, &Bugs::none());
        for n in [2, 3, 4] {
            c.offer(NodeId(n), report_at(10, write(3, 1, true, "old"), both()));
        }
        assert_eq!(c.verdict(), Verdict::Waiting { have: 1, need: 2 });
        // n0, a voter of both, knows slot 10 decided: now both majorities are there.
        c.offer(NodeId(0), report_at(11, write(10, 2, true, "new"), both()));
        assert_eq!(
            c.verdict(),
            Verdict::Value {
                value: Some("new".into()),
                slot: Some(Slot(10))
            }
        );
    }

    #[test]
    fn a_change_only_accepted_still_needs_its_voters_majority() {
        // n0's prefix ends at 5 under {n0, n1, n2}; n1 accepted (not decided) a change to
        // {n2, n3, n4} from slot 9 on. The new voters may already have chosen writes the old
        // ones never saw, so reports from n0 and n1 alone settle nothing.
        let mut c = Collector::new("k", 3, &Bugs::none());
        c.offer(NodeId(0), report_at(5, None, vec![voters(0, &[0, 1, 2])]));
        let accepted = vec![voters(0, &[0, 1, 2]), voters(9, &[2, 3, 4])];
        c.offer(NodeId(1), report_at(5, None, accepted));
        assert_eq!(c.verdict(), Verdict::Waiting { have: 0, need: 2 });
        c.offer(NodeId(3), report_at(2, None, vec![voters(0, &[0, 1, 2])]));
        c.offer(NodeId(4), report_at(2, None, vec![voters(0, &[0, 1, 2])]));
        assert_eq!(
            c.verdict(),
            Verdict::Value {
                value: None,
                slot: None
            }
        );
    }

    #[test]
    fn a_longest_prefix_without_voter_sets_falls_back_to_a_plain_majority() {
        // n0's report knows the longest prefix but names no voter sets (an old-format
        // report), so whose majority governs slot 8 is unknown; n1's newer-format report
        // only names the voters of slots it already knows decided. Two of five reports are
        // not a majority of anything.
        let mut c = Collector::new("k", 5, &Bugs::none());
        c.offer(NodeId(0), report_at(8, write(7, 1, true, "v"), vec![]));
        let v = c.offer(
            NodeId(1),
            report_at(3, None, vec![voters(0, &[0, 1, 2, 3, 4])]),
        );
        assert_eq!(v, Verdict::Waiting { have: 2, need: 3 });
        let v = c.offer(
            NodeId(2),
            report_at(3, None, vec![voters(0, &[0, 1, 2, 3, 4])]),
        );
        assert_eq!(
            v,
            Verdict::Value {
                value: Some("v".into()),
                slot: Some(Slot(7))
            }
        );
    }

    #[test]
    fn of_reports_tied_at_the_longest_prefix_the_one_naming_voter_sets_governs() {
        // n1 and n4 both know slots up to 8; only n1's report names the voters in force
        // ({n0, n1, n2}). Whichever report comes last in node order, those voters' majority
        // is what counts, not a plain majority of the five.
        let mut c = Collector::new("k", 5, &Bugs::none());
        c.offer(NodeId(1), report_at(8, None, vec![voters(0, &[0, 1, 2])]));
        let v = c.offer(NodeId(4), report_at(8, None, vec![]));
        assert_eq!(v, Verdict::Waiting { have: 1, need: 2 });
        let v = c.offer(NodeId(2), report_at(3, None, vec![voters(0, &[0, 1, 2])]));
        assert_eq!(
            v,
            Verdict::Value {
                value: None,
                slot: None
            }
        );
    }

    #[test]
    fn an_undecided_write_below_the_longest_decided_prefix_is_not_waited_for() {
        // n2 (removed, or cut off) holds an accepted write in slot 4 that lost its slot; n0
        // knows every slot up to 7, and its newest write is in slot 2.
        let g = || vec![voters(0, &[0, 1, 2])];
        let mut c = Collector::new("k", 3, &Bugs::none());
        c.offer(NodeId(2), report_at(3, write(4, 1, false, "lost"), g()));
        c.offer(NodeId(0), report_at(8, write(2, 1, true, "kept"), g()));
        assert_eq!(
            c.verdict(),
            Verdict::Value {
                value: Some("kept".into()),
                slot: Some(Slot(2))
            }
        );
    }

    #[test]
    fn waits_for_a_majority_of_distinct_nodes() {
        let mut c = Collector::new("k", 5, &Bugs::none());
        let r = report(write(1, 1, true, "a"));
        assert_eq!(
            c.offer(NodeId(0), r.clone()),
            Verdict::Waiting { have: 1, need: 3 }
        );
        assert_eq!(
            c.offer(NodeId(0), r.clone()),
            Verdict::Waiting { have: 1, need: 3 }
        );
        assert_eq!(
            c.offer(NodeId(1), r.clone()),
            Verdict::Waiting { have: 2, need: 3 }
        );
        assert!(matches!(c.offer(NodeId(2), r), Verdict::Value { .. }));
    }

    #[test]
    fn newest_decided_write_wins_over_older_ones() {
        let mut c = Collector::new("k", 3, &Bugs::none());
        c.offer(NodeId(0), report(write(1, 1, true, "old")));
        let v = c.offer(NodeId(1), report(write(4, 2, true, "new")));
        assert_eq!(
            v,
            Verdict::Value {
                value: Some("new".into()),
                slot: Some(Slot(4))
            }
        );
    }

    #[test]
    fn undecided_newest_write_means_ask_again_unless_the_naive_bug_is_on() {
        let reports = [
            report(write(1, 1, true, "old")),
            report(write(2, 2, false, "maybe")),
        ];
        let mut correct = Collector::new("k", 3, &Bugs::none());
        let mut naive = Collector::new("k", 3, &Bugs::only(Bug::NaiveQuorumRead));
        for (i, r) in reports.iter().enumerate() {
            correct.offer(NodeId(i as u8), r.clone());
            naive.offer(NodeId(i as u8), r.clone());
        }
        assert_eq!(correct.verdict(), Verdict::AskAgain { slot: Slot(2) });
        assert_eq!(
            naive.verdict(),
            Verdict::Value {
                value: Some("maybe".into()),
                slot: Some(Slot(2))
            }
        );
        correct.start_round();
        assert_eq!(correct.rounds(), 2);
        assert!(matches!(
            correct.verdict(),
            Verdict::Waiting { have: 0, .. }
        ));
    }

    #[test]
    fn one_report_saying_decided_settles_the_slot() {
        let mut c = Collector::new("k", 3, &Bugs::none());
        c.offer(NodeId(0), report(write(2, 2, false, "v")));
        let v = c.offer(NodeId(2), report(write(2, 2, true, "v")));
        assert_eq!(
            v,
            Verdict::Value {
                value: Some("v".into()),
                slot: Some(Slot(2))
            }
        );
    }

    #[test]
    fn no_write_anywhere_reads_as_absent_and_results_match_the_op() {
        let mut c = Collector::new("k", 1, &Bugs::none());
        assert_eq!(
            c.offer(NodeId(0), report(None)),
            Verdict::Value {
                value: None,
                slot: None
            }
        );
        let get = KvOp::Get { key: "k".into() };
        let contains = KvOp::Contains { key: "k".into() };
        assert_eq!(
            Collector::result(&get, None),
            Some(KvResult::Value { value: None })
        );
        assert_eq!(
            Collector::result(&contains, Some("x".into())),
            Some(KvResult::Present { present: true })
        );
    }
}
