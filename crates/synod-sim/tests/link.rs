//! Share links: round trips for random scenarios (equal state, equal trace hash on replay), a
//! committed old link that must open forever, one specific error per kind of bad link, and
//! well over 100,000 decodes of hostile input that must never panic: four properties of
//! 25,000 cases each (arbitrary strings, random payloads, random edits of valid links,
//! insertions), plus every truncation and every single-bit flip of five valid links. Set
//! `SYNOD_FUZZ_CASES` for a longer run.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::test_runner::Config;
use std::sync::LazyLock;
use synod_core::{Bug, Bugs, CatchUpMethod, ClientId, KvOp, NodeId, Protocol, ReadMode};
use synod_sim::link::{
    decode, encode, encode_json, frame_deflated, link, looks_like_link, Corruption, EmbedOptions,
    LinkError, ShareState, Theme, Versioned, ViewState, LINK_VERSION, MAX_JSON_BYTES,
};
use synod_sim::rng::Ratio;
use synod_sim::scenario::{NetworkConfig, SCENARIO_VERSION};
use synod_sim::{Endpoint, Intervention, MsgId, Scenario, Simulation, Time, Timed};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A link this build's frame version 1 wrote, committed once and never regenerated: every
/// later build must open it to the same state. Its JSON is `fixtures/v1-state.json`, which
/// leaves out most fields, as a link written before they existed would.
const V1_LINK: &str = include_str!("fixtures/v1-link.txt");

// ---- random scenarios ----

fn arb_ratio() -> impl Strategy<Value = Ratio> {
    (1u32..=1000).prop_flat_map(|den| (0..=den).prop_map(move |num| Ratio { num, den }))
}

fn arb_network() -> impl Strategy<Value = NetworkConfig> {
    (
        0u64..100_000,
        0u64..100_000,
        arb_ratio(),
        0u64..500_000,
        arb_ratio(),
        arb_ratio(),
    )
        .prop_map(
            |(a, b, slow, slow_extra_us, loss, duplicate)| NetworkConfig {
                latency_min_us: a.min(b),
                latency_max_us: a.max(b),
                slow,
                slow_extra_us,
                loss,
                duplicate,
            },
        )
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "k[1-3]",
        1 => "[a-z0-9 \"\\\\é€😀]{1,8}",
    ]
}

fn arb_op() -> impl Strategy<Value = KvOp> {
    (0u8..4, arb_text(), "[a-z0-9 \"é]{0,6}").prop_map(|(kind, key, value)| match kind {
        0 => KvOp::Get { key },
        1 => KvOp::Set { key, value },
        2 => KvOp::Contains { key },
        _ => KvOp::Remove { key },
    })
}

