//! Multi-Paxos across a cluster: election, steady state, recovery, gaps, retries, crashes.

use crate::testkit::*;
use crate::*;

fn elected(size: u8) -> (Cluster, u8) {
    let mut c = Cluster::new(size, Protocol::MultiPaxos);
    c.run_until(200, |c| c.leader().is_some());
    let l = c.leader().expect("a leader");
    (c, l)
}

fn to(i: u8) -> impl Fn(&Envelope) -> bool {
    move |e| e.to == NodeId(i)
}

fn kind(k: &'static str) -> impl Fn(&Envelope) -> bool {
    move |e| e.msg.kind() == k
}

#[test]
fn three_nodes_elect_a_leader_and_commit_a_write_everywhere() {
    let (mut c, l) = elected(3);
    c.client(l, 0, 1, set("k1", "v1"));
    c.deliver_all();
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    for i in 0..3 {
        assert_eq!(c.value(i, "k1").as_deref(), Some("v1"), "n{}", i + 1);
        assert_eq!(c.node(i).decided_upto(), c.node(l).decided_upto());
    }
    assert!(c.any_event(|e| matches!(e, Event::BecameLeader { .. })));
    assert!(c.any_event(|e| matches!(e, Event::Chosen { .. })));
    c.assert_safe();
}

#[test]
fn every_cluster_size_from_one_to_seven_commits_and_converges() {
    for size in 1..=7 {
        let (mut c, l) = elected(size);
        for seq in 1..=3 {
            c.client(l, 0, seq, set("k", &format!("v{seq}")));
            c.deliver_all();
            assert_eq!(c.ok_result(0, seq), Some(KvResult::Done), "size {size}");
        }
        for i in 0..size {
            assert_eq!(c.value(i, "k").as_deref(), Some("v3"), "size {size} n{i}");
        }
        c.assert_safe();
    }
}

#[test]
fn steady_state_costs_accept_accepted_and_decide_per_command_and_no_phase_one() {
    for size in 1..=7u8 {
        let (mut c, l) = elected(size);
        let prepares = c.count("prepare");
        let base = |c: &Cluster| (c.count("accept"), c.count("accepted"), c.count("decide"));
        let (a0, b0, d0) = base(&c);
        let commands = 5u64;
        for seq in 1..=commands {
            c.client(l, 0, seq, set("k", "v"));
            c.deliver_all();
        }
        let (a1, b1, d1) = base(&c);
        let per_kind = usize::from(size - 1) * commands as usize;
        assert_eq!(a1 - a0, per_kind, "accepts, size {size}");
        assert_eq!(b1 - b0, per_kind, "accepted, size {size}");
        assert_eq!(d1 - d0, per_kind, "decides, size {size}");
        assert_eq!(
            c.count("prepare"),
            prepares,
            "no phase 1 for later commands"
        );
    }
}

#[test]
fn phase_one_runs_once_per_leadership() {
    let (mut c, l) = elected(5);
    let prepares = c.count("prepare");
    assert_eq!(prepares, 4, "one prepare to each of the other four nodes");
    for seq in 1..=10 {
        c.client(l, 0, seq, set("k", "v"));
    }
    c.run(30);
    assert_eq!(
        c.count("prepare"),
        prepares,
        "heartbeats keep the leader in place"
    );
    assert_eq!(c.leader(), Some(l));
}

#[test]
fn follower_redirects_clients_to_the_leader() {
    let (mut c, l) = elected(3);
    let f = (l + 1) % 3;
    c.client(f, 0, 1, set("k", "v"));
    assert_eq!(
        c.replies_for(0, 1),
        vec![ReplyStatus::Redirect {
            leader: Some(NodeId(l))
        }]
    );
    assert_eq!(c.node(f).leader_hint(), Some(NodeId(l)));
}

