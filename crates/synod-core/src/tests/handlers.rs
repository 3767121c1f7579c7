//! Handler-level tests: one node, messages fed in by hand, outputs checked in order.

use crate::testkit::*;
use crate::*;

fn acceptor(protocol: Protocol) -> Node {
    Node::new(NodeConfig::cluster(3, protocol)[1].clone())
}

fn drain(node: &mut Node) -> Vec<Output> {
    std::iter::from_fn(|| node.poll()).collect()
}

fn sent(outputs: &[Output]) -> Vec<(NodeId, Message)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

/// Whether every output is an [`Event::Ignored`]: the node acted on none of its inputs.
fn all_ignored(outputs: &[Output]) -> bool {
    outputs
        .iter()
        .all(|o| matches!(o, Output::Event(Event::Ignored { .. })))
}

fn b(round: u64, node: u8) -> Ballot {
    Ballot {
        round,
        node: NodeId(node),
    }
}

fn value(seq: u64) -> Value {
    Value::Command(
        Command {
            id: cid(0, seq),
            op: set("k", &seq.to_string()),
        }
        .into(),
    )
}

#[test]
fn prepare_above_the_promise_is_persisted_before_the_promise_reports_accepted_values() {
    let mut node = acceptor(Protocol::MultiPaxos);
    node.on_message(
        n(0),
        Message::Accept {
            ballot: b(1, 0),
            slot: Slot(3),
            value: value(1),
        },
    );
    drain(&mut node);
    node.on_message(
        n(2),
        Message::Prepare {
            ballot: b(2, 2),
            from: Slot(0),
        },
    );
    let out = drain(&mut node);
    let persist = out
        .iter()
        .position(|o| *o == Output::Persist(DurableWrite::Promise { ballot: b(2, 2) }));
    let promise = out.iter().position(|o| {
        matches!(
            o,
            Output::Send {
                msg: Message::Promise { .. },
                ..
            }
        )
    });
    assert!(persist.expect("persisted") < promise.expect("promised"));
    let Some((to, Message::Promise { entries, .. })) = sent(&out).pop() else {
        panic!("a promise");
    };
    assert_eq!(to, n(2));
    assert_eq!(
        entries,
        vec![PromiseEntry {
            slot: Slot(3),
            ballot: b(1, 0),
            value: value(1),
            decided: false
        }]
    );
    assert_eq!(node.promised(), b(2, 2));
}

#[test]
fn prepare_below_the_promise_is_nacked_with_the_promise() {
    let mut node = acceptor(Protocol::BasicPaxos);
    node.on_message(
        n(2),
        Message::Prepare {
            ballot: b(5, 2),
            from: Slot(0),
        },
    );
    drain(&mut node);
    node.on_message(
        n(0),
        Message::Prepare {
            ballot: b(4, 0),
            from: Slot(0),
        },
    );
    let out = drain(&mut node);
    assert_eq!(
        sent(&out),
        vec![(
            n(0),
            Message::Nack {
                ballot: b(4, 0),
                promised: b(5, 2)
            }
        )]
    );
    assert!(!out.iter().any(|o| matches!(o, Output::Persist(_))));
}

#[test]
fn duplicate_prepare_is_answered_again_without_a_new_write() {
    let mut node = acceptor(Protocol::MultiPaxos);
    let prepare = Message::Prepare {
        ballot: b(2, 0),
        from: Slot(0),
    };
    node.on_message(n(0), prepare.clone());
    drain(&mut node);
    node.on_message(n(0), prepare);
    let out = drain(&mut node);
    assert!(matches!(sent(&out)[..], [(_, Message::Promise { .. })]));
    assert!(!out.iter().any(|o| matches!(o, Output::Persist(_))));
}

