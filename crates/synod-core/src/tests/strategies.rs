//! The story's earlier strategies: each works in its easy case and fails for the reason the
//! story gives.

use crate::testkit::*;
use crate::*;

#[test]
fn naive_replication_converges_when_writes_do_not_overlap() {
    let mut c = Cluster::new(3, Protocol::Naive);
    c.client(0, 0, 1, set("k1", "v1"));
    assert_eq!(
        c.ok_result(0, 1),
        Some(KvResult::Done),
        "acknowledged at once"
    );
    c.deliver_all();
    c.client(1, 1, 1, set("k1", "v2"));
    c.deliver_all();
    for i in 0..3 {
        assert_eq!(c.value(i, "k1").as_deref(), Some("v2"));
    }
    assert_eq!(c.count("replicate"), 4);
}

#[test]
fn naive_replication_diverges_with_two_concurrent_sets_on_two_nodes() {
    let mut c = Cluster::new(3, Protocol::Naive);
    c.client(0, 0, 1, set("k1", "v1"));
    c.client(1, 1, 1, set("k1", "v2"));
    c.deliver_all();
    assert_eq!(c.value(0, "k1").as_deref(), Some("v2"));
    assert_eq!(c.value(1, "k1").as_deref(), Some("v1"));
    let (a, b) = (c.node(0).applied_digest(), c.node(1).applied_digest());
    assert_eq!(a.0, b.0, "both applied two writes");
    assert_ne!(
        a.1, b.1,
        "but in different orders: the replicas disagree for ever"
    );
}

#[test]
fn naive_replication_answers_reads_from_the_local_table() {
    let mut c = Cluster::new(2, Protocol::Naive);
    c.client(0, 0, 1, set("k", "v"));
    c.client(1, 1, 1, get("k"));
    assert_eq!(
        c.ok_result(1, 1),
        Some(KvResult::Value { value: None }),
        "the write has not reached n2 yet: a stale read"
    );
}

fn timestamp_cluster(skews: [i64; 3]) -> Cluster {
    let configs = NodeConfig::cluster(3, Protocol::Timestamps)
        .into_iter()
        .zip(skews)
        .map(|(mut c, skew)| {
            c.clock_skew_ticks = skew;
            c
        })
        .collect();
    Cluster::with(configs)
}

#[test]
fn timestamps_with_synchronised_clocks_apply_in_the_same_order_everywhere() {
    let mut c = timestamp_cluster([0, 0, 0]);
    c.run(2);
    c.client(0, 0, 1, set("k", "a"));
    c.client(1, 1, 1, set("k", "b"));
    assert_eq!(c.ok_result(0, 1), None, "held back first");
    c.run(8);
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    for i in 0..3 {
        assert_eq!(
            c.value(i, "k").as_deref(),
            Some("b"),
            "same time: n2's id breaks the tie"
        );
    }
    assert!(!c.any_event(|e| matches!(e, Event::AppliedLate { .. })));
}

#[test]
fn timestamps_with_a_skewed_clock_diverge_and_lose_the_later_write() {
    let mut c = timestamp_cluster([0, -20, 0]);
    c.run(5);
    c.client(0, 0, 1, set("k", "a"));
    c.run(10);
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done), "a is acknowledged");
    // Strictly later in real time, c2 writes b through n2, whose clock is 20 ticks slow.
    c.client(1, 1, 1, set("k", "b"));
    c.run(30);
    assert_eq!(
        c.ok_result(1, 1),
        Some(KvResult::Done),
        "b is acknowledged too"
    );
    assert!(c.any_event(|e| matches!(e, Event::AppliedLate { .. })));
    assert_eq!(
        c.value(0, "k").as_deref(),
        Some("b"),
        "n1 applied b late, after a"
    );
    assert_eq!(
        c.value(1, "k").as_deref(),
        Some("a"),
        "n2 applied b first by timestamp: the later write lost"
    );
    assert_ne!(c.node(0).applied_digest().1, c.node(1).applied_digest().1);
}

#[test]
fn sequencer_numbers_commands_and_replicas_agree() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(0, 0, 1, set("k", "a"));
    c.client(0, 1, 1, set("k", "b"));
    c.deliver_all();
    c.client(0, 2, 1, get("k"));
    assert_eq!(
        c.ok_result(2, 1),
        Some(KvResult::Value {
            value: Some("b".into())
        })
    );
    c.deliver_all();
    for i in 0..3 {
        assert_eq!(c.node(i).applied_digest(), c.node(0).applied_digest());
    }
    c.assert_safe();
}

