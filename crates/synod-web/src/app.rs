//! The Yew components. They read [`Playground`] and dispatch [`Action`]s; nothing here
//! changes the simulation directly.
//!
//! Components that need much of the state take [`StateProps`] (the handle plus the revision
//! it rendered, compared by revision); leaves (a node, a timeline bar) take narrow props so
//! that Yew skips the ones that did not change. The message dots are drawn outside Yew's
//! diff, by [`crate::dots`].

use crate::derived::{config_bands, MarkerKind};
use crate::dots::{Dot, Tenths};
use crate::format::{
    ballot_hue, message_sentence, narrate, op_label, outcome_class, payload_command, payload_slot,
    per, time,
};
use crate::geometry::{
    client_position, endpoint_position, lerp, node_position, open_bar_end, progress,
    track_position, Point, VIEW_H, VIEW_W,
};
use crate::import::{Imported, ImportedView};
use crate::members;
use crate::perf;
use crate::share::Panel;
use crate::state::{takes_snapshots, Action, OpKind, Playground, Selection, Setup, SPEEDS};
use std::collections::BTreeSet;
use std::rc::Rc;
use synod_check::Verdict;
use synod_core::{Bug, ClientId, CommandId, NodeId, NodeView, Protocol, ReadMode, Role};
use synod_sim::world::{Endpoint, Payload};
use synod_sim::{MsgId, Outcome, Simulation, Time};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// How often the animation clock fires, in milliseconds.
const FRAME_MS: u32 = 16;

/// How much virtual time the timeline shows at once.
const TIMELINE_WINDOW_US: u64 = 4_000_000;

/// How many narration lines are shown, and how far back the filter looks.
const NARRATION_LINES: usize = 40;
const NARRATION_SCAN: usize = 4000;

/// How many narration lines are shown while playing: what the box shows without scrolling
/// (about thirteen lines on a wide screen, eight in an embed). At full speed every line
/// changes on each of the panel's turns, and rewriting a line's text has the browser shape
/// it again at once, inside the frame: forty lines made the narration's turn the slowest
/// frame. Paused, the box holds [`NARRATION_LINES`] to scroll back through.
const NARRATION_LINES_PLAYING: usize = 16;

/// The one hook that owns the wall clock: it dispatches a [`Action::Frame`] every
/// `FRAME_MS` and stops when the component goes away. The closure captures the dispatcher,
/// never a snapshot of the state. It also starts the per-frame work measurement that the
/// page finishes once the frame has rendered (see [`crate::perf`]).
#[hook]
pub fn use_animation_clock(dispatcher: UseReducerDispatcher<Playground>) {
    use_effect_with((), move |_| {
        let interval = gloo_timers::callback::Interval::new(FRAME_MS, move || {
            let now_ms = perf::now_ms();
            perf::frame_started(now_ms);
            dispatcher.dispatch(Action::Frame { now_ms });
            perf::frame_reduced(perf::now_ms());
        });
        move || drop(interval)
    });
}

/// Runs the checker in a task of its own once a frame left it due: a check re-reads the
/// whole history (a few milliseconds for a busy minute), which would make the frame it fell
/// in the slowest of the run. Between frames it delays nothing the visitor sees. The task is
/// posted, not a timer's ([`crate::dom::after_this_task`]): the frame's timer stays the
/// page's only one, which is how the benchmark finds the frames in Chromium's trace.
#[hook]
fn use_checker_between_frames(due: bool, dispatcher: UseReducerDispatcher<Playground>) {
    let scheduled = use_mut_ref(|| false);
    use_effect(move || {
        if due && !*scheduled.borrow() {
            *scheduled.borrow_mut() = true;
            crate::dom::after_this_task(move || {
                *scheduled.borrow_mut() = false;
                perf::check_started(perf::now_ms());
                dispatcher.dispatch(Action::Check);
            });
        }
    });
}

/// Keyboard shortcuts for playback, listened to on the whole document. Keys typed into
/// inputs are left alone.
#[hook]
fn use_keyboard(dispatcher: UseReducerDispatcher<Playground>) {
    use_effect_with((), move |_| {
        let listener = crate::keys::KeyListener::attach(move |key| {
            if let Some(a) = crate::keys::action_for(&key) {
                dispatcher.dispatch(a);
                true
            } else {
                false
            }
        });
        move || drop(listener)
    });
}

/// The page the address asks for: a share link's world, embed settings from the query, or
/// the default playground (with a banner when the link was bad).
fn opening() -> Playground {
    let (query, fragment) = crate::dom::location_query_and_fragment();
    Playground::from_opening(&crate::share::open(&query, &fragment))
}

/// The whole page.
#[component]
pub fn App() -> Html {
    let state = use_reducer(opening);
    use_animation_clock(state.dispatcher());
    use_keyboard(state.dispatcher());
    // One callback for the component's lifetime, so children's props stay equal.
    let dispatch = {
        let d = state.dispatcher();
        use_memo((), move |_| Callback::from(move |a: Action| d.dispatch(a)))
    };
    let dispatch = (*dispatch).clone();
    crate::dom::use_hash_change(dispatch.clone());
    crate::dom::use_theme(state.page.theme);
    crate::dom::use_height_reporter();
    // An imported history is shown instead of the playground, which waits, paused, behind it.
    let imported = use_state(|| None::<Rc<Imported>>);
    let on_import = {
        let (imported, d) = (imported.clone(), dispatch.clone());
        use_memo((), move |_| {
            Callback::from(move |h: Rc<Imported>| {
                d.emit(Action::Pause);
                imported.set(Some(h));
            })
        })
    };
    let on_close_import = {
        let imported = imported.clone();
        Callback::from(move |()| imported.set(None))
    };
    use_effect(perf::frame_rendered);
    use_checker_between_frames(state.check_due(), state.dispatcher());
    use_effect_with((), |_| perf::first_rendered());
    let rev = state.revision;
    let panel_rev = |panel| state.panel_revision(panel);
    let now = state.now();
    let page = &state.page;
    let chrome = page.chrome;
    let side = [Panel::Selection, Panel::Network, Panel::Clients]
        .into_iter()
        .any(|p| page.shows(p));
    let stage = page.shows(Panel::Cluster) || page.shows(Panel::Timeline);
    let lower = page.shows(Panel::Narration) || page.shows(Panel::Stats);
    html! {
        <div class={classes!("app", (!chrome).then_some("embedded"))} data-app-ready="true">
            if chrome {
            <header>
                <h1>{ "Synod" }</h1>
                <p class="tagline" data-testid="hint">
                    { "Three nodes agree on one log with Multi-Paxos while three clients read \
                       and write. Try this first: click the node marked " }
                    <strong>{ "leader" }</strong>
                    { ", press Crash, and watch the others elect a new one." }
                </p>
                <button class="help-button" data-testid="help"
                    onclick={dispatch.reform(|_| Action::ToggleHelp)}>{ "? Help" }</button>
            </header>
            }
            if let Some(banner) = &page.banner {
                <div class="banner" role="alert" data-testid="link-error">
                    <span>{ banner }</span>
                    <button class="small" data-testid="dismiss-banner" aria-label="dismiss"
                        onclick={dispatch.reform(|_| Action::DismissBanner)}>{ "×" }</button>
                </div>
            }
            if chrome && !page.read_only {
                <SetupBar setup={state.setup.clone()} dispatch={dispatch.clone()} />
            }
            if let Some(h) = &*imported {
                <ImportedView imported={h.clone()} on_close={on_close_import} />
            } else {
            <Controls playing={state.view.playing} speed={state.view.speed} now={now}
                horizon={state.horizon} can_act={!page.read_only} dispatch={dispatch.clone()} />
            if let Some(notice) = &state.notice {
                <div class="notice" data-testid="notice"
                    onclick={dispatch.reform(|_| Action::DismissNotice)}>{ notice }</div>
            }
            if stage || side {
            <main class={classes!((!side || !stage).then_some("single"))}>
                if stage {
                <div class="stage">
                    if page.shows(Panel::Cluster) {
                        <ClusterView state={state.clone()} revision={rev} dispatch={dispatch.clone()} />
                    }
                    if page.shows(Panel::Timeline) {
                        <Timeline state={state.clone()} revision={rev} dispatch={dispatch.clone()} />
                    }
                </div>
                }
                if side {
                <section class="side">
                    if page.shows(Panel::Selection) {
                        <SelectionPanel state={state.clone()} revision={panel_rev(Panel::Selection)} dispatch={dispatch.clone()} />
                    }
                    if page.shows(Panel::Network) {
                        <FaultPanel state={state.clone()} revision={panel_rev(Panel::Network)} dispatch={dispatch.clone()} />
                    }
                    if page.shows(Panel::Clients) {
                        <ClientPanel state={state.clone()} revision={panel_rev(Panel::Clients)} dispatch={dispatch.clone()} />
                    }
                    if page.shows(Panel::Membership) {
                        <members::MembershipPanel state={state.clone()} revision={panel_rev(Panel::Membership)} dispatch={dispatch.clone()} />
                    }
                </section>
                }
            </main>
            }
            if page.shows(Panel::Replicas) {
                <Inspector state={state.clone()} revision={rev} dispatch={dispatch.clone()} />
            }
            if lower {
            <div class={classes!("lower", (!page.shows(Panel::Narration) || !page.shows(Panel::Stats)).then_some("single"))}>
                if page.shows(Panel::Narration) {
                    <Narration state={state.clone()} revision={panel_rev(Panel::Narration)} dispatch={dispatch.clone()} />
                }
                if page.shows(Panel::Stats) {
                    <StatsPanel state={state.clone()} revision={panel_rev(Panel::Stats)} dispatch={dispatch.clone()} />
                }
            </div>
            }
            }
            if chrome {
                <crate::tools::Tools state={state.clone()} panels={state.page.panels}
                    dispatch={dispatch.clone()} on_import={(*on_import).clone()} />
            }
            if state.view.help {
                <HelpOverlay dispatch={dispatch.clone()} />
            }
        </div>
    }
}

