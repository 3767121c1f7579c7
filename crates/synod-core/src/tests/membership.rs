//! Learners, catch-up by replay or by snapshot, promotion, removal, the α rule and the
//! one-change-at-a-time rule.

use crate::testkit::*;
use crate::*;

fn voters(size: u8) -> Vec<NodeId> {
    (0..size).map(NodeId).collect()
}

/// A Multi-Paxos cluster of `size` voters led by n1, with `writes` commands decided.
fn led_cluster(size: u8, writes: u64) -> Cluster {
    let mut c = Cluster::new(size, Protocol::MultiPaxos);
    c.client(0, 9, 1, set("init", "x"));
    c.deliver_all();
    assert_eq!(c.leader(), Some(0));
    for seq in 1..=writes {
        c.client(0, 0, seq, set(&format!("k{}", seq % 5), &seq.to_string()));
        c.deliver_all();
    }
    c
}

fn admin(c: &mut Cluster, at: u8, command: AdminCommand) -> Result<(), AdminError> {
    let result = c.nodes[usize::from(at)]
        .as_mut()
        .expect("node is up")
        .on_admin(command);
    c.drain(at);
    result
}

/// Runs until every live node has applied the same prefix as the leader and no change is
/// waiting to come into force.
fn settle(c: &mut Cluster) {
    c.run_until(200, |c| {
        let Some(l) = c.leader() else {
            return false;
        };
        let lead = c.node(l);
        let upto = lead.decided_upto();
        let quiet = lead.membership_at(upto) == lead.membership()
            && lead.accepted().all(|(s, _, _)| s < upto);
        let members = lead.membership().unwrap();
        quiet
            && c.nodes
                .iter()
                .flatten()
                .filter(|n| members.contains(n.id()))
                .all(|n| n.applied_digest() == lead.applied_digest())
    });
}

fn add_learner(c: &mut Cluster, catch_up: CatchUpMethod) -> u8 {
    let id = NodeId(c.size());
    let current = c.node(0).membership().unwrap().voters;
    let i = c.add_node(NodeConfig::learner(id, current, Protocol::MultiPaxos));
    assert_eq!(c.node(i).role(), Role::Learner);
    admin(c, 0, AdminCommand::AddLearner { node: id, catch_up }).expect("accepted");
    settle(c);
    i
}

/// Adds n4 by `catch_up`, checks it converged as a learner, promotes it; returns the cluster.
fn join_and_promote(catch_up: CatchUpMethod) -> Cluster {
    let mut c = led_cluster(3, 12);
    c.nodes[0].as_mut().unwrap().snapshot_now().unwrap();
    c.run(0);
    // Writes after the snapshot, so a snapshot join still replays a suffix.
    for seq in 13..=15 {
        c.client(0, 0, seq, set("late", &seq.to_string()));
        c.deliver_all();
    }
    let n4 = add_learner(&mut c, catch_up);
    assert_eq!(c.node(n4).role(), Role::Learner);
    assert!(c.node(n4).view().learner);
    assert_eq!(c.node(n4).applied_digest(), c.node(0).applied_digest());
    assert!(c.any_event(|e| matches!(
        e,
        Event::ConfigChangeDecided {
            change: Some(AdminCommand::AddLearner { .. }),
            ..
        }
    )));
    admin(&mut c, 0, AdminCommand::Promote { node: NodeId(n4) }).expect("promoted");
    settle(&mut c);
    let m = c.node(0).membership().unwrap();
    assert_eq!(m.voters, voters(4));
    assert!(m.learners.is_empty());
    assert_eq!(c.node(n4).role(), Role::Follower);
    c.client(0, 1, 1, set("after", "promotion"));
    c.run(3);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    assert_eq!(c.value(n4, "after").as_deref(), Some("promotion"));
    c.assert_safe();
    c
}