#[test]
fn sequencer_followers_redirect_clients_to_the_sequencer() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(2, 0, 1, set("k", "a"));
    assert_eq!(
        c.replies_for(0, 1),
        vec![ReplyStatus::Redirect {
            leader: Some(NodeId(0))
        }]
    );
    assert_eq!(c.node(0).role(), Role::Sequencer);
}

#[test]
fn sequencer_follower_fills_a_gap_by_asking_the_sequencer() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(0, 0, 1, set("k", "a"));
    c.drop_where(|e| e.to == NodeId(2));
    c.client(0, 0, 2, set("k", "b"));
    c.deliver_all();
    assert_eq!(c.value(2, "k").as_deref(), Some("b"));
    assert!(c.any_event(|e| matches!(e, Event::CaughtUp { .. })));
}

#[test]
fn sequencer_crash_stops_all_progress_and_its_restart_reuses_numbers() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(0, 0, 1, set("k", "a"));
    c.deliver_all();
    c.crash(0);
    c.client(1, 1, 1, set("k", "b"));
    assert_eq!(
        c.replies_for(1, 1),
        vec![ReplyStatus::Redirect {
            leader: Some(NodeId(0))
        }],
        "the only node that can order commands is down"
    );
    c.restart(0);
    c.client(0, 1, 1, set("k", "b"));
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    c.deliver_all();
    assert!(c.any_event(|e| matches!(e, Event::SequenceConflict { slot: Slot(0), .. })));
    assert_eq!(c.value(0, "k").as_deref(), Some("b"));
    assert_eq!(
        c.value(1, "k").as_deref(),
        Some("a"),
        "the acknowledged write b never reaches the followers"
    );
}

#[test]
fn sequencer_follower_that_lost_the_last_sequenced_message_recovers() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(0, 0, 1, set("k", "a"));
    c.deliver_all();
    // The last number n2 ever hears of is lost: no later `Sequenced` reveals the gap.
    c.client(0, 0, 2, set("k", "b"));
    assert_eq!(c.drop_where(|e| e.to == NodeId(2)), 1);
    c.deliver_all();
    assert_eq!(c.value(2, "k").as_deref(), Some("a"), "n2 lags");
    let retry = Timing::default().retry_ticks;
    c.run_until(3 * retry, |c| c.node(2).decided_upto() == Slot(2));
    assert_eq!(c.value(2, "k").as_deref(), Some("b"));
    assert!(
        c.count("heartbeat") > 0,
        "the sequencer announced its next number"
    );
    assert!(c.any_event(|e| matches!(e, Event::CaughtUp { entries: 1, .. })));
}

#[test]
fn sequencer_follower_retries_when_its_catch_up_request_is_lost() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(0, 0, 1, set("k", "a"));
    c.drop_where(|e| e.to == NodeId(2));
    c.client(0, 0, 2, set("k", "b"));
    c.deliver_all_but(|e| matches!(e.msg, Message::CatchUp { .. }));
    assert_eq!(
        c.drop_where(|e| matches!(e.msg, Message::CatchUp { .. })),
        1
    );
    assert_eq!(
        c.node(2).decided_upto(),
        Slot(0),
        "n2 holds number 1 but not 0"
    );
    let retry = Timing::default().retry_ticks;
    c.run_until(3 * retry, |c| c.node(2).decided_upto() == Slot(2));
    assert_eq!(c.value(2, "k").as_deref(), Some("b"));
}

#[test]
fn sequencer_retransmission_does_not_mend_a_restarted_sequencer() {
    let mut c = Cluster::new(3, Protocol::Sequencer);
    c.client(0, 0, 1, set("k", "a"));
    c.deliver_all();
    c.crash(0);
    c.restart(0);
    c.client(0, 1, 1, set("k", "b"));
    assert_eq!(c.ok_result(1, 1), Some(KvResult::Done));
    c.run(5 * Timing::default().retry_ticks);
    assert!(c.any_event(|e| matches!(e, Event::SequenceConflict { slot: Slot(0), .. })));
    assert_eq!(c.value(0, "k").as_deref(), Some("b"));
    for follower in 1..=2 {
        assert_eq!(
            c.value(follower, "k").as_deref(),
            Some("a"),
            "a reused number still loses the acknowledged write at n{follower}"
        );
    }
}