/// Every kind of intervention, naming only nodes and clients that exist.
fn arb_intervention(nodes: u8, clients: u16) -> impl Strategy<Value = Intervention> {
    let node = (0..nodes).prop_map(NodeId);
    let endpoint = prop_oneof![
        (0..nodes).prop_map(|n| Endpoint::Node(NodeId(n))),
        (0..clients).prop_map(|c| Endpoint::Client(ClientId(c))),
    ];
    let link = (endpoint.clone(), endpoint);
    let groups = proptest::collection::vec(0u8..4, usize::from(nodes)).prop_map(|group_of| {
        let mut groups = vec![Vec::new(); 3];
        for (n, g) in group_of.iter().enumerate() {
            if let Some(group) = groups.get_mut(usize::from(*g)) {
                group.push(NodeId(n as u8));
            }
        }
        groups
    });
    let msg = (0u64..400).prop_map(MsgId);
    prop_oneof![
        4 => ((0..clients).prop_map(ClientId), node.clone(), arb_op())
            .prop_map(|(client, node, op)| Intervention::Submit { client, node, op }),
        1 => node.clone().prop_map(|node| Intervention::Crash { node }),
        1 => node.clone().prop_map(|node| Intervention::Restart { node }),
        1 => node.clone().prop_map(|node| Intervention::Pause { node }),
        1 => node.prop_map(|node| Intervention::Resume { node }),
        1 => groups.prop_map(|groups| Intervention::Partition { groups }),
        1 => link.clone().prop_map(|(from, to)| Intervention::Cut { from, to }),
        1 => Just(Intervention::Heal),
        1 => link.clone().prop_map(|(from, to)| Intervention::Hold { from, to }),
        1 => link.prop_map(|(from, to)| Intervention::Release { from, to }),
        1 => msg.clone().prop_map(|msg| Intervention::DropMessage { msg }),
        1 => msg.clone().prop_map(|msg| Intervention::DuplicateMessage { msg }),
        1 => (msg, 0u64..1_000_000)
            .prop_map(|(msg, by_us)| Intervention::DelayMessage { msg, by_us }),
        1 => arb_network().prop_map(|network| Intervention::SetNetwork { network }),
        1 => any::<bool>().prop_map(|on| Intervention::SetWorkload { on }),
        // Membership and snapshots; `arb_scenario` drops the additions a protocol or the
        // node limit refuses, and counts the nodes added when it checks the ids named after.
        1 => prop_oneof![Just(CatchUpMethod::Replay), Just(CatchUpMethod::Snapshot)]
            .prop_map(|catch_up| Intervention::AddNode { catch_up }),
        1 => (0..nodes + 2).prop_map(|n| Intervention::RemoveNode { node: NodeId(n) }),
        1 => (0..nodes + 2).prop_map(|n| Intervention::Snapshot { node: NodeId(n) }),
    ]
}

/// The interventions a scenario accepts, in order: an addition raises the node count for
/// those after it, so a later removal or snapshot may name the added node.
fn valid_only(s: &Scenario, interventions: Vec<Timed>) -> Vec<Timed> {
    let mut nodes = s.cluster.nodes;
    interventions
        .into_iter()
        .filter(|t| {
            let ok = s.validate_intervention(&t.action, nodes).is_ok();
            if ok && matches!(t.action, Intervention::AddNode { .. }) {
                nodes += 1;
            }
            ok
        })
        .collect()
}

/// Interventions with non-decreasing times (several may share a time) up to `horizon_us`.
fn arb_interventions(
    nodes: u8,
    clients: u16,
    max: usize,
    horizon_us: u64,
) -> impl Strategy<Value = Vec<Timed>> {
    let step = horizon_us / max.max(1) as u64;
    proptest::collection::vec((0..=step, arb_intervention(nodes, clients)), 0..=max).prop_map(
        |steps| {
            let mut at = 0;
            steps
                .into_iter()
                .map(|(gap, action)| {
                    at += gap;
                    Timed {
                        at: Time(at),
                        action,
                    }
                })
                .collect()
        },
    )
}

