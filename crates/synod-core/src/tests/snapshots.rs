//! Snapshots, compaction, restore after a restart, and catch-up by snapshot.

use crate::testkit::*;
use crate::*;

/// A three-node Multi-Paxos cluster in which n1 leads after the first command.
fn led_by_n1(configs: Vec<NodeConfig>) -> Cluster {
    let mut c = Cluster::with(configs);
    c.client(0, 9, 1, set("init", "x"));
    c.deliver_all();
    assert_eq!(c.leader(), Some(0));
    c
}

fn multi(size: u8) -> Vec<NodeConfig> {
    NodeConfig::cluster(size, Protocol::MultiPaxos)
}

/// Client 0 writes `count` keys through node `to`, one at a time, each decided everywhere
/// reachable.
fn write(c: &mut Cluster, to: u8, first_seq: u64, count: u64) {
    for seq in first_seq..first_seq + count {
        c.client(to, 0, seq, set(&format!("k{}", seq % 3), &seq.to_string()));
        c.deliver_all();
    }
}

/// The chosen values of slots `0..=last` as some node that has not compacted them knows.
fn chosen_prefix(c: &Cluster, i: u8, last: Slot) -> Vec<Value> {
    let log: Vec<(Slot, Value)> = c.node(i).decided().map(|(s, v)| (s, v.clone())).collect();
    assert_eq!(log.first().map(|(s, _)| *s), Some(Slot(0)), "uncompacted");
    log.into_iter()
        .take_while(|(s, _)| *s <= last)
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn snapshot_digest_equals_replaying_the_chosen_prefix_and_the_log_is_compacted_below_it() {
    let mut c = led_by_n1(multi(3));
    write(&mut c, 0, 1, 5);
    // A retried command lands in the log twice; the snapshot's table must still skip it.
    c.client(0, 0, 5, set("k2", "5"));
    c.deliver_all();
    let before = c.node(1).applied_digest();
    let last = c.nodes[1]
        .as_mut()
        .unwrap()
        .snapshot_now()
        .expect("a snapshot");
    c.run(1);
    assert_eq!(last, Slot(before.0 - 1), "through the last applied slot");
    let (slot, digest) = c.node(1).snapshot_info().unwrap();
    assert_eq!(slot, last);
    assert_eq!(digest, before.1);
    let prefix = chosen_prefix(&c, 2, last);
    assert_eq!(replay_digest(&prefix), digest);
    assert_eq!(
        c.node(1).decided().next(),
        None,
        "nothing decided above it yet"
    );
    assert_eq!(c.node(1).decided_upto(), last.next());
    assert!(c.node(1).accepted().all(|(s, _, _)| s > last));
    let view = c.node(1).view();
    assert_eq!(view.snapshot_slot, Some(last.0));
    assert!(view.log.iter().all(|e| e.slot > last));
    assert!(view.snapshot_bytes > 0);
    assert!(c
        .events_of(1)
        .any(|e| matches!(e, Event::SnapshotTaken { last: l, .. } if *l == last)));
    assert_eq!(c.durable[1].snapshot.as_ref().map(|s| s.last), Some(last));
    assert!(
        c.durable[1].decided.keys().all(|s| *s > last),
        "durably compacted"
    );
    c.assert_safe();
}

#[test]
fn compaction_never_drops_undecided_or_unapplied_entries() {
    let mut c = led_by_n1(multi(3));
    write(&mut c, 0, 1, 3);
    // Two more proposals whose accepts are lost: accepted at the leader, not decided.
    c.client(0, 0, 4, set("a", "1"));
    c.client(0, 1, 1, set("b", "1"));
    c.drop_where(|_| true);
    let undecided: Vec<Slot> = c
        .node(0)
        .accepted()
        .map(|(s, _, _)| s)
        .filter(|s| *s >= c.node(0).decided_upto())
        .collect();
    assert_eq!(undecided.len(), 2);
    let last = c.nodes[0].as_mut().unwrap().snapshot_now().unwrap();
    c.run(0);
    assert!(last < c.node(0).decided_upto());
    assert!(last < c.node(0).applied_index());
    let kept: Vec<Slot> = c.node(0).accepted().map(|(s, _, _)| s).collect();
    for s in &undecided {
        assert!(kept.contains(s), "undecided {s} kept");
    }
    // The leader still gets them chosen after the snapshot.
    c.run(20);
    assert!(c.ok_result(0, 4).is_some() && c.ok_result(1, 1).is_some());
    c.assert_safe();
}

#[test]
fn snapshot_now_is_refused_when_nothing_new_was_applied_and_by_protocols_without_a_log() {
    let mut c = led_by_n1(multi(3));
    let node = c.nodes[0].as_mut().unwrap();
    assert_eq!(node.snapshot_now(), Ok(Slot(0)));
    assert_eq!(node.snapshot_now(), Err(AdminError::NothingToSnapshot));
    let mut fresh = Node::new(multi(3)[2].clone());
    assert_eq!(fresh.snapshot_now(), Err(AdminError::NothingToSnapshot));
    let mut single = Node::new(NodeConfig::single(1));
    assert_eq!(
        single.snapshot_now(),
        Err(AdminError::Unsupported {
            protocol: Protocol::SingleNode
        })
    );
    let refused = std::iter::from_fn(|| single.poll())
        .any(|o| matches!(o, Output::Event(Event::AdminRefused { .. })));
    assert!(refused, "a refusal is narrated too");
}

#[test]
fn snapshot_policy_snapshots_every_k_applied_slots() {
    let configs = multi(3)
        .into_iter()
        .map(|c| c.with_snapshot_every(4))
        .collect();
    let mut c = led_by_n1(configs);
    write(&mut c, 0, 1, 10);
    c.run(2);
    for i in 0..3 {
        let taken = c
            .events_of(i)
            .filter(|e| matches!(e, Event::SnapshotTaken { .. }))
            .count();
        assert!(taken >= 2, "n{} took {taken} snapshot(s)", i + 1);
        let (last, _) = c.node(i).snapshot_info().unwrap();
        let applied = c.node(i).applied_index();
        assert!(applied.0 - (last.0 + 1) < 4, "at most k-1 slots since");
    }
    c.assert_safe();
}

#[test]
fn restarted_node_restores_its_durable_snapshot_and_replays_the_suffix() {
    let mut c = led_by_n1(multi(3));
    write(&mut c, 0, 1, 4);
    let last = c.nodes[1].as_mut().unwrap().snapshot_now().unwrap();
    c.run(1);
    write(&mut c, 0, 5, 3);
    let expected = c.node(0).applied_digest();
    c.crash(1);
    c.restart(1);
    assert_eq!(c.node(1).applied_digest(), expected);
    assert_eq!(c.node(1).snapshot_info().map(|(s, _)| s), Some(last));
    assert!(c
        .events_of(1)
        .any(|e| *e == Event::SnapshotInstalled { from: None, last }));
    assert!(c.node(1).decided().all(|(s, _)| s > last));
    c.assert_safe();
}

/// n3 misses everything while n1 and n2 decide and compact; then the partition heals.
fn lagging_n3_behind_compaction(protocol: Protocol) -> Cluster {
    let mut c = Cluster::with(NodeConfig::cluster(3, protocol));
    for seq in 1..=6 {
        c.client(0, 0, seq, set(&format!("k{}", seq % 4), &seq.to_string()));
        for _ in 0..40 {
            if c.ok_result(0, seq).is_some() {
                break;
            }
            c.drop_where(|e| e.to == NodeId(2) || e.from == NodeId(2));
            if !c.deliver_where(|e| e.to != NodeId(2) && e.from != NodeId(2)) {
                c.tick(0);
                c.tick(1);
            }
        }
        assert!(c.ok_result(0, seq).is_some());
    }
    c.drop_where(|e| e.to == NodeId(2) || e.from == NodeId(2));
    for i in 0..2usize {
        c.nodes[i].as_mut().unwrap().snapshot_now().unwrap();
    }
    c.run(0);
    assert_eq!(c.node(2).decided_upto(), Slot(0));
    // Healed: the next decision (basic Paxos) or heartbeat (Multi-Paxos) shows n3 how far
    // behind it is.
    c.client(0, 0, 7, set("tail", "7"));
    c.run_until(60, |c| {
        c.node(2).applied_digest() == c.node(0).applied_digest()
    });
    c
}

#[test]
fn lagging_follower_behind_the_compaction_point_receives_a_snapshot_then_the_tail() {
    let c = lagging_n3_behind_compaction(Protocol::MultiPaxos);
    let to_n3: Vec<&str> = c
        .sent
        .iter()
        .filter(|e| e.to == NodeId(2))
        .map(|e| e.msg.kind())
        .collect();
    let snap = to_n3
        .iter()
        .position(|k| *k == "snapshot")
        .expect("a snapshot");
    assert_eq!(to_n3[snap + 1], "catch-up-reply", "the tail follows it");
    let (last, _) = c.node(0).snapshot_info().unwrap();
    assert!(c.events_of(2).any(|e| matches!(
        e,
        Event::SnapshotInstalled { from: Some(_), last: l } if *l >= last
    )));
    assert!(c.any_event(|e| matches!(
        e,
        Event::SnapshotSent {
            to: NodeId(2),
            instead_of_replay: true,
            ..
        }
    )));
    assert_eq!(c.value(2, "tail").as_deref(), Some("7"));
    c.assert_safe();
}

#[test]
fn basic_paxos_snapshots_and_catches_up_a_lagging_acceptor_by_snapshot() {
    let c = lagging_n3_behind_compaction(Protocol::BasicPaxos);
    assert!(c.count("snapshot") >= 1);
    assert!(c
        .events_of(2)
        .any(|e| matches!(e, Event::SnapshotInstalled { .. })));
    assert_eq!(c.value(2, "tail").as_deref(), Some("7"));
    c.assert_safe();
}

#[test]
fn candidate_behind_a_compaction_point_installs_a_snapshot_before_it_leads() {
    let mut c = Cluster::with(multi(3));
    c.client(0, 9, 1, set("init", "x"));
    while c.deliver_where(|e| e.to != NodeId(2) && e.from != NodeId(2)) {}
    for seq in 1..=4 {
        c.client(0, 0, seq, set("k", &seq.to_string()));
        while c.deliver_where(|e| e.to != NodeId(2) && e.from != NodeId(2)) {}
    }
    c.drop_where(|_| true);
    c.nodes[1].as_mut().unwrap().snapshot_now().unwrap();
    c.run(0);
    // The leader dies; n3, which knows nothing, campaigns first and hears from n2 only.
    c.crash(0);
    for _ in 0..200 {
        c.tick(2);
        if c.node(2).role() == Role::Candidate {
            break;
        }
    }
    assert_eq!(c.node(2).role(), Role::Candidate);
    c.deliver_all();
    c.run_until(100, |c| c.leader().is_some());
    let events: Vec<&Event> = c.events_of(2).collect();
    let installed = events
        .iter()
        .position(|e| matches!(e, Event::SnapshotInstalled { .. }));
    let led = events
        .iter()
        .position(|e| matches!(e, Event::BecameLeader { .. }));
    if let (Some(i), Some(l)) = (installed, led) {
        assert!(i < l, "installed the snapshot before leading");
    } else {
        assert!(installed.is_some(), "n3 needed the snapshot");
    }
    c.client(c.leader().unwrap(), 1, 1, set("after", "y"));
    c.run(10);
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    assert_eq!(c.value(2, "k").as_deref(), Some("4"), "nothing lost");
    c.assert_safe();
}

#[test]
fn acceptor_answers_an_accept_for_a_compacted_slot_with_its_snapshot_once_per_retry_period() {
    let configs = NodeConfig::cluster(3, Protocol::MultiPaxos)
        .into_iter()
        .map(|c| c.with_snapshot_every(2))
        .collect();
    let mut c = Cluster::with(configs);
    c.run_until(200, |c| c.leader().is_some());
    let l = c.leader().expect("a leader");
    for seq in 1..=4u64 {
        c.client(l, 0, seq, set("k", &seq.to_string()));
        c.deliver_all();
    }
    let f = (l + 1) % 3;
    let compacted = c.node(f).snapshot_info().expect("the follower compacted").0;
    // A proposer that lags behind that compaction retransmits an accept for slot 0.
    let ballot = c.node(l).promised();
    let accept = Message::Accept {
        ballot,
        slot: Slot(0),
        value: Value::Noop,
    };
    let node = c.nodes[usize::from(f)].as_mut().expect("up");
    let mut snapshots = 0;
    for _ in 0..3 {
        node.on_message(NodeId(l), accept.clone());
        while let Some(output) = node.poll() {
            if let Output::Send { to, msg } = output {
                assert_eq!(to, NodeId(l));
                match msg {
                    Message::InstallSnapshot { snapshot } => {
                        assert!(snapshot.last >= compacted);
                        snapshots += 1;
                    }
                    Message::CatchUpReply { .. } => {}
                    other => panic!("unexpected {other}"),
                }
            }
        }
    }
    assert_eq!(snapshots, 1, "helped once, not once per retransmission");
}

/// A recent view is the whole view's last slots, says how many came before, and the log's
/// runs are the whole view's, slot for slot; with a snapshot, an accepted-only slot and a
/// lagging node among them.
#[test]
fn recent_views_and_log_runs_agree_with_the_whole_view() {
    let mut c = led_by_n1(multi(3));
    write(&mut c, 0, 1, 6);
    c.nodes[1]
        .as_mut()
        .unwrap()
        .snapshot_now()
        .expect("a snapshot");
    c.run(1);
    // n3 misses the next decisions; then one accept reaches the followers, and nothing after.
    for seq in 7..10 {
        c.client(0, 0, seq, set("k0", &seq.to_string()));
        c.deliver_all_but(|e| e.to == NodeId(2));
        c.drop_where(|e| e.to == NodeId(2));
    }
    c.client(0, 0, 10, set("k1", "late"));
    c.deliver_where(|e| matches!(e.msg, Message::Accept { .. }));
    c.deliver_where(|e| matches!(e.msg, Message::Accept { .. }));
    c.drop_where(|_| true);
    let mut shapes = 0;
    for i in 0..3 {
        let whole = c.node(i).view();
        assert_eq!(whole.earlier_slots, 0);
        assert_eq!(c.node(i).log_runs(), runs_of(&whole), "n{}", i + 1);
        for tail in [0, 1, 3, whole.log.len(), whole.log.len() + 5] {
            let recent = c.node(i).view_recent(tail);
            let kept = whole.log.len().min(tail);
            let cut = whole.log.len() - kept;
            assert_eq!(recent.log, whole.log[cut..], "n{} tail {tail}", i + 1);
            let earlier = match (whole.log.first(), recent.log.first()) {
                (Some(first), Some(shown)) => shown.slot.0 - first.slot.0,
                _ => 0,
            };
            assert_eq!(recent.earlier_slots, earlier, "n{} tail {tail}", i + 1);
            assert_eq!(
                NodeView {
                    log: whole.log.clone(),
                    earlier_slots: 0,
                    ..recent
                },
                whole
            );
        }
        shapes |= c.node(i).log_runs().iter().fold(0, |acc, r| {
            acc | match r.state {
                SlotState::Snapshot => 1,
                SlotState::Missing => 2,
                SlotState::Applied => 4,
                SlotState::Chosen => 8,
                SlotState::Accepted => 16,
            }
        });
    }
    assert_eq!(
        shapes & (1 | 4 | 16),
        1 | 4 | 16,
        "snapshot, applied and accepted runs seen"
    );
}

/// The earlier strategies' local logs give recent views and runs the same way.
#[test]
fn local_logs_give_recent_views_and_runs_too() {
    for protocol in [
        Protocol::SingleNode,
        Protocol::Naive,
        Protocol::Timestamps,
        Protocol::Sequencer,
    ] {
        let size = if protocol == Protocol::SingleNode {
            1
        } else {
            3
        };
        let mut c = Cluster::new(size, protocol);
        for seq in 1..6 {
            c.client(0, 0, seq, set("k", &seq.to_string()));
            c.deliver_all();
            c.run(3);
        }
        for i in 0..size {
            let whole = c.node(i).view();
            assert!(whole.log.len() >= 4, "{protocol:?}: {whole:?}");
            assert_eq!(c.node(i).log_runs(), runs_of(&whole), "{protocol:?}");
            let recent = c.node(i).view_recent(2);
            assert_eq!(recent.log, whole.log[whole.log.len() - 2..], "{protocol:?}");
            assert_eq!(
                recent.earlier_slots,
                recent.log[0].slot.0 - whole.log[0].slot.0
            );
        }
    }
}