#[test]
fn accept_is_persisted_before_accepted_and_below_promise_is_nacked() {
    let mut node = acceptor(Protocol::MultiPaxos);
    node.on_message(
        n(0),
        Message::Accept {
            ballot: b(3, 0),
            slot: Slot(0),
            value: value(1),
        },
    );
    let out = drain(&mut node);
    let persist = out
        .iter()
        .position(|o| matches!(o, Output::Persist(DurableWrite::Accept { .. })));
    let accepted = out.iter().position(|o| {
        matches!(
            o,
            Output::Send {
                msg: Message::Accepted { .. },
                ..
            }
        )
    });
    assert!(persist.unwrap() < accepted.unwrap());
    assert_eq!(
        node.leader_hint(),
        Some(n(0)),
        "accepting follows the leader"
    );
    node.on_message(
        n(2),
        Message::Accept {
            ballot: b(2, 2),
            slot: Slot(0),
            value: value(2),
        },
    );
    let out = drain(&mut node);
    assert_eq!(
        sent(&out),
        vec![(
            n(2),
            Message::Nack {
                ballot: b(2, 2),
                promised: b(3, 0)
            }
        )]
    );
    let (_, _, kept) = node.accepted().next().unwrap();
    assert_eq!(*kept, value(1));
}

#[test]
fn stale_promise_accepted_and_nack_are_ignored_with_an_event() {
    let mut node = acceptor(Protocol::MultiPaxos);
    for msg in [
        Message::Promise {
            ballot: b(1, 1),
            from: Slot(0),
            entries: vec![],
            compacted_upto: Slot(0),
        },
        Message::Accepted {
            ballot: b(1, 1),
            slot: Slot(0),
        },
        Message::Nack {
            ballot: b(1, 1),
            promised: b(2, 0),
        },
    ] {
        let kind = msg.kind();
        node.on_message(n(0), msg);
        let out = drain(&mut node);
        assert!(
            matches!(&out[..], [Output::Event(Event::Ignored { what, .. })] if what == kind),
            "{kind}: {out:?}"
        );
    }
}

#[test]
fn decide_is_learned_once_and_a_gap_asks_for_catch_up() {
    let mut node = acceptor(Protocol::MultiPaxos);
    node.on_message(
        n(0),
        Message::Decide {
            slot: Slot(0),
            value: value(1),
        },
    );
    let out = drain(&mut node);
    assert!(out.contains(&Output::Persist(DurableWrite::Decide {
        slot: Slot(0),
        value: value(1)
    })));
    assert_eq!(node.applied_index(), Slot(1));
    node.on_message(
        n(0),
        Message::Decide {
            slot: Slot(0),
            value: value(1),
        },
    );
    assert!(matches!(
        drain(&mut node)[..],
        [Output::Event(Event::Ignored { .. })]
    ));
    node.on_message(
        n(0),
        Message::Decide {
            slot: Slot(3),
            value: value(4),
        },
    );
    let out = drain(&mut node);
    assert!(sent(&out).contains(&(n(0), Message::CatchUp { from: Slot(1) })));
    assert_eq!(node.applied_index(), Slot(1), "slot 3 waits for 1 and 2");
}

#[test]
fn catch_up_request_returns_decided_entries_from_the_slot_asked() {
    let mut node = acceptor(Protocol::MultiPaxos);
    for s in 0..3 {
        node.on_message(
            n(0),
            Message::Decide {
                slot: Slot(s),
                value: value(s + 1),
            },
        );
    }
    drain(&mut node);
    node.on_message(n(2), Message::CatchUp { from: Slot(1) });
    let out = drain(&mut node);
    assert_eq!(
        sent(&out),
        vec![(
            n(2),
            Message::CatchUpReply {
                entries: vec![(Slot(1), value(2)), (Slot(2), value(3))]
            }
        )]
    );
}

#[test]
fn messages_from_strangers_or_other_protocols_are_ignored_with_an_event() {
    let mut node = acceptor(Protocol::MultiPaxos);
    node.on_message(NodeId(6), Message::CatchUp { from: Slot(0) });
    node.on_message(n(1), Message::CatchUp { from: Slot(0) });
    node.on_message(
        n(0),
        Message::Replicate {
            command: Command {
                id: cid(0, 1),
                op: set("k", "v"),
            }
            .into(),
        },
    );
    let out = drain(&mut node);
    assert_eq!(out.len(), 3);
    assert!(all_ignored(&out));
    let mut single = Node::new(NodeConfig::single(0));
    single.on_message(n(0), Message::CatchUp { from: Slot(0) });
    assert!(matches!(
        drain(&mut single)[..],
        [Output::Event(Event::Ignored { .. })]
    ));
}