#[test]
fn commands_are_pipelined_without_waiting_for_earlier_slots() {
    let (mut c, l) = elected(3);
    for seq in 1..=4 {
        c.client(l, 0, seq, set("k", &seq.to_string()));
    }
    let in_flight: Vec<Slot> = c
        .net
        .iter()
        .filter_map(|e| match e.msg {
            Message::Accept { slot, .. } => Some(slot),
            _ => None,
        })
        .collect();
    assert_eq!(
        in_flight.len(),
        8,
        "four slots in phase 2 at once, to two followers"
    );
    c.deliver_all();
    for seq in 1..=4 {
        assert_eq!(c.ok_result(0, seq), Some(KvResult::Done));
    }
}

#[test]
fn new_leader_recovers_a_value_reported_in_a_promise() {
    let (mut c, l) = elected(3);
    let (f1, f2) = ((l + 1) % 3, (l + 2) % 3);
    c.client(l, 0, 1, set("k", "a"));
    // Only f1 hears the accept, and its answer is lost: the value is accepted by the old
    // leader and f1 (a majority, so chosen) but nobody knows.
    assert!(c.deliver_where(|e| e.to == NodeId(f1) && e.msg.kind() == "accept"));
    c.drop_where(|_| true);
    c.crash(l);
    c.run_until(200, |c| c.leader().is_some());
    let new = c.leader().unwrap();
    assert!(new == f1 || new == f2);
    c.run(5);
    let slot0 = c.node(f2).decided().next().map(|(s, v)| (s, v.clone()));
    assert_eq!(
        slot0.map(|(s, v)| (s, v.id())),
        Some((Slot(0), Some(cid(0, 1)))),
        "the possibly-chosen value is kept in slot 0"
    );
    assert!(c.any_event(|e| matches!(e, Event::Recovered { slot: Slot(0), .. })));
    assert_eq!(c.value(f2, "k").as_deref(), Some("a"));
    c.assert_safe();
}

#[test]
fn leader_change_mid_slot_commits_the_command_exactly_once_despite_client_retry() {
    let (mut c, l) = elected(3);
    let f1 = (l + 1) % 3;
    c.client(l, 0, 1, set("k", "a"));
    assert!(c.deliver_where(|e| e.to == NodeId(f1) && e.msg.kind() == "accept"));
    c.drop_where(|_| true);
    c.crash(l);
    c.run_until(200, |c| c.leader().is_some());
    let new = c.leader().unwrap();
    // The client timed out and retries the same command at the new leader.
    c.client(new, 0, 1, set("k", "a"));
    c.run(5);
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    for i in [f1, (l + 2) % 3] {
        let applied = c.node(i).applied_commands();
        assert_eq!(applied, &[cid(0, 1)], "applied once on n{}", i + 1);
    }
    c.assert_safe();
}

#[test]
fn new_leader_fills_unreported_gaps_with_noops() {
    let (mut c, l) = elected(3);
    let f1 = (l + 1) % 3;
    for seq in 1..=3 {
        c.client(l, 0, seq, set("k", &seq.to_string()));
    }
    // Only slot 2's accept reaches f1; slots 0 and 1 reach nobody.
    assert!(c.deliver_where(|e| {
        e.to == NodeId(f1) && matches!(e.msg, Message::Accept { slot: Slot(2), .. })
    }));
    c.drop_where(|_| true);
    c.crash(l);
    c.run_until(200, |c| c.leader().is_some());
    c.run(5);
    let decided: Vec<(Slot, Value)> = c.node(f1).decided().map(|(s, v)| (s, v.clone())).collect();
    assert_eq!(decided.len(), 3);
    assert_eq!(decided[0].1, Value::Noop);
    assert_eq!(decided[1].1, Value::Noop);
    assert_eq!(decided[2].1.id(), Some(cid(0, 3)));
    assert!(c.any_event(|e| *e == Event::FilledGap { slot: Slot(0) }));
    assert!(c.any_event(|e| *e == Event::FilledGap { slot: Slot(1) }));
    assert_eq!(c.value(f1, "k").as_deref(), Some("3"));
    c.assert_safe();
}