/// Props for components that read the whole state. The handle always reads the latest
/// state, so equality is decided by the revision the parent saw when it rendered.
#[derive(Properties)]
pub(crate) struct StateProps {
    pub(crate) state: UseReducerHandle<Playground>,
    pub(crate) revision: u64,
    pub(crate) dispatch: Callback<Action>,
}

impl PartialEq for StateProps {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision && self.dispatch == other.dispatch
    }
}

#[derive(Properties, PartialEq)]
struct SetupProps {
    setup: Setup,
    dispatch: Callback<Action>,
}

/// Strategy, read mode, sizes and broken variants, with the guarantee they give.
#[component]
fn SetupBar(props: &SetupProps) -> Html {
    let s = &props.setup;
    let change = |f: fn(&mut Setup, &str)| {
        let setup = s.clone();
        props.dispatch.reform(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let mut next = setup.clone();
            f(&mut next, &value);
            Action::Configure(next)
        })
    };
    let on_protocol = change(|s, v| {
        if let Some(p) = Protocol::from_name(v) {
            s.protocol = p;
        }
    });
    let on_read = change(|s, v| {
        if let Some(m) = ReadMode::ALL.into_iter().find(|m| m.name() == v) {
            s.read_mode = m;
        }
    });
    let on_nodes = change(|s, v| s.nodes = v.parse().unwrap_or(3));
    let on_clients = change(|s, v| s.clients = v.parse().unwrap_or(3));
    let on_bug = change(|s, v| s.bug = Bug::from_name(v));
    let on_snapshots = change(|s, v| s.snapshot_every = v.parse().unwrap_or(0));
    let snapshots = takes_snapshots(s.protocol);
    html! {
        <section class="setup panel">
            <div class="setup-row">
                <label>{ "Strategy " }
                    <select data-testid="protocol" onchange={on_protocol}>
                        { for Protocol::ALL.iter().map(|p| html! {
                            <option key={p.name()} value={p.name()} selected={*p == s.protocol}>
                                { protocol_title(*p) }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Reads " }
                    <select data-testid="read-mode" onchange={on_read}>
                        { for ReadMode::ALL.iter().map(|m| html! {
                            <option key={m.name()} value={m.name()} selected={*m == s.read_mode}>
                                { m.name() }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Nodes " }
                    <select data-testid="nodes" onchange={on_nodes}>
                        { for [1u8, 2, 3, 4, 5, 6, 7].iter().map(|n| html! {
                            <option key={*n} value={n.to_string()} selected={*n == s.nodes}>
                                { n }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Clients " }
                    <select data-testid="clients" onchange={on_clients}>
                        { for (1u16..=10).map(|n| html! {
                            <option key={n} value={n.to_string()} selected={n == s.clients}>
                                { n }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Broken variant " }
                    <select data-testid="bug" onchange={on_bug}>
                        <option value="" selected={s.bug.is_none()}>{ "none (correct)" }</option>
                        { for Bug::ALL.iter().map(|b| html! {
                            <option key={b.name()} value={b.name()} selected={Some(*b) == s.bug}>
                                { format!("{}. {}", b.number(), b.name()) }</option>
                        }) }
                    </select>
                </label>
                <label title={if snapshots { "Each node snapshots its table and compacts its log every K applied slots" }
                        else { "Only the Paxos strategies take snapshots" }}>{ "Snapshots " }
                    <select data-testid="snapshot-every" onchange={on_snapshots} disabled={!snapshots}>
                        { for [0u64, 5, 10, 20, 50].iter().map(|k| html! {
                            <option key={*k} value={k.to_string()} selected={*k == s.snapshot_every && snapshots}>
                                { if *k == 0 { "off (on demand)".to_owned() } else { format!("every {k} slots") } }</option>
                        }) }
                    </select>
                </label>
            </div>
            <p class="guarantee" data-testid="guarantee">{ s.guarantee() }</p>
        </section>
    }
}

fn protocol_title(p: Protocol) -> &'static str {
    match p {
        Protocol::SingleNode => "Single node",
        Protocol::Naive => "Naive replication",
        Protocol::Timestamps => "Timestamps",
        Protocol::Sequencer => "Sequencer",
        Protocol::BasicPaxos => "Basic Paxos",
        Protocol::MultiPaxos => "Multi-Paxos",
    }
}

#[derive(Properties, PartialEq)]
struct ControlsProps {
    playing: bool,
    speed: u32,
    now: Time,
    horizon: Time,
    /// Whether acting is possible here (not a read-only page), so forking can be offered.
    can_act: bool,
    dispatch: Callback<Action>,
}

/// Playback: the buttons and speed ([`Playback`]), the scrubber and the clock.
#[component]
fn Controls(props: &ControlsProps) -> Html {
    let on_scrub = props.dispatch.reform(|e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        Action::Scrub(input.value().parse::<u64>().unwrap_or(0) * 1000)
    });
    let past = props.now < props.horizon;
    html! {
        <div class="controls">
            <Playback playing={props.playing} speed={props.speed} dispatch={props.dispatch.clone()} />
            <input type="range" class="scrubber" data-testid="scrubber" aria-label="moment"
                min="0" max={(props.horizon.as_us() / 1000).to_string()}
                value={(props.now.as_us() / 1000).to_string()} onchange={on_scrub} />
            <span class={classes!("clock", past.then_some("past"))} data-testid="clock">
                { format!("t = {}", time(props.now)) }
                if past && props.can_act { { format!(" (of {}; acting here forks the future)", time(props.horizon)) } }
                if past && !props.can_act { { format!(" (of {})", time(props.horizon)) } }
            </span>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PlaybackProps {
    playing: bool,
    speed: u32,
    dispatch: Callback<Action>,
}

/// The playback buttons and the speed: a component of their own, so that the frames that
/// only move the clock and the scrubber skip them.
#[component]
fn Playback(props: &PlaybackProps) -> Html {
    let d = &props.dispatch;
    let on_speed = d.reform(|e: Event| {
        let input: HtmlSelectElement = e.target_unchecked_into();
        Action::SetSpeed(input.value().parse().unwrap_or(100))
    });
    html! {
        <>
            <button data-testid="play" title="Play or pause (space)"
                onclick={d.reform(|_| Action::TogglePlay)}>
                { if props.playing { "Pause" } else { "Play" } }
            </button>
            <button data-testid="step" title="Process one event (.)"
                onclick={d.reform(|_| Action::Step)}>{ "Step" }</button>
            <button data-testid="next-completion" title="Run to the next completed operation (n)"
                onclick={d.reform(|_| Action::StepToCompletion)}>{ "Next completion" }</button>
            <label>{ "Speed " }
                <select data-testid="speed" onchange={on_speed}>
                    { for SPEEDS.iter().map(|(v, name)| html! {
                        <option key={*v} value={v.to_string()} selected={*v == props.speed}>{ *name }</option>
                    }) }
                </select>
            </label>
        </>
    }
}

/// Which messages and slots relate to the current selection.
#[derive(Clone, Debug, Default, PartialEq)]
struct Focus {
    command: Option<CommandId>,
    slot: Option<u64>,
    message: Option<MsgId>,
    node: Option<NodeId>,
}

fn focus(p: &Playground, sim: &Simulation) -> Focus {
    let mut f = Focus::default();
    match p.selection {
        Some(Selection::Op(i)) => {
            if let Some(e) = sim.history().get(i) {
                f.command = Some(e.id);
                f.slot = p.derived().slot_of.get(&e.id).copied();
            }
        }
        Some(Selection::Message(m)) => {
            f.message = Some(m);
            if let Some(env) = sim.message(m) {
                f.command = payload_command(&env.payload);
                f.slot = payload_slot(&env.payload)
                    .or_else(|| f.command.and_then(|c| p.derived().slot_of.get(&c).copied()));
            }
        }
        Some(Selection::Slot(s)) => {
            f.slot = Some(s);
            f.command = p
                .derived()
                .slot_of
                .iter()
                .find(|(_, v)| **v == s)
                .map(|(c, _)| *c);
        }
        Some(Selection::Node(n)) => f.node = Some(n),
        None => {}
    }
    f
}

fn node_name(i: usize) -> String {
    NodeId(i as u8).to_string()
}

/// The cluster: nodes on a ring, clients below, messages moving along the links.
#[component]
fn ClusterView(props: &StateProps) -> Html {
    let p = &*props.state;
    let sim = p.sim();
    let now = sim.now();
    let views = p.views();
    let (n, c) = (views.len(), usize::from(sim.client_count()));
    let f = focus(p, &sim);
    let blocked: BTreeSet<(Endpoint, Endpoint)> = sim.blocked_links().copied().collect();
    let held: BTreeSet<(Endpoint, Endpoint)> = sim.held_links().copied().collect();
    let either = |set: &BTreeSet<(Endpoint, Endpoint)>, a: usize, b: usize| {
        let (ea, eb) = (
            Endpoint::Node(NodeId(a as u8)),
            Endpoint::Node(NodeId(b as u8)),
        );
        set.contains(&(ea, eb)) || set.contains(&(eb, ea))
    };
    let links: Vec<LinkState> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .map(|(a, b)| LinkState {
            a,
            b,
            cut: either(&blocked, a, b),
            held: either(&held, a, b),
        })
        .collect();
    let targets: Vec<usize> = (0..c)
        .map(|ci| p.inputs.get(ci).map_or(0, |i| i.target.index()))
        .collect();
    let busy: Vec<bool> = (0..c)
        .map(|i| sim.client_pending(ClientId(i as u16)).is_some())
        .collect();
    // Callbacks that live as long as the dispatcher, so that the node glyphs' props stay
    // equal from frame to frame and Yew skips them.
    let on_node = use_callback(props.dispatch.clone(), |n: NodeId, d| {
        d.emit(Action::Select(Some(Selection::Node(n))))
    });
    let nodes = views.iter().enumerate().map(|(i, v)| {
        let id = NodeId(i as u8);
        html! {
            <NodeGlyph key={node_name(i)} id={id} at={node_position(i, n)} view={glyph(v.as_ref())}
                paused={sim.is_paused(id)} picked={p.picked.contains(&id)}
                selected={f.node == Some(id)} on_click={on_node.clone()} />
        }
    });
    // One listener for every message dot (there may be hundreds, each frame).
    let on_msg = use_callback(props.dispatch.clone(), |e: MouseEvent, d| {
        if let Some(id) = clicked(&e, "data-msg") {
            d.emit(Action::Select(Some(Selection::Message(MsgId(id)))));
        }
    });
    // The dots are drawn by hand after the render (see `crate::dots`): computed here, as
    // plain data, and handed to the layer that remembers what it drew.
    let dots: Vec<Dot> = sim
        .in_flight()
        .map(|m| {
            let a = endpoint_position(m.from, n, c);
            let b = endpoint_position(m.to, n, c);
            let at = lerp(a, b, progress(m.sent_at, m.deliver_at, now));
            let hue = match &m.payload {
                Payload::Peer(msg) => msg.ballot().map(ballot_hue),
                _ => None,
            };
            let related = f.message == Some(m.id)
                || (f.command.is_some() && payload_command(&m.payload) == f.command)
                || (f.slot.is_some() && payload_slot(&m.payload) == f.slot);
            Dot {
                id: m.id,
                x: round1(at.x),
                y: round1(at.y),
                kind: m.payload.kind(),
                hue,
                lost: m.lost,
                held: m.held,
                related,
                selected: f.message == Some(m.id),
                label: members::message_label(&m.payload),
            }
        })
        .collect();
    let layer = use_mut_ref(crate::dots::Layer::default);
    let messages_ref = use_node_ref();
    {
        let messages_ref = messages_ref.clone();
        // Runs after this render, before the page's own end-of-frame effect (Yew runs a
        // child's effects before its parent's), so the frame's measurement includes it.
        use_effect(move || {
            if let Some(group) = messages_ref.cast::<web_sys::Element>() {
                layer.borrow_mut().draw(&group, dots);
            }
        });
    }
    html! {
        <section class="cluster">
            <div class="cluster-view">
                <svg viewBox={format!("0 0 {VIEW_W} {VIEW_H}")} preserveAspectRatio="xMidYMid meet"
                    data-testid="cluster">
                    <g class="links"><Links nodes={n} targets={targets} links={links} /></g>
                    <g class="nodes">{ for nodes }</g>
                    <g class="clients"><Clients busy={busy} /></g>
                </svg>
                // The moving dots lie on a picture of their own over the cluster, which the
                // browser rasterizes on its own: moving them redraws the dots alone, not the
                // nodes' text and the links under them (see ARCHITECTURE).
                <svg class="dots-layer" viewBox={format!("0 0 {VIEW_W} {VIEW_H}")}
                    preserveAspectRatio="xMidYMid meet">
                    <g class="messages" data-testid="messages" onclick={on_msg} ref={messages_ref} />
                </svg>
            </div>
            <Legend protocol={p.setup.protocol} />
        </section>
    }
}

/// One link between two nodes, and whether it is cut or held (either way).
#[derive(Clone, Copy, Debug, PartialEq)]
struct LinkState {
    a: usize,
    b: usize,
    cut: bool,
    held: bool,
}

#[derive(Properties, PartialEq)]
struct LinksProps {
    nodes: usize,
    /// The node each client sends to.
    targets: Vec<usize>,
    links: Vec<LinkState>,
}

/// The links between nodes and from each client to its node. A component of its own with
/// narrow props, so that the frames that only move messages skip it.
#[component]
fn Links(props: &LinksProps) -> Html {
    let (n, c) = (props.nodes, props.targets.len());
    let client_links = props.targets.iter().enumerate().map(|(ci, &t)| {
        let a = client_position(ci, c);
        let b = node_position(t.min(n.saturating_sub(1)), n);
        html! { <line key={format!("c{ci}")} class="link client-link"
        x1={f1(a.x)} y1={f1(a.y)} x2={f1(b.x)} y2={f1(b.y)} /> }
    });
    let node_links = props.links.iter().map(|&LinkState { a, b, cut, held }| {
        let (pa, pb) = (node_position(a, n), node_position(b, n));
        let class = classes!("link", "peer", cut.then_some("cut"), held.then_some("held"));
        let mid = lerp(pa, pb, 0.5);
        html! {
            <g key={format!("l{a}-{b}")} data-testid={format!("link-{}-{}", node_name(a), node_name(b))}
                class={class}>
                <line x1={f1(pa.x)} y1={f1(pa.y)} x2={f1(pb.x)} y2={f1(pb.y)} />
                if cut { <text class="cut-mark" x={f1(mid.x)} y={f1(mid.y + 6.0)}>{ "✕" }</text> }
            </g>
        }
    });
    html! { <>{ for client_links }{ for node_links }</> }
}

#[derive(Properties, PartialEq)]
struct ClientsProps {
    /// One per client: whether it waits for an answer.
    busy: Vec<bool>,
}

/// The clients along the bottom (narrow props, like [`Links`]).
#[component]
fn Clients(props: &ClientsProps) -> Html {
    let c = props.busy.len();
    let clients = props.busy.iter().enumerate().map(|(i, &busy)| {
        let at = client_position(i, c);
        let name = ClientId(i as u16).to_string();
        html! {
            <g key={name.clone()} class={classes!("client", busy.then_some("busy"))}
                data-testid={format!("client-{name}")}
                transform={format!("translate({},{})", f1(at.x), f1(at.y))}>
                <rect x="-36" y="-22" width="72" height="44" rx="8" />
                <text y="8">{ name }</text>
            </g>
        }
    });
    html! { <>{ for clients }</> }
}

/// The number in attribute `attr` of the element under a click, or of its nearest
/// ancestor that has one: how one listener serves many drawn items.
fn clicked(e: &MouseEvent, attr: &str) -> Option<u64> {
    e.target_dyn_into::<web_sys::Element>()?
        .closest(&format!("[{attr}]"))
        .ok()??
        .get_attribute(attr)?
        .parse()
        .ok()
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

fn round1(v: f64) -> i32 {
    (v * 10.0).round() as i32
}

/// What a node glyph shows: narrow, comparable props.
#[derive(Clone, Debug, PartialEq)]
struct Glyph {
    up: bool,
    role: String,
    leader: bool,
    ballot: Option<String>,
    hue: Option<u32>,
    detail: String,
}

fn glyph(v: Option<&NodeView>) -> Glyph {
    match v {
        None => Glyph {
            up: false,
            role: "crashed".into(),
            leader: false,
            ballot: None,
            hue: None,
            detail: String::new(),
        },
        Some(v) => {
            let ballot = v.ballot.or((v.promised.round > 0).then_some(v.promised));
            Glyph {
                up: true,
                role: v.role.to_string(),
                leader: matches!(v.role, Role::Leader | Role::Sequencer | Role::Solo),
                ballot: ballot.map(|b| format!("ballot {b}")),
                hue: ballot.map(ballot_hue),
                detail: match v.catch_up {
                    Some(c) => format!("catching up {}/{}", c.decided_upto, c.target),
                    None => format!(
                        "applied {} · log {}",
                        v.applied,
                        v.decided_upto.max(v.log.last().map_or(0, |e| e.slot.0 + 1))
                    ),
                },
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct NodeGlyphProps {
    id: NodeId,
    at: Point,
    view: Glyph,
    paused: bool,
    picked: bool,
    selected: bool,
    on_click: Callback<NodeId>,
}

#[component]
fn NodeGlyph(props: &NodeGlyphProps) -> Html {
    let g = &props.view;
    let id = props.id;
    let class = classes!(
        "node",
        if g.up { "up" } else { "down" },
        g.leader.then_some("leader"),
        members::role_class(&g.role),
        props.paused.then_some("paused"),
        props.picked.then_some("picked"),
        props.selected.then_some("selected"),
    );
    let ring = g.hue.map(|h| format!("stroke: hsl({h}, 70%, 45%)"));
    html! {
        <g class={class} data-testid={format!("node-{id}")} data-role={g.role.clone()}
            transform={format!("translate({},{})", f1(props.at.x), f1(props.at.y))}
            onclick={props.on_click.reform(move |_| id)}>
            <circle class="halo" r="68" />
            <circle class="body" r="56" style={ring} />
            <text class="name" y="-14">{ id.to_string() }</text>
            <text class="role" y="9">{ if props.paused { "paused".to_owned() } else { g.role.clone() } }</text>
            if let Some(b) = &g.ballot { <text class="ballot" y="31">{ b }</text> }
            <text class="detail" y="86">{ g.detail.clone() }</text>
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct LegendProps {
    protocol: Protocol,
}

/// The colours in use: message types, ballots, and link states.
#[component]
fn Legend(props: &LegendProps) -> Html {
    let kinds: &[&str] = match props.protocol {
        Protocol::SingleNode => &["request", "reply"],
        Protocol::Naive => &["request", "reply", "replicate"],
        Protocol::Timestamps => &["request", "reply", "stamped"],
        Protocol::Sequencer => &["request", "reply", "sequenced"],
        Protocol::BasicPaxos | Protocol::MultiPaxos => &[
            "request",
            "reply",
            "prepare",
            "promise",
            "accept",
            "accepted",
            "nack",
            "decide",
            "heartbeat",
            "catch-up",
            "snapshot",
        ],
    };
    html! {
        <div class="legend" data-testid="legend">
            { for kinds.iter().map(|k| html! {
                <span key={*k} class="legend-item"><span class={classes!("swatch", *k)}></span>{ *k }</span>
            }) }
            <span class="legend-item"><span class="swatch ring"></span>{ "ring colour = ballot" }</span>
            <span class="legend-item"><span class="swatch cut"></span>{ "cut link" }</span>
            <span class="legend-item"><span class="swatch held"></span>{ "held link" }</span>
            <span class="legend-item"><span class="swatch down"></span>{ "crashed" }</span>
            <span class="legend-item">{ "click a node or message to act on it" }</span>
        </div>
    }
}

/// What can be done with the selected node or message.
#[component]
fn SelectionPanel(props: &StateProps) -> Html {
    crate::perf::panels_rendered("selection");
    let p = &*props.state;
    let sim = p.sim();
    let d = &props.dispatch;
    let body = match p.selection {
        // A node selected later in the run, and the visitor scrubbed back before it joined.
        Some(Selection::Node(n)) if n.0 >= sim.node_count() => html! {
            <p>{ format!("{n} has not joined the cluster at this moment.") }</p>
        },
        Some(Selection::Node(n)) => {
            let up = p.views().get(n.index()).is_some_and(Option::is_some);
            let picked = p.picked.contains(&n);
            html! {
                <>
                <p>{ format!("{n} is {}.", if up { "up" } else { "down" }) }</p>
                if up {
                    <button data-testid="crash" onclick={d.reform(move |_| Action::Crash(n))}>
                        { format!("Crash {n}") }</button>
                } else {
                    <button data-testid="restart" onclick={d.reform(move |_| Action::Restart(n))}>
                        { format!("Restart {n}") }</button>
                }
                <button data-testid="pick" onclick={d.reform(move |_| Action::Pick(n))}>
                    { if picked { format!("Take {n} out of the group") } else { format!("Put {n} in the group") } }
                </button>
                { members::node_actions(p, &sim, n, d) }
                </>
            }
        }
        Some(Selection::Message(m)) => match sim.message(m) {
            Some(env) => {
                let flying = sim.in_flight().any(|e| e.id == m);
                html! {
                    <>
                    <p class="sentence">{ message_sentence(env.from, env.to, &env.payload) }</p>
                    <p class="hint">{ format!("sent {}, arrives {}{}", time(env.sent_at),
                        time(env.deliver_at), if env.lost { " (will be lost)" } else { "" }) }</p>
                    if flying {
                        <button data-testid="drop" onclick={d.reform(move |_| Action::DropMessage(m))}>{ "Drop" }</button>
                        <button data-testid="duplicate" onclick={d.reform(move |_| Action::DuplicateMessage(m))}>{ "Duplicate" }</button>
                        <button data-testid="delay" onclick={d.reform(move |_| Action::DelayMessage(m))}>{ "Delay 200 ms" }</button>
                        { members::message_actions(&sim, env, d) }
                    } else {
                        <p class="hint">{ "No longer in flight." }</p>
                    }
                    </>
                }
            }
            None => html! { <p>{ "That message is gone." }</p> },
        },
        Some(Selection::Op(i)) => match sim.history().get(i) {
            Some(e) => html! {
                <p>{ format!("{}: {}", e.client, op_label(e)) }
                { match p.derived().slot_of.get(&e.id) {
                    Some(s) => format!(" — served by log slot {s}"),
                    None => String::new(),
                } }</p>
            },
            None => html! {},
        },
        Some(Selection::Slot(s)) => html! { <p>{ format!("Log slot {s}") }</p> },
        None => html! {
            <p class="hint">{ "Click a node to crash, restart, pause, snapshot, remove or \
                               partition it, or hold its links; click a moving message to drop, \
                               duplicate or delay it, or hold its link; click an operation on \
                               the timeline to see the messages and log slot it caused." }</p>
        },
    };
    html! {
        <div class="panel selection" data-testid="selection">
            <h2>{ "Selected" }
                if p.selection.is_some() {
                    <button class="small" onclick={d.reform(|_| Action::Select(None))}>{ "clear" }</button>
                }
            </h2>
            { body }
        </div>
    }
}

/// Partitions and the network sliders.
#[component]
fn FaultPanel(props: &StateProps) -> Html {
    crate::perf::panels_rendered("network");
    let p = &*props.state;
    let d = &props.dispatch;
    let sim = p.sim();
    let partitioned = sim.blocked_links().next().is_some();
    let slider = |f: fn(u64) -> Action| {
        d.reform(move |e: Event| {
            f(e.target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(0))
        })
    };
    let per_mille = |r: synod_sim::rng::Ratio| u64::from(r.num) * 1000 / u64::from(r.den.max(1));
    let picked: Vec<String> = p.picked.iter().map(ToString::to_string).collect();
    html! {
        <div class="panel faults">
            <h2>{ "Network" }</h2>
            <div class="row">
                <span>{ if picked.is_empty() { "Group: none picked".to_owned() } else { format!("Group: {}", picked.join(", ")) } }</span>
                <button data-testid="partition" onclick={d.reform(|_| Action::Partition)}>{ "Partition" }</button>
                <button data-testid="heal" disabled={!partitioned}
                    onclick={d.reform(|_| Action::Heal)}>{ "Heal" }</button>
            </div>
            { members::held_links(&sim, d) }
            <label class="slider">{ format!("Loss {}‰", per_mille(p.network.loss)) }
                <input type="range" min="0" max="500" step="10" data-testid="loss"
                    value={per_mille(p.network.loss).to_string()}
                    onchange={slider(|v| Action::SetLoss(v as u32))} /></label>
            <label class="slider">{ format!("Duplication {}‰", per_mille(p.network.duplicate)) }
                <input type="range" min="0" max="500" step="10" data-testid="duplication"
                    value={per_mille(p.network.duplicate).to_string()}
                    onchange={slider(|v| Action::SetDuplicate(v as u32))} /></label>
            <label class="slider">{ format!("Latency up to {} ms", p.network.latency_max_us / 1000) }
                <input type="range" min="5" max="2000" step="5" data-testid="latency"
                    value={(p.network.latency_max_us / 1000).to_string()}
                    onchange={slider(Action::SetLatency)} /></label>
        </div>
    }
}

/// Operations by hand, from any client to any node, and the automatic workload.
#[component]
fn ClientPanel(props: &StateProps) -> Html {
    crate::perf::panels_rendered("clients");
    let p = &*props.state;
    let sim = p.sim();
    let d = &props.dispatch;
    let nodes = sim.node_count();
    let rows = p.inputs.iter().enumerate().map(|(i, input)| {
        let client = ClientId(i as u16);
        let name = client.to_string();
        let on_key = d.reform(move |e: InputEvent| Action::EditKey {
            client,
            text: e.target_unchecked_into::<HtmlInputElement>().value(),
        });
        let on_value = d.reform(move |e: InputEvent| Action::EditValue {
            client,
            text: e.target_unchecked_into::<HtmlInputElement>().value(),
        });
        let on_target = d.reform(move |e: Event| Action::SetTarget {
            client,
            node: NodeId(e.target_unchecked_into::<HtmlSelectElement>().value().parse().unwrap_or(0)),
        });
        let busy = sim.client_pending(client).is_some();
        let buttons = OpKind::ALL.iter().map(|&op| {
            html! {
                <button key={op.name()} data-testid={format!("{name}-{}", op.name())}
                    disabled={busy} onclick={d.reform(move |_| Action::Submit { client, op })}>
                    { op.name() }
                </button>
            }
        });
        html! {
            <div key={name.clone()} class="client-row">
                <strong>{ name.clone() }</strong>
                <select data-testid={format!("{name}-target")} aria-label={format!("{name} sends to")}
                    onchange={on_target}>
                    { for (0..nodes).map(|n| html! {
                        <option key={n} value={n.to_string()} selected={input.target == NodeId(n)}>
                            { format!("→ {}", NodeId(n)) }</option>
                    }) }
                </select>
                <input data-testid={format!("{name}-key")} aria-label={format!("{name} key")}
                    value={input.key.clone()} oninput={on_key} size="3" />
                <input data-testid={format!("{name}-value")} aria-label={format!("{name} value")}
                    value={input.value.clone()} oninput={on_value} size="3" />
                { for buttons }
            </div>
        }
    });
    let on = p.workload_on;
    html! {
        <div class="panel clients-panel">
            <h2>{ "Clients" }
                <label class="toggle">
                    <input type="checkbox" data-testid="workload" checked={on}
                        onchange={d.reform(move |_| Action::SetWorkload(!on))} />
                    { " automatic workload" }
                </label>
            </h2>
            <p class="hint">{ "Each client waits for one answer before its next call. Pick the \
                               node it asks, a key and a value, then an operation." }</p>
            { for rows }
        </div>
    }
}

/// The replicas side by side. The heading's verdict follows every frame; each replica's
/// card is a [`ReplicaCard`] rendering on its own turn.
#[component]
fn Inspector(props: &StateProps) -> Html {
    let p = &*props.state;
    let views = p.views();
    let verdict = agreement(&views);
    let cards = (0..views.len()).map(|i| {
        html! {
            <ReplicaCard key={node_name(i)} index={i} state={props.state.clone()}
                revision={p.replica_card_revision(i)} dispatch={props.dispatch.clone()} />
        }
    });
    html! {
        <section class="panel inspector">
            <h2>{ "Replicas side by side" }
                <span class={classes!("agree", verdict.1)} data-testid="agreement">{ verdict.0 }</span>
            </h2>
            <p class="hint">{ "Log slots: green chosen, yellow accepted only, grey empty; bold \
                               once applied; a purple block is a snapshot standing in for the \
                               compacted slots. The bar above each log spans the longest log \
                               (light grey: slots this node has not heard of yet). Same commands \
                               in the same order give the same table." }</p>
            <div class="cards">{ for cards }</div>
        </section>
    }
}

/// Props of one replica's card: like [`StateProps`], for the replica at `index`.
#[derive(Properties)]
struct CardProps {
    index: usize,
    state: UseReducerHandle<Playground>,
    revision: u64,
    dispatch: Callback<Action>,
}

impl PartialEq for CardProps {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
            && self.revision == other.revision
            && self.dispatch == other.dispatch
    }
}

/// One replica: promised ballot, applied index, its latest log slots and its table.
#[component]
fn ReplicaCard(props: &CardProps) -> Html {
    crate::perf::panels_rendered("replicas");
    let p = &*props.state;
    let sim = p.sim();
    let f = focus(p, &sim);
    let views = p.views();
    let d = &props.dispatch;
    let span = members::log_span(&views);
    let i = props.index;
    let name = node_name(i);
    let body = match views.get(i).and_then(Option::as_ref) {
        None => html! { <p class="down-note">{ "crashed: volatile state lost; the durable \
        promise and accepted values survive for the restart" }</p> },
        Some(v) => {
            // The picture holds the latest slots (`LOG_SLOTS`) and counts the ones before.
            let earlier = v.earlier_slots;
            let runs = sim.log_runs(NodeId(i as u8)).unwrap_or_default();
            let slots = v.log.iter().map(|e| {
                let s = e.slot.0;
                let state = if e.chosen { "chosen" } else if e.command.is_some() { "accepted" } else { "empty" };
                let title = match e.accepted_ballot {
                    Some(b) => format!("slot {s}: {state} at ballot {b}"),
                    None => format!("slot {s}: {state}"),
                };
                html! {
                    <li key={s} class={classes!("slot", state, e.applied.then_some("applied"),
                            (f.slot == Some(s)).then_some("related"))}
                        title={title} data-testid={format!("slot-{name}-{s}")}
                        onclick={d.reform(move |_| Action::Select(Some(Selection::Slot(s))))}>
                        <span class="slot-no">{ s }</span>
                        <span class="slot-cmd">{ e.command.clone().unwrap_or_else(|| "–".into()) }</span>
                        if let Some(b) = e.accepted_ballot {
                            <span class="slot-ballot" style={format!("color: hsl({}, 70%, 35%)", ballot_hue(b))}>
                                { b.to_string() }</span>
                        }
                    </li>
                }
            });
            html! {
                <>
                <dl class="facts">
                    <dt>{ "role" }</dt><dd data-testid={format!("role-{name}")}>{ v.role.to_string() }</dd>
                    <dt>{ "promised" }</dt><dd>{ v.promised.to_string() }</dd>
                    <dt>{ "applied" }</dt><dd data-testid={format!("applied-{name}")}>{ v.applied }</dd>
                    <dt>{ "digest" }</dt><dd>{ format!("{:04x}", v.digest & 0xffff) }</dd>
                </dl>
                { members::catch_up_note(v, &name) }
                { members::log_strip_view(&runs, span, &name) }
                <ol class="log" data-testid={format!("log-{name}")}>
                    { members::snapshot_item(v, &name) }
                    if earlier > 0 {
                        <li key="earlier" class="slot earlier">{ format!("… {earlier} earlier slot(s)") }</li>
                    }
                    { for slots }
                </ol>
                <table data-testid={format!("table-{name}")}>
                    <tr><th>{ "key" }</th><th>{ "value" }</th></tr>
                    { for v.table.iter().map(|(k, val)| html! {
                        <tr key={k.clone()}><td>{ k }</td><td>{ val }</td></tr>
                    }) }
                </table>
                </>
            }
        }
    };
    let down = views.get(i).is_some_and(Option::is_none);
    html! { <div class={classes!("inspect", down.then_some("down"))}>
    <h3>{ name }</h3>{ body }</div> }
}

/// Whether replicas that applied the same number of entries have the same table.
fn agreement(views: &[Option<NodeView>]) -> (String, &'static str) {
    let live: Vec<&NodeView> = views.iter().flatten().collect();
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            if a.applied == b.applied && a.digest != b.digest {
                return (
                    format!(
                        "{} and {} applied {} entries yet differ",
                        a.id, b.id, a.applied
                    ),
                    "differ",
                );
            }
        }
    }
    if live.windows(2).all(|w| w[0].table == w[1].table) {
        ("same order, same state".into(), "same")
    } else {
        ("some replicas are behind".into(), "behind")
    }
}

/// One row per client, each operation a bar from invocation to completion, with the
/// checker's linearization points, faults and leader changes on the same time axis.
#[component]
fn Timeline(props: &StateProps) -> Html {
    let p = &*props.state;
    let sim = p.sim();
    let now = sim.now().as_us();
    let start = now.saturating_sub(TIMELINE_WINDOW_US);
    let clients = usize::from(sim.client_count());
    let check = p.check();
    let f = focus(p, &sim);
    let (w, row_h, top) = (1000.0, 40.0, 40.0);
    let x = |t: u64| (t.saturating_sub(start)) as f64 / TIMELINE_WINDOW_US as f64 * w;
    // Bars and markers are placed at their absolute times (in tenths), on sliding layers (see
    // below): as the window slides, only the layers' positions change. A bar leaving on the
    // left goes out of the window, not shortened, and an open one is cut at the present, so a
    // bar changes only when its operation ends (or once a window while it stays open);
    // shortening and growing bars rewrote attributes of every bar at either edge on every
    // frame.
    let ax = |t: u64| round1(t as f64 / TIMELINE_WINDOW_US as f64 * w);
    // The sliding layers: markers and bars are drawn on a track three windows long, starting
    // at `page` (a multiple of two windows), which the browser's compositor slides by a CSS
    // transform as the window moves; the track is drawn again only when the page turns, every
    // two windows, or when a bar or marker changes. Shifting the groups inside the SVG instead
    // had the browser repaint and rasterize the whole timeline on every frame, work that took
    // the CPU from the next frames (see ARCHITECTURE).
    let (page, into) = track_position(start, TIMELINE_WINDOW_US, TRACK_WINDOWS);
    let page_shift = format!("translate({},0)", Tenths(-ax(page)));
    // Where the window starts on the track, in the track's units (a window is 1000).
    let track_x = into * (TRACK_WINDOWS * 1000) as f64;
    let slide = format!("transform: translateX(-{:.4}%)", into * 100.0);
    // The bars' layer ends just past the present (the window's right edge once a whole window
    // has passed), so that a bar that just began shows; the markers' layer is the window.
    let present = (x(now) + 3.0).min(w);
    let present_clip = format!(
        "clip-path: inset(0 {:.3}% 0 0)",
        ((w - present) / w * 100.0).max(0.0)
    );
    let height = top + clients as f64 * row_h + 4.0;
    // One listener for every bar, which carries its history index in `data-op`.
    let on_op = use_callback(props.dispatch.clone(), |e: MouseEvent, d| {
        if let Some(i) = clicked(&e, "data-op") {
            d.emit(Action::Select(Some(Selection::Op(i as usize))));
        }
    });
    // What each visible bar looks like, as plain numbers: on most frames nothing but the
    // window's shift changes, and then the bars (their labels and test ids formatted, and
    // the list reconciled) are not built again: the cached list is handed on as is and
    // [`Bars`] skips its render.
    let shape: Vec<BarShape> = sim
        .history()
        .iter()
        .enumerate()
        .filter(|(_, e)| e.ret.map_or(now, |r| r.as_us()) >= start)
        .map(|(i, e)| {
            let x1 = ax(e.call.as_us());
            // An operation still open (pending, or given up on with an unknown outcome)
            // runs to the present: its bar is drawn in whole windows past it and the window
            // cuts it there, instead of its width following the present on every frame, for
            // every client waiting.
            let x2 = match (&e.outcome, e.ret) {
                (Outcome::Pending | Outcome::Unknown, _) | (_, None) => {
                    open_bar_end(x1, e.call, Time(now), TIMELINE_WINDOW_US, round1(w))
                }
                (_, Some(r)) => ax(r.as_us()).max(x1 + 30),
            };
            BarShape {
                index: i,
                what: what_it_says(e),
                x1,
                x2,
                class: outcome_class(&e.outcome),
                illegal: check.illegal == Some(i),
                selected: f.command == Some(e.id),
                point: check.points.get(&i).map(|t| ax(t.as_us())),
            }
        })
        .collect();
    let cache = use_mut_ref(|| (Vec::<BarShape>::new(), Rc::new(Vec::<Bar>::new())));
    if cache.borrow().0 != shape {
        let history = sim.history();
        let bars: Vec<Bar> = shape
            .iter()
            .map(|b| {
                let e = &history[b.index];
                Bar {
                    index: b.index,
                    x1: b.x1,
                    x2: b.x2,
                    y: round1(top + e.client.index() as f64 * row_h + 4.0),
                    h: round1(row_h - 8.0),
                    label: op_label(e),
                    class: b.class,
                    illegal: b.illegal,
                    selected: b.selected,
                    point: b.point,
                    testid: format!("bar-{}-{}", e.client, e.id.seq),
                }
            })
            .collect();
        *cache.borrow_mut() = (shape, Rc::new(bars));
    }
    let bars = cache.borrow().1.clone();
    let rows = (0..clients).map(|i| {
        let y = top + i as f64 * row_h + row_h / 2.0;
        html! { <text key={i} class="row-label" x="-8" y={f1(y + 4.0)}>
        { ClientId(i as u16).to_string() }</text> }
    });
    let derived = p.derived();
    let markers = derived
        .markers
        .iter()
        .enumerate()
        .filter(|(_, m)| m.at.as_us() >= start)
        .map(|(i, m)| {
            let mx = ax(m.at.as_us());
            html! {
                <g key={i} class={classes!("marker", m.kind.class())}>
                    <line x1={Tenths(mx).to_string()} x2={Tenths(mx).to_string()} y1="18" y2={f1(height)} />
                    // A configuration change is named in its band below, clear of the
                    // leader change it usually causes.
                    if m.kind != MarkerKind::Config {
                        <text x={Tenths(mx + 30).to_string()} y="15">{ m.label.clone() }</text>
                    }
                    <title>{ format!("{} at {}", m.label, time(m.at)) }</title>
                </g>
            }
        });
    // The configuration history: one band per decided member set, under the marker labels.
    let bands = config_bands(&derived.configs, Time(start), Time(now))
        .into_iter()
        .map(|b| {
            let (x1, x2) = (x(b.from.as_us()), x(b.to.as_us()));
            html! {
                <g key={b.index} class={classes!("config-band", if b.index % 2 == 0 { "even" } else { "odd" })}
                    data-testid={format!("config-band-{}", b.index)}>
                    <rect x={f1(x1)} y="19" width={f1((x2 - x1).max(1.0))} height="16" />
                    <text x={f1(x1 + 3.0)} y="31">{ b.label.clone() }</text>
                    <title>{ format!("from {}: {}", time(b.from), b.label) }</title>
                </g>
            }
        });
    let has_partition = derived
        .markers
        .iter()
        .any(|m| m.kind == MarkerKind::Partition);
    html! {
        <section class="timeline panel">
            <h2>{ "Timeline" }<Verdict_ verdict={check.verdict} /></h2>
            <div class="timeline-view" data-testid="timeline"
                data-partitioned={has_partition.to_string()}
                data-window-x={f1(track_x)} data-present={f1(present)}>
                <svg class="timeline-frame" viewBox={format!("-40 0 1045 {}", f1(height))}>
                    { for rows }
                    <g class="config-bands">{ for bands }</g>
                </svg>
                <div class="timeline-window">
                    <div class="timeline-track" style={slide.clone()}>
                        <svg class="timeline-layer" viewBox={track_view_box(height)}
                            preserveAspectRatio="none" data-layer="markers">
                            <g class="markers" transform={page_shift.clone()}>{ for markers }</g>
                        </svg>
                    </div>
                </div>
                <div class="timeline-window" style={present_clip}>
                    <div class="timeline-track" style={slide}>
                        <svg class="timeline-layer" viewBox={track_view_box(height)}
                            preserveAspectRatio="none" data-layer="bars">
                            <g class="bars" onclick={on_op} transform={page_shift}><Bars {bars} /></g>
                        </svg>
                    </div>
                </div>
            </div>
            if check.verdict == Some(Verdict::NotLinearizable) {
                <div class="explanation" data-testid="explanation">
                    <strong>{ "Not linearizable. " }</strong>
                    { check.illegal.and_then(|i| sim.history().get(i)).map(|e| format!(
                        "{}'s {} (in red) cannot be placed in any order that respects real time. ",
                        e.client, op_label(e))).unwrap_or_default() }
                    { check.explanation.clone() }
                </div>
            }
            <p class="hint">{ "Bars run from invocation to completion; dashed yellow: pending; \
                               grey hatched: unknown outcome (the client gave up). Diamonds: \
                               where the checker placed each operation. Vertical lines: faults, \
                               leader and configuration changes; the purple strip names each \
                               configuration change and the members after it. Click a bar to see the slot and messages it caused." }</p>
        </section>
    }
}

/// How many windows long the timeline's sliding track is (see [`Timeline`]).
const TRACK_WINDOWS: u64 = 3;

/// The view box of one of the timeline's sliding layers: the whole track, as tall as the
/// timeline.
fn track_view_box(height: f64) -> String {
    format!("0 0 {} {}", TRACK_WINDOWS * 1000, f1(height))
}

#[derive(Properties, PartialEq)]
struct VerdictProps {
    verdict: Option<Verdict>,
}

#[allow(non_snake_case)]
#[component]
fn Verdict_(props: &VerdictProps) -> Html {
    let (text, class) = match props.verdict {
        None => ("nothing to check yet", "none"),
        Some(Verdict::Linearizable) => ("linearizable ✓", "ok"),
        Some(Verdict::NotLinearizable) => ("NOT linearizable ✗", "bad"),
        Some(Verdict::Unknown) => ("unknown (search budget spent)", "unknown"),
    };
    html! { <span class={classes!("verdict", class)} data-testid="verdict">{ text }</span> }
}

/// What decides a bar's picture, besides its operation (which gives the row, label and
/// test id): compared from frame to frame to tell whether the bars changed at all.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BarShape {
    index: usize,
    /// What its label and test id say, as a hash (see [`what_it_says`]): after a fork or a
    /// new setup the same place may hold another operation.
    what: u64,
    x1: i32,
    x2: i32,
    class: &'static str,
    illegal: bool,
    selected: bool,
    point: Option<i32>,
}

/// A fingerprint of what a bar's label and test id are made of: the command (its client and
/// number), its operation and its outcome. Hashing costs a fraction of formatting them.
fn what_it_says(e: &synod_sim::HistoryEntry) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = synod_core::kv::Fnv64::new();
    (&e.id, &e.op, &e.outcome).hash(&mut h);
    Hasher::finish(&h)
}

#[derive(Properties)]
struct BarsProps {
    bars: Rc<Vec<Bar>>,
}

impl PartialEq for BarsProps {
    /// The timeline hands on the same list while no bar changed.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.bars, &other.bars)
    }
}

/// The timeline's bars: rendered only when one of them changed.
#[component]
fn Bars(props: &BarsProps) -> Html {
    props
        .bars
        .iter()
        .map(|b| html! { <BarView key={b.index} ..b.clone() /> })
        .collect()
}

/// One operation's bar: a component, so that when the bars are rendered, a finished bar
/// (whose props no longer change as the window slides) costs one comparison.
#[derive(Clone, Properties, PartialEq)]
struct Bar {
    index: usize,
    x1: i32,
    x2: i32,
    y: i32,
    h: i32,
    label: String,
    class: &'static str,
    illegal: bool,
    selected: bool,
    point: Option<i32>,
    testid: String,
}

#[component]
fn BarView(props: &Bar) -> Html {
    let t = |v: i32| Tenths(v).to_string();
    let i = props.index;
    let y = f64::from(props.y) / 10.0;
    let h = f64::from(props.h) / 10.0;
    html! {
        <g class={classes!("bar", props.class, props.illegal.then_some("illegal"),
                props.selected.then_some("selected"))}
            data-testid={props.testid.clone()} data-op={i.to_string()}>
            <rect x={t(props.x1)} y={f1(y)} width={t(props.x2 - props.x1)} height={f1(h)} rx="4" />
            <text x={t(props.x1 + 40)} y={f1(y + h / 2.0 + 4.0)}>{ props.label.clone() }</text>
            if let Some(px) = props.point {
                <path class="lin-point" d={format!("M{} {} l5 5 l-5 5 l-5 -5 z", t(px), f1(y + h / 2.0 - 5.0))} />
            }
        </g>
    }
}

/// Every event in plain language, newest first, filterable and linked to the timeline.
#[component]
fn Narration(props: &StateProps) -> Html {
    crate::perf::panels_rendered("narration");
    let p = &*props.state;
    let sim = p.sim();
    let f = focus(p, &sim);
    let filter = p.view.filter.to_lowercase();
    let d = &props.dispatch;
    let trace = sim.trace();
    let from = trace.len().saturating_sub(NARRATION_SCAN);
    let lines: Vec<Html> = trace[from..]
        .iter()
        .rev()
        .filter_map(|r| narrate(&sim, r).map(|(text, cmd)| (r.at, text, cmd)))
        .filter(|(_, text, _)| filter.is_empty() || text.to_lowercase().contains(&filter))
        .take(if p.view.playing {
            NARRATION_LINES_PLAYING
        } else {
            NARRATION_LINES
        })
        .map(|(at, text, cmd)| {
            let history_index = cmd.and_then(|c| sim.history().iter().rposition(|e| e.id == c));
            let related = cmd.is_some() && cmd == f.command;
            let onclick = history_index.map(|h| d.reform(move |_| Action::Select(Some(Selection::Op(h)))));
            // Unkeyed: the newest line is always first, so while playing every line moves
            // down each render. Keyed by trace index, Yew removed and rebuilt all forty
            // lines each time; by position it rewrites their text in place.
            html! {
                <li class={classes!(related.then_some("related"), onclick.is_some().then_some("linked"))}
                    onclick={onclick}>
                    <span class="when">{ time(at) }</span>{ " " }{ text }
                </li>
            }
        })
        .collect();
    let on_filter = d.reform(|e: InputEvent| {
        Action::SetFilter(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    html! {
        <section class="panel narration">
            <h2>{ "What happened" }
                <input class="filter" placeholder="filter, e.g. promise or c2#3" data-testid="filter"
                    value={p.view.filter.clone()} oninput={on_filter} />
            </h2>
            <ol data-testid="narration">{ lines }</ol>
        </section>
    }
}

/// Messages per committed command against the textbook formulas, phase-1 runs, latency.
#[component]
fn StatsPanel(props: &StateProps) -> Html {
    let p = &*props.state;
    let sim = p.sim();
    let stats = sim.stats();
    let committed = sim.committed_commands();
    let n = u64::from(sim.node_count());
    let core = ["prepare", "promise", "accept", "accepted", "decide", "nack"];
    perf::panels_rendered("stats");
    let work = perf::figures();
    let by_panel = perf::by_panel_summary(&perf::by_panel());
    let rows = stats.sent.iter().map(|(k, v)| {
        html! {
            <tr key={k.clone()}><td><span class={classes!("swatch", k.clone())}></span>{ k }</td>
                <td>{ v }</td><td>{ per(*v, committed) }</td></tr>
        }
    });
    let paxos: u64 = stats
        .sent
        .iter()
        .filter(|(k, _)| core.contains(&k.as_str()))
        .map(|(_, v)| v)
        .sum();
    let formula = match p.setup.protocol {
        Protocol::BasicPaxos => format!("basic Paxos needs 5(n−1) = {} per command", 5 * (n - 1)),
        Protocol::MultiPaxos => format!(
            "Multi-Paxos needs 2(n−1) = {} per command, 3(n−1) = {} with the explicit decide this core sends (basic Paxos: 5(n−1) = {})",
            2 * (n - 1), 3 * (n - 1), 5 * (n - 1)),
        _ => "the formulas below are for the Paxos strategies".to_owned(),
    };
    html! {
        <section class="panel stats" data-testid="stats">
            <h2>{ "Statistics" }</h2>
            <p>{ format!("{committed} commands committed; Paxos messages per command: ") }
                <strong data-testid="per-command">{ per(paxos, committed) }</strong>
                { format!(" — {formula}.") }</p>
            <table>
                <tr><th>{ "type" }</th><th>{ "sent" }</th><th>{ "per command" }</th></tr>
                { for rows }
            </table>
            <p>{ format!("Phase-1 runs: {} · leader changes: {} · mean latency {} · max {} · {} ok, {} failed, {} unknown",
                stats.phase1_runs, stats.leader_changes, time(Time(stats.mean_latency_us())),
                time(Time(stats.latency_max_us)), stats.completed_ok, stats.failed, stats.unknown) }</p>
            <p class="hint">{ format!("Seed {} · trace hash ", sim.scenario().seed) }
                <code data-testid="trace-hash">{ format!("{:016x}", sim.trace_hash()) }</code>
                { " (the same scenario replayed to the same moment gives the same hash)" }</p>
            <p class="hint" data-testid="perf" data-mean-ms={format!("{:.3}", work.mean_ms)}
                data-advance-ms={format!("{:.3}", work.advance_ms)} data-p95-ms={format!("{:.3}", work.p95_ms)}
                data-p99-ms={format!("{:.3}", work.p99_ms)} data-over-budget={work.over_budget.to_string()}
                data-check-mean-ms={format!("{:.3}", work.check_mean_ms)}
                data-check-max-ms={format!("{:.3}", work.check_max_ms)} data-checks={work.checks.to_string()}
                data-checks-total={work.checks_total.to_string()}
                data-max-ms={format!("{:.3}", work.max_ms)} data-frames={work.frames.to_string()}
                data-total-frames={work.total.to_string()}
                data-moving-ms={format!("{:.3}", work.moving_mean_ms)}
                data-panels-ms={format!("{:.3}", work.panels_mean_ms)}
                data-by-panel={by_panel.clone()} data-slowest={perf::slowest(5)}>
                { format!("Work per frame (advance + render): {}", perf::summary(&work)) }
                if !by_panel.is_empty() {
                    { format!("; mean of each side panel's turns: {by_panel}") }
                }</p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct HelpProps {
    dispatch: Callback<Action>,
}

#[component]
fn HelpOverlay(props: &HelpProps) -> Html {
    html! {
        <div class="overlay" data-testid="help-overlay" onclick={props.dispatch.reform(|_| Action::ToggleHelp)}>
            <div class="help panel">
                <h2>{ "How to play" }</h2>
                <p>{ "Clients send get, set, contains and remove calls to the nodes. The nodes \
                      must agree on one order of commands (a log): same start, same code, same \
                      order gives the same state. Break things and watch the checker judge the \
                      clients' history." }</p>
                <table>
                    <tr><td><kbd>{ "space" }</kbd></td><td>{ "play / pause" }</td></tr>
                    <tr><td><kbd>{ "." }</kbd></td><td>{ "step one event" }</td></tr>
                    <tr><td><kbd>{ "n" }</kbd></td><td>{ "run to the next completed operation" }</td></tr>
                    <tr><td><kbd>{ "+" }</kbd>{ " / " }<kbd>{ "-" }</kbd></td><td>{ "faster / slower" }</td></tr>
                    <tr><td><kbd>{ "[" }</kbd>{ " / " }<kbd>{ "]" }</kbd></td><td>{ "back / forward 100 ms" }</td></tr>
                    <tr><td><kbd>{ "h" }</kbd></td><td>{ "heal the network" }</td></tr>
                    <tr><td><kbd>{ "esc" }</kbd></td><td>{ "clear the selection" }</td></tr>
                    <tr><td><kbd>{ "?" }</kbd></td><td>{ "this help" }</td></tr>
                </table>
                <p>{ "Click a node to crash or restart it, or put it in a group and press \
                      Partition. Click a moving message to drop, duplicate or delay it. Drag \
                      the scrubber to go back; acting at an earlier moment forks the future." }</p>
                <p>{ "Membership (Multi-Paxos): add a node that replays the whole log, or one \
                      that installs a snapshot and replays only the rest, and compare what each \
                      cost; it joins as a learner and is promoted to voter through the log." }</p>
                <button data-testid="close-help">{ "Close" }</button>
            </div>
        </div>
    }
}