#[test]
fn a_stranger_that_decided_more_is_asked_for_the_entries_and_nothing_else_it_says_counts() {
    // NodeId(6) is in no configuration this node knows: a member added by a change it has
    // not learned yet, say, now leading.
    let stranger = NodeId(6);
    let mut node = acceptor(Protocol::MultiPaxos);
    let promised = node.view().promised;
    let hint = node.view().leader_hint;

    // Before it says it is ahead, nothing it sends is taken, not even decided entries.
    node.on_message(
        stranger,
        Message::CatchUpReply {
            entries: vec![(Slot(0), value(1))],
        },
    );
    node.on_message(
        stranger,
        Message::Heartbeat {
            ballot: b(9, 6),
            decided_upto: Slot(0),
        },
    );
    let out = drain(&mut node);
    assert_eq!(out.len(), 2);
    assert!(all_ignored(&out));
    assert_eq!(node.decided_upto(), Slot(0));

    // A heartbeat showing more decided slots: one catch-up request to it, and its ballot
    // changes neither the promise nor whom this node follows.
    node.on_message(
        stranger,
        Message::Heartbeat {
            ballot: b(9, 6),
            decided_upto: Slot(2),
        },
    );
    let out = drain(&mut node);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Event(Event::StrangerAhead { from, decided_upto: Slot(2) }) if *from == stranger
    )));
    assert_eq!(
        sent(&out),
        vec![(stranger, Message::CatchUp { from: Slot(0) })]
    );
    assert_eq!(node.view().promised, promised);
    assert_eq!(node.view().leader_hint, hint);

    // Its reply is learned.
    node.on_message(
        stranger,
        Message::CatchUpReply {
            entries: vec![(Slot(0), value(1)), (Slot(1), value(2))],
        },
    );
    drain(&mut node);
    assert_eq!(node.decided_upto(), Slot(2));

    // It still cannot take part in the protocol.
    node.on_message(
        stranger,
        Message::Prepare {
            ballot: b(10, 6),
            from: Slot(0),
        },
    );
    node.on_message(
        stranger,
        Message::Accept {
            ballot: b(10, 6),
            slot: Slot(5),
            value: value(3),
        },
    );
    node.on_message(
        stranger,
        Message::Decide {
            slot: Slot(2),
            value: value(4),
        },
    );
    let out = drain(&mut node);
    assert_eq!(out.len(), 3);
    assert!(all_ignored(&out));
    assert_eq!(node.view().promised, promised);
    assert_eq!(node.decided_upto(), Slot(2));
}

#[test]
fn basic_paxos_takes_nothing_from_strangers() {
    let mut node = acceptor(Protocol::BasicPaxos);
    node.on_message(
        NodeId(6),
        Message::Heartbeat {
            ballot: b(9, 6),
            decided_upto: Slot(4),
        },
    );
    assert!(matches!(
        drain(&mut node)[..],
        [Output::Event(Event::Ignored { .. })]
    ));
}

#[test]
fn invalid_configuration_is_a_typed_error() {
    let mut config = NodeConfig::cluster(3, Protocol::MultiPaxos)[0].clone();
    config.id = NodeId(5);
    assert_eq!(
        Node::try_new(config).err(),
        Some(ConfigError::NotAMember(NodeId(5)))
    );
}

