use super::*;
use synod_core::Role;
use synod_sim::Outcome;

/// Plays `ms` of wall-clock time at the current speed, in 16 ms frames, running the checker
/// between frames when a frame left it due, as the page does.
fn play_ms(p: &mut Playground, ms: u32) {
    p.apply(Action::Frame { now_ms: 0.0 });
    for i in 1..=ms / 16 {
        p.apply(Action::Frame {
            now_ms: f64::from(i * 16),
        });
        if p.check_due() {
            assert!(p.apply(Action::Check));
        }
    }
}

pub(super) fn run_virtual(p: &mut Playground, us: u64) {
    let t = p.now().plus_us(us);
    p.sim.sim_mut().run_until(t);
    p.refresh(true);
}

pub(super) fn leader(p: &Playground) -> Option<NodeId> {
    p.sim()
        .node_views()
        .iter()
        .flatten()
        .find(|v| v.role == Role::Leader)
        .map(|v| v.id)
}

#[test]
fn the_first_page_is_three_multi_paxos_nodes_and_three_clients_playing() {
    let p = Playground::new();
    assert_eq!(p.sim().node_count(), 3);
    assert_eq!(p.sim().client_count(), 3);
    assert_eq!(p.setup.protocol, Protocol::MultiPaxos);
    assert!(p.view.playing && p.workload_on);
}

#[test]
fn frames_advance_virtual_time_by_speed_and_pause_stops_them() {
    let mut p = Playground::new();
    p.apply(Action::SetSpeed(250));
    p.apply(Action::Frame { now_ms: 1000.0 });
    assert_eq!(p.now(), Time::ZERO, "the first frame only sets the clock");
    assert!(p.apply(Action::Frame { now_ms: 1016.0 }));
    assert_eq!(p.now(), Time(16 * 250));
    p.apply(Action::Pause);
    assert!(!p.apply(Action::Frame { now_ms: 1032.0 }));
    assert_eq!(p.now(), Time(16 * 250));
    p.apply(Action::Play);
    p.apply(Action::Frame { now_ms: 5000.0 });
    p.apply(Action::Frame { now_ms: 9000.0 });
    assert_eq!(
        p.now(),
        Time(16 * 250 + 100 * 250),
        "a long gap advances at most MAX_FRAME_MS"
    );
}

#[test]
fn crashing_the_leader_elects_another() {
    let mut p = Playground::new();
    run_virtual(&mut p, 2_000_000);
    let old = leader(&p).expect("a leader within two seconds");
    p.apply(Action::Crash(old));
    assert!(p.sim().node_views()[old.index()].is_none());
    run_virtual(&mut p, 3_000_000);
    let new = leader(&p).expect("a new leader");
    assert_ne!(new, old);
    assert!(p
        .derived()
        .markers
        .iter()
        .any(|m| m.kind == crate::derived::MarkerKind::Crash));
    assert!(
        p.derived()
            .markers
            .iter()
            .filter(|m| m.kind == crate::derived::MarkerKind::Leader)
            .count()
            >= 2
    );
}

#[test]
fn partition_needs_a_proper_group_and_heal_clears_it() {
    let mut p = Playground::new();
    p.apply(Action::Partition);
    assert!(p.notice.as_deref().unwrap().contains("Pick some nodes"));
    p.apply(Action::Pick(NodeId(0)));
    p.apply(Action::Partition);
    assert!(p.sim().blocked_links().next().is_some());
    p.apply(Action::Heal);
    assert!(p.sim().blocked_links().next().is_none());
    assert!(p.picked.is_empty());
}

