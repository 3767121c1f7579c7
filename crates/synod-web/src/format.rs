//! Words and labels for what the page shows.

use synod_core::{Ballot, CatchUpMethod, CommandId, Message, Value};
use synod_sim::world::{Endpoint, Payload};
use synod_sim::world::{JoinStats, TraceRecord};
use synod_sim::{HistoryEntry, Outcome, Simulation, Time, TraceKind};

/// The label of an operation on the timeline: `set(k1, v1) → ok`, `get(k1) → v1`,
/// `get(k1) …` while pending, `→ ?` when the outcome is unknown.
pub fn op_label(entry: &HistoryEntry) -> String {
    match &entry.outcome {
        Outcome::Pending => format!("{} …", entry.op),
        Outcome::Ok { result } => format!("{} → {result}", entry.op),
        Outcome::Failed { reason } => format!("{} → failed ({reason})", entry.op),
        Outcome::Unknown => format!("{} → ? (unknown)", entry.op),
    }
}

/// A short kind for styling: `pending`, `ok`, `failed`, `unknown`.
pub fn outcome_class(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pending => "pending",
        Outcome::Ok { .. } => "ok",
        Outcome::Failed { .. } => "failed",
        Outcome::Unknown => "unknown",
    }
}

/// Virtual time for people: `1.250 s` or `830 ms`.
pub fn time(t: Time) -> String {
    let us = t.as_us();
    if us >= 1_000_000 {
        format!("{}.{:03} s", us / 1_000_000, (us / 1000) % 1000)
    } else {
        format!("{} ms", us / 1000)
    }
}

/// The hue (degrees) that stands for a ballot: the same ballot always gets the same colour,
/// and consecutive rounds differ clearly.
pub fn ballot_hue(b: Ballot) -> u32 {
    ((b.round % 360) as u32)
        .wrapping_mul(67)
        .wrapping_add(u32::from(b.node.0) * 23)
        % 360
}

/// The client command a message is about, if any.
pub fn payload_command(p: &Payload) -> Option<CommandId> {
    match p {
        Payload::Request(r) => Some(r.command.id),
        Payload::Reply(r) => Some(r.id),
        Payload::Peer(m) => match m {
            Message::Replicate { command }
            | Message::Stamped { command, .. }
            | Message::Sequenced { command, .. } => Some(command.id),
            Message::Accept { value, .. } | Message::Decide { value, .. } => value_command(value),
            _ => None,
        },
    }
}

fn value_command(v: &Value) -> Option<CommandId> {
    v.command().map(|c| c.id)
}

/// The log slot a message is about, if any.
pub fn payload_slot(p: &Payload) -> Option<u64> {
    match p {
        Payload::Peer(m) => m.slot().map(|s| s.0),
        _ => None,
    }
}

/// One sentence for a message, from the sender's point of view.
pub fn message_sentence(from: Endpoint, to: Endpoint, p: &Payload) -> String {
    match (from, to, p) {
        (Endpoint::Node(a), Endpoint::Node(b), Payload::Peer(m)) => m.narrate(a, b),
        _ => format!("{from} → {to}: {p}"),
    }
}

/// A narration line: what happened, in plain language, and the command it concerns (so a
/// click can select the operation). `None` for records not worth a line (clock ticks).
pub fn narrate(sim: &Simulation, r: &TraceRecord) -> Option<(String, Option<CommandId>)> {
    let about = |msg| sim.message(msg).and_then(|m| payload_command(&m.payload));
    let line = match &r.kind {
        TraceKind::Tick => return None,
        TraceKind::Sent { msg, from, to } => {
            let text = sim.message(*msg).map_or_else(
                || format!("{from} sent a message to {to}"),
                |m| message_sentence(*from, *to, &m.payload),
            );
            (text, about(*msg))
        }
        TraceKind::Delivered { msg, from, to } => {
            let kind = sim.message(*msg).map_or("message", |m| m.payload.kind());
            (format!("{to} received the {kind} from {from}"), about(*msg))
        }
        TraceKind::Dropped { msg, from, to } => {
            let kind = sim.message(*msg).map_or("message", |m| m.payload.kind());
            (
                format!("the {kind} from {from} to {to} was lost"),
                about(*msg),
            )
        }
        TraceKind::Invoked { client, id } => {
            (format!("{client} invoked {}", op_of(sim, *id)), Some(*id))
        }
        TraceKind::Completed { client, id } => (
            format!("{client} learned the outcome of {}", op_of(sim, *id)),
            Some(*id),
        ),
        TraceKind::Retried {
            client,
            id,
            attempt,
        } => (
            format!("{client} timed out and sent {id} again (attempt {attempt})"),
            Some(*id),
        ),
        TraceKind::GaveUp { client, id } => (
            format!("{client} gave up on {id}: its outcome is unknown"),
            Some(*id),
        ),
        TraceKind::Node { node, event } => (format!("{node} {event}"), event_command(event)),
        TraceKind::Crashed { node } => {
            (format!("{node} crashed and lost its volatile state"), None)
        }
        TraceKind::Restarted { node } => (format!("{node} restarted from its durable state"), None),
        TraceKind::Intervened { action } => (format!("you: {}", intervention(action)), None),
        TraceKind::AdminAccepted { node, command } => (
            format!("{node}, the leader, took up the request to {command}"),
            None,
        ),
        TraceKind::AdminRefused { command, reason } => {
            (format!("the cluster refused to {command}: {reason}"), None)
        }
        // Kinds added to the simulator later are shown as they are, not hidden.
        #[allow(unreachable_patterns)]
        other => (format!("{other:?}"), None),
    };
    Some(line)
}

