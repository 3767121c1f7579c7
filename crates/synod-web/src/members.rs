//! Growing and shrinking the cluster, snapshots, and the controls for pausing nodes and
//! holding links, as the page shows them.
//!
//! A node joins as a *learner*: it receives every decision but never counts toward a quorum.
//! It catches up one of two ways, the visitor's choice: replaying the log from the first
//! command (catch-up replies of decided entries, drawn as grey dots labelled with how many
//! entries each carries, fill its log), or installing a snapshot of an up-to-date replica
//! (one large message, drawn as a block labelled with the slots it covers) and replaying
//! only the commands after it ([`message_label`]). Once it has caught up, the simulator
//! asks the leader to promote it, and the promotion is decided through the log like any
//! configuration change. The membership panel lists every decided configuration (the
//! timeline draws the same history as bands) and compares what each join cost: messages,
//! bytes and virtual time.
//!
//! Compaction shows in each node's log: the slots a snapshot covers are one block, and
//! [`log_strip`] draws the whole log as one bar (snapshot, applied, decided, accepted,
//! missing), so a learner's log visibly fills up.

use crate::app::StateProps;
use crate::format::{bytes, catch_up_words, join_row, time};
use crate::state::{takes_snapshots, Action, Playground};
use synod_core::{
    CatchUpMethod, LogRun, Message, NodeId, NodeView, Protocol, Role, SlotState, CONFIG_DELAY,
};
use synod_sim::world::{Endpoint, Envelope, Payload};
use synod_sim::Simulation;
use yew::prelude::*;

/// Membership, the two ways to add a node, pending changes, the configuration history and
/// the cost of each join.
#[component]
pub(crate) fn MembershipPanel(props: &StateProps) -> Html {
    crate::perf::panels_rendered("membership");
    let p = &*props.state;
    let sim = p.sim();
    let d = &props.dispatch;
    let multi = p.setup.protocol == Protocol::MultiPaxos;
    let now = sim.now();
    let members = match sim.current_membership() {
        Some(m) if multi => format!("Members: {m}."),
        _ => "Members: every node (this strategy has no configuration to change).".to_owned(),
    };
    let policy = if !takes_snapshots(p.setup.protocol) {
        "This strategy takes no snapshots.".to_owned()
    } else if p.setup.snapshot_every == 0 {
        "Snapshots: only when you ask (select a node).".to_owned()
    } else {
        format!(
            "Snapshots: every {} applied slots, and when you ask.",
            p.setup.snapshot_every
        )
    };
    let pending: Vec<String> = sim.pending_admin().iter().map(|c| c.to_string()).collect();
    let derived = p.derived();
    let history = derived.configs.iter().enumerate().map(|(i, c)| {
        html! {
            <li key={c.slot} data-testid={format!("config-{i}")}>
                <span class="when">{ time(c.at) }</span>
                { format!(" {} — decided in slot {}, in force from slot {}", c.label(), c.slot, c.effective) }
            </li>
        }
    });
    let joins = sim.stats().joins.iter().map(|j| {
        let r = join_row(j, now);
        html! {
            <tr key={r.node.clone()} data-testid={format!("join-{}", r.node)} class={r.status.replace(' ', "-")}>
                <td>{ r.node.clone() }</td><td>{ r.method }</td><td>{ r.status }</td>
                <td>{ r.took }</td><td>{ r.voter_after }</td><td>{ r.messages }</td><td>{ r.bytes }</td>
            </tr>
        }
    });
    let add = |m: CatchUpMethod, label: &'static str| {
        html! {
            <button data-testid={format!("add-{}", m.name())} disabled={!multi}
                title={format!("The new node {}", catch_up_words(m))}
                onclick={d.reform(move |_| Action::AddNode(m))}>{ label }</button>
        }
    };
    html! {
        <div class="panel members" data-testid="members">
            <h2>{ "Membership" }</h2>
            <p data-testid="members-now">{ members }</p>
            <div class="row">
                { add(CatchUpMethod::Replay, "Add node: replay the log") }
                { add(CatchUpMethod::Snapshot, "Add node: snapshot, then the rest") }
            </div>
            if !multi {
                <p class="hint">{ "Adding and removing nodes needs Multi-Paxos: a configuration \
                                   change is decided through its log like any command." }</p>
            } else {
                <p class="hint">{ "A new node joins as a learner (it never counts toward a \
                                   quorum), catches up, and is then promoted to voter. Select a \
                                   node to remove it." }</p>
            }
            <p class="hint">{ policy }</p>
            if !pending.is_empty() {
                <p data-testid="members-pending">{ format!("Waiting: {}.", pending.join("; ")) }</p>
            }
            if let Some((at, why)) = derived.refusals.last() {
                <p class="refused" data-testid="members-refused">
                    { format!("Refused at {}: {why}", time(*at)) }</p>
            }
            if !derived.configs.is_empty() {
                <ol class="config-history" data-testid="config-history">{ for history }</ol>
            }
            if !sim.stats().joins.is_empty() {
                <table class="joins" data-testid="join-stats">
                    <tr><th>{ "node" }</th><th>{ "method" }</th><th>{ "status" }</th>
                        <th>{ "caught up in" }</th><th>{ "voter after" }</th><th>{ "messages" }</th>
                        <th>{ "bytes" }</th></tr>
                    { for joins }
                </table>
                <p class="hint">{ format!("Virtual time from the request to join; messages and bytes \
                    other nodes delivered to the learner until it was within {CONFIG_DELAY} slots \
                    (one configuration window) of the decided log and was put up for promotion.") }</p>
            }
        </div>
    }
}