#[test]
fn submit_goes_to_the_chosen_node_and_completes() {
    let mut p = Playground::new();
    p.apply(Action::SetWorkload(false));
    run_virtual(&mut p, 1_500_000);
    p.apply(Action::SetTarget {
        client: ClientId(1),
        node: NodeId(2),
    });
    p.apply(Action::EditKey {
        client: ClientId(1),
        text: " x ".into(),
    });
    p.apply(Action::EditValue {
        client: ClientId(1),
        text: "7".into(),
    });
    p.apply(Action::Submit {
        client: ClientId(1),
        op: OpKind::Set,
    });
    let i = p.sim().history().len() - 1;
    assert_eq!(
        p.sim().history()[i].op,
        KvOp::Set {
            key: "x".into(),
            value: "7".into()
        }
    );
    assert!(p.sim().scenario().interventions.iter().any(|t| matches!(
        &t.action,
        Intervention::Submit { node, .. } if *node == NodeId(2)
    )));
    run_virtual(&mut p, 2_000_000);
    assert!(matches!(p.sim().history()[i].outcome, Outcome::Ok { .. }));
    let id = p.sim().history()[i].id;
    assert!(
        p.derived().slot_of.contains_key(&id),
        "the slot that served it is known"
    );
}

#[test]
fn refused_actions_leave_a_notice() {
    let mut p = Playground::new();
    p.apply(Action::EditKey {
        client: ClientId(0),
        text: "  ".into(),
    });
    p.apply(Action::Submit {
        client: ClientId(0),
        op: OpKind::Get,
    });
    assert_eq!(p.notice.as_deref(), Some("c1: type a key first"));
}

#[test]
fn step_processes_one_event_and_pauses() {
    let mut p = Playground::new();
    let before = p.sim().stats().events;
    p.apply(Action::Step);
    assert!(!p.view.playing);
    assert_eq!(p.sim().stats().events, before + 1);
}

#[test]
fn step_to_completion_stops_right_after_an_operation_settles() {
    let mut p = Playground::new();
    p.apply(Action::StepToCompletion);
    let settled = crate::derived::settled(p.sim().history());
    assert_eq!(settled, 1);
    assert!(!p.view.playing);
}

#[test]
fn scrubbing_back_replays_the_exact_past_and_forward_returns() {
    let mut p = Playground::new();
    run_virtual(&mut p, 1_000_000);
    // An intervention stamped t is part of the moment t (replays apply it too).
    p.apply(Action::Crash(NodeId(1)));
    let hash_at_1s = p.sim().trace_hash();
    run_virtual(&mut p, 1_000_000);
    let hash_at_2s = p.sim().trace_hash();
    p.apply(Action::Scrub(1_000_000));
    assert_eq!(p.now(), Time(1_000_000));
    assert_eq!(p.horizon, Time(2_000_000));
    assert!(p.in_the_past() && !p.view.playing);
    assert_eq!(p.sim().trace_hash(), hash_at_1s);
    p.apply(Action::Scrub(2_000_000));
    assert_eq!(
        p.sim().trace_hash(),
        hash_at_2s,
        "the recorded future (the crash) replays"
    );
}

#[test]
fn acting_in_the_past_forks_the_future() {
    let mut p = Playground::new();
    run_virtual(&mut p, 1_000_000);
    p.apply(Action::Crash(NodeId(1)));
    run_virtual(&mut p, 1_000_000);
    p.apply(Action::Scrub(500_000));
    p.apply(Action::Crash(NodeId(2)));
    assert_eq!(p.forks, 1);
    assert_eq!(p.horizon, Time(500_000), "the old future is gone");
    let s = p.sim().scenario().clone();
    let crashes: Vec<_> = s
        .interventions
        .iter()
        .filter(|t| matches!(t.action, Intervention::Crash { .. }))
        .collect();
    assert_eq!(crashes.len(), 1);
    assert!(matches!(crashes[0].action, Intervention::Crash { node } if node == NodeId(2)));
    assert!(p.notice.as_deref().unwrap().contains("new one starts here"));
}

#[test]
fn network_sliders_change_the_network_and_survive_a_scrub() {
    let mut p = Playground::new();
    run_virtual(&mut p, 200_000);
    p.apply(Action::SetLoss(100));
    p.apply(Action::SetLatency(300));
    assert_eq!(p.network.loss, Ratio::per_mille(100));
    assert_eq!(p.network.latency_max_us, 300_000);
    run_virtual(&mut p, 200_000);
    p.apply(Action::Scrub(100_000));
    assert_eq!(p.network.loss, Ratio::NEVER, "before the change");
    p.apply(Action::Scrub(400_000));
    assert_eq!(p.network.loss, Ratio::per_mille(100));
}

