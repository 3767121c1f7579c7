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