/// A valid random scenario: any protocol with a node count it supports, any seed, random
/// network, clients, timing, skew and bugs, and up to `max` interventions of every kind.
/// Built from the library's constructors, so fields added later keep their defaults.
fn arb_scenario(max: usize, horizon_us: u64) -> impl Strategy<Value = Scenario> {
    (0usize..6, 1u8..=7, 1u16..=4).prop_flat_map(move |(p, nodes, clients)| {
        let protocol = Protocol::ALL[p];
        let nodes = if protocol == Protocol::SingleNode {
            1
        } else {
            nodes
        };
        (
            (any::<u64>(), 1_000u64..20_000, 1u32..30, 0u8..3),
            proptest::sample::subsequence(Bug::ALL.to_vec(), 0..3),
            proptest::collection::vec(-50i64..50, 0..=usize::from(nodes)),
            arb_network(),
            (1_000u64..3_000_000, 1u32..6, any::<bool>(), 1u16..5),
            (
                arb_interventions(nodes, clients, max, horizon_us),
                prop_oneof![Just(0u64), 1u64..20],
            ),
        )
            .prop_map(
                move |(
                    (seed, tick_us, service, read),
                    bugs,
                    skew,
                    network,
                    c,
                    (interventions, snapshot_every),
                )| {
                    let mut s = Scenario::cluster(seed, nodes, protocol, clients);
                    s.cluster.tick_us = tick_us;
                    s.cluster.service_ticks = service;
                    s.cluster.read_mode =
                        [ReadMode::Log, ReadMode::Quorum, ReadMode::Local][usize::from(read)];
                    s.cluster.bugs = bugs.into_iter().fold(Bugs::none(), Bugs::with);
                    s.cluster.clock_skew_ticks = skew;
                    s.network = network;
                    let (timeout_us, max_attempts, workload, keys) = c;
                    s.clients.timeout_us = timeout_us;
                    s.clients.max_attempts = max_attempts;
                    match (&mut s.clients.workload, workload) {
                        (Some(w), true) => w.keys = keys,
                        (w, false) => *w = None,
                        _ => {}
                    }
                    if protocol.has_shared_log() {
                        s.cluster.snapshot_every = snapshot_every;
                    }
                    s.interventions = valid_only(&s, interventions);
                    s.run_us = horizon_us;
                    s
                },
            )
    })
}

fn arb_view() -> impl Strategy<Value = ViewState> {
    let panels = proptest::collection::vec("[a-z-]{1,12}", 0..5);
    (
        proptest::option::of(any::<u64>()),
        panels.clone(),
        any::<bool>(),
        (any::<bool>(), panels, any::<bool>()),
        (
            proptest::option::of(0u64..10_000_000),
            any::<bool>(),
            0u8..3,
        ),
    )
        .prop_map(
            |(position_us, panels, playing, (chrome, embed_panels, start_paused), rest)| {
                let (start_at_us, read_only, theme) = rest;
                ViewState {
                    position_us,
                    position_events: position_us.and_then(|us| (us % 3 == 0).then_some(us / 7)),
                    panels,
                    playing,
                    embed: EmbedOptions {
                        chrome,
                        panels: embed_panels,
                        start_paused,
                        start_at_us,
                        read_only,
                        theme: [Theme::Auto, Theme::Light, Theme::Dark][usize::from(theme)],
                    },
                }
            },
        )
}

fn arb_share() -> impl Strategy<Value = ShareState> {
    (arb_scenario(24, 20_000_000), arb_view())
        .prop_map(|(scenario, view)| ShareState { scenario, view })
}

/// The scenario the playground starts from, with ten interventions of different kinds.
fn ten_interventions() -> ShareState {
    let mut s = Scenario::cluster(1, 3, Protocol::MultiPaxos, 2);
    let actions = [
        Intervention::Submit {
            client: ClientId(0),
            node: NodeId(0),
            op: KvOp::Set {
                key: "x".into(),
                value: "1".into(),
            },
        },
        Intervention::Crash { node: NodeId(0) },
        Intervention::Submit {
            client: ClientId(1),
            node: NodeId(1),
            op: KvOp::Get { key: "x".into() },
        },
        Intervention::Partition {
            groups: vec![vec![NodeId(0), NodeId(1)], vec![NodeId(2)]],
        },
        Intervention::Restart { node: NodeId(0) },
        Intervention::Heal,
        Intervention::Pause { node: NodeId(2) },
        Intervention::Resume { node: NodeId(2) },
        Intervention::Cut {
            from: Endpoint::Node(NodeId(1)),
            to: Endpoint::Client(ClientId(0)),
        },
        Intervention::Heal,
    ];
    s.interventions = actions
        .into_iter()
        .enumerate()
        .map(|(i, action)| Timed {
            at: Time(400_000 * (i as u64 + 1)),
            action,
        })
        .collect();
    ShareState {
        scenario: s,
        view: ViewState {
            position_us: Some(4_500_000),
            panels: vec!["timeline".into(), "log".into()],
            playing: true,
            ..ViewState::default()
        },
    }
}