#[test]
fn learner_joins_by_replaying_the_log_from_slot_0_then_is_promoted() {
    // The leader compacted its log, so a pure replay is impossible from it; a follower that
    // did not compact serves n4... but n4 asks the leader, which says so and sends its
    // snapshot instead. Use a cluster without compaction for the pure replay.
    let mut c = led_cluster(3, 12);
    let n4 = add_learner(&mut c, CatchUpMethod::Replay);
    assert_eq!(c.count("snapshot"), 0, "no snapshot travels");
    let replayed: u32 = c
        .events_of(n4)
        .map(|e| match e {
            Event::CaughtUp { entries, .. } => *entries,
            _ => 0,
        })
        .sum();
    assert!(replayed >= 13, "replayed the log from slot 0: {replayed}");
    assert_eq!(c.node(n4).applied_index(), c.node(0).applied_index());
    assert!(c.node(n4).snapshot_info().is_none());
    admin(&mut c, 0, AdminCommand::Promote { node: NodeId(n4) }).unwrap();
    settle(&mut c);
    assert_eq!(c.node(n4).role(), Role::Follower);
    c.assert_safe();
}

#[test]
fn learner_joins_by_snapshot_and_by_replay_to_the_same_table_and_is_promoted() {
    let by_snapshot = join_and_promote(CatchUpMethod::Snapshot);
    let by_replay = join_and_promote(CatchUpMethod::Replay);
    assert_eq!(
        by_snapshot.node(3).applied_digest(),
        by_replay.node(3).applied_digest(),
        "same table either way"
    );
    assert!(by_snapshot
        .events_of(3)
        .any(|e| matches!(e, Event::SnapshotInstalled { from: Some(_), .. })));
    assert!(by_snapshot.any_event(|e| matches!(
        e,
        Event::SnapshotSent {
            to: NodeId(3),
            instead_of_replay: false,
            ..
        }
    )));
    // The replay learner asked to replay, but the leader had compacted: it says so.
    assert!(by_replay.any_event(|e| matches!(
        e,
        Event::SnapshotSent {
            to: NodeId(3),
            instead_of_replay: true,
            ..
        }
    )));
}

#[test]
fn learner_accepted_answers_never_count_toward_a_quorum() {
    let mut c = led_cluster(3, 2);
    let n4 = add_learner(&mut c, CatchUpMethod::Replay);
    // Only n1 and the learner n4 can talk: two answers, but one voter of three.
    c.client(0, 1, 1, set("k", "lonely"));
    for _ in 0..30 {
        c.drop_where(|e| e.to != NodeId(n4) && e.from != NodeId(n4));
        c.deliver_all();
        c.tick(0);
    }
    assert!(c
        .sent
        .iter()
        .any(|e| e.from == NodeId(n4) && e.msg.kind() == "accepted"));
    assert_eq!(c.ok_result(1, 1), None, "not chosen");
    assert!(c.violations.is_empty());
    assert!(!c.bug_triggered(Bug::TwoConfigChanges));
}

#[test]
fn a_second_change_while_one_is_in_flight_is_refused_until_the_first_is_in_force() {
    let mut c = led_cluster(3, 1);
    c.add_node(NodeConfig::learner(n(3), voters(3), Protocol::MultiPaxos));
    c.add_node(NodeConfig::learner(n(4), voters(3), Protocol::MultiPaxos));
    let leader = c.nodes[0].as_mut().unwrap();
    let first = AdminCommand::AddLearner {
        node: n(3),
        catch_up: CatchUpMethod::Replay,
    };
    let second = AdminCommand::AddLearner {
        node: n(4),
        catch_up: CatchUpMethod::Snapshot,
    };
    assert_eq!(leader.on_admin(first), Ok(()));
    assert!(matches!(
        leader.on_admin(second),
        Err(AdminError::ChangeInFlight { .. })
    ));
    c.drain(0);
    assert!(c.any_event(|e| matches!(e, Event::AdminRefused { .. })));
    // Decided, but not in force yet: still refused.
    c.deliver_all();
    let lead = c.node(0);
    if lead.membership_at(lead.decided_upto()) != lead.membership() {
        assert!(matches!(
            admin(&mut c, 0, second),
            Err(AdminError::ChangeInFlight { .. })
        ));
    }
    settle(&mut c);
    assert_eq!(admin(&mut c, 0, second), Ok(()));
    settle(&mut c);
    let m = c.node(0).membership().unwrap();
    assert_eq!(m.learner_ids().collect::<Vec<_>>(), vec![n(3), n(4)]);
    c.assert_safe();
}

