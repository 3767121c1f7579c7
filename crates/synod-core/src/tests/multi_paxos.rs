use crate::testkit::*;
use crate::*;

fn elected(size: u8) -> (Cluster, u8) {
    let mut c = Cluster::new(size, Protocol::MultiPaxos);
    c.run_until(200, |c| c.leader().is_some());
    let l = c.leader().expect("a leader");
    (c, l)
}

#[test]
fn three_nodes_elect_a_leader_and_commit_a_write_everywhere() {
    let (mut c, l) = elected(3);
    c.client(l, 0, 1, set("k1", "v1"));
    c.deliver_all();
    assert_eq!(c.ok_result(0, 1), Some(KvResult::Done));
    for i in 0..3 {
        assert_eq!(c.value(i, "k1").as_deref(), Some("v1"), "n{}", i + 1);
    }
    c.assert_safe();
}