#[test]
fn every_message_kind_narrates_in_plain_language() {
    let command = std::sync::Arc::new(Command {
        id: cid(0, 1),
        op: set("k", "v"),
    });
    let messages = vec![
        Message::Replicate {
            command: command.clone(),
        },
        Message::Stamped {
            ts: Timestamp {
                time: 4,
                node: n(1),
                seq: 0,
            },
            command: command.clone(),
        },
        Message::Sequenced {
            slot: Slot(2),
            command,
        },
        Message::Prepare {
            ballot: b(3, 0),
            from: Slot(4),
        },
        Message::Promise {
            ballot: b(3, 0),
            from: Slot(4),
            entries: vec![PromiseEntry {
                slot: Slot(4),
                ballot: b(2, 2),
                value: value(1),
                decided: false,
            }],
            compacted_upto: Slot(0),
        },
        Message::Accept {
            ballot: b(3, 0),
            slot: Slot(4),
            value: Value::Noop,
        },
        Message::Accepted {
            ballot: b(3, 0),
            slot: Slot(4),
        },
        Message::Nack {
            ballot: b(1, 0),
            promised: b(3, 0),
        },
        Message::Decide {
            slot: Slot(4),
            value: value(1),
        },
        Message::Heartbeat {
            ballot: b(3, 0),
            decided_upto: Slot(4),
        },
        Message::CatchUp { from: Slot(1) },
        Message::CatchUpReply { entries: vec![] },
        Message::InstallSnapshot {
            snapshot: Snapshot {
                last: Slot(3),
                store: KvStore::new(),
                sessions: vec![],
                writes: vec![],
                configs: vec![(Slot(0), Membership::of(&[n(0), n(1), n(2)]))],
                digest: KvStore::new().digest(),
            },
        },
    ];
    let kinds: Vec<&str> = messages.iter().map(Message::kind).collect();
    assert_eq!(kinds, Message::KINDS);
    for msg in &messages {
        assert!(!msg.to_string().is_empty());
        let json = serde_json::to_string(msg).unwrap();
        assert_eq!(&serde_json::from_str::<Message>(&json).unwrap(), msg);
    }
    assert_eq!(
        messages[4].narrate(n(1), n(0)),
        "n2 promised ballot 3.1 to n1 and reported slot 4 accepted at ballot 2.3 (c1#1 set(k, 1))"
    );
    assert_eq!(messages[5].ballot(), Some(b(3, 0)));
    assert_eq!(messages[0].ballot(), None);
    assert_eq!(
        messages[7].to_string(),
        "reject ballot 1.1: already promised 3.1"
    );
}

#[test]
fn events_narrate_and_round_trip_through_json() {
    let events = vec![
        Event::BecameLeader {
            ballot: b(2, 1),
            recovered: 1,
            noops: 2,
        },
        Event::Campaigning {
            ballot: b(3, 1),
            from: Slot(0),
            retry: true,
        },
        Event::Chosen {
            slot: Slot(1),
            ballot: b(2, 1),
            value: value(1),
        },
        Event::BugTriggered { bug: Bug::NoDedup },
        Event::StrangerAhead {
            from: NodeId(4),
            decided_upto: Slot(17),
        },
    ];
    for e in &events {
        let json = serde_json::to_string(e).unwrap();
        assert_eq!(&serde_json::from_str::<Event>(&json).unwrap(), e);
    }
    assert_eq!(
        events[1].to_string(),
        "retried with a higher ballot 3.2 for slots from 0"
    );
    assert_eq!(
        events[3].to_string(),
        "deliberate bug `no-dedup` changed what it did here"
    );
    assert_eq!(
        events[4].to_string(),
        "heard from n5, which it does not know as a member, that everything before slot 17 \
         is decided: asked it for the entries it is missing (it may have joined in a slot this \
         node has not learned yet)"
    );
}

#[test]
fn protocols_have_names_ranges_and_guarantees() {
    for p in Protocol::ALL {
        assert_eq!(Protocol::from_name(p.name()), Some(p));
        assert!(!p.guarantee().is_empty());
        assert!(p.node_range().contains(&1));
    }
    assert_eq!(Protocol::MultiPaxos.node_range(), 1..=7);
}