/// A handful of valid links of different sizes, for the mutation tests.
static LINKS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut big = ten_interventions();
    big.scenario.cluster.bugs = Bugs::only(Bug::NoDedup);
    big.view.embed.theme = Theme::Dark;
    vec![
        encode(&ShareState::new(Scenario::single_node(0))),
        encode(&ShareState::new(Scenario::cluster(
            9,
            5,
            Protocol::BasicPaxos,
            3,
        ))),
        encode(&ten_interventions()),
        encode(&big),
        V1_LINK.trim().to_owned(),
    ]
});

fn is_corrupted(r: &Result<ShareState, LinkError>) -> bool {
    matches!(r, Err(LinkError::Corrupted(_)))
}

/// Flips bit `bit` (0..6) of the base64 character at byte index `i`.
fn flip(link: &str, i: usize, bit: u32) -> String {
    let mut bytes = link.as_bytes().to_vec();
    let v = ALPHABET
        .iter()
        .position(|&c| c == bytes[i])
        .expect("base64") as u8;
    bytes[i] = ALPHABET[usize::from(v ^ (1 << bit))];
    String::from_utf8(bytes).expect("ascii")
}

// ---- round trips ----

proptest! {
    #![proptest_config(Config { cases: 400, ..Config::default() })]

    /// Scenario -> link -> scenario gives back exactly the same state, through a whole URL,
    /// a `#fragment` and a bare fragment.
    #[test]
    fn random_states_round_trip_through_links(state in arb_share()) {
        prop_assert_eq!(state.scenario.validate(), Ok(()));
        let fragment = encode(&state);
        prop_assert!(fragment.starts_with("s1."));
        prop_assert!(fragment.bytes().all(|b| ALPHABET.contains(&b) || b == b'.'));
        prop_assert_eq!(decode(&fragment), Ok(state.clone()));
        let url = link("https://synod.example/play?x=1#old", &state);
        prop_assert!(url.starts_with("https://synod.example/play?x=1#s1."));
        prop_assert!(looks_like_link(&url));
        prop_assert_eq!(decode(&url), Ok(state.clone()));
        prop_assert_eq!(decode(&format!("#{fragment}")), Ok(state.clone()));
        // The same state always gives the same link.
        prop_assert_eq!(encode(&state), fragment);
    }
}

proptest! {
    #![proptest_config(Config { cases: 24, ..Config::default() })]

    /// The link of a world built live, by interventions applied as time passes, replays to
    /// the same trace hash as the live world, and so does the original scenario.
    #[test]
    fn replaying_a_shared_world_reaches_the_same_trace_hash(
        scenario in arb_scenario(12, 1_500_000),
    ) {
        let end = Time(scenario.run_us);
        let mut live = Simulation::new(Scenario { interventions: Vec::new(), ..scenario.clone() })
            .expect("valid");
        for t in &scenario.interventions {
            live.run_until(t.at);
            // Refused ones (a busy client, a message no longer in flight) are not recorded.
            let _ = live.intervene(t.action.clone());
        }
        live.run_until(end);
        let shared = ShareState {
            scenario: live.scenario().clone(),
            view: ViewState { position_us: Some(end.as_us()), ..ViewState::default() },
        };
        let opened = decode(&link("http://127.0.0.1:8080/", &shared)).expect("opens");
        prop_assert_eq!(&opened, &shared);
        let mut replay = Simulation::new(opened.scenario).expect("valid");
        replay.run_until(Time(opened.view.position_us.unwrap_or(0)));
        prop_assert_eq!(replay.trace_hash(), live.trace_hash());
        prop_assert_eq!(replay.history(), live.history());

        let mut original = Simulation::new(scenario.clone()).expect("valid");
        original.run_until(end);
        let decoded = decode(&encode(&ShareState::new(scenario))).expect("opens").scenario;
        let mut again = Simulation::new(decoded).expect("valid");
        again.run_until(end);
        prop_assert_eq!(again.trace_hash(), original.trace_hash());
    }
}