/// The buttons for a selected node beyond crash and partition: pause, snapshot, remove, and
/// holding the links from it to each other node.
pub(crate) fn node_actions(
    p: &Playground,
    sim: &Simulation,
    n: NodeId,
    d: &Callback<Action>,
) -> Html {
    let up = sim.live_nodes().any(|(id, _)| id == n);
    let paused = sim.is_paused(n);
    let member = sim.current_membership().is_none_or(|m| m.contains(n));
    let holds = (0..sim.node_count()).map(NodeId).filter(|m| *m != n).map(|m| {
        let (from, to) = (Endpoint::Node(n), Endpoint::Node(m));
        let held = sim.held_links().any(|l| *l == (from, to));
        let action = if held { Action::Release { from, to } } else { Action::Hold { from, to } };
        html! {
            <button key={m.0} class={classes!("small", held.then_some("on"))}
                data-testid={format!("hold-{n}-{m}")}
                title={format!("{} the messages from {n} to {m}", if held { "Release" } else { "Hold" })}
                onclick={d.reform(move |_| action.clone())}>
                { if held { format!("release → {m}") } else { format!("→ {m}") } }
            </button>
        }
    });
    html! {
        <>
        if up {
            if paused {
                <button data-testid="resume" onclick={d.reform(move |_| Action::ResumeNode(n))}>
                    { format!("Resume {n}") }</button>
            } else {
                <button data-testid="pause" title="The node stops: messages to it wait, its clock stops"
                    onclick={d.reform(move |_| Action::PauseNode(n))}>{ format!("Pause {n}") }</button>
            }
            if takes_snapshots(p.setup.protocol) {
                <button data-testid="snapshot-now" onclick={d.reform(move |_| Action::SnapshotNow(n))}>
                    { format!("Snapshot {n} now") }</button>
            }
        }
        if p.setup.protocol == Protocol::MultiPaxos && member {
            <button data-testid="remove-node" onclick={d.reform(move |_| Action::RemoveNode(n))}>
                { format!("Remove {n} from the cluster") }</button>
        }
        if sim.node_count() > 1 {
            <div class="row holds"><span>{ format!("Hold messages {n} →") }</span>{ for holds }</div>
        }
        </>
    }
}

/// Holding or releasing the link a selected message travels on.
pub(crate) fn message_actions(sim: &Simulation, env: &Envelope, d: &Callback<Action>) -> Html {
    let (from, to) = (env.from, env.to);
    let held = sim.held_links().any(|l| *l == (from, to));
    if held {
        html! { <button data-testid="release-link" onclick={d.reform(move |_| Action::Release { from, to })}>
        { format!("Release the link {from} → {to}") }</button> }
    } else {
        html! { <button data-testid="hold-link" title="Every message on this link waits until released"
        onclick={d.reform(move |_| Action::Hold { from, to })}>
        { format!("Hold the link {from} → {to}") }</button> }
    }
}