#[test]
fn removing_voters_shrinks_quorums() {
    let mut c = led_cluster(5, 2);
    for gone in [4, 3] {
        admin(&mut c, 0, AdminCommand::Remove { node: n(gone) }).expect("removed");
        settle(&mut c);
        assert_eq!(c.node(gone).role(), Role::Removed);
    }
    assert_eq!(c.node(0).membership().unwrap().voters, voters(3));
    // n3, n4 and n5 are down: two of the original five, but a majority of the three voters.
    for i in 2..5 {
        c.crash(i);
    }
    c.client(0, 1, 1, set("k", "two of three"));
    c.run(5);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    c.assert_safe();
}

#[test]
fn a_removed_leader_steps_down_and_another_voter_takes_over() {
    let mut c = led_cluster(3, 2);
    admin(&mut c, 0, AdminCommand::Remove { node: n(0) }).expect("accepted");
    c.run_until(200, |c| c.leader().is_some_and(|l| l != 0));
    assert_eq!(c.node(0).role(), Role::Removed);
    settle(&mut c);
    let l = c.leader().unwrap();
    c.client(l, 1, 1, set("k", "new leader"));
    c.run(5);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    assert_eq!(c.node(l).membership().unwrap().voters, vec![n(1), n(2)]);
    c.assert_safe();
}

#[test]
fn a_removed_node_redirects_clients_to_a_voter_not_to_its_removed_leader() {
    // n1 is removed while n0 leads, then n0 removes itself: n1 still remembers n0 as the
    // leader. Sending clients there made two removed nodes bounce a client between them
    // forever (fuzz seed 303, --read-mode quorum, before the fix).
    let mut c = led_cluster(3, 2);
    admin(&mut c, 0, AdminCommand::Remove { node: n(1) }).expect("accepted");
    settle(&mut c);
    admin(&mut c, 0, AdminCommand::Remove { node: n(0) }).expect("accepted");
    c.run_until(200, |c| c.leader() == Some(2));
    settle(&mut c);
    assert_eq!(c.node(1).role(), Role::Removed);
    assert_eq!(c.node(0).role(), Role::Removed);
    // n0 restarts: it knows from its log that it was removed, but no longer who leads.
    c.crash(0);
    c.restart(0);
    c.run(30);
    assert_eq!(c.node(0).leader_hint(), None, "nobody tells a removed node");
    // Follow redirects from n1 the way a client does: it reaches the voter in two hops
    // (n1 does not know n0 was removed too; n0 does, and names the voter it knows).
    let mut at = 1;
    let mut hops = vec![at];
    for seq in 1..=3 {
        c.client(at, 1, seq, set("k", "v"));
        match c.replies_for(1, seq)[..] {
            [ReplyStatus::Redirect { leader: Some(next) }] => at = next.0,
            _ => break, // taken by the voter
        }
        hops.push(at);
    }
    assert_eq!(hops, vec![1, 0, 2]);
    c.run(5);
    assert_eq!(c.ok_result(1, 3), Some(KvResult::Done));
}

#[test]
fn quorum_of_a_slot_follows_the_membership_in_force_for_it() {
    let mut c = led_cluster(3, 2);
    let n4 = add_learner(&mut c, CatchUpMethod::Replay);
    admin(&mut c, 0, AdminCommand::Promote { node: NodeId(n4) }).unwrap();
    settle(&mut c);
    let decided_in = c
        .events_of(0)
        .filter_map(|e| match e {
            Event::ConfigChangeDecided {
                slot,
                effective,
                change: Some(AdminCommand::Promote { .. }),
                ..
            } => Some((*slot, *effective)),
            _ => None,
        })
        .next()
        .expect("promotion decided");
    let (slot, effective) = decided_in;
    assert_eq!(effective.0, slot.0 + CONFIG_DELAY);
    let before = c.node(0).membership_at(Slot(effective.0 - 1)).unwrap();
    let after = c.node(0).membership_at(effective).unwrap();
    assert_eq!(before.voters.len(), 3);
    assert_eq!(after.voters.len(), 4);
    for i in 0..4 {
        assert_eq!(c.node(i).membership_at(effective), Some(after.clone()));
    }
    // With four voters, n1 and n4 alone are no longer a quorum (three of four are needed).
    c.crash(1);
    c.crash(2);
    c.client(0, 1, 1, set("k", "half"));
    c.run(10);
    assert_eq!(c.ok_result(1, 1), None);
    c.restart(1);
    c.run(10);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done), "three of four");
    assert!(c.violations.is_empty());
    c.assert_safe();
}