#[test]
fn view_shows_promise_accepted_ballots_decided_prefix_and_role() {
    let mut node = acceptor(Protocol::MultiPaxos);
    node.on_message(
        n(0),
        Message::Accept {
            ballot: b(1, 0),
            slot: Slot(0),
            value: value(1),
        },
    );
    node.on_message(
        n(0),
        Message::Accept {
            ballot: b(1, 0),
            slot: Slot(1),
            value: value(2),
        },
    );
    node.on_message(
        n(0),
        Message::Decide {
            slot: Slot(0),
            value: value(1),
        },
    );
    let v = node.view();
    assert_eq!(v.role, Role::Follower);
    assert_eq!(v.promised, b(1, 0));
    assert_eq!(v.leader_hint, Some(n(0)));
    assert_eq!(v.decided_upto, 1);
    assert_eq!(v.applied, 1);
    assert_eq!(v.log.len(), 2);
    assert!(v.log[0].chosen && v.log[0].applied);
    assert!(!v.log[1].chosen && v.log[1].accepted_ballot == Some(b(1, 0)));
    assert_eq!(v.table, vec![("k".into(), "1".into())]);
}

#[test]
fn durable_state_round_trips_through_json_for_the_host() {
    let mut d = Durable::default();
    d.apply(&DurableWrite::Promise { ballot: b(2, 0) });
    d.apply(&DurableWrite::Accept {
        slot: Slot(1),
        ballot: b(2, 0),
        value: value(1),
    });
    d.apply(&DurableWrite::Decide {
        slot: Slot(0),
        value: Value::Noop,
    });
    d.apply(&DurableWrite::Decide {
        slot: Slot(0),
        value: value(9),
    });
    assert_eq!(d.decided[&Slot(0)], Value::Noop, "a decision never changes");
    assert_eq!(d.decided_upto(), Slot(1));
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Durable>(&json).unwrap(), d);
    let old: Durable = serde_json::from_str(r#"{"promised":{"round":1,"node":0}}"#).unwrap();
    assert!(old.accepted.is_empty());
}

/// The first slot missing from `node`'s decided log, the slow way.
fn first_gap_by_scan(node: &Node, from: Slot) -> Slot {
    let mut next = from;
    while node
        .decided_since(next)
        .next()
        .is_some_and(|(s, _)| s == next)
    {
        next = next.next();
    }
    next
}

#[test]
fn decided_upto_tracks_the_first_gap_incrementally_as_decisions_arrive_out_of_order() {
    for protocol in [Protocol::BasicPaxos, Protocol::MultiPaxos] {
        let mut node = acceptor(protocol);
        let mut durable = Durable::default();
        // Slots 0..200 in a scrambled order (37 is coprime to 200), so the gap moves in
        // jumps of every size, and sometimes not at all.
        for i in 0..200u64 {
            let slot = Slot((i * 37) % 200);
            node.on_message(
                n(0),
                Message::Decide {
                    slot,
                    value: value(slot.0),
                },
            );
            for output in drain(&mut node) {
                if let Output::Persist(write) = output {
                    durable.apply(&write);
                }
            }
            let expected = first_gap_by_scan(&node, Slot(0));
            assert_eq!(
                node.decided_upto(),
                expected,
                "{protocol} after slot {slot}"
            );
            assert_eq!(durable.decided_upto(), expected, "the host's copy agrees");
            assert_eq!(node.view().decided_upto, expected.0);
        }
        assert_eq!(node.decided_upto(), Slot(200));
        // A restart recomputes the prefix from the durable log once.
        let restarted = Node::restart(node.config().clone(), durable);
        assert_eq!(restarted.decided_upto(), Slot(200));
    }
}

#[test]
fn decided_upto_starts_at_the_snapshot_and_skips_the_compacted_prefix() {
    let mut c = Cluster::new(3, Protocol::MultiPaxos);
    c.run_until(200, |c| c.leader().is_some());
    let l = c.leader().expect("a leader");
    for seq in 1..=5u64 {
        c.client(l, 0, seq, set("k", &seq.to_string()));
        c.deliver_all();
    }
    let node = c.nodes[usize::from(l)].as_mut().expect("up");
    let before = node.decided_upto();
    let last = node.snapshot_now().expect("something applied");
    assert!(last < before);
    assert_eq!(
        node.decided_upto(),
        before,
        "compaction does not move the prefix"
    );
    assert_eq!(
        node.decided_since(Slot(0)).count() as u64,
        before.0 - last.0 - 1
    );
}
