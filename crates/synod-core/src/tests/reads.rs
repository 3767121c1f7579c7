//! Read modes of the Paxos protocols.

use crate::testkit::*;
use crate::*;

fn cluster_reading(mode: ReadMode) -> Cluster {
    let configs = NodeConfig::cluster(3, Protocol::MultiPaxos)
        .into_iter()
        .map(|c| c.with_read_mode(mode))
        .collect();
    let mut c = Cluster::with(configs);
    c.client(0, 9, 1, set("k", "a"));
    c.deliver_all();
    assert_eq!(c.leader(), Some(0));
    c
}

#[test]
fn log_reads_are_ordered_through_the_log_like_writes() {
    let mut c = cluster_reading(ReadMode::Log);
    let accepts = c.count("accept");
    c.client(0, 1, 1, get("k"));
    assert_eq!(c.ok_result(1, 1), None, "not answered before it is chosen");
    c.deliver_all();
    assert_eq!(
        c.ok_result(1, 1),
        Some(KvResult::Value {
            value: Some("a".into())
        })
    );
    assert_eq!(c.count("accept"), accepts + 2);
    c.client(1, 1, 2, get("k"));
    assert!(matches!(
        c.replies_for(1, 2)[..],
        [ReplyStatus::Redirect { .. }]
    ));
}

#[test]
fn local_reads_answer_at_once_from_whatever_the_replica_has() {
    let mut c = cluster_reading(ReadMode::Local);
    c.client(0, 0, 1, set("k", "b"));
    while c.deliver_where(|e| e.to != NodeId(2)) {}
    c.drop_where(|_| true);
    c.client(2, 1, 1, get("k"));
    assert_eq!(
        c.ok_result(1, 1),
        Some(KvResult::Value {
            value: Some("a".into())
        }),
        "stale: b was acknowledged already"
    );
    assert!(c.any_event(|e| matches!(e, Event::ReadLocally { .. })));
}

#[test]
fn quorum_read_reports_the_newest_write_and_waits_until_it_is_decided() {
    let mut c = cluster_reading(ReadMode::Quorum);
    c.client(0, 0, 1, set("k", "b"));
    // b is accepted by n1 and n2 but nobody has learned that it is chosen.
    assert!(c.deliver_where(|e| e.to == NodeId(1) && e.msg.kind() == "accept"));
    let held = std::mem::take(&mut c.net);
    let mut collector = Collector::new("k", 3, &Bugs::none());
    let ask = |c: &mut Cluster, seq: u64, collector: &mut Collector| {
        let start = c.replies.len();
        for node in [1, 2] {
            c.client(node, 1, seq, get("k"));
        }
        let mut verdict = collector.verdict();
        for (from, _, r) in c.replies[start..].iter().cloned() {
            let ReplyStatus::QuorumRead { report } = r.status else {
                panic!("a report");
            };
            verdict = collector.offer(from, report);
        }
        verdict
    };
    assert_eq!(
        ask(&mut c, 1, &mut collector),
        Verdict::AskAgain { slot: Slot(1) }
    );
    c.net = held;
    c.deliver_all();
    collector.start_round();
    assert_eq!(
        ask(&mut c, 2, &mut collector),
        Verdict::Value {
            value: Some("b".into()),
            slot: Some(Slot(1))
        }
    );
    assert!(c.any_event(|e| matches!(e, Event::ReadReported { .. })));
}

#[test]
fn quorum_read_of_a_key_never_written_is_absent() {
    let mut c = cluster_reading(ReadMode::Quorum);
    c.client(1, 1, 1, get("other"));
    let report = c.replies.iter().find_map(|(_, _, r)| match &r.status {
        ReplyStatus::QuorumRead { report } => Some(report.clone()),
        _ => None,
    });
    let report = report.expect("a report");
    assert_eq!(report.newest, None);
    assert_eq!(report.decided_upto, Slot(1));
}

/// A quorum-read report from a follower that learned `decided` (slot, client, seq, value).
fn report_after(decided: &[(u64, u16, u64, &str)], skip_slot: Option<u64>) -> ReadReport {
    report_from(follower_after(decided, skip_slot))
}