/// The random scenarios above are not vacuous about membership: over a few hundred draws,
/// nodes are added (and later named), removed and snapshotted, and some clusters snapshot on
/// a policy.
#[test]
fn random_scenarios_exercise_membership_and_snapshots() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = arb_scenario(24, 20_000_000);
    let (mut added, mut added_named, mut removed, mut snapshots, mut policy) = (0, 0, 0, 0, 0);
    for _ in 0..300 {
        let s = strategy
            .new_tree(&mut runner)
            .expect("a scenario")
            .current();
        assert_eq!(s.validate(), Ok(()));
        policy += u32::from(s.cluster.snapshot_every > 0);
        for t in &s.interventions {
            match t.action {
                Intervention::AddNode { .. } => added += 1,
                Intervention::RemoveNode { node } | Intervention::Snapshot { node }
                    if node.0 >= s.cluster.nodes =>
                {
                    added_named += 1;
                }
                _ => {}
            }
            removed += u32::from(matches!(t.action, Intervention::RemoveNode { .. }));
            snapshots += u32::from(matches!(t.action, Intervention::Snapshot { .. }));
        }
    }
    println!("added {added} (named later {added_named}), removed {removed}, snapshots {snapshots}, policies {policy}");
    for (what, n) in [
        ("additions", added),
        ("added nodes named", added_named),
        ("removals", removed),
        ("snapshots", snapshots),
        ("snapshot policies", policy),
    ] {
        assert!(n > 0, "no {what} in 300 random scenarios");
    }
}

#[test]
fn the_default_cluster_with_ten_interventions_fits_a_short_link() {
    let state = ten_interventions();
    let url = link("https://synod.example/", &state);
    println!("{} characters: {url}", url.len());
    assert!(encode(&state).len() < 1200, "{}", encode(&state).len());
    assert_eq!(decode(&url), Ok(state));
}

#[test]
fn default_view_fields_are_left_out_of_the_link() {
    let plain = ShareState::new(Scenario::single_node(3));
    let mut with_view = plain.clone();
    with_view.view.embed.read_only = true;
    assert!(encode(&plain).len() < encode(&with_view).len());
    assert_eq!(decode(&encode(&with_view)), Ok(with_view));
}

#[test]
fn the_view_helpers_prefer_embed_settings() {
    let mut s = ShareState::new(Scenario::single_node(1));
    assert_eq!(
        (s.start_position_us(), s.starts_playing(), s.shown_panels()),
        (0, false, &[][..])
    );
    s.view.position_us = Some(5);
    s.view.playing = true;
    s.view.panels = vec!["log".into()];
    assert_eq!(
        (s.start_position_us(), s.starts_playing(), s.shown_panels()),
        (5, true, &["log".to_owned()][..])
    );
    s.view.embed.start_at_us = Some(9);
    s.view.embed.start_paused = true;
    s.view.embed.panels = vec!["timeline".into()];
    assert_eq!(
        (s.start_position_us(), s.starts_playing(), s.shown_panels()),
        (9, false, &["timeline".to_owned()][..])
    );
}

// ---- old links ----

