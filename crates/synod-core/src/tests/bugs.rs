//! One focused test per deliberate bug: the wrong behaviour happens with the switch on and
//! not with it off, on the same schedule.

use crate::testkit::*;
use crate::*;

/// Ticks and delivers with node `cut` isolated until another node leads; returns it.
fn elect_without(c: &mut Cluster, cut: u8) -> u8 {
    let apart = move |e: &Envelope| e.to == NodeId(cut) || e.from == NodeId(cut);
    for _ in 0..300 {
        for i in 0..c.size() {
            c.tick(i);
        }
        while c.deliver_where(|e| !apart(e)) {}
        c.drop_where(apart);
        let others = (0..c.size()).filter(|&i| i != cut);
        let leaders: Vec<u8> = others
            .filter(|&i| {
                c.nodes[usize::from(i)]
                    .as_ref()
                    .is_some_and(|n| n.role() == Role::Leader)
            })
            .collect();
        if let [one] = leaders.as_slice() {
            return *one;
        }
    }
    panic!("no leader elected without n{}", cut + 1);
}

fn cluster(size: u8, bug: Option<Bug>) -> Cluster {
    let bugs = bug.map_or_else(Bugs::none, Bugs::only);
    Cluster::with_bugs(size, Protocol::MultiPaxos, bugs)
}

/// n1 becomes leader at ballot 1.1 by a client's first command, decided everywhere.
fn n1_leads(c: &mut Cluster) {
    c.client(0, 9, 1, set("init", "x"));
    c.deliver_all();
    assert_eq!(c.leader(), Some(0));
    assert_eq!(c.ok_result(9, 1), Some(KvResult::Done));
}

/// Accept below promise: an old leader's delayed accept lands after a new leader chose a
/// different value for the slot.
fn old_accept_arrives_late(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "old"));
    // The accept to n3 is delayed; the one to n2 is lost.
    let late = c
        .net
        .iter()
        .position(|e| e.to == NodeId(2) && e.msg.kind() == "accept")
        .map(|i| c.net.remove(i))
        .expect("accept to n3");
    c.drop_where(|_| true);
    // n2 takes over with a higher ballot and gets "new" chosen in the same slot.
    c.crash(0);
    c.run_until(200, |c| c.leader() == Some(1) || c.leader() == Some(2));
    let l = c.leader().unwrap();
    c.client(l, 1, 1, set("k", "new"));
    c.run(3);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    // The old leader comes back (as a follower, with its old proposal in mind) and the
    // delayed accept finally arrives.
    c.restart(0);
    c.deliver_envelope(late);
    c
}

#[test]
fn accept_below_promise_lets_a_stale_accept_through() {
    let c = old_accept_arrives_late(Some(Bug::AcceptBelowPromise));
    assert!(c.bug_triggered(Bug::AcceptBelowPromise));
    let accepted = c.node(2).accepted().find(|(s, _, _)| *s == Slot(1));
    let (_, ballot, value) = accepted.expect("slot 1");
    assert_eq!(
        ballot.round, 1,
        "n3 accepted the old ballot below its promise"
    );
    assert_eq!(value.id(), Some(cid(0, 1)));
    assert!(c.sent.last().is_some_and(|e| e.msg.kind() == "accepted"));

    let c = old_accept_arrives_late(None);
    assert!(c.sent.last().is_some_and(|e| e.msg.kind() == "nack"));
    let (_, _, value) = c
        .node(2)
        .accepted()
        .find(|(s, _, _)| *s == Slot(1))
        .unwrap();
    assert_eq!(value.id(), Some(cid(1, 1)));
}

#[test]
fn accept_below_promise_lets_two_values_be_chosen_in_one_slot() {
    let mut c = cluster(3, Some(Bug::AcceptBelowPromise));
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "old"));
    let late = c
        .net
        .iter()
        .position(|e| e.to == NodeId(2) && e.msg.kind() == "accept")
        .map(|i| c.net.remove(i))
        .unwrap();
    c.drop_where(|_| true);
    // While n1 is cut off, n2 and n3 elect a leader that gets "new" chosen in slot 1.
    let l = elect_without(&mut c, 0);
    c.client(l, 1, 1, set("k", "new"));
    while c.deliver_where(|e| e.to != NodeId(0)) {}
    c.drop_where(|_| true);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    assert_eq!(c.node(0).role(), Role::Leader, "n1 still believes it leads");
    // The stale accept reaches n3, which accepts it below its promise; n1 counts it.
    c.deliver_envelope(late);
    assert!(c.deliver_where(|e| e.to == NodeId(0) && e.msg.kind() == "accepted"));
    assert!(!c.agreement_holds(), "slot 1 decided as both old and new");
}