/// The held links, each with its release button (for the network panel).
pub(crate) fn held_links(sim: &Simulation, d: &Callback<Action>) -> Html {
    let links: Vec<(Endpoint, Endpoint)> = sim.held_links().copied().collect();
    if links.is_empty() {
        return html! {};
    }
    let items = links.into_iter().map(|(from, to)| {
        html! {
            <span key={format!("{from}-{to}")} class="held-link">
                { format!("{from} → {to} ") }
                <button class="small" data-testid={format!("release-{from}-{to}")}
                    onclick={d.reform(move |_| Action::Release { from, to })}>{ "release" }</button>
            </span>
        }
    });
    html! { <div class="row" data-testid="held-links"><span>{ "Held:" }</span>{ for items }</div> }
}

/// The label drawn beside a catch-up message: a snapshot and the last slot it covers, or how
/// many decided entries a catch-up reply carries. Other messages go unlabelled.
pub fn message_label(payload: &Payload) -> Option<String> {
    match payload {
        Payload::Peer(Message::InstallSnapshot { snapshot }) => {
            Some(format!("snapshot 0–{}", snapshot.last.0))
        }
        Payload::Peer(Message::CatchUpReply { entries }) => match entries.len() {
            0 => None,
            1 => Some("1 entry".to_owned()),
            n => Some(format!("{n} entries")),
        },
        _ => None,
    }
}

/// The class a stretch of the log is drawn with.
pub fn state_class(state: SlotState) -> &'static str {
    match state {
        SlotState::Snapshot => "snapshot",
        SlotState::Applied => "applied",
        SlotState::Chosen => "chosen",
        SlotState::Accepted => "accepted",
        SlotState::Missing => "missing",
    }
}

/// A node's whole log ([`synod_core::Node::log_runs`]) stretched over slots `0..total`
/// (`total`: the longest log in the cluster), so that a learner's log visibly fills and a
/// snapshot shows as one block standing in for the compacted prefix.
pub fn log_strip(runs: &[LogRun], total: u64) -> Vec<LogRun> {
    let mut out = runs.to_vec();
    let end = out.last().map_or(0, |r| r.to);
    if total > end {
        match out.last_mut() {
            Some(last) if last.state == SlotState::Missing => last.to = total,
            _ => out.push(LogRun {
                from: end,
                to: total,
                state: SlotState::Missing,
            }),
        }
    }
    out
}

/// The number of slots the longest log in the cluster spans.
pub fn log_span(views: &[Option<NodeView>]) -> u64 {
    views
        .iter()
        .flatten()
        .map(|v| {
            let logged = v.log.last().map_or(0, |e| e.slot.0 + 1);
            let snap = v.snapshot_slot.map_or(0, |s| s + 1);
            v.decided_upto.max(logged).max(snap)
        })
        .max()
        .unwrap_or(0)
}

/// The strip of [`log_strip`], drawn.
pub(crate) fn log_strip_view(runs: &[LogRun], total: u64, name: &str) -> Html {
    let total = total.max(1);
    let segments = log_strip(runs, total);
    html! {
        <svg class="log-strip" data-testid={format!("strip-{name}")} viewBox={format!("0 0 {total} 1")}
            preserveAspectRatio="none" role="img"
            aria-label={format!("{name}'s log over {total} slots")}>
            { for segments.iter().map(|s| html! {
                <rect key={s.from} class={state_class(s.state)} x={s.from.to_string()} y="0"
                    width={(s.to - s.from).to_string()} height="1">
                    <title>{ format!("slots {}–{}: {}", s.from, s.to - 1, state_class(s.state)) }</title>
                </rect>
            }) }
        </svg>
    }
}

/// The log entry that stands in for the compacted prefix.
pub(crate) fn snapshot_item(v: &NodeView, name: &str) -> Html {
    let Some(last) = v.snapshot_slot else {
        return html! {};
    };
    html! {
        <li key="snapshot" class="slot snapshot" data-testid={format!("snapshot-{name}")}
            title={format!("slots 0 to {last} are compacted into a snapshot of the table, the \
                            de-duplication table and the configuration")}>
            <span class="slot-no">{ "0–" }{ last }</span>
            <span class="slot-cmd">{ format!("snapshot @slot {last} · {}", bytes(v.snapshot_bytes)) }</span>
        </li>
    }
}

/// A learner's or lagging node's progress toward the others.
pub(crate) fn catch_up_note(v: &NodeView, name: &str) -> Html {
    let badge = match v.role {
        Role::Learner => Some("learner: receives every decision, never counts toward a quorum"),
        Role::Removed => Some("removed from the cluster"),
        _ => None,
    };
    html! {
        <>
        if let Some(b) = badge {
            <p class={classes!("role-badge", v.role.to_string())} data-testid={format!("badge-{name}")}>{ b }</p>
        }
        if let Some(c) = v.catch_up {
            <p class="catching-up" data-testid={format!("catching-up-{name}")}>
                { format!("catching up: decided up to slot {} of {}", c.decided_upto, c.target) }</p>
        }
        </>
    }
}