#[test]
fn the_committed_version_1_link_opens_forever() {
    let opened = decode(V1_LINK).expect("an old link must keep opening");
    let mut scenario = Scenario::cluster(7, 3, Protocol::MultiPaxos, 2);
    scenario.run_us = 4_000_000;
    let n = NodeId;
    let at = |us: u64, action| Timed {
        at: Time(us),
        action,
    };
    scenario.interventions = vec![
        at(1_500_000, Intervention::Crash { node: n(0) }),
        at(
            2_000_000,
            Intervention::Submit {
                client: ClientId(1),
                node: n(1),
                op: KvOp::Set {
                    key: "x".into(),
                    value: "1".into(),
                },
            },
        ),
        at(
            2_500_000,
            Intervention::Partition {
                groups: vec![vec![n(0), n(1)], vec![n(2)]],
            },
        ),
        at(3_000_000, Intervention::Heal),
        at(3_000_000, Intervention::Restart { node: n(0) }),
    ];
    let expected = ShareState {
        scenario,
        view: ViewState {
            position_us: Some(2_600_000),
            // Added after this link was made: it takes its default.
            position_events: None,
            panels: vec!["timeline".into(), "log".into()],
            playing: true,
            embed: EmbedOptions {
                theme: Theme::Dark,
                read_only: true,
                ..EmbedOptions::default()
            },
        },
    };
    assert_eq!(opened, expected);
    // Fields the link leaves out (as it would had they been added after it was made) take
    // their defaults; the fixture's JSON is the record of what the link holds.
    let json = include_str!("fixtures/v1-state.json");
    assert_eq!(
        serde_json::from_str::<ShareState>(json).ok(),
        Some(opened.clone())
    );
    assert!(!json.contains("\"network\"") && !json.contains("\"timing\""));
    // It replays to the sharer's position.
    let mut sim = Simulation::new(opened.scenario).expect("valid");
    sim.run_until(Time(opened.view.position_us.expect("set")));
    assert!(sim.history().iter().any(|e| e.op.key() == "x"));
}

// ---- each kind of bad link, its own error and message ----

fn expect(input: &str, want: LinkError, words: &str) {
    let got = decode(input);
    assert_eq!(got, Err(want.clone()), "{input:?}");
    let message = want.to_string();
    assert!(message.contains(words), "{message:?} lacks {words:?}");
}

#[test]
fn empty_links_say_nothing_follows_the_hash() {
    for input in [
        "",
        "   ",
        "#",
        "https://synod.example/",
        "https://synod.example/#  ",
    ] {
        expect(input, LinkError::Empty, "nothing follows the '#'");
    }
}

#[test]
fn things_that_are_not_links_say_so() {
    for input in [
        "hello",
        "#about",
        "https://x/#xyz",
        "s.AAAA",
        "sx1.AAAA",
        "s0.AAAA",
        "S1.AAAA",
    ] {
        expect(input, LinkError::NotALink, "not a Synod share link");
    }
}

#[test]
fn links_from_a_newer_version_name_both_versions() {
    let newer = |found| LinkError::NewerVersion {
        of: Versioned::Link,
        found,
        supported: LINK_VERSION,
    };
    expect("s2.AAAA", newer(2), "share link version 2 is not supported");
    expect(
        "https://x/#s17.whatever",
        newer(17),
        "newer version of Synod",
    );
    expect(
        "s99999999999999999999999.x",
        newer(u64::MAX),
        "reads link versions 1 to 1",
    );
    let mut s = serde_json::to_value(ShareState::new(Scenario::single_node(1))).expect("json");
    s["scenario"]["version"] = (SCENARIO_VERSION + 1).into();
    expect(
        &encode_json(&s.to_string()),
        LinkError::NewerVersion {
            of: Versioned::Scenario,
            found: u64::from(SCENARIO_VERSION) + 1,
            supported: SCENARIO_VERSION,
        },
        "scenario version 2 is not supported",
    );
}

#[test]
fn every_truncation_of_a_link_is_reported_as_truncated() {
    let mut cases = 0;
    for link in LINKS.iter() {
        for len in 1..link.len() {
            let cut = &link[..len];
            let got = decode(cut);
            assert_eq!(got, Err(LinkError::Truncated), "{cut:?}");
            cases += 1;
        }
    }
    println!("{cases} truncations");
    assert!(cases > 1000, "{cases}");
    assert!(LinkError::Truncated
        .to_string()
        .contains("characters are missing"));
}

