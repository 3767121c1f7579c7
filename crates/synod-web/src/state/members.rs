//! The reducer's verbs for growing and shrinking the cluster, snapshots, pausing nodes and
//! holding links.
//!
//! Each is an [`Intervention`] recorded in the scenario like every other (so it replays,
//! scrubs and forks the same way). Before acting, [`refusal`] turns the requests that cannot
//! work into a sentence for the visitor, instead of an intervention that the simulator would
//! accept and the cluster would then quietly refuse (a removal of a node that already left,
//! a snapshot on a crashed node) or one that does nothing at all (releasing a link that is
//! not held).

use super::{takes_snapshots, Playground};
use synod_core::{AdminCommand, Event, NodeId, Protocol};
use synod_sim::scenario::MAX_NODES;
use synod_sim::world::Endpoint;
use synod_sim::{Intervention, Simulation, TraceKind};

impl Playground {
    /// Records and applies `action` now, unless [`refusal`] has a reason not to.
    pub(super) fn act_checked(&mut self, action: Intervention) {
        let why = refusal(&self.sim(), self.setup.protocol, &action);
        match why {
            Some(why) => self.notice = Some(why),
            None => {
                if self.try_act(action) {
                    self.notice = None;
                }
            }
        }
    }

    /// Asks `node` for a snapshot now and tells the visitor what came of it.
    pub(super) fn snapshot_now(&mut self, node: NodeId) {
        let action = Intervention::Snapshot { node };
        let why = refusal(&self.sim(), self.setup.protocol, &action);
        if let Some(why) = why {
            self.notice = Some(why);
            return;
        }
        let before = self.sim().trace().len();
        if !self.try_act(action) {
            return;
        }
        let sim = self.sim();
        let said = sim.trace()[before..].iter().find_map(|r| match &r.kind {
            TraceKind::Node { node: n, event } if *n == node => match event {
                Event::SnapshotTaken { .. } => Some(format!("{node} {event}.")),
                Event::AdminRefused { reason, .. } => {
                    Some(format!("{node} took no snapshot: {reason}."))
                }
                _ => None,
            },
            _ => None,
        });
        drop(sim);
        self.notice = said;
    }
}