/// An intervention in words.
pub fn intervention(a: &synod_sim::Intervention) -> String {
    use synod_sim::Intervention as I;
    match a {
        I::Submit { client, node, op } => format!("{client} asks {node} to {op}"),
        I::Crash { node } => format!("crash {node}"),
        I::Restart { node } => format!("restart {node}"),
        I::Pause { node } => format!("pause {node}"),
        I::Resume { node } => format!("resume {node}"),
        I::Partition { groups } => format!("partition {groups:?}"),
        I::Cut { from, to } => format!("cut the link {from} → {to}"),
        I::Heal => "heal every link".to_owned(),
        I::Hold { from, to } => format!("hold the link {from} → {to}"),
        I::Release { from, to } => format!("release the link {from} → {to}"),
        I::DropMessage { msg } => format!("drop message {}", msg.0),
        I::DuplicateMessage { msg } => format!("duplicate message {}", msg.0),
        I::DelayMessage { msg, by_us } => format!("delay message {} by {} ms", msg.0, by_us / 1000),
        I::SetNetwork { network } => format!(
            "network: latency {}–{} ms, loss {}/{}, duplication {}/{}",
            network.latency_min_us / 1000,
            network.latency_max_us / 1000,
            network.loss.num,
            network.loss.den,
            network.duplicate.num,
            network.duplicate.den
        ),
        I::SetWorkload { on } => format!("automatic workload {}", if *on { "on" } else { "off" }),
        I::AddNode { catch_up } => format!("add a node that {}", catch_up_words(*catch_up)),
        I::RemoveNode { node } => format!("remove {node} from the cluster"),
        I::Snapshot { node } => format!("ask {node} for a snapshot now"),
    }
}

/// How a joining node catches up, as the story tells it.
pub fn catch_up_words(m: CatchUpMethod) -> &'static str {
    match m {
        CatchUpMethod::Replay => "replays the log from the first command",
        CatchUpMethod::Snapshot => "installs a snapshot, then replays the commands after it",
    }
}

/// A byte count for people: `830 B`, `12.4 KB`.
pub fn bytes(n: u64) -> String {
    if n < 1000 {
        format!("{n} B")
    } else if n < 1_000_000 {
        format!("{}.{} KB", n / 1000, (n % 1000) / 100)
    } else {
        format!("{}.{} MB", n / 1_000_000, (n % 1_000_000) / 100_000)
    }
}

/// What a join cost so far, as one row of the comparison table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRow {
    pub node: String,
    pub method: &'static str,
    /// `catching up`, `caught up`, or `voter`.
    pub status: &'static str,
    /// Virtual time from joining to catching up (so far, while still catching up).
    pub took: String,
    /// Virtual time from joining to becoming a voter, once it has.
    pub voter_after: String,
    pub messages: u64,
    pub bytes: String,
}

/// The comparison row of one join, at virtual time `now`.
pub fn join_row(j: &JoinStats, now: Time) -> JoinRow {
    let (status, took) = match j.catch_up_us() {
        Some(us) if j.promoted_at.is_some() => ("voter", time(Time(us))),
        Some(us) => ("caught up", time(Time(us))),
        None => (
            "catching up",
            format!(
                "{} so far",
                time(Time(now.as_us().saturating_sub(j.started_at.as_us())))
            ),
        ),
    };
    let voter_after = j.promoted_at.map_or_else(
        || "–".to_owned(),
        |t| time(Time(t.as_us().saturating_sub(j.started_at.as_us()))),
    );
    JoinRow {
        node: j.node.to_string(),
        method: j.method.name(),
        status,
        took,
        voter_after,
        messages: j.messages_in,
        bytes: bytes(j.bytes_in),
    }
}