/// A follower that learned `decided` (slot, client, seq, value; the value `-` removes k).
fn follower_after(decided: &[(u64, u16, u64, &str)], skip_slot: Option<u64>) -> Node {
    let config = NodeConfig::cluster(3, Protocol::MultiPaxos)[1]
        .clone()
        .with_read_mode(ReadMode::Quorum);
    let mut node = Node::new(config);
    for &(slot, client, seq, v) in decided {
        if Some(slot) == skip_slot {
            continue;
        }
        let op = match v {
            "-" => KvOp::Remove { key: "k".into() },
            v => set("k", v),
        };
        let command = Command {
            id: cid(client, seq),
            op,
        };
        let msg = Message::Decide {
            slot: Slot(slot),
            value: Value::Command(command.into()),
        };
        node.on_message(n(0), msg);
    }
    node
}

/// The node's quorum-read report on k.
fn report_from(mut node: Node) -> ReadReport {
    node.on_client(
        ClientId(9),
        ClientRequest {
            command: Command {
                id: cid(9, 1),
                op: get("k"),
            }
            .into(),
        },
    );
    std::iter::from_fn(|| node.poll())
        .find_map(|o| match o {
            Output::Reply { reply, .. } => match reply.status {
                ReplyStatus::QuorumRead { report } => Some(report),
                _ => None,
            },
            _ => None,
        })
        .expect("a report")
}

#[test]
fn quorum_read_report_skips_a_retried_write_chosen_again_in_a_later_slot() {
    // Client 0's set 7 is chosen in slot 0, client 1's set 8 in slot 1, and client 0's
    // retry of set 7 again in slot 2. The replica skips the copy, so k is 8, and the
    // newest write that takes effect is slot 1's.
    let log = [(0, 0, 1, "7"), (1, 1, 1, "8"), (2, 0, 1, "7")];
    let newest = report_after(&log, None).newest.expect("a write");
    assert_eq!((newest.slot, newest.value.as_deref()), (Slot(1), Some("8")));
    assert!(newest.decided);
}

#[test]
fn quorum_read_report_above_a_gap_is_not_known_to_be_decided() {
    // Slot 1 is missing here: the write in slot 2 may be a copy of a command chosen there,
    // so this node cannot vouch for it and the client has to ask again.
    let log = [(0, 0, 1, "7"), (1, 1, 1, "8"), (2, 2, 1, "9")];
    let newest = report_after(&log, Some(1)).newest.expect("a write");
    assert_eq!((newest.slot, newest.value.as_deref()), (Slot(2), Some("9")));
    assert!(!newest.decided);
    let complete = report_after(&log, None).newest.expect("a write");
    assert!(complete.decided);
}

#[test]
fn quorum_read_report_still_vouches_for_a_write_its_snapshot_compacted() {
    // The only write to k is in slot 1; after the snapshot the log below slot 3 is gone,
    // and before the fix the node reported no write to k at all: a majority of such
    // reports read k as absent although set 8 was acknowledged.
    let log = [(0, 0, 1, "7"), (1, 1, 1, "8"), (2, 2, 1, "9")];
    let mut node = follower_after(&log, None);
    node.snapshot_now().expect("three slots applied");
    assert_eq!(node.snapshot().map(|s| s.last), Some(Slot(2)));
    let newest = report_from(node).newest.expect("the snapshot's write");
    assert_eq!((newest.slot, newest.value.as_deref()), (Slot(2), Some("9")));
    assert!(newest.decided);
}

#[test]
fn quorum_read_report_of_a_compacted_remove_says_absent_at_its_slot() {
    let log = [(0, 0, 1, "7"), (1, 1, 1, "-"), (2, 2, 1, "-")];
    let mut node = follower_after(&log, None);
    node.snapshot_now().expect("three slots applied");
    let newest = report_from(node).newest.expect("the snapshot's write");
    assert_eq!((newest.slot, newest.value), (Slot(2), None));
    assert!(newest.decided);
}

#[test]
fn quorum_read_report_after_a_snapshot_skips_a_compacted_retry_copy() {
    // Set 7 by client 0 is chosen in slot 0 and again (a retry) in slot 2; the replica
    // skips the copy, so the snapshot's last write to k is client 1's set 8 in slot 1.
    let log = [(0, 0, 1, "7"), (1, 1, 1, "8"), (2, 0, 1, "7")];
    let mut node = follower_after(&log, None);
    node.snapshot_now().expect("three slots applied");
    let newest = report_from(node).newest.expect("the snapshot's write");
    assert_eq!((newest.slot, newest.value.as_deref()), (Slot(1), Some("8")));
}