#[test]
fn a_broken_variant_gets_a_red_verdict() {
    let mut p = Playground::with_setup(Setup {
        protocol: Protocol::Naive,
        ..Setup::default()
    })
    .unwrap();
    let mut found = false;
    for _ in 0..60 {
        run_virtual(&mut p, 1_000_000);
        if p.check().verdict == Some(synod_check::Verdict::NotLinearizable) {
            found = true;
            break;
        }
    }
    assert!(
        found,
        "naive replication breaks linearizability within a minute"
    );
    assert!(p.check().illegal.is_some());
    assert!(!p.check().explanation.is_empty());
}

#[test]
fn configure_starts_over_with_the_new_setup_and_says_its_guarantee() {
    let mut p = Playground::new();
    let setup = Setup {
        protocol: Protocol::BasicPaxos,
        nodes: 5,
        clients: 2,
        ..Setup::default()
    };
    p.apply(Action::Configure(setup.clone()));
    assert_eq!(p.sim().node_count(), 5);
    assert_eq!(p.sim().client_count(), 2);
    assert!(p.setup.guarantee().contains("majority"));
    let local = Setup {
        read_mode: ReadMode::Local,
        ..Setup::default()
    };
    assert!(local.guarantee().contains("not linearizable"));
}

#[test]
fn speed_notches_move_along_the_list_and_stop_at_the_ends() {
    assert_eq!(notch(100, 1), 250);
    assert_eq!(notch(100, -1), 25);
    assert_eq!(notch(10, -1), 10);
    assert_eq!(notch(1000, 1), 1000);
}

#[test]
fn escape_closes_help_first_then_clears_the_selection() {
    let mut p = Playground::new();
    p.apply(Action::Select(Some(Selection::Node(NodeId(0)))));
    p.apply(Action::ToggleHelp);
    p.apply(Action::Escape);
    assert!(!p.view.help);
    assert!(p.selection.is_some());
    p.apply(Action::Escape);
    assert!(p.selection.is_none());
}

#[test]
fn reduce_keeps_the_same_rc_when_nothing_changed() {
    let p = Rc::new(Playground::new());
    let paused = Reducible::reduce(p, Action::Pause);
    let again = Reducible::reduce(paused.clone(), Action::Frame { now_ms: 5.0 });
    assert!(Rc::ptr_eq(&paused, &again));
}

#[test]
fn the_view_state_round_trips_through_serde() {
    let v = ViewState::default();
    let json = serde_json::to_string(&(Setup::default(), &v)).unwrap();
    let back: (Setup, ViewState) = serde_json::from_str(&json).unwrap();
    assert_eq!(back, (Setup::default(), v));
}

#[test]
fn playing_a_few_seconds_commits_commands() {
    let mut p = Playground::new();
    p.apply(Action::SetSpeed(1000));
    play_ms(&mut p, 3000);
    assert!(p.sim().committed_commands() > 0);
    assert_eq!(p.check().verdict, Some(synod_check::Verdict::Linearizable));
}