#[test]
fn every_single_bit_flip_is_reported_as_corruption() {
    let mut cases = 0;
    for link in LINKS.iter() {
        for i in 3..link.len() {
            for bit in 0..6 {
                let flipped = flip(link, i, bit);
                let got = decode(&flipped);
                assert!(is_corrupted(&got), "{flipped:?}: {got:?}");
                cases += 1;
            }
        }
    }
    println!("{cases} bit flips");
    assert!(cases > 10_000, "{cases}");
}

#[test]
fn corruption_names_what_was_wrong() {
    let good = &LINKS[1];
    let bad_char = format!("{}%{}", &good[..6], &good[6..]);
    expect(
        &bad_char,
        LinkError::Corrupted(Corruption::BadCharacter { ch: '%', at: 7 }),
        "character 7 after the '#' ('%') cannot appear",
    );
    expect(
        &format!("{good}AAAA"),
        LinkError::Corrupted(Corruption::ExtraData),
        "after its declared end",
    );
    // A changed character deep in the body.
    let i = good.len() - 10;
    expect(
        &flip(good, i, 3),
        LinkError::Corrupted(Corruption::ChecksumMismatch),
        "checksum does not match",
    );
    expect(
        &flip(good, 4, 0),
        LinkError::Corrupted(Corruption::BadHeader),
        "header does not check out",
    );
    expect(
        &frame_deflated(b"this is not deflate data at all"),
        LinkError::Corrupted(Corruption::BadCompression),
        "cannot be decompressed",
    );
}

#[test]
fn whitespace_from_wrapped_lines_is_ignored() {
    let state = ten_interventions();
    let fragment = encode(&state);
    let wrapped: String = fragment
        .as_bytes()
        .chunks(70)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\n  ");
    assert_eq!(decode(&format!("https://x/#{wrapped}\n")), Ok(state));
}

#[test]
fn a_link_that_would_decompress_beyond_the_limit_is_too_large() {
    let huge = format!(
        "{{\"scenario\":{},\"view\":{{\"panels\":[\"{}\"]}}}}",
        serde_json::to_string(&Scenario::single_node(1)).expect("json"),
        "a".repeat(MAX_JSON_BYTES)
    );
    let link = encode_json(&huge);
    assert!(link.len() < 100_000, "{}", link.len());
    expect(
        &link,
        LinkError::TooLarge {
            limit_bytes: MAX_JSON_BYTES as u64,
        },
        "more than 4 MiB",
    );
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    let base = serde_json::to_value(ten_interventions()).expect("json");
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 4] = [
        ("scenario.cluster.flux_capacitor", |v| {
            v["scenario"]["cluster"]["flux_capacitor"] = 1.into();
        }),
        ("scenario.interventions[1].action.force", |v| {
            v["scenario"]["interventions"][1]["action"]["force"] = true.into();
        }),
        ("view.embed.zoom", |v| v["view"]["embed"]["zoom"] = 2.into()),
        ("minimap", |v| v["minimap"] = true.into()),
    ];
    for (path, change) in cases {
        let mut v = base.clone();
        change(&mut v);
        expect(
            &encode_json(&v.to_string()),
            LinkError::UnknownField { path: path.into() },
            "probably made by a newer version",
        );
    }
}

#[test]
fn contents_of_the_wrong_shape_are_invalid_with_the_path() {
    let mut v = serde_json::to_value(ten_interventions()).expect("json");
    v["scenario"]["cluster"]["nodes"] = "three".into();
    let got = decode(&encode_json(&v.to_string()));
    let Err(LinkError::Invalid(detail)) = &got else {
        panic!("{got:?}");
    };
    assert!(detail.contains("scenario.cluster.nodes"), "{detail}");
    assert!(got
        .unwrap_err()
        .to_string()
        .starts_with("the link does not hold a valid scenario"));
    let got = decode(&encode_json("[1, 2"));
    assert!(
        matches!(got, Err(LinkError::Invalid(ref d)) if d.contains("not JSON")),
        "{got:?}"
    );
    let mut many = ShareState::new(Scenario::single_node(1));
    many.view.panels = vec!["p".into(); 40];
    let got = decode(&encode(&many));
    assert!(
        matches!(got, Err(LinkError::Invalid(ref d)) if d.contains("at most 32")),
        "{got:?}"
    );
}