fn op_of(sim: &Simulation, id: CommandId) -> String {
    sim.history()
        .iter()
        .rev()
        .find(|e| e.id == id)
        .map_or_else(|| id.to_string(), |e| format!("{id} {}", e.op))
}

fn event_command(e: &synod_core::Event) -> Option<CommandId> {
    use synod_core::Event as E;
    match e {
        E::Queued { id, .. }
        | E::Started { id }
        | E::Applied { id, .. }
        | E::Deduplicated { id }
        | E::Redirected { id, .. }
        | E::ReadLocally { id }
        | E::ReadReported { id, .. }
        | E::Replicated { id, .. }
        | E::Stamped { id, .. }
        | E::AppliedLate { id, .. }
        | E::Sequenced { id, .. } => Some(*id),
        E::Proposed { value, .. } | E::Accepted { value, .. } | E::Chosen { value, .. } => {
            value_command(value)
        }
        _ => None,
    }
}

/// A ratio with one decimal, or a dash when there is nothing to divide by.
pub fn per(n: u64, d: u64) -> String {
    if d == 0 {
        "–".to_owned()
    } else {
        format!("{:.1}", n as f64 / d as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{ClientId, CommandId, KvOp, KvResult};

    fn entry(op: KvOp, outcome: Outcome) -> HistoryEntry {
        HistoryEntry {
            client: ClientId(0),
            id: CommandId {
                client: ClientId(0),
                seq: 1,
            },
            op,
            call: Time(0),
            ret: None,
            outcome,
        }
    }

    #[test]
    fn labels_read_like_the_story() {
        let set = KvOp::Set {
            key: "k1".into(),
            value: "v1".into(),
        };
        let get = KvOp::Get { key: "k1".into() };
        assert_eq!(
            op_label(&entry(
                set.clone(),
                Outcome::Ok {
                    result: KvResult::Done
                }
            )),
            "set(k1, v1) → ok"
        );
        let v1 = KvResult::Value {
            value: Some("v1".into()),
        };
        assert_eq!(
            op_label(&entry(get.clone(), Outcome::Ok { result: v1 })),
            "get(k1) → v1"
        );
        assert_eq!(op_label(&entry(get.clone(), Outcome::Pending)), "get(k1) …");
        assert_eq!(
            op_label(&entry(get, Outcome::Unknown)),
            "get(k1) → ? (unknown)"
        );
    }

    #[test]
    fn ballots_keep_their_colour_and_rounds_differ() {
        use synod_core::NodeId;
        let b = |round, node| Ballot {
            round,
            node: NodeId(node),
        };
        assert_eq!(ballot_hue(b(3, 0)), ballot_hue(b(3, 0)));
        assert_ne!(ballot_hue(b(3, 0)), ballot_hue(b(4, 0)));
        assert_ne!(ballot_hue(b(3, 0)), ballot_hue(b(3, 1)));
        assert!(ballot_hue(b(9999, 7)) < 360);
    }

    #[test]
    fn ratios_have_one_decimal_and_a_dash_for_nothing() {
        assert_eq!(per(10, 4), "2.5");
        assert_eq!(per(3, 0), "–");
    }

    #[test]
    fn bytes_switch_units_at_a_thousand() {
        assert_eq!(bytes(830), "830 B");
        assert_eq!(bytes(12_480), "12.4 KB");
        assert_eq!(bytes(3_250_000), "3.2 MB");
    }

    #[test]
    fn a_join_row_says_how_far_the_join_got_and_what_it_cost() {
        use synod_core::NodeId;
        let mut j = JoinStats {
            node: NodeId(3),
            method: CatchUpMethod::Snapshot,
            started_at: Time(2_000_000),
            caught_up_at: None,
            promoted_at: None,
            messages_in: 3,
            bytes_in: 1_500,
        };
        let row = join_row(&j, Time(2_250_000));
        assert_eq!(
            (row.node.as_str(), row.method, row.status, row.took.as_str()),
            ("n4", "snapshot", "catching up", "250 ms so far")
        );
        assert_eq!((row.messages, row.bytes.as_str()), (3, "1.5 KB"));
        j.caught_up_at = Some(Time(2_400_000));
        assert_eq!(join_row(&j, Time(9_000_000)).status, "caught up");
        assert_eq!(join_row(&j, Time(9_000_000)).took, "400 ms");
        assert_eq!(join_row(&j, Time(9_000_000)).voter_after, "–");
        j.promoted_at = Some(Time(2_600_000));
        let row = join_row(&j, Time(9_000_000));
        assert_eq!((row.status, row.voter_after.as_str()), ("voter", "600 ms"));
    }

    #[test]
    fn times_switch_unit_at_one_second() {
        assert_eq!(time(Time(830_000)), "830 ms");
        assert_eq!(time(Time(1_250_000)), "1.250 s");
    }
}