#[test]
fn side_panels_follow_actions_at_once_and_frames_every_few() {
    use crate::share::Panel;
    let side = [
        Panel::Selection,
        Panel::Network,
        Panel::Clients,
        Panel::Narration,
        Panel::Stats,
        Panel::Membership,
    ];
    let mut p = Rc::new(Playground::new());
    p = Reducible::reduce(p, Action::Frame { now_ms: 0.0 });
    let mut renders: Vec<Vec<Panel>> = Vec::new();
    let mut last: Vec<u64> = side.iter().map(|s| p.panel_revision(*s)).collect();
    // Replica cards, as many as seven nodes have.
    let cards =
        |p: &Playground| -> Vec<u64> { (0..7).map(|i| p.replica_card_revision(i)).collect() };
    let mut last_cards = cards(&p);
    let mut card_renders: Vec<Vec<usize>> = Vec::new();
    for i in 1..=(3 * PANEL_EVERY_FRAMES) {
        p = Reducible::reduce(
            p,
            Action::Frame {
                now_ms: i as f64 * 16.0,
            },
        );
        let now: Vec<u64> = side.iter().map(|s| p.panel_revision(*s)).collect();
        renders.push(
            side.iter()
                .zip(last.iter().zip(&now))
                .filter(|(_, (a, b))| a != b)
                .map(|(s, _)| *s)
                .collect(),
        );
        for r in &now {
            assert!(p.revision - r < PANEL_EVERY_FRAMES, "a panel fell behind");
        }
        last = now;
        let now_cards = cards(&p);
        card_renders.push((0..7).filter(|i| last_cards[*i] != now_cards[*i]).collect());
        last_cards = now_cards;
    }
    // Each replica card renders once a turn, never two on one frame.
    for turn in card_renders.windows(PANEL_EVERY_FRAMES as usize) {
        for i in 0..7 {
            assert_eq!(
                turn.iter().filter(|f| f.contains(&i)).count(),
                1,
                "card {i}"
            );
        }
    }
    assert!(
        card_renders.iter().all(|f| f.len() <= 1),
        "{card_renders:?}"
    );
    // No frame draws a card and a side panel, or two side panels but the two light ones
    // that share a frame.
    for (cards, panels) in card_renders.iter().zip(&renders) {
        let light = [Panel::Network, Panel::Membership];
        let heavy = panels.iter().filter(|s| !light.contains(s)).count();
        let light = usize::from(panels.iter().any(|s| light.contains(s)));
        assert!(
            cards.len() + heavy + light <= 1,
            "{cards:?} with {panels:?}"
        );
    }
    // Over any turn of frames each panel renders once, and the heavy ones on frames of
    // their own.
    for turn in renders.windows(PANEL_EVERY_FRAMES as usize) {
        for s in side {
            assert_eq!(turn.iter().filter(|f| f.contains(&s)).count(), 1, "{s:?}");
        }
    }
    for frame in &renders {
        let heavy = [Panel::Narration, Panel::Clients];
        assert!(
            frame.iter().filter(|s| heavy.contains(s)).count() <= 1,
            "{frame:?}"
        );
    }
    p = Reducible::reduce(p, Action::ToggleHelp);
    for s in side {
        assert_eq!(
            p.panel_revision(s),
            p.revision,
            "{s:?} follows an action at once"
        );
    }
    for i in 0..7 {
        assert_eq!(
            p.replica_card_revision(i),
            p.revision,
            "card {i} follows an action"
        );
    }
}

// ---- share links ----

/// A playground that played a while, had its leader crashed, played on, and was paused.
fn shared_world() -> Playground {
    let mut p = Playground::new();
    p.apply(Action::SetSpeed(1000));
    play_ms(&mut p, 1500);
    let l = leader(&p).expect("a leader after 1.5 s");
    p.apply(Action::Crash(l));
    play_ms(&mut p, 1200);
    p.apply(Action::Pause);
    p
}

#[test]
fn a_share_link_reopens_the_same_world_at_the_same_moment() {
    let p = shared_world();
    let link = synod_sim::link::encode(&p.share_state());
    let opened = crate::share::open("", &link);
    let q = Playground::from_share(opened.share.as_ref().expect("the link opens")).unwrap();
    assert_eq!(q.now(), p.now());
    assert_eq!(q.sim().trace_hash(), p.sim().trace_hash());
    assert_eq!(q.sim().history(), p.sim().history());
    assert_eq!(q.views().to_vec(), p.views().to_vec());
    assert!(!q.view.playing, "the sharer had paused");
    assert_eq!(q.setup, p.setup);
    assert!(q
        .sim()
        .trace()
        .iter()
        .any(|r| matches!(r.kind, synod_sim::TraceKind::Crashed { .. })));
}

#[test]
fn a_link_made_in_the_past_keeps_the_recorded_future_ahead() {
    let mut p = shared_world();
    let end = p.now();
    p.apply(Action::Scrub(800_000));
    let q = Playground::from_share(&p.share_state()).unwrap();
    assert_eq!(q.now(), Time(800_000));
    assert_eq!(q.sim().trace_hash(), p.sim().trace_hash());
    assert!(q.in_the_past(), "the crash after 0.8 s is still ahead");
    // Playing on replays the same future (the link carries no horizon: past the last
    // intervention, the future is the seed's).
    let (mut p, mut q) = (p, q);
    run_virtual(&mut p, end.as_us() - 800_000);
    run_virtual(&mut q, end.as_us() - 800_000);
    assert_eq!(q.now(), end);
    assert_eq!(q.sim().trace_hash(), p.sim().trace_hash());
}