#[test]
fn rejected_candidate_backs_off_and_retries_with_a_higher_ballot() {
    let mut c = Cluster::new(3, Protocol::MultiPaxos);
    // n3 campaigns first; its prepare reaches n2 but not n1.
    c.client(2, 1, 1, set("x", "1"));
    assert!(c.deliver_where(|e| e.to == NodeId(1) && e.msg.kind() == "prepare"));
    c.drop_where(|_| true);
    // n1 campaigns with a lower ballot: n2 rejects it.
    c.client(0, 0, 1, set("y", "1"));
    let first = c.node(0).view().ballot.expect("campaigning");
    c.crash(2);
    assert!(c.deliver_where(|e| e.to == NodeId(1) && e.msg.kind() == "prepare"));
    assert!(c.deliver_where(kind("nack")));
    assert!(c.any_event(|e| matches!(e, Event::SteppedDown { .. })));
    assert!(c.any_event(|e| matches!(e, Event::BackingOff { .. })));
    c.run_until(200, |c| c.leader() == Some(0));
    let retry = c.events_of(0).find_map(|e| match e {
        Event::Campaigning {
            ballot,
            retry: true,
            ..
        } => Some(*ballot),
        _ => None,
    });
    let retry = retry.expect("n1 retried");
    assert!(retry > first);
    assert!(retry.round > 1, "higher than the ballot n3 got promised");
    c.run(5);
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
}

#[test]
fn duelling_proposers_settle_on_one_leader() {
    let mut c = Cluster::new(3, Protocol::MultiPaxos);
    // Everybody campaigns at once, and everyone's prepares cross.
    for i in 0..3 {
        c.client(i, u16::from(i), 1, set("k", &i.to_string()));
    }
    c.run_until(300, |c| c.leader().is_some());
    let l = c.leader().unwrap();
    for i in 0..3u16 {
        c.client(l, i, 1, set("k", &i.to_string()));
    }
    c.run(10);
    for i in 0..3u16 {
        assert_eq!(c.ok_result(i, 1), Some(KvResult::Done), "c{}", i + 1);
    }
    c.assert_safe();
}

#[test]
fn duplicated_and_reordered_messages_change_nothing() {
    let (mut c, l) = elected(3);
    for seq in 1..=3 {
        c.client(l, 0, seq, set("k", &seq.to_string()));
    }
    // Deliver everything twice, newest first.
    for _ in 0..50 {
        let Some(env) = c.net.pop() else { break };
        c.deliver_envelope(env.clone());
        c.deliver_envelope(env);
    }
    c.deliver_all();
    assert!(c.any_event(|e| matches!(e, Event::Ignored { .. })));
    for i in 0..3 {
        assert_eq!(c.node(i).applied_commands().len(), 3);
        assert_eq!(c.value(i, "k").as_deref(), Some("3"));
    }
    let ok = c
        .replies
        .iter()
        .filter(|(_, _, r)| r.id == cid(0, 1))
        .count();
    assert_eq!(ok, 1, "one reply per command");
    c.assert_safe();
}

#[test]
fn restarted_acceptor_keeps_its_promise_and_accepted_values() {
    let (mut c, l) = elected(3);
    let f = (l + 1) % 3;
    c.client(l, 0, 1, set("k", "a"));
    assert!(c.deliver_where(|e| e.to == NodeId(f) && e.msg.kind() == "accept"));
    let promised = c.node(f).promised();
    c.crash(f);
    c.restart(f);
    assert_eq!(c.node(f).promised(), promised);
    let accepted: Vec<Slot> = c.node(f).accepted().map(|(s, _, _)| s).collect();
    assert_eq!(accepted, vec![Slot(0)]);
    assert!(c.any_event(|e| matches!(e, Event::Restarted { .. })));
    // A stale prepare below the promise is still refused after the restart.
    c.deliver_envelope(Envelope {
        from: NodeId((f + 1) % 3),
        to: NodeId(f),
        msg: Message::Prepare {
            ballot: Ballot::ZERO,
            from: Slot(0),
        },
    });
    assert!(c.net.iter().any(|e| e.msg.kind() == "nack"));
}