/// Node glyph classes for membership roles.
pub(crate) fn role_class(role: &str) -> Option<&'static str> {
    match role {
        "learner" => Some("learner"),
        "removed" => Some("removed"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(slot: u64) -> synod_core::LogEntryView {
        synod_core::LogEntryView {
            slot: synod_core::Slot(slot),
            command: Some("x".into()),
            chosen: true,
            accepted_ballot: None,
            applied: true,
        }
    }

    fn view(snapshot: Option<u64>, log: Vec<synod_core::LogEntryView>) -> NodeView {
        let mut v = synod_core::Node::try_new(synod_core::NodeConfig::new(
            NodeId(0),
            vec![NodeId(0)],
            Protocol::MultiPaxos,
        ))
        .expect("a one-node cluster")
        .view();
        v.snapshot_slot = snapshot;
        v.log = log;
        v
    }

    fn run(from: u64, to: u64, state: SlotState) -> LogRun {
        LogRun { from, to, state }
    }

    #[test]
    fn the_strip_runs_on_to_the_longest_log_in_the_cluster() {
        let runs = [
            run(0, 10, SlotState::Snapshot),
            run(10, 12, SlotState::Applied),
            run(12, 13, SlotState::Chosen),
            run(13, 14, SlotState::Accepted),
        ];
        assert_eq!(
            log_strip(&runs, 20),
            vec![
                run(0, 10, SlotState::Snapshot),
                run(10, 12, SlotState::Applied),
                run(12, 13, SlotState::Chosen),
                run(13, 14, SlotState::Accepted),
                run(14, 20, SlotState::Missing),
            ]
        );
        // A log as long as the span, or longer, is drawn as it is.
        assert_eq!(log_strip(&runs, 14), runs.to_vec());
        assert_eq!(log_strip(&runs, 2), runs.to_vec());
    }

    #[test]
    fn a_new_learner_is_all_missing_and_fills_from_the_left() {
        assert_eq!(log_strip(&[], 30), vec![run(0, 30, SlotState::Missing)]);
        let half = [run(0, 15, SlotState::Applied)];
        assert_eq!(
            log_strip(&half, 30),
            vec![
                run(0, 15, SlotState::Applied),
                run(15, 30, SlotState::Missing)
            ]
        );
        // A hole at the end joins the missing tail.
        let holed = [run(0, 3, SlotState::Applied), run(3, 5, SlotState::Missing)];
        assert_eq!(
            log_strip(&holed, 9),
            vec![run(0, 3, SlotState::Applied), run(3, 9, SlotState::Missing)]
        );
    }

    #[test]
    fn catch_up_messages_say_what_they_carry_and_others_say_nothing() {
        use synod_core::{Slot, Value};
        let reply = |n: u64| {
            Payload::Peer(Message::CatchUpReply {
                entries: (0..n).map(|s| (Slot(s), Value::Noop)).collect(),
            })
        };
        assert_eq!(message_label(&reply(0)), None);
        assert_eq!(message_label(&reply(1)).as_deref(), Some("1 entry"));
        assert_eq!(message_label(&reply(12)).as_deref(), Some("12 entries"));
        let snapshot = Payload::Peer(Message::InstallSnapshot {
            snapshot: synod_core::Snapshot {
                last: Slot(41),
                store: synod_core::KvStore::default(),
                sessions: Vec::new(),
                writes: Vec::new(),
                configs: Vec::new(),
                digest: 0,
            },
        });
        assert_eq!(message_label(&snapshot).as_deref(), Some("snapshot 0–41"));
        let heartbeat = Payload::Peer(Message::Heartbeat {
            ballot: synod_core::Ballot::ZERO,
            decided_upto: Slot(3),
        });
        assert_eq!(message_label(&heartbeat), None);
    }

    #[test]
    fn the_span_is_the_longest_log_snapshot_or_decided_prefix() {
        let a = view(Some(40), vec![]);
        let b = view(None, (0..12).map(entry).collect());
        assert_eq!(log_span(&[Some(a.clone()), None, Some(b.clone())]), 41);
        assert_eq!(log_span(&[Some(b)]), 12);
        assert_eq!(log_span(&[None]), 0);
    }
}