/// A value chosen by the old leader and one follower, which only the old leader knows.
fn chosen_but_unannounced(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "a"));
    assert!(c.deliver_where(|e| e.to == NodeId(1) && e.msg.kind() == "accept"));
    c.drop_where(|e| e.msg.kind() == "accept");
    assert!(c.deliver_where(|e| e.msg.kind() == "accepted"));
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done), "a is acknowledged");
    c.drop_where(|_| true);
    c.crash(0);
    c.run_until(200, |c| c.leader().is_some());
    let l = c.leader().unwrap();
    c.client(l, 1, 1, set("k", "b"));
    c.run(5);
    c.restart(0);
    c.run(10);
    c
}

#[test]
fn ignore_promised_values_overwrites_a_chosen_value() {
    let c = chosen_but_unannounced(Some(Bug::IgnorePromisedValues));
    assert!(c.bug_triggered(Bug::IgnorePromisedValues));
    assert!(
        !c.agreement_holds(),
        "slot 1 decided as a (old leader) and b (new leader)"
    );

    let c = chosen_but_unannounced(None);
    c.assert_safe();
    assert_eq!(c.value(2, "k").as_deref(), Some("b"), "a recovered, then b");
    assert_eq!(c.node(2).applied_commands().len(), 3);
}

#[test]
fn minority_quorum_lets_two_isolated_leaders_decide_different_values() {
    for bug in [Some(Bug::MinorityQuorum), None] {
        let mut c = cluster(3, bug);
        // n1 and n3 each campaign and propose with every message lost.
        c.client(0, 0, 1, set("k", "a"));
        c.drop_where(|_| true);
        c.client(2, 2, 1, set("k", "c"));
        c.drop_where(|_| true);
        let acked = c.ok_result(0, 1).is_some() && c.ok_result(2, 1).is_some();
        if bug.is_some() {
            assert!(acked, "each counted itself as a quorum");
            assert!(!c.agreement_holds());
            assert!(c.bug_triggered(Bug::MinorityQuorum));
        } else {
            assert!(!acked, "nobody decides alone in a three-node cluster");
            assert!(c.agreement_holds());
        }
    }
}

/// A write acknowledged by the leader and one follower; n3 has not heard of it.
fn lagging_n3(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "v"));
    while c.deliver_where(|e| e.to != NodeId(2)) {}
    c.drop_where(|_| true);
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    c.client(2, 1, 1, get("k"));
    c
}

#[test]
fn stale_local_read_answers_from_a_lagging_replica() {
    let c = lagging_n3(Some(Bug::StaleLocalRead));
    assert_eq!(
        c.ok_result(1, 1),
        Some(KvResult::Value { value: None }),
        "reads nothing after the write was acknowledged"
    );
    let c = lagging_n3(None);
    assert_eq!(
        c.replies_for(1, 1),
        vec![ReplyStatus::Redirect {
            leader: Some(NodeId(0))
        }]
    );
}

fn deposed_leader_read(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    c.client(0, 0, 1, set("k", "a"));
    c.deliver_all();
    // n1 is cut off; n2 and n3 elect a new leader and write b.
    let l = elect_without(&mut c, 0);
    c.client(l, 1, 1, set("k", "b"));
    c.drop_where(|e| e.to == NodeId(0));
    while c.deliver_where(|e| e.to != NodeId(0)) {}
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    assert_eq!(c.node(0).role(), Role::Leader, "n1 still believes it leads");
    c.client(0, 2, 1, get("k"));
    c
}

