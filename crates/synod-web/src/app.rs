//! The Yew components. They read [`Playground`] and dispatch [`Action`]s; nothing here
//! changes the simulation directly.

use crate::format::{op_label, outcome_class, time};
use crate::geometry::{
    client_position, endpoint_position, lerp, node_position, progress, VIEW_H, VIEW_W,
};
use crate::state::{Action, OpKind, Playground, SPEEDS};
use synod_core::{ClientId, NodeView};
use synod_sim::{HistoryEntry, Time};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// How often the animation clock fires, in milliseconds.
const FRAME_MS: u32 = 16;

/// How much virtual time the timeline shows at once.
const TIMELINE_WINDOW_US: u64 = 2_000_000;

/// The one hook that owns the wall clock: it dispatches a [`Action::Frame`] every
/// `FRAME_MS` and stops when the component goes away. The closure captures the dispatcher,
/// never a snapshot of the state.
#[hook]
pub fn use_animation_clock(dispatcher: UseReducerDispatcher<Playground>) {
    use_effect_with((), move |_| {
        let interval = gloo_timers::callback::Interval::new(FRAME_MS, move || {
            let now_ms = web_sys::window()
                .and_then(|w| w.performance())
                .map(|p| p.now())
                .unwrap_or_default();
            dispatcher.dispatch(Action::Frame { now_ms });
        });
        move || drop(interval)
    });
}

/// The whole page.
#[component]
pub fn App() -> Html {
    let state = use_reducer(Playground::new);
    use_animation_clock(state.dispatcher());
    // One callback for the component's lifetime, so children's props stay equal.
    let dispatch = {
        let d = state.dispatcher();
        use_memo((), move |_| Callback::from(move |a: Action| d.dispatch(a)))
    };
    let dispatch = (*dispatch).clone();
    html! {
        <div class="app" data-app-ready="true">
            <header>
                <h1>{ "Synod" }</h1>
                <p class="tagline">
                    { "One single-threaded node, two clients. Issue calls from both clients at \
                       once: they overlap in time, yet the node executes them one after \
                       the other, so from outside they look sequential. That is strong \
                       consistency." }
                </p>
            </header>
            <Controls playing={state.playing} speed={state.speed} now={state.now()}
                dispatch={dispatch.clone()} />
            if let Some(notice) = &state.notice {
                <div class="notice" data-testid="notice"
                    onclick={dispatch.reform(|_| Action::DismissNotice)}>{ notice }</div>
            }
            <main>
                <ClusterView state={state.clone()} revision={state.revision} />
                <section class="side">
                    <ClientPanel state={state.clone()} revision={state.revision}
                        dispatch={dispatch.clone()} />
                    <NodeInspector views={state.sim.node_views()} />
                </section>
            </main>
            <Timeline state={state.clone()} revision={state.revision} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ControlsProps {
    playing: bool,
    speed: u32,
    now: Time,
    dispatch: Callback<Action>,
}

#[component]
fn Controls(props: &ControlsProps) -> Html {
    let d = &props.dispatch;
    let toggle = if props.playing {
        d.reform(|_| Action::Pause)
    } else {
        d.reform(|_| Action::Play)
    };
    let on_speed = d.reform(|e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        Action::SetSpeed(input.value().parse().unwrap_or(250))
    });
    html! {
        <div class="controls">
            <button data-testid="play" onclick={toggle}>
                { if props.playing { "Pause" } else { "Play" } }
            </button>
            <button data-testid="step" onclick={d.reform(|_| Action::Step)}>{ "Step" }</button>
            <label>{ "Speed " }
                <select data-testid="speed" onchange={on_speed}>
                    { for SPEEDS.iter().map(|(v, name)| html! {
                        <option value={v.to_string()} selected={*v == props.speed}>{ *name }</option>
                    }) }
                </select>
            </label>
            <span class="clock" data-testid="clock">{ format!("t = {}", time(props.now)) }</span>
        </div>
    }
}

/// Props for components that read the whole state. The handle always reads the latest
/// state, so equality is decided by the revision the parent saw when it rendered.
#[derive(Properties)]
struct StateProps {
    state: UseReducerHandle<Playground>,
    revision: u64,
}

impl PartialEq for StateProps {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision
    }
}