#[test]
fn restarted_replica_replays_its_decided_log_into_the_table() {
    let (mut c, l) = elected(3);
    let f = (l + 1) % 3;
    for seq in 1..=3 {
        c.client(l, 0, seq, set(&format!("k{seq}"), "v"));
        c.deliver_all();
    }
    let before = c.node(f).applied_digest();
    c.crash(f);
    c.restart(f);
    assert_eq!(c.node(f).applied_digest(), before);
    assert_eq!(c.node(f).role(), Role::Follower);
    assert_eq!(c.node(f).leader_hint(), None, "leadership is volatile");
}

#[test]
fn lagging_replica_catches_up_from_heartbeats() {
    let (mut c, l) = elected(3);
    let slow = (l + 2) % 3;
    for seq in 1..=5 {
        c.client(l, 0, seq, set("k", &seq.to_string()));
        while c.deliver_where(|e| e.to != NodeId(slow)) {}
        c.drop_where(to(slow));
    }
    assert_eq!(c.node(slow).applied_index(), Slot(0));
    c.run(6);
    assert_eq!(c.node(slow).applied_index(), Slot(5));
    assert_eq!(c.value(slow, "k").as_deref(), Some("5"));
    assert!(c.any_event(|e| matches!(e, Event::CaughtUp { entries: 5, .. })));
    c.assert_safe();
}

#[test]
fn crashed_leader_is_replaced_after_the_election_timeout() {
    let (mut c, l) = elected(5);
    c.client(l, 0, 1, set("k", "a"));
    c.deliver_all();
    c.crash(l);
    c.run_until(200, |c| c.leader().is_some());
    let new = c.leader().unwrap();
    assert_ne!(new, l);
    c.client(new, 0, 2, set("k", "b"));
    c.run(3);
    assert_eq!(c.ok_result(0, 2), Some(KvResult::Done));
    c.restart(l);
    c.run(10);
    assert_eq!(
        c.value(l, "k").as_deref(),
        Some("b"),
        "the old leader catches up"
    );
    c.assert_safe();
}

#[test]
fn deposed_leader_steps_down_when_its_heartbeat_is_rejected() {
    let (mut c, l) = elected(3);
    let f = (l + 1) % 3;
    // A follower campaigns; its promise to itself and a peer beats the old ballot.
    c.deliver_envelope(Envelope {
        from: NodeId(f),
        to: NodeId((l + 2) % 3),
        msg: Message::Prepare {
            ballot: c.node(l).promised().next_for(NodeId(f)),
            from: Slot(0),
        },
    });
    c.drop_where(|_| true);
    c.tick(l);
    c.tick(l);
    c.tick(l);
    assert!(c.deliver_where(|e| e.msg.kind() == "heartbeat" && e.to != NodeId(f)));
    assert!(c.deliver_where(kind("nack")));
    assert_eq!(c.node(l).role(), Role::Follower);
    assert!(c
        .events_of(l)
        .any(|e| matches!(e, Event::SteppedDown { .. })));
}

#[test]
fn four_node_cluster_needs_three_acceptances() {
    let (mut c, l) = elected(4);
    c.client(l, 0, 1, set("k", "v"));
    // One accept delivered and answered: two of four, not enough.
    assert!(c.deliver_where(|e| e.msg.kind() == "accept"));
    assert!(c.deliver_where(kind("accepted")));
    assert_eq!(c.ok_result(0, 1), None);
    assert!(c.deliver_where(|e| e.msg.kind() == "accept"));
    assert!(c.deliver_where(kind("accepted")));
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
}

#[test]
fn single_node_paxos_cluster_decides_alone() {
    let mut c = Cluster::new(1, Protocol::MultiPaxos);
    c.client(0, 0, 1, set("k", "v"));
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    assert_eq!(c.sent.len(), 0);
}

#[test]
fn retried_command_is_answered_from_the_table() {
    let (mut c, l) = elected(3);
    c.client(l, 0, 1, set("k", "v"));
    c.deliver_all();
    c.client(l, 0, 1, set("k", "v"));
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    assert_eq!(c.replies_for(0, 1).len(), 2);
    assert!(c.any_event(|e| matches!(e, Event::Deduplicated { .. })));
    assert_eq!(c.node(l).applied_commands().len(), 1);
}