#[test]
fn scenarios_that_make_no_sense_are_invalid_with_the_reason() {
    let mut state = ten_interventions();
    state.scenario.cluster.nodes = 9;
    let got = decode(&encode(&state));
    assert!(matches!(got, Err(LinkError::InvalidScenario(_))), "{got:?}");
    let message = got.unwrap_err().to_string();
    assert!(message.contains("not 9"), "{message}");
    assert!(
        message.starts_with("the link's scenario is not valid"),
        "{message}"
    );
}

/// Cases per hostile-input property: `default` in `cargo test`, or `SYNOD_FUZZ_CASES` for a
/// longer run (`SYNOD_FUZZ_CASES=1000000 cargo test -p synod-sim --release --test link`).
fn hostile_cases(default: u32) -> u32 {
    std::env::var("SYNOD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---- hostile input never panics ----

proptest! {
    #![proptest_config(Config { cases: hostile_cases(25_000), failure_persistence: None, ..Config::default() })]

    /// Any string at all (characters drawn directly: a regex strategy would spend most of
    /// the time generating).
    #[test]
    fn arbitrary_strings_never_panic(chars in proptest::collection::vec(any::<char>(), 0..48)) {
        let s: String = chars.into_iter().collect();
        let _ = decode(&s);
    }

    /// Strings that get past the tag: random base64 (and now and then a space, `%` or `=`)
    /// after `s1.`, which reach the frame checks.
    #[test]
    fn random_payloads_never_decode(picks in proptest::collection::vec(0u8..67, 0..120)) {
        let payload: String = picks
            .into_iter()
            .map(|p| match ALPHABET.get(usize::from(p)) {
                Some(&b) => char::from(b),
                None => [' ', '%', '='][usize::from(p - 64)],
            })
            .collect();
        let got = decode(&format!("s1.{payload}"));
        prop_assert!(got.is_err());
    }

    /// Several random edits to a valid link: flips, insertions, deletions, swaps, cuts.
    #[test]
    fn mutated_links_never_panic_and_never_misread(
        which in 0usize..5,
        edits in proptest::collection::vec((0u8..5, any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let original = LINKS[which].clone();
        let mut bytes = original.clone().into_bytes();
        for (kind, at, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] ^= 1 << (byte % 8),
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                3 => bytes.truncate(i),
                _ => {
                    let j = (i + usize::from(byte)) % bytes.len();
                    bytes.swap(i, j);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let got = decode(&text);
        // An edit that changed nothing the decoder reads (whitespace, a swap of equal
        // characters) must give back the original state.
        if let Ok(state) = got {
            prop_assert_eq!(Ok(state), decode(&original));
        }
    }

    /// One insertion into the body of a link: a foreign character names itself, whitespace
    /// is ignored, and a base64 character leaves a link that is too long.
    #[test]
    fn an_inserted_character_is_named_or_too_much(
        which in 0usize..5,
        at in any::<prop::sample::Index>(),
        c in any::<char>(),
    ) {
        // A '#' starts a new fragment: the tail is then not a link at all.
        prop_assume!(c != '#');
        let link = &LINKS[which];
        // Past the tag and the 12 characters of the header.
        let i = 15 + at.index(link.len() - 15);
        let mut edited = link.clone();
        edited.insert(i, c);
        let got = decode(&edited);
        if c.is_ascii_whitespace() {
            prop_assert_eq!(got, decode(link));
        } else if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            prop_assert_eq!(got, Err(LinkError::Corrupted(Corruption::ExtraData)));
        } else {
            prop_assert_eq!(
                got,
                Err(LinkError::Corrupted(Corruption::BadCharacter { ch: c, at: i as u64 + 1 }))
            );
        }
    }
}