#[test]
fn leader_read_without_lease_lets_a_deposed_leader_serve_stale_values() {
    let c = deposed_leader_read(Some(Bug::LeaderReadWithoutLease));
    assert!(c.bug_triggered(Bug::LeaderReadWithoutLease));
    assert_eq!(
        c.ok_result(2, 1),
        Some(KvResult::Value {
            value: Some("a".into())
        }),
        "b was acknowledged before this read began"
    );
    let c = deposed_leader_read(None);
    assert_eq!(
        c.ok_result(2, 1),
        None,
        "the read goes through the log, which n1 cannot commit to"
    );
}

fn ack_then_crash(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "lost?"));
    c.drop_where(|_| true);
    c.crash(0);
    c.run_until(200, |c| c.leader().is_some());
    c.run(5);
    c
}

#[test]
fn ack_before_chosen_acknowledges_a_write_that_is_then_lost() {
    let c = ack_then_crash(Some(Bug::AckBeforeChosen));
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done), "acknowledged");
    for i in 1..3 {
        assert_eq!(c.value(i, "k"), None, "but no replica has it");
    }
    let c = ack_then_crash(None);
    assert_eq!(
        c.ok_result(0, 1),
        None,
        "never acknowledged, so nothing was lost"
    );
}

#[test]
fn no_dedup_applies_a_retried_command_twice() {
    for bug in [Some(Bug::NoDedup), None] {
        let mut c = cluster(3, bug);
        n1_leads(&mut c);
        c.client(0, 0, 1, KvOp::Remove { key: "init".into() });
        c.deliver_all();
        c.client(0, 0, 1, KvOp::Remove { key: "init".into() });
        c.deliver_all();
        let times = c
            .node(1)
            .applied_commands()
            .iter()
            .filter(|id| **id == cid(0, 1))
            .count();
        let answers: Vec<ReplyStatus> = c.replies_for(0, 1);
        if bug.is_some() {
            assert_eq!(times, 2, "applied twice");
            assert_eq!(
                answers[1],
                ReplyStatus::Ok {
                    result: KvResult::Removed { existed: false }
                },
                "the retry sees its own first effect"
            );
        } else {
            assert_eq!(times, 1);
            assert_eq!(answers[0], answers[1], "the retry gets the original answer");
        }
    }
}

fn accepted_then_replaced(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(5, bug);
    n1_leads(&mut c);
    // The accept reaches only n2: two of five, never chosen.
    c.client(0, 0, 1, set("k", "ghost"));
    assert!(c.deliver_where(|e| e.to == NodeId(1) && e.msg.kind() == "accept"));
    c.drop_where(|_| true);
    c.crash(0);
    c.crash(1);
    c.run_until(300, |c| c.leader().is_some());
    let l = c.leader().unwrap();
    c.client(l, 1, 1, set("k", "real"));
    c.run(5);
    c.restart(1);
    c.run(10);
    c
}

#[test]
fn apply_accepted_applies_a_value_that_is_never_chosen() {
    let c = accepted_then_replaced(Some(Bug::ApplyAccepted));
    assert!(c.bug_triggered(Bug::ApplyAccepted));
    assert!(
        c.node(1).applied_commands().contains(&cid(0, 1)),
        "n2 applied the ghost write"
    );
    assert!(
        c.decisions()
            .values()
            .flatten()
            .all(|v| v.id() != Some(cid(0, 1))),
        "which was never chosen"
    );
    let c = accepted_then_replaced(None);
    assert!(!c.node(1).applied_commands().contains(&cid(0, 1)));
    c.assert_safe();
}

fn promise_then_restart(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    let high = c.node(0).promised().next_for(NodeId(2));
    c.deliver_envelope(Envelope {
        from: NodeId(2),
        to: NodeId(1),
        msg: Message::Prepare {
            ballot: high,
            from: Slot(1),
        },
    });
    c.drop_where(|_| true);
    c.crash(1);
    c.restart(1);
    // The old leader's accept (below the promise n2 made) arrives after the restart.
    c.client(0, 0, 1, set("k", "v"));
    c.drop_where(|e| e.to != NodeId(1));
    c.deliver_all();
    c
}

#[test]
fn no_persist_forgets_a_promise_across_a_restart() {
    let c = promise_then_restart(Some(Bug::NoPersist));
    assert!(c.bug_triggered(Bug::NoPersist));
    assert_eq!(
        c.node(1).promised().round,
        1,
        "the higher promise was forgotten"
    );
    assert_eq!(
        c.ok_result(0, 1),
        Some(KvResult::Done),
        "and broken after restart"
    );
    let c = promise_then_restart(None);
    assert_eq!(c.node(1).promised().node, NodeId(2), "the promise survived");
    assert_eq!(c.ok_result(0, 1), None, "the lower accept was refused");
    assert_eq!(c.count("nack"), 1);
}

