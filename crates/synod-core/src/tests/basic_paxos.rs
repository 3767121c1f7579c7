//! Basic Paxos: a full two-phase round for every command, any node proposes.

use crate::testkit::*;
use crate::*;

#[test]
fn basic_paxos_pays_both_phases_and_a_decide_for_every_command() {
    for size in 2..=7u8 {
        let mut c = Cluster::new(size, Protocol::BasicPaxos);
        for seq in 1..=3u64 {
            c.client(0, 0, seq, set("k", &seq.to_string()));
            c.deliver_all();
            assert_eq!(c.ok_result(0, seq), Some(KvResult::Done));
            let per_kind = usize::from(size - 1) * seq as usize;
            for kind in ["prepare", "promise", "accept", "accepted", "decide"] {
                assert_eq!(
                    c.count(kind),
                    per_kind,
                    "{kind}, size {size}, command {seq}"
                );
            }
        }
        c.assert_safe();
    }
}

#[test]
fn basic_paxos_lets_any_node_propose_without_redirects() {
    let mut c = Cluster::new(3, Protocol::BasicPaxos);
    for (i, node) in [2u8, 1, 0].into_iter().enumerate() {
        let seq = i as u64 + 1;
        c.client(node, 0, seq, set("k", &seq.to_string()));
        c.deliver_all();
        assert_eq!(c.ok_result(0, seq), Some(KvResult::Done));
    }
    assert!(!c
        .replies
        .iter()
        .any(|(_, _, r)| matches!(r.status, ReplyStatus::Redirect { .. })));
    for i in 0..3 {
        assert_eq!(c.value(i, "k").as_deref(), Some("3"));
        assert_eq!(c.node(i).role(), Role::Acceptor, "no leadership is kept");
    }
}

#[test]
fn basic_paxos_competing_proposers_retry_with_higher_numbers_until_both_commit() {
    let mut c = Cluster::new(3, Protocol::BasicPaxos);
    // Both proposers' prepares are in flight at once, for the same slot 0.
    c.client(0, 0, 1, set("k", "from-n1"));
    c.client(1, 1, 1, set("k", "from-n2"));
    c.run_until(300, |c| {
        c.ok_result(0, 1).is_some() && c.ok_result(1, 1).is_some()
    });
    assert!(c.count("nack") > 0, "the conflict was noticed");
    let decided: Vec<Option<CommandId>> = c.node(2).decided().map(|(_, v)| v.id()).collect();
    assert_eq!(decided.len(), 2, "two slots, one per command");
    assert!(decided.contains(&Some(cid(0, 1))) && decided.contains(&Some(cid(1, 1))));
    c.assert_safe();
}

#[test]
fn basic_paxos_proposer_adopts_the_reported_value_and_retries_its_own_in_the_next_slot() {
    let mut c = Cluster::new(3, Protocol::BasicPaxos);
    c.client(0, 0, 1, set("k", "a"));
    // n1's phase 1 succeeds; its accept reaches only n2, and n1 then crashes.
    while c.deliver_where(|e| e.msg.kind() != "accept") {}
    assert!(c.deliver_where(|e| e.msg.kind() == "accept" && e.to == NodeId(1)));
    c.crash(0);
    c.drop_where(|_| true);
    c.client(2, 2, 1, set("k", "c"));
    c.run(5);
    let decided: Vec<Option<CommandId>> = c.node(2).decided().map(|(_, v)| v.id()).collect();
    assert_eq!(decided, vec![Some(cid(0, 1)), Some(cid(2, 1))]);
    assert!(c.any_event(|e| matches!(e, Event::Recovered { slot: Slot(0), .. })));
    assert_eq!(c.ok_result(2, 1), Some(KvResult::Done));
    assert_eq!(c.value(2, "k").as_deref(), Some("c"));
    c.assert_safe();
}

#[test]
fn basic_paxos_node_behind_learns_decisions_from_promises() {
    let mut c = Cluster::new(3, Protocol::BasicPaxos);
    c.client(0, 0, 1, set("k", "a"));
    // n3 hears nothing of the first command.
    while c.deliver_where(|e| e.to != NodeId(2)) {}
    c.drop_where(|_| true);
    assert_eq!(c.node(2).decided_upto(), Slot(0));
    c.client(2, 2, 1, set("k", "b"));
    c.run(10);
    assert_eq!(c.ok_result(2, 1), Some(KvResult::Done));
    assert_eq!(c.node(2).applied_commands(), &[cid(0, 1), cid(2, 1)]);
    c.assert_safe();
}

#[test]
fn lagging_basic_paxos_node_that_missed_the_last_decide_catches_up() {
    let mut c = Cluster::new(3, Protocol::BasicPaxos);
    c.client(0, 0, 1, set("k", "a"));
    c.deliver_all();
    // n2 takes part in the second round but loses its `Decide`, and never proposes itself:
    // no later message reveals the gap, so only anti-entropy can close it.
    c.client(0, 0, 2, set("k", "b"));
    c.deliver_all_but(|e| matches!(e.msg, Message::Decide { .. }) && e.to == n(2));
    assert_eq!(
        c.drop_where(|e| e.to == n(2)),
        1,
        "n2 lost exactly the Decide"
    );
    assert_eq!(c.ok_result(0, 2), Some(KvResult::Done));
    assert_eq!(
        c.node(2).decided_upto(),
        Slot(1),
        "n2 lags behind the chosen log"
    );
    let period = Timing::default().anti_entropy_ticks();
    c.run_until(2 * period * u32::from(c.size()), |c| {
        c.node(2).decided_upto() == Slot(2)
    });
    assert_eq!(c.value(2, "k").as_deref(), Some("b"));
    assert!(c.count("catch-up") > 0 && c.count("catch-up-reply") > 0);
    c.assert_safe();
}

#[test]
fn basic_paxos_node_that_missed_a_whole_round_catches_up_without_proposing() {
    let mut c = Cluster::new(5, Protocol::BasicPaxos);
    // n4 is cut off for three whole rounds: it hears neither accept nor decide.
    for seq in 1..=3u64 {
        c.client(0, 0, seq, set("k", &seq.to_string()));
        c.drop_where(|e| e.to == n(4));
        c.deliver_all_but(|e| e.to == n(4));
        c.drop_where(|e| e.to == n(4));
    }
    assert_eq!(c.node(4).decided_upto(), Slot(0));
    let period = Timing::default().anti_entropy_ticks();
    c.run_until(2 * period * u32::from(c.size()), |c| {
        c.node(4).decided_upto() == Slot(3)
    });
    assert_eq!(c.value(4, "k").as_deref(), Some("3"));
    c.assert_safe();
}

#[test]
fn basic_paxos_anti_entropy_is_bounded_and_silent_when_nothing_is_missing() {
    let mut c = Cluster::new(3, Protocol::BasicPaxos);
    c.client(0, 0, 1, set("k", "a"));
    c.deliver_all();
    let ticks = 10 * Timing::default().anti_entropy_ticks();
    c.run(ticks);
    // One request per node per period, and no answer when the asker misses nothing.
    let bound = usize::from(c.size()) * 10;
    assert!(c.count("catch-up") > 0, "anti-entropy runs");
    assert!(
        c.count("catch-up") <= bound,
        "{} requests",
        c.count("catch-up")
    );
    assert_eq!(c.count("catch-up-reply"), 0);
}