#[test]
fn panels_and_playing_travel_in_the_link() {
    let mut p = Playground::new();
    p.apply(Action::TogglePanel(crate::share::Panel::Narration));
    let s = p.share_state();
    assert!(s.view.playing);
    assert!(!s.view.panels.iter().any(|n| n == "narration"));
    let q = Playground::from_share(&s).unwrap();
    assert!(q.view.playing);
    assert_eq!(q.page.panels, p.page.panels);
}

#[test]
fn a_read_only_page_refuses_every_change_to_the_scenario_but_plays_and_scrubs() {
    let mut s = shared_world().share_state();
    s.view.embed.read_only = true;
    let mut q = Playground::from_share(&s).unwrap();
    let before = q.sim().scenario().clone();
    for a in [
        Action::Crash(NodeId(0)),
        Action::Heal,
        Action::SetLoss(100),
        Action::SetWorkload(false),
        Action::Configure(Setup::default()),
        Action::Submit {
            client: ClientId(0),
            op: OpKind::Set,
        },
        Action::LoadScenario(Box::new(Scenario::single_node(1))),
    ] {
        assert!(a.changes_scenario(), "{a:?}");
        q.apply(a);
        assert!(q.notice.as_deref().unwrap_or("").contains("read-only"));
    }
    assert_eq!(q.sim().scenario(), &before);
    q.apply(Action::Play);
    play_ms(&mut q, 500);
    assert!(q.now() > Time(2_000_000));
    q.apply(Action::Scrub(100_000));
    assert_eq!(q.now(), Time(100_000));
}

#[test]
fn a_scenario_file_replaces_the_world_and_keeps_the_framing() {
    let mut p = Playground::new();
    p.apply(Action::TogglePanel(crate::share::Panel::Stats));
    let mut s = Scenario::cluster(5, 5, Protocol::BasicPaxos, 2);
    s.interventions.push(synod_sim::Timed {
        at: Time(300_000),
        action: Intervention::Crash { node: NodeId(4) },
    });
    p.apply(Action::LoadScenario(Box::new(s.clone())));
    assert_eq!(p.sim().scenario(), &s);
    assert_eq!(p.setup.protocol, Protocol::BasicPaxos);
    assert_eq!(p.setup.nodes, 5);
    assert!(!p.page.panels.has(crate::share::Panel::Stats));
    run_virtual(&mut p, 400_000);
    assert!(p.views()[4].is_none(), "the recorded crash replays");
}

#[test]
fn a_bad_link_opens_the_default_playground_playing_with_the_reason() {
    let good = synod_sim::link::encode(&shared_world().share_state());
    let p = Playground::from_opening(&crate::share::open("", &good[..good.len() / 2]));
    assert_eq!(p.now(), Time::ZERO);
    assert_eq!(p.setup, Setup::default());
    assert!(p.view.playing);
    let banner = p.page.banner.as_deref().unwrap_or("");
    assert!(banner.contains("incomplete"), "{banner}");
    let q = Playground::from_opening(&crate::share::open("", ""));
    assert_eq!(q.page.banner, None);
    assert!(q.view.playing);
    assert_eq!(q.sim().trace_hash(), p.sim().trace_hash());
}

#[test]
fn query_settings_apply_to_the_default_playground_too() {
    let p = Playground::from_opening(&crate::share::open(
        "embed&start=paused&t=1.5s&readonly",
        "",
    ));
    assert!(!p.view.playing && !p.page.chrome && p.page.read_only);
    assert_eq!(p.now(), Time(1_500_000));
}

