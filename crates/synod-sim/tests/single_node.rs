//! The first step of the story, simulated: one node, two clients.

use synod_core::{ClientId, KvOp, KvResult, NodeId};
use synod_sim::{Intervention, Outcome, Scenario, Simulation, Time, TraceKind};

fn set(k: &str, v: &str) -> KvOp {
    KvOp::Set {
        key: k.into(),
        value: v.into(),
    }
}

fn submit(sim: &mut Simulation, client: u16, op: KvOp) {
    sim.intervene(Intervention::Submit {
        client: ClientId(client),
        node: NodeId(0),
        op,
    })
    .expect("client is idle");
}

#[test]
fn overlapping_calls_from_two_clients_take_effect_in_one_sequence() {
    let mut sim = Simulation::new(Scenario::single_node(1)).unwrap();
    submit(&mut sim, 0, set("k1", "v1"));
    sim.run_until(Time(1_000));
    submit(&mut sim, 1, KvOp::Get { key: "k1".into() });
    sim.run_until(Time(1_000_000));
    let h = sim.history();
    assert_eq!(h.len(), 2);
    let (set_op, get_op) = (&h[0], &h[1]);
    assert!(
        get_op.call < set_op.ret.unwrap(),
        "the calls overlap in time: get was invoked before set returned"
    );
    assert_eq!(
        set_op.outcome,
        Outcome::Ok {
            result: KvResult::Done
        }
    );
    // Whichever order the node saw them in, the get's answer fits one sequence. Here the set
    // arrived first (it was sent first over the same latency range or not), so check against
    // the node's own execution order.
    let applied: Vec<_> = sim
        .trace()
        .iter()
        .filter_map(|r| match &r.kind {
            TraceKind::Node {
                event: synod_core::Event::Applied { id, .. },
                ..
            } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(applied.len(), 2);
    let expected = if applied[0] == set_op.id {
        Some("v1".to_owned())
    } else {
        None
    };
    assert_eq!(
        get_op.outcome,
        Outcome::Ok {
            result: KvResult::Value { value: expected }
        }
    );
    let queued = sim.trace().iter().any(|r| {
        matches!(
            r.kind,
            TraceKind::Node {
                event: synod_core::Event::Queued { .. },
                ..
            }
        )
    });
    assert!(
        queued,
        "the second call waited for the first: the node is single-threaded"
    );
}

#[test]
fn a_busy_client_is_refused_with_a_typed_error() {
    let mut sim = Simulation::new(Scenario::single_node(1)).unwrap();
    submit(&mut sim, 0, set("a", "1"));
    let err = sim
        .intervene(Intervention::Submit {
            client: ClientId(0),
            node: NodeId(0),
            op: set("a", "2"),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "c1 is still waiting for its previous operation"
    );
}

#[test]
fn replaying_the_recorded_scenario_gives_the_same_trace_hash() {
    let mut live = Simulation::new(Scenario::single_node(9)).unwrap();
    submit(&mut live, 0, set("a", "1"));
    live.run_until(Time(5_000));
    submit(&mut live, 1, KvOp::Remove { key: "a".into() });
    live.run_until(Time(400_000));
    submit(&mut live, 0, KvOp::Contains { key: "a".into() });
    live.run_until(Time(1_000_000));

    let mut replay = Simulation::new(live.scenario().clone()).unwrap();
    replay.run_until(Time(1_000_000));
    assert_eq!(live.history().len(), 3);
    assert_eq!(replay.history(), live.history());
    assert_eq!(replay.trace_hash(), live.trace_hash());
    assert_eq!(replay.trace().len(), live.trace().len());
}

#[test]
fn different_seeds_give_different_traces() {
    let run = |seed| {
        let mut s = Scenario::single_node(seed);
        s.clients.workload = Some(Default::default());
        let mut sim = Simulation::new(s).unwrap();
        sim.run_until(Time(3_000_000));
        (sim.trace_hash(), sim.history().len())
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5).0, run(6).0);
    assert!(run(5).1 > 4, "the automatic workload issues operations");
}

#[test]
fn a_crashed_single_node_loses_its_table_and_clients_learn_nothing() {
    let mut s = Scenario::single_node(3);
    s.clients.timeout_us = 100_000;
    s.clients.max_attempts = 2;
    let mut sim = Simulation::new(s).unwrap();
    submit(&mut sim, 0, set("a", "1"));
    sim.run_until(Time(300_000));
    sim.intervene(Intervention::Crash { node: NodeId(0) })
        .unwrap();
    submit(&mut sim, 1, KvOp::Get { key: "a".into() });
    // Two attempts, each waiting at least 2.5 round trips at the slowest latency (the
    // client's timeout never undercuts the network), then the client gives up.
    let wait = synod_sim::world::client_timeout_us(sim.scenario(), &sim.scenario().network);
    sim.run_until(Time(300_000 + 2 * wait + 100_000));
    assert_eq!(sim.history()[1].outcome, Outcome::Unknown);
    assert_eq!(sim.node_views()[0], None);
    sim.intervene(Intervention::Restart { node: NodeId(0) })
        .unwrap();
    let view = sim.node_views()[0].clone().expect("restarted");
    assert!(view.table.is_empty(), "a single node keeps nothing durable");
}

#[test]
fn nonsense_scenarios_are_refused_with_the_reason() {
    let mut s = Scenario::single_node(1);
    s.cluster.nodes = 3;
    let err = Simulation::new(s).unwrap_err().to_string();
    assert!(
        err.contains("single-node supports 1 to 1 nodes, not 3"),
        "{err}"
    );
    let mut s = Scenario::single_node(1);
    s.network.latency_min_us = 10;
    s.network.latency_max_us = 5;
    assert!(Simulation::new(s)
        .unwrap_err()
        .to_string()
        .contains("latency_min_us"));
}

#[test]
fn forking_from_an_earlier_moment_replays_the_past_exactly() {
    let mut live = Simulation::new(Scenario::single_node(4)).unwrap();
    submit(&mut live, 0, set("a", "1"));
    live.run_until(Time(150_000));
    let hash_at_150ms = live.trace_hash();
    live.run_until(Time(200_000));
    submit(&mut live, 1, KvOp::Get { key: "a".into() });
    live.run_until(Time(400_000));
    // Go back to 150 ms: the first intervention survives, the second is gone.
    let past = live.scenario().truncated(Time(150_000));
    assert_eq!(past.interventions.len(), 1);
    let mut fork = Simulation::new(past).unwrap();
    fork.run_until(Time(150_000));
    assert_eq!(fork.trace_hash(), hash_at_150ms);
    let first_msg = fork.message(synod_sim::MsgId(0)).expect("archived");
    assert_eq!(first_msg.payload.kind(), "request");
}