fn leader_restarts_mid_slot(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "a"));
    // a is accepted by n1 and n2 (chosen) but n2's answer is lost.
    assert!(c.deliver_where(|e| e.to == NodeId(1) && e.msg.kind() == "accept"));
    c.drop_where(|_| true);
    c.crash(0);
    c.restart(0);
    c.client(0, 1, 1, set("k", "b"));
    c.run(10);
    c
}

#[test]
fn ballot_reuse_names_two_values_with_one_ballot_and_overwrites_a_chosen_one() {
    let c = leader_restarts_mid_slot(Some(Bug::BallotReuse));
    assert!(c.bug_triggered(Bug::BallotReuse));
    assert!(c.ballot_named_two_values());
    let slot1 = c
        .node(2)
        .decided()
        .find(|(s, _)| *s == Slot(1))
        .map(|(_, v)| v.id());
    assert_eq!(
        slot1,
        Some(Some(cid(1, 1))),
        "b decided where a was already chosen"
    );

    let c = leader_restarts_mid_slot(None);
    assert!(!c.ballot_named_two_values());
    let ids: Vec<Option<CommandId>> = c.node(2).decided().map(|(_, v)| v.id()).collect();
    assert_eq!(ids, vec![Some(cid(9, 1)), Some(cid(0, 1)), Some(cid(1, 1))]);
    c.assert_safe();
}

fn quorum_read_during_undecided_write(bug: Option<Bug>) -> (Cluster, Verdict) {
    let bugs = bug.map_or_else(Bugs::none, Bugs::only);
    let configs = NodeConfig::cluster(3, Protocol::MultiPaxos)
        .into_iter()
        .map(|c| c.with_read_mode(ReadMode::Quorum).with_bugs(bugs.clone()))
        .collect();
    let mut c = Cluster::with(configs);
    n1_leads(&mut c);
    // n1 proposes a write; nobody else hears of it, so it can never be chosen.
    c.client(0, 0, 1, set("k", "ghost"));
    c.drop_where(|_| true);
    let mut collector = Collector::new("k", 3, &bugs);
    c.client(0, 1, 1, get("k"));
    c.client(1, 1, 1, get("k"));
    let mut verdict = Verdict::Waiting { have: 0, need: 2 };
    for (from, _, r) in c.replies.clone() {
        if let ReplyStatus::QuorumRead { report } = r.status {
            verdict = collector.offer(from, report);
        }
    }
    (c, verdict)
}

#[test]
fn naive_quorum_read_returns_a_write_that_was_never_chosen() {
    let (_, verdict) = quorum_read_during_undecided_write(Some(Bug::NaiveQuorumRead));
    assert_eq!(
        verdict,
        Verdict::Value {
            value: Some("ghost".into()),
            slot: Some(Slot(1))
        }
    );
    let (_, verdict) = quorum_read_during_undecided_write(None);
    assert_eq!(verdict, Verdict::AskAgain { slot: Slot(1) });
}

/// n2 snapshots through slot u, one more write lands in u + 1, and n2 restarts from its
/// snapshot.
fn restart_from_snapshot(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "before"));
    c.deliver_all();
    c.nodes[1].as_mut().unwrap().snapshot_now().unwrap();
    c.drain(1);
    c.client(0, 0, 2, set("k", "after"));
    c.deliver_all();
    c.crash(1);
    c.restart(1);
    c
}

#[test]
fn snapshot_off_by_one_skips_the_slot_after_the_snapshot() {
    let c = restart_from_snapshot(Some(Bug::SnapshotOffByOne));
    assert!(c.bug_triggered(Bug::SnapshotOffByOne));
    assert_eq!(c.node(1).applied_index(), c.node(0).applied_index());
    assert_ne!(
        c.node(1).applied_digest(),
        c.node(0).applied_digest(),
        "same log position, different table"
    );
    assert_eq!(
        c.value(1, "k").as_deref(),
        Some("before"),
        "slot u + 1 skipped"
    );
    assert!(c.check_safe().is_err(), "the convergence oracle catches it");

    let c = restart_from_snapshot(None);
    assert_eq!(c.node(1).applied_digest(), c.node(0).applied_digest());
    assert_eq!(c.value(1, "k").as_deref(), Some("after"));
    c.assert_safe();
}

