//! What the views read besides the simulation itself, kept up to date incrementally.
//!
//! The trace only grows, so [`Derived`] remembers how far it has read and scans only the new
//! records: faults and leader changes become [`Marker`]s on the timeline's time axis, and
//! `Applied` events tell which log slot served which command. The checker runs again only
//! when an operation settled (its outcome became known), which is what can change its
//! verdict.

use std::collections::BTreeMap;
use synod_check::Verdict;
use synod_core::{CommandId, Event, NodeId};
use synod_sim::history::check_history;
use synod_sim::{HistoryEntry, Intervention, Outcome, Simulation, Time, TraceKind};

/// The checker's search budget, in steps, per verdict.
pub const CHECK_BUDGET: u64 = 200_000;

/// The checker runs again at most this often (virtual time): it re-reads the whole history,
/// so running it on every completion would cost more than a frame can spare.
pub const CHECK_EVERY_US: u64 = 500_000;

/// Something drawn on the timeline's time axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub at: Time,
    pub kind: MarkerKind,
    pub label: String,
}

/// The kinds of marker, for styling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Crash,
    Restart,
    Partition,
    Heal,
    Leader,
    Network,
}

impl MarkerKind {
    pub fn class(self) -> &'static str {
        match self {
            MarkerKind::Crash => "crash",
            MarkerKind::Restart => "restart",
            MarkerKind::Partition => "partition",
            MarkerKind::Heal => "heal",
            MarkerKind::Leader => "leader",
            MarkerKind::Network => "network",
        }
    }
}

/// The checker's verdict, in terms of history entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckView {
    /// `None` before there is anything to check.
    pub verdict: Option<Verdict>,
    /// A linearization point for each operation that took effect, by history index.
    pub points: BTreeMap<usize, Time>,
    /// The operation that could not be placed (history index), when not linearizable.
    pub illegal: Option<usize>,
    /// Why, in plain language.
    pub explanation: String,
    pub steps: u64,
}

/// Incrementally derived data (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    scanned: usize,
    settled: usize,
    checked_at: Option<Time>,
    pub markers: Vec<Marker>,
    /// The log slot that served each command (first node to apply it).
    pub slot_of: BTreeMap<CommandId, u64>,
    pub check: CheckView,
}

impl Derived {
    /// Whether nothing new happened since the last update.
    pub fn is_current(&self, sim: &Simulation) -> bool {
        self.scanned == sim.trace().len() && self.settled == settled(sim.history())
    }

    /// Reads the new trace records and re-checks the history if an operation settled.
    pub fn update(&mut self, sim: &Simulation) {
        let trace = sim.trace();
        for r in &trace[self.scanned.min(trace.len())..] {
            self.scan(r.at, &r.kind);
        }
        self.scanned = trace.len();
        let settled = settled(sim.history());
        let due = self
            .checked_at
            .is_none_or(|t| sim.now().as_us() >= t.as_us() + CHECK_EVERY_US || sim.now() < t);
        if settled != self.settled && due {
            self.settled = settled;
            self.checked_at = Some(sim.now());
            self.check = check_view(sim.history());
        }
    }

    fn scan(&mut self, at: Time, kind: &TraceKind) {
        let marker = |kind, label: String| Marker { at, kind, label };
        let m = match kind {
            TraceKind::Crashed { node } => marker(MarkerKind::Crash, format!("{node} crashed")),
            TraceKind::Restarted { node } => {
                marker(MarkerKind::Restart, format!("{node} restarted"))
            }
            TraceKind::Node {
                node,
                event: Event::BecameLeader { ballot, .. },
            } => marker(
                MarkerKind::Leader,
                format!("{node} leads (ballot {ballot})"),
            ),
            TraceKind::Node {
                node,
                event: Event::Applied { slot, id },
            } => {
                self.slot_of.entry(*id).or_insert(slot.0);
                let _ = node;
                return;
            }
            TraceKind::Intervened { action } => match action {
                Intervention::Partition { groups } => {
                    marker(MarkerKind::Partition, partition_label(groups))
                }
                Intervention::Heal => marker(MarkerKind::Heal, "healed".into()),
                Intervention::SetNetwork { .. } => {
                    marker(MarkerKind::Network, "network changed".into())
                }
                _ => return,
            },
            _ => return,
        };
        self.markers.push(m);
    }
}

fn partition_label(groups: &[Vec<NodeId>]) -> String {
    let names: Vec<String> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    format!("partition {}", names.join(" | "))
}

/// How many operations have an outcome other than pending.
pub fn settled(history: &[HistoryEntry]) -> usize {
    history
        .iter()
        .filter(|e| !matches!(e.outcome, Outcome::Pending))
        .count()
}

/// Runs the checker and translates its answer to history indices and times.
pub fn check_view(history: &[HistoryEntry]) -> CheckView {
    if history.is_empty() {
        return CheckView::default();
    }
    let (result, index) = check_history(history, CHECK_BUDGET);
    let mut view = CheckView {
        verdict: Some(result.verdict),
        steps: result.steps,
        ..CheckView::default()
    };
    for p in &result.partitions {
        let mut last = Time::ZERO;
        for &op in &p.linearization {
            let Some(&h) = index.get(op as usize) else {
                continue;
            };
            let e = &history[h];
            let at = e.call.max(last);
            let at = e.ret.map_or(at, |r| at.min(r));
            last = at;
            view.points.insert(h, at);
        }
    }
    if let Some(f) = result.first_failure() {
        view.illegal = index.get(f.blocked as usize).copied();
        view.explanation = f.explanation.clone();
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{ClientId, KvOp, KvResult};

    fn op(client: u16, seq: u64, op: KvOp, call: u64, ret: u64, result: KvResult) -> HistoryEntry {
        HistoryEntry {
            client: ClientId(client),
            id: CommandId {
                client: ClientId(client),
                seq,
            },
            op,
            call: Time(call),
            ret: Some(Time(ret)),
            outcome: Outcome::Ok { result },
        }
    }

    fn set(v: &str) -> KvOp {
        KvOp::Set {
            key: "x".into(),
            value: v.into(),
        }
    }

    fn read(v: &str) -> KvResult {
        KvResult::Value {
            value: Some(v.into()),
        }
    }

    #[test]
    fn linearization_points_lie_inside_their_bars_in_order() {
        let h = vec![
            op(0, 1, set("1"), 0, 100, KvResult::Done),
            op(1, 1, KvOp::Get { key: "x".into() }, 50, 200, read("1")),
        ];
        let v = check_view(&h);
        assert_eq!(v.verdict, Some(Verdict::Linearizable));
        assert_eq!(v.points, BTreeMap::from([(0, Time(0)), (1, Time(50))]));
        assert!(v.illegal.is_none());
    }

    #[test]
    fn a_stale_read_is_named_and_explained() {
        let h = vec![
            op(0, 1, set("1"), 0, 100, KvResult::Done),
            op(0, 2, set("2"), 200, 300, KvResult::Done),
            op(1, 1, KvOp::Get { key: "x".into() }, 400, 500, read("1")),
        ];
        let v = check_view(&h);
        assert_eq!(v.verdict, Some(Verdict::NotLinearizable));
        assert_eq!(
            v.illegal,
            Some(2),
            "the stale read is the illegal operation"
        );
        assert!(!v.explanation.is_empty());
    }
}