#[component]
fn ClusterView(props: &StateProps) -> Html {
    let p = &*props.state;
    let now = p.now();
    let views = p.sim.node_views();
    let (n, c) = (views.len(), usize::from(p.sim.client_count()));
    let links = (0..c).flat_map(|ci| {
        (0..n).map(move |ni| {
            let (a, b) = (client_position(ci, c), node_position(ni, n));
            html! { <line key={format!("l{ci}-{ni}")} class="link"
            x1={a.x.to_string()} y1={a.y.to_string()} x2={b.x.to_string()} y2={b.y.to_string()} /> }
        })
    });
    let nodes = views.iter().enumerate().map(|(i, v)| {
        let at = node_position(i, n);
        let name = format!("n{}", i + 1);
        let (class, role, detail) = match v {
            Some(v) => (
                "node up",
                v.role.to_string(),
                match v.executing {
                    Some(id) => format!("executing {id}, {} waiting", v.queue.len()),
                    None => "idle".to_owned(),
                },
            ),
            None => ("node down", "crashed".to_owned(), String::new()),
        };
        html! {
            <g key={name.clone()} class={class} data-testid={format!("node-{name}")}
                transform={format!("translate({},{})", at.x, at.y)}>
                <circle r="44" />
                <text class="name" y="-6">{ name }</text>
                <text class="role" y="14">{ role }</text>
                <text class="detail" y="66">{ detail }</text>
            </g>
        }
    });
    let clients = (0..c).map(|i| {
        let at = client_position(i, c);
        let name = ClientId(i as u16).to_string();
        html! {
            <g key={name.clone()} class="client" data-testid={format!("client-{name}")}
                transform={format!("translate({},{})", at.x, at.y)}>
                <rect x="-34" y="-20" width="68" height="40" rx="8" />
                <text y="6">{ name }</text>
            </g>
        }
    });
    let messages = p.sim.in_flight().map(|m| {
        let a = endpoint_position(m.from, n, c);
        let b = endpoint_position(m.to, n, c);
        let at = lerp(a, b, progress(m.sent_at, m.deliver_at, now));
        let class = format!(
            "msg {}{}",
            m.payload.kind(),
            if m.lost { " lost" } else { "" }
        );
        html! {
            <g key={format!("m{}", m.id.0)} class={class}
                transform={format!("translate({:.1},{:.1})", at.x, at.y)}>
                <circle r="9" />
                <title>{ format!("{} → {}: {}", m.from, m.to, m.payload) }</title>
            </g>
        }
    });
    html! {
        <section class="cluster">
            <svg viewBox={format!("0 0 {VIEW_W} {VIEW_H}")} preserveAspectRatio="xMidYMid meet"
                data-testid="cluster">
                <g class="links">{ for links }</g>
                <g class="nodes">{ for nodes }</g>
                <g class="clients">{ for clients }</g>
                <g class="messages">{ for messages }</g>
            </svg>
            <div class="legend">
                <span class="swatch request"></span>{ "request" }
                <span class="swatch reply"></span>{ "reply" }
            </div>
        </section>
    }
}

#[derive(Properties)]
struct ClientPanelProps {
    state: UseReducerHandle<Playground>,
    revision: u64,
    dispatch: Callback<Action>,
}

impl PartialEq for ClientPanelProps {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision && self.dispatch == other.dispatch
    }
}