/// n1 leads three voters and a learner n4; only n1 and n4 can talk when a command arrives.
fn leader_and_learner_alone(bug: Option<Bug>) -> Cluster {
    let mut c = cluster(3, bug);
    n1_leads(&mut c);
    let bugs = bug.map_or_else(Bugs::none, Bugs::only);
    let voters = vec![NodeId(0), NodeId(1), NodeId(2)];
    c.add_node(NodeConfig::learner(NodeId(3), voters, Protocol::MultiPaxos).with_bugs(bugs));
    let add = AdminCommand::AddLearner {
        node: NodeId(3),
        catch_up: CatchUpMethod::Replay,
    };
    c.nodes[0].as_mut().unwrap().on_admin(add).unwrap();
    c.drain(0);
    c.run(30);
    assert_eq!(c.node(3).role(), Role::Learner);
    c.client(0, 1, 1, set("k", "v"));
    for _ in 0..5 {
        c.drop_where(|e| e.to != NodeId(3) && e.from != NodeId(3));
        c.deliver_all();
    }
    c
}

#[test]
fn two_config_changes_counts_a_learner_toward_the_quorum() {
    let c = leader_and_learner_alone(Some(Bug::TwoConfigChanges));
    assert!(c.bug_triggered(Bug::TwoConfigChanges));
    assert_eq!(
        c.ok_result(1, 1),
        Some(KvResult::Done),
        "chosen by one voter of three and a learner"
    );
    assert!(
        !c.violations.is_empty(),
        "the learner-quorum oracle catches it"
    );

    let c = leader_and_learner_alone(None);
    assert_eq!(c.ok_result(1, 1), None);
    assert!(c.violations.is_empty());
}

#[test]
fn two_config_changes_lets_a_second_change_start_while_one_is_in_flight() {
    for bug in [Some(Bug::TwoConfigChanges), None] {
        let mut c = cluster(3, bug);
        n1_leads(&mut c);
        let leader = c.nodes[0].as_mut().unwrap();
        let add = |i: u8| AdminCommand::AddLearner {
            node: NodeId(i),
            catch_up: CatchUpMethod::Replay,
        };
        assert_eq!(leader.on_admin(add(3)), Ok(()));
        let second = leader.on_admin(add(4));
        c.drain(0);
        c.run(20);
        if bug.is_some() {
            assert_eq!(second, Ok(()));
            assert!(c.bug_triggered(Bug::TwoConfigChanges));
            let err = c
                .check_safe()
                .expect_err("the one-change oracle catches it");
            assert!(err.contains("two configuration changes"), "{err}");
            // Both were computed from the same membership: the second undid the first.
            let m = c.node(0).membership().unwrap();
            assert!(!m.is_learner(NodeId(3)) && m.is_learner(NodeId(4)));
        } else {
            assert!(matches!(second, Err(AdminError::ChangeInFlight { .. })));
            c.assert_safe();
        }
    }
}

/// With the snapshot off-by-one, a restarted node skips the slot after its snapshot: its
/// applied index passes a slot it never decided, and the log's runs must show that slot
/// missing, not applied (the strip is where the bug is seen).
#[test]
fn log_runs_show_the_slot_the_snapshot_off_by_one_skips() {
    let mut c = cluster(3, Some(Bug::SnapshotOffByOne));
    n1_leads(&mut c);
    c.client(0, 0, 1, set("k", "before"));
    c.deliver_all();
    c.nodes[1].as_mut().unwrap().snapshot_now().unwrap();
    c.drain(1);
    c.crash(1);
    c.client(0, 0, 2, set("k", "after"));
    c.deliver_all();
    c.restart(1);
    let whole = c.node(1).view();
    assert!(
        whole.applied > whole.decided_upto,
        "the bug applied past a hole: {whole:?}"
    );
    assert_eq!(c.node(1).log_runs(), runs_of(&whole));
}