#[test]
fn admin_requests_are_refused_by_followers_learners_and_other_protocols() {
    let mut c = led_cluster(3, 1);
    let add = AdminCommand::AddLearner {
        node: n(3),
        catch_up: CatchUpMethod::Replay,
    };
    assert_eq!(
        admin(&mut c, 1, add),
        Err(AdminError::NotLeader { leader: Some(n(0)) })
    );
    assert_eq!(
        admin(&mut c, 0, AdminCommand::Promote { node: n(2) }),
        Err(AdminError::NotALearner(n(2)))
    );
    let mut basic = Node::new(NodeConfig::cluster(3, Protocol::BasicPaxos)[0].clone());
    assert_eq!(
        basic.on_admin(add),
        Err(AdminError::Unsupported {
            protocol: Protocol::BasicPaxos
        })
    );
    let mut naive = Node::new(NodeConfig::cluster(3, Protocol::Naive)[0].clone());
    assert!(naive.on_admin(add).is_err());
    let narrated = std::iter::from_fn(|| naive.poll()).any(|o| {
        matches!(o, Output::Event(ref e @ Event::AdminRefused { .. }) if e.to_string().contains("naive"))
    });
    assert!(narrated);
}

#[test]
fn learner_configuration_is_validated() {
    let bad = NodeConfig::learner(n(0), voters(3), Protocol::MultiPaxos);
    assert_eq!(
        Node::try_new(bad).err(),
        Some(ConfigError::LearnerIsVoter(n(0)))
    );
    let basic = NodeConfig::learner(n(3), voters(3), Protocol::BasicPaxos);
    assert_eq!(
        Node::try_new(basic).err(),
        Some(ConfigError::LearnerUnsupported(Protocol::BasicPaxos))
    );
    let json = r#"{"id":3,"members":[0,1,2],"protocol":"multi_paxos","learner":true}"#;
    let config: NodeConfig = serde_json::from_str(json).unwrap();
    assert!(Node::try_new(config).is_ok());
}

#[test]
fn a_learner_redirects_clients_and_never_campaigns() {
    let mut c = led_cluster(3, 1);
    let n4 = add_learner(&mut c, CatchUpMethod::Replay);
    c.client(n4, 1, 1, set("k", "v"));
    assert_eq!(
        c.replies_for(1, 1),
        vec![ReplyStatus::Redirect { leader: Some(n(0)) }]
    );
    c.crash(0);
    c.run_until(300, |c| c.leader().is_some());
    assert_ne!(c.leader(), Some(n4));
    assert!(!c
        .events_of(n4)
        .any(|e| matches!(e, Event::Campaigning { .. })));
}

#[test]
fn view_shows_membership_learner_flag_and_catch_up_progress() {
    let mut c = led_cluster(3, 3);
    let n4 = c.add_node(NodeConfig::learner(n(3), voters(3), Protocol::MultiPaxos));
    admin(
        &mut c,
        0,
        AdminCommand::AddLearner {
            node: n(3),
            catch_up: CatchUpMethod::Replay,
        },
    )
    .unwrap();
    // The learner hears the decision of its own admission first, and sees it is behind.
    let mut pending_seen = None;
    while c.deliver_where(|e| e.to != n(3)) {
        let leader = c.node(0).view();
        if let Some((from, next)) = leader.next_membership {
            assert_eq!(leader.membership.as_ref().map(|m| m.voters.len()), Some(3));
            assert!(from > leader.decided_upto);
            pending_seen = Some(next);
        }
    }
    let next = pending_seen.expect("decided, then not in force for a while");
    assert!(next.is_learner(n(3)));
    assert!(c.deliver_where(|e| e.to == n(3) && e.msg.kind() == "decide"));
    let view = c.node(n4).view();
    assert!(view.learner);
    let progress = view.catch_up.expect("behind");
    assert!(progress.target > progress.decided_upto);
    settle(&mut c);
    assert_eq!(c.node(n4).view().catch_up, None);
}