#[component]
fn ClientPanel(props: &ClientPanelProps) -> Html {
    let p = &*props.state;
    let rows = p.inputs.iter().enumerate().map(|(i, input)| {
        let client = ClientId(i as u16);
        let name = client.to_string();
        let d = &props.dispatch;
        let on_key = d.reform(move |e: InputEvent| Action::EditKey {
            client,
            text: e.target_unchecked_into::<HtmlInputElement>().value(),
        });
        let on_value = d.reform(move |e: InputEvent| Action::EditValue {
            client,
            text: e.target_unchecked_into::<HtmlInputElement>().value(),
        });
        let busy = p.sim.client_pending(client).is_some();
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
                <input data-testid={format!("{name}-key")} aria-label={format!("{name} key")}
                    value={input.key.clone()} oninput={on_key} size="4" />
                <input data-testid={format!("{name}-value")} aria-label={format!("{name} value")}
                    value={input.value.clone()} oninput={on_value} size="4" />
                { for buttons }
            </div>
        }
    });
    html! {
        <div class="panel clients-panel">
            <h2>{ "Clients" }</h2>
            <p class="hint">{ "Each client sends its call to n1 and waits for the answer." }</p>
            { for rows }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct InspectorProps {
    views: Vec<Option<NodeView>>,
}

#[component]
fn NodeInspector(props: &InspectorProps) -> Html {
    let nodes = props.views.iter().enumerate().map(|(i, v)| {
        let name = format!("n{}", i + 1);
        let body = match v {
            None => html! { <p>{ "crashed" }</p> },
            Some(v) => html! {
                <>
                <table data-testid={format!("table-{name}")}>
                    <tr><th>{ "key" }</th><th>{ "value" }</th></tr>
                    { for v.table.iter().map(|(k, val)| html! {
                        <tr key={k.clone()}><td>{ k }</td><td>{ val }</td></tr>
                    }) }
                </table>
                <ol class="log" start="0">
                    { for v.log.iter().map(|e| html! {
                        <li key={e.slot.0.to_string()}>{ e.command.clone().unwrap_or_default() }</li>
                    }) }
                </ol>
                </>
            },
        };
        html! { <div key={name.clone()} class="inspect"><h3>{ name }</h3>{ body }</div> }
    });
    html! {
        <div class="panel">
            <h2>{ "State" }</h2>
            { for nodes }
        </div>
    }
}

#[component]
fn Timeline(props: &StateProps) -> Html {
    let p = &*props.state;
    let now = p.now().as_us();
    let start = now.saturating_sub(TIMELINE_WINDOW_US);
    let clients = usize::from(p.sim.client_count());
    let (w, row_h) = (1000.0, 34.0);
    let x = |t: u64| (t.saturating_sub(start)) as f64 / TIMELINE_WINDOW_US as f64 * w;
    let bars = p.sim.history().iter().filter(|e| {
        e.ret.map_or(now, |r| r.as_us()) >= start
    }).map(|e| {
        let x1 = x(e.call.as_us());
        let x2 = x(e.ret.map_or(now, |r| r.as_us())).max(x1 + 2.0);
        let y = e.client.index() as f64 * row_h + 6.0;
        html! {
            <g key={e.id.to_string()} class={classes!("bar", outcome_class(&e.outcome))}>
                <rect x={format!("{x1:.1}")} y={y.to_string()} width={format!("{:.1}", x2 - x1)}
                    height={(row_h - 12.0).to_string()} rx="4" />
                <text x={format!("{:.1}", x1 + 4.0)} y={(y + 15.0).to_string()}>{ op_label(e) }</text>
            </g>
        }
    });
    let rows = (0..clients).map(|i| {
        let y = i as f64 * row_h + row_h / 2.0;
        html! { <text key={i} class="row-label" x="-8" y={(y + 4.0).to_string()}>
        { ClientId(i as u16).to_string() }</text> }
    });
    html! {
        <section class="timeline">
            <h2>{ "Timeline" }</h2>
            <svg viewBox={format!("-40 0 1040 {}", clients as f64 * row_h)} data-testid="timeline">
                { for rows }
                { for bars }
            </svg>
            <ol class="ops" data-testid="ops">
                { for p.sim.history().iter().rev().map(op_item) }
            </ol>
        </section>
    }
}

fn op_item(e: &HistoryEntry) -> Html {
    let ret = e.ret.map(time).unwrap_or_else(|| "…".to_owned());
    html! {
        <li key={e.id.to_string()} class={outcome_class(&e.outcome)}
            data-testid={format!("op-{}-{}", e.client, e.id.seq)}>
            <span class="who">{ e.client.to_string() }</span>
            { op_label(e) }
            <span class="when">{ format!(" [{} – {}]", time(e.call), ret) }</span>
        </li>
    }
}