/// Why `action` cannot be done in this world right now, in words for the visitor; `None`
/// when it can.
pub fn refusal(sim: &Simulation, protocol: Protocol, action: &Intervention) -> Option<String> {
    let exists = |n: NodeId| n.0 < sim.node_count();
    let up = |n: NodeId| sim.live_nodes().any(|(id, _)| id == n);
    let missing = |n: NodeId| Some(format!("{n} does not exist."));
    let membership_needs = || {
        Some(format!(
            "{protocol} cannot change its membership: adding or removing a node takes a \
             configuration change decided through the Multi-Paxos log. Choose Multi-Paxos."
        ))
    };
    match action {
        Intervention::AddNode { .. } => {
            if protocol != Protocol::MultiPaxos {
                return membership_needs();
            }
            let waiting = sim
                .pending_admin()
                .iter()
                .filter(|c| matches!(c, AdminCommand::AddLearner { node, .. } if !exists(*node)))
                .count();
            if usize::from(sim.node_count()) + waiting >= usize::from(MAX_NODES) {
                return Some(format!(
                    "A cluster has at most {MAX_NODES} nodes (counting those still joining)."
                ));
            }
            None
        }
        Intervention::RemoveNode { node } => {
            if protocol != Protocol::MultiPaxos {
                return membership_needs();
            }
            if !exists(*node) {
                return missing(*node);
            }
            let leaving = sim
                .pending_admin()
                .contains(&AdminCommand::Remove { node: *node });
            if leaving {
                return Some(format!("{node} is already on its way out."));
            }
            let m = sim.current_membership()?;
            if !m.contains(*node) {
                return Some(format!("{node} is not a member of the cluster any more."));
            }
            if m.voters == [*node] {
                return Some(format!("{node} is the last voter: it cannot leave."));
            }
            None
        }
        Intervention::Snapshot { node } => {
            if !takes_snapshots(protocol) {
                return Some(format!(
                    "{protocol} takes no snapshots: they are part of the Paxos strategies, \
                     whose log grows without end otherwise."
                ));
            }
            if !exists(*node) {
                return missing(*node);
            }
            (!up(*node))
                .then(|| format!("{node} is down: restart it before asking for a snapshot."))
        }
        Intervention::Pause { node } => {
            if !exists(*node) {
                return missing(*node);
            }
            if !up(*node) {
                return Some(format!("{node} is down: there is nothing to pause."));
            }
            sim.is_paused(*node)
                .then(|| format!("{node} is already paused."))
        }
        Intervention::Resume { node } => {
            if !exists(*node) {
                return missing(*node);
            }
            (!sim.is_paused(*node)).then(|| format!("{node} is not paused."))
        }
        Intervention::Hold { from, to } | Intervention::Release { from, to } => {
            let hold = matches!(action, Intervention::Hold { .. });
            for e in [from, to] {
                let known = match e {
                    Endpoint::Node(n) => exists(*n),
                    Endpoint::Client(c) => c.0 < sim.client_count(),
                };
                if !known {
                    return Some(format!("{e} does not exist."));
                }
            }
            if from == to {
                return Some(format!("{from} does not send messages to itself."));
            }
            let held = sim.held_links().any(|l| *l == (*from, *to));
            match (hold, held) {
                (true, true) => Some(format!("The link {from} → {to} is already held.")),
                (false, false) => Some(format!("The link {from} → {to} is not held.")),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Action, Setup};
    use super::*;
    use synod_core::{CatchUpMethod, Message, Role};
    use synod_sim::world::Payload;
    use synod_sim::Time;

    use super::super::tests::{leader, run_virtual};

    fn role(p: &Playground, n: NodeId) -> Option<Role> {
        p.views()[n.index()].as_ref().map(|v| v.role)
    }

    /// Turns the workload off, lets every operation settle and every replica apply what was
    /// decided, and returns each live node's table.
    fn settle_tables(p: &mut Playground) -> Vec<Vec<(String, String)>> {
        p.apply(Action::SetWorkload(false));
        run_virtual(p, 6_000_000);
        p.views()
            .iter()
            .flatten()
            .map(|v| v.table.clone())
            .collect()
    }

    /// Snapshot messages sent to `node` so far.
    fn snapshots_to(p: &Playground, node: NodeId) -> usize {
        let sim = p.sim();
        sim.trace()
            .iter()
            .filter_map(|r| match r.kind {
                TraceKind::Sent { msg, to, .. } if to == Endpoint::Node(node) => sim.message(msg),
                _ => None,
            })
            .filter(|m| matches!(m.payload, Payload::Peer(Message::InstallSnapshot { .. })))
            .count()
    }

    /// Adds a fourth node to the first page's cluster after twenty seconds and plays on
    /// until it is a voter; returns the playground.
    fn join(method: CatchUpMethod) -> Playground {
        let mut p = Playground::new();
        // Long enough for the log to outgrow the configuration window, so that catching up
        // takes real work.
        run_virtual(&mut p, 20_000_000);
        p.apply(Action::AddNode(method));
        assert!(p.notice.is_none(), "refused: {:?}", p.notice);
        assert!(matches!(
            p.sim().scenario().interventions.last().map(|t| &t.action),
            Some(Intervention::AddNode { catch_up }) if *catch_up == method
        ));
        let n4 = NodeId(3);
        let mut seen_learner = false;
        for _ in 0..100 {
            run_virtual(&mut p, 100_000);
            seen_learner |= role(&p, n4) == Some(Role::Learner);
            if p.sim()
                .stats()
                .joins
                .first()
                .is_some_and(|j| j.promoted_at.is_some())
            {
                break;
            }
        }
        assert!(
            seen_learner,
            "n4 was drawn as a learner before its promotion"
        );
        let j = p.sim().stats().joins[0].clone();
        assert_eq!((j.node, j.method), (n4, method));
        assert!(
            j.promoted_at.is_some(),
            "n4 was promoted within ten seconds: {j:?}"
        );
        assert!(j.messages_in > 0 && j.bytes_in > 0);
        assert_ne!(role(&p, n4), Some(Role::Learner));
        p
    }

    fn assert_history_and_convergence(p: &mut Playground) {
        let configs = p.derived().configs.clone();
        let labels: Vec<String> = configs.iter().map(|c| c.label()).collect();
        assert!(
            labels.len() >= 2
                && labels[0].starts_with("n4 joins")
                && labels[0].ends_with("n1 n2 n3 +n4")
                && labels[1] == "n4 votes → n1 n2 n3 n4",
            "configuration history: {labels:?}"
        );
        assert!(configs
            .windows(2)
            .all(|w| w[0].at <= w[1].at && w[0].slot < w[1].slot));
        assert!(p
            .derived()
            .markers
            .iter()
            .any(|m| m.kind == crate::derived::MarkerKind::Config));
        let tables = settle_tables(p);
        assert!(
            p.sim().violations().is_empty(),
            "{:?}",
            p.sim().violations()
        );
        assert_eq!(tables.len(), 4);
        assert!(!tables[0].is_empty(), "the workload wrote something");
        assert!(
            tables.windows(2).all(|w| w[0] == w[1]),
            "every replica, the new one included, has the same table: {tables:?}"
        );
    }

    #[test]
    fn a_node_added_by_replay_learns_entry_by_entry_is_promoted_and_converges() {
        let mut p = join(CatchUpMethod::Replay);
        assert_eq!(snapshots_to(&p, NodeId(3)), 0, "replay sends no snapshot");
        let v = p.sim().node_views()[3].clone().expect("n4 is up");
        assert_eq!(v.snapshot_slot, None);
        assert_eq!(
            v.log.first().map(|e| e.slot.0),
            Some(0),
            "its log starts at the first slot"
        );
        // The page's picture holds the latest slots and counts the ones before them.
        let recent = p.views()[3].clone().expect("n4 is up");
        assert_eq!(recent.log[..], v.log[v.log.len() - recent.log.len()..]);
        assert_eq!(recent.earlier_slots, recent.log[0].slot.0);
        assert_history_and_convergence(&mut p);
    }

    #[test]
    fn the_snapshot_join_moves_fewer_bytes_than_the_replay_join() {
        let replay = join(CatchUpMethod::Replay).sim().stats().joins[0].clone();
        let snapshot = join(CatchUpMethod::Snapshot).sim().stats().joins[0].clone();
        assert!(
            snapshot.bytes_in < replay.bytes_in,
            "snapshot {snapshot:?} against replay {replay:?}"
        );
        assert!(replay.catch_up_us().is_some() && snapshot.catch_up_us().is_some());
    }

    #[test]
    fn a_node_added_by_snapshot_gets_one_snapshot_then_the_tail_and_converges() {
        let mut p = join(CatchUpMethod::Snapshot);
        assert!(
            snapshots_to(&p, NodeId(3)) >= 1,
            "a snapshot was sent to n4"
        );
        let installed = p.sim().trace().iter().any(|r| {
            matches!(&r.kind, TraceKind::Node { node, event: Event::SnapshotInstalled { from: Some(_), .. } }
                if *node == NodeId(3))
        });
        assert!(installed, "n4 installed it");
        let v = p.views()[3].clone().expect("n4 is up");
        let last = v.snapshot_slot.expect("n4 keeps the snapshot it installed");
        assert!(
            v.log.iter().all(|e| e.slot.0 > last),
            "only the tail is in its log"
        );
        assert_history_and_convergence(&mut p);
    }

    #[test]
    fn joins_replay_when_scrubbed_back_and_forth() {
        let mut p = join(CatchUpMethod::Snapshot);
        let end = p.now();
        p.apply(Action::Scrub(10_000_000));
        assert_eq!(
            p.sim().node_count(),
            3,
            "before the join there were three nodes"
        );
        p.apply(Action::Scrub(end.as_us()));
        assert_eq!(p.sim().node_count(), 4);
        assert!(p.sim().stats().joins[0].promoted_at.is_some());
        assert_eq!(p.derived().configs.len(), 2);
    }

    #[test]
    fn removing_a_node_is_decided_through_the_log() {
        let mut p = Playground::new();
        run_virtual(&mut p, 3_000_000);
        p.apply(Action::RemoveNode(NodeId(2)));
        assert!(p.notice.is_none(), "{:?}", p.notice);
        run_virtual(&mut p, 4_000_000);
        let m = p.sim().current_membership().expect("a leader");
        assert_eq!(m.voters, vec![NodeId(0), NodeId(1)]);
        assert_eq!(role(&p, NodeId(2)), Some(Role::Removed), "n3 knows it left");
        assert_eq!(
            p.derived().configs.last().map(|c| c.label()),
            Some("n3 leaves → n1 n2".to_owned())
        );
        // Asking again is answered at once, in words.
        p.apply(Action::RemoveNode(NodeId(2)));
        assert_eq!(
            p.notice.as_deref(),
            Some("n3 is not a member of the cluster any more.")
        );
    }

    #[test]
    fn removing_the_leader_leaves_two_voters_that_elect_one_of_themselves() {
        let mut p = Playground::new();
        run_virtual(&mut p, 3_000_000);
        let old = leader(&p).expect("a leader");
        p.apply(Action::RemoveNode(old));
        assert!(p.notice.is_none(), "{:?}", p.notice);
        run_virtual(&mut p, 6_000_000);
        let m = p.sim().current_membership().expect("a leader again");
        assert_eq!(m.voters.len(), 2);
        assert!(!m.contains(old));
        let leader = leader(&p);
        assert!(
            leader.is_some_and(|l| l != old),
            "{leader:?} leads after {old} left"
        );
        assert!(
            p.sim().violations().is_empty(),
            "{:?}",
            p.sim().violations()
        );
        let tables = settle_tables(&mut p);
        let members: Vec<_> = m.voters.iter().map(|v| tables[v.index()].clone()).collect();
        assert_eq!(members[0], members[1], "the two voters agree");
    }

    #[test]
    fn requests_that_cannot_work_are_refused_in_words_and_not_recorded() {
        let mut p = Playground::with_setup(Setup {
            protocol: Protocol::BasicPaxos,
            ..Setup::default()
        })
        .expect("valid");
        run_virtual(&mut p, 500_000);
        let before = p.sim().scenario().interventions.len();
        let cases = [
            (Action::AddNode(CatchUpMethod::Replay), "Choose Multi-Paxos"),
            (Action::RemoveNode(NodeId(1)), "Choose Multi-Paxos"),
            (Action::PauseNode(NodeId(9)), "n10 does not exist."),
            (Action::ResumeNode(NodeId(0)), "n1 is not paused."),
            (
                Action::Release {
                    from: Endpoint::Node(NodeId(0)),
                    to: Endpoint::Node(NodeId(1)),
                },
                "is not held",
            ),
            (
                Action::Hold {
                    from: Endpoint::Node(NodeId(0)),
                    to: Endpoint::Node(NodeId(0)),
                },
                "does not send messages to itself",
            ),
        ];
        for (action, words) in cases {
            p.notice = None;
            p.apply(action.clone());
            let notice = p.notice.clone().unwrap_or_default();
            assert!(notice.contains(words), "{action:?} gave {notice:?}");
        }
        p.apply(Action::Crash(NodeId(1)));
        p.apply(Action::SnapshotNow(NodeId(1)));
        assert!(p.notice.as_deref().unwrap_or_default().contains("is down"));
        p.apply(Action::PauseNode(NodeId(1)));
        assert!(p.notice.as_deref().unwrap_or_default().contains("is down"));
        let naive = Playground::with_setup(Setup {
            protocol: Protocol::Naive,
            ..Setup::default()
        })
        .expect("valid");
        let why = refusal(
            &naive.sim(),
            Protocol::Naive,
            &Intervention::Snapshot { node: NodeId(0) },
        );
        assert!(why.is_some_and(|w| w.contains("takes no snapshots")));
        assert_eq!(
            p.sim().scenario().interventions.len(),
            before + 1,
            "only the crash was recorded"
        );
    }

    #[test]
    fn a_cluster_stops_growing_at_the_most_nodes_counting_those_waiting() {
        let mut p = Playground::new();
        run_virtual(&mut p, 1_000_000);
        for _ in 0..4 {
            p.apply(Action::AddNode(CatchUpMethod::Snapshot));
            assert!(p.notice.is_none(), "{:?}", p.notice);
        }
        p.apply(Action::AddNode(CatchUpMethod::Replay));
        assert!(p
            .notice
            .as_deref()
            .unwrap_or_default()
            .contains("at most 7 nodes"));
    }

    #[test]
    fn snapshot_now_compacts_the_log_and_a_second_one_has_nothing_to_cover() {
        let mut p = Playground::new();
        run_virtual(&mut p, 4_000_000);
        p.apply(Action::SetWorkload(false));
        run_virtual(&mut p, 3_000_000);
        let leader = leader(&p).expect("a leader");
        p.apply(Action::SnapshotNow(leader));
        let notice = p.notice.clone().unwrap_or_default();
        assert!(notice.contains("took a snapshot through slot"), "{notice}");
        let v = p.views()[leader.index()].clone().expect("up");
        let last = v.snapshot_slot.expect("a snapshot");
        assert!(
            v.log.iter().all(|e| e.slot.0 > last),
            "compacted below the snapshot"
        );
        assert!(matches!(
            p.sim().scenario().interventions.last().map(|t| &t.action),
            Some(Intervention::Snapshot { node }) if *node == leader
        ));
        p.apply(Action::SnapshotNow(leader));
        let notice = p.notice.clone().unwrap_or_default();
        assert!(notice.contains("took no snapshot"), "{notice}");
    }

    #[test]
    fn the_snapshot_policy_reaches_the_cluster_only_for_paxos() {
        let every = |protocol| Setup {
            protocol,
            snapshot_every: 10,
            ..Setup::default()
        };
        assert_eq!(
            every(Protocol::MultiPaxos)
                .scenario()
                .cluster
                .snapshot_every,
            10
        );
        assert_eq!(
            every(Protocol::BasicPaxos)
                .scenario()
                .cluster
                .snapshot_every,
            10
        );
        assert_eq!(every(Protocol::Naive).scenario().cluster.snapshot_every, 0);
        assert!(Playground::with_setup(every(Protocol::Sequencer)).is_ok());
        let mut p = Playground::with_setup(every(Protocol::MultiPaxos)).expect("valid");
        run_virtual(&mut p, 8_000_000);
        let snapshots: Vec<u64> = p
            .views()
            .iter()
            .flatten()
            .filter_map(|v| v.snapshot_slot)
            .collect();
        assert_eq!(snapshots.len(), 3, "every node compacted its log");
        assert!(snapshots.iter().all(|s| (s + 1) % 10 == 0), "{snapshots:?}");
    }

    #[test]
    fn holding_a_link_keeps_its_messages_in_flight_until_released() {
        let mut p = Playground::new();
        run_virtual(&mut p, 2_000_000);
        let (from, to) = (Endpoint::Node(NodeId(0)), Endpoint::Node(NodeId(1)));
        p.apply(Action::Hold { from, to });
        assert!(p.notice.is_none());
        run_virtual(&mut p, 1_000_000);
        let held = p
            .sim()
            .in_flight()
            .filter(|e| e.from == from && e.to == to)
            .all(|e| e.held);
        assert!(held && p.sim().held_links().any(|l| *l == (from, to)));
        p.apply(Action::Hold { from, to });
        assert!(p
            .notice
            .as_deref()
            .unwrap_or_default()
            .contains("already held"));
        p.apply(Action::Release { from, to });
        assert!(p.sim().held_links().next().is_none());
        assert!(p.sim().in_flight().all(|e| !e.held));
    }

    #[test]
    fn a_paused_node_stops_and_resumes() {
        let mut p = Playground::new();
        run_virtual(&mut p, 1_000_000);
        p.apply(Action::PauseNode(NodeId(2)));
        assert!(p.sim().is_paused(NodeId(2)));
        let applied = p.views()[2].as_ref().map(|v| v.applied);
        run_virtual(&mut p, 2_000_000);
        assert_eq!(
            p.views()[2].as_ref().map(|v| v.applied),
            applied,
            "paused: nothing applied"
        );
        p.apply(Action::PauseNode(NodeId(2)));
        assert_eq!(p.notice.as_deref(), Some("n3 is already paused."));
        p.apply(Action::ResumeNode(NodeId(2)));
        assert!(!p.sim().is_paused(NodeId(2)));
        run_virtual(&mut p, 2_000_000);
        assert!(p.views()[2].as_ref().map(|v| v.applied) > applied);
        assert!(p.now() > Time(5_000_000 - 1));
    }
}