#[test]
fn a_link_that_opens_hours_in_is_refused_with_the_reason_not_replayed() {
    let mut s = ShareState::new(Setup::default().scenario());
    s.view.position_us = Some(MAX_OPEN_US + 1);
    let e = Playground::from_share(&s).unwrap_err();
    assert!(e.contains("900.000 s"), "{e}");
    let p = Playground::from_opening(&crate::share::open("", &synod_sim::link::encode(&s)));
    assert_eq!(p.now(), Time::ZERO);
    assert!(p
        .page
        .banner
        .as_deref()
        .unwrap_or("")
        .contains("replays at most"));
    let mut q = Playground::new();
    let before = q.sim().trace_hash();
    q.apply(Action::Open(Box::new(s.clone())));
    assert_eq!(q.sim().trace_hash(), before, "the world stays");
    assert!(q.page.banner.is_some());
    s.view.position_us = Some(MAX_OPEN_US);
    s.scenario.clients.workload = None;
    assert!(Playground::from_share(&s).is_ok());
}

#[test]
fn a_link_made_between_two_events_of_one_microsecond_reopens_between_them() {
    // With a fixed latency, a leader's broadcast reaches every follower in the same
    // microsecond.
    let mut s = Setup::default().scenario();
    s.network.latency_min_us = 30_000;
    s.network.latency_max_us = 30_000;
    let mut p = Playground::new();
    p.apply(Action::LoadScenario(Box::new(s)));
    p.apply(Action::SetSpeed(1000));
    play_ms(&mut p, 600);
    // Step until the next event shares the current microsecond.
    let mut found = false;
    for _ in 0..20_000 {
        p.apply(Action::Step);
        if p.sim().mid_moment() {
            found = true;
            break;
        }
    }
    assert!(found, "no two events ever shared a microsecond");
    let s = p.share_state();
    assert_eq!(s.view.position_events, Some(p.sim().stats().events));
    let opened = crate::share::open("", &synod_sim::link::encode(&s));
    let q = Playground::from_share(opened.share.as_ref().unwrap()).unwrap();
    assert_eq!(q.now(), p.now());
    assert_eq!(q.sim().stats().events, p.sim().stats().events);
    assert_eq!(q.sim().trace_hash(), p.sim().trace_hash());
    // Without the count, the replay would run past the sharer's moment.
    let mut whole = s.clone();
    whole.view.position_events = None;
    let r = Playground::from_share(&whole).unwrap();
    assert_ne!(r.sim().trace_hash(), p.sim().trace_hash());
    // An ordinary moment carries no count.
    p.apply(Action::Play);
    play_ms(&mut p, 100);
    p.apply(Action::Pause);
    assert_eq!(p.share_state().view.position_events, None);
}

/// Plays at full speed, 16 ms frames and nothing between them, until `stop` holds (for at
/// most 400 frames). Returns whether it did.
fn play_frames_until(p: &mut Playground, stop: impl Fn(&Playground) -> bool) -> bool {
    p.apply(Action::SetSpeed(1000));
    p.apply(Action::Play);
    (0..400u32).any(|i| {
        p.apply(Action::Frame {
            now_ms: f64::from(i * 16),
        });
        stop(p)
    })
}

/// While playing, the checker waits its interval between frames; any action of the
/// visitor's, even mid-play, brings the verdict up to date at once.
#[test]
fn an_action_while_playing_brings_the_verdict_up_to_date() {
    let mut p = Playground::new();
    let waited = play_frames_until(&mut p, |p| !p.derived().is_current(&p.sim()));
    assert!(waited, "a frame left the check for later");
    assert!(p.view.playing);
    p.apply(Action::Select(None));
    assert!(p.derived().is_current(&p.sim()), "checked at once");
}

/// While playing, no frame runs the checker: a frame leaves it due, and the page's own task
/// between frames runs it, without pulling the side panels off their turns.
#[test]
fn frames_leave_the_check_to_its_own_task() {
    let mut p = Playground::new();
    let due = play_frames_until(&mut p, Playground::check_due);
    assert!(due, "a frame left a check due");
    assert!(!p.derived().is_current(&p.sim()), "the frame did not check");
    let before = p.action_revision;
    let checked = Reducible::reduce(Rc::new(p), Action::Check);
    assert!(checked.derived().is_current(&checked.sim()));
    assert!(!checked.check_due());
    assert_eq!(checked.action_revision, before);
    let again = Reducible::reduce(checked.clone(), Action::Check);
    assert!(Rc::ptr_eq(&again, &checked), "nothing due: no render");
}
