//! What the views read besides the simulation itself, kept up to date incrementally.
//!
//! The trace only grows, so [`Derived`] remembers how far it has read and scans only the new
//! records: faults and leader changes become [`Marker`]s on the timeline's time axis, and
//! `Applied` events tell which log slot served which command. The checker runs again only
//! when an operation settled (its outcome became known), which is what can change its
//! verdict: at once when the page stands still or the visitor acted, and while playing at
//! most every [`check_interval_us`], in a task of its own between frames (see
//! [`Derived::update`]).

use std::collections::BTreeMap;
use synod_check::Verdict;
use synod_core::{AdminCommand, CommandId, Event, Membership, NodeId};
use synod_sim::history::check_history;
use synod_sim::{HistoryEntry, Intervention, Outcome, Simulation, Time, TraceKind};

/// The checker's search budget, in steps, per verdict.
pub const CHECK_BUDGET: u64 = 200_000;

/// While playing, the checker runs again at most this often (virtual time), and less often
/// as the history grows (see [`check_interval_us`]): it re-reads the whole history, so
/// running it on every completion would take more of the time between frames than it can
/// spare.
pub const CHECK_EVERY_US: u64 = 500_000;

/// Settled operations per [`CHECK_EVERY_US`] of interval: a check costs in proportion to the
/// history (natively 3 ms at 2,600 operations, 12 ms at 13,000), so the interval grows with
/// it and the checker's share of the time stays flat instead of growing with the run.
pub const CHECK_OPS_PER_INTERVAL: usize = 2_000;

/// How long, in virtual time, the checker waits while playing before checking a history
/// of `settled` operations again.
pub fn check_interval_us(settled: usize) -> u64 {
    CHECK_EVERY_US * (settled / CHECK_OPS_PER_INTERVAL).max(1) as u64
}

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
    /// A configuration change was decided (the label names the new member set).
    Config,
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
            MarkerKind::Config => "config",
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
    /// A frame found the checker's interval passed: the check waits for its own task.
    due: bool,
    pub markers: Vec<Marker>,
    /// The log slot that served each command (first node to apply it).
    pub slot_of: BTreeMap<CommandId, u64>,
    pub check: CheckView,
    /// Every configuration change decided so far, in the order it was first decided.
    pub configs: Vec<ConfigChange>,
    /// Membership requests the cluster refused for good, with when.
    pub refusals: Vec<(Time, String)>,
}

/// A configuration change as the timeline draws it: decided in `slot` (first learned by
/// `node` at `at`), in force from slot `effective` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    pub at: Time,
    pub node: NodeId,
    pub slot: u64,
    pub effective: u64,
    pub change: Option<AdminCommand>,
    pub membership: Membership,
}

impl ConfigChange {
    /// What changed and the member set after it, short enough for the time axis:
    /// `n4 joins (replay) → n1 n2 n3 +n4`.
    pub fn label(&self) -> String {
        let what = match self.change {
            Some(AdminCommand::AddLearner { node, catch_up }) => {
                format!("{node} joins ({catch_up})")
            }
            Some(AdminCommand::Promote { node }) => format!("{node} votes"),
            Some(AdminCommand::Remove { node }) => format!("{node} leaves"),
            None => "reconfigured".to_owned(),
        };
        format!("{what} → {}", members_label(&self.membership))
    }
}

/// A member set in few characters: the voters, then each learner marked with `+`.
pub fn members_label(m: &Membership) -> String {
    m.voters
        .iter()
        .map(ToString::to_string)
        .chain(m.learner_ids().map(|n| format!("+{n}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One stretch of the timeline during which a member set was the newest decided one,
/// labelled with the change that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigBand {
    pub from: Time,
    pub to: Time,
    pub label: String,
    /// Its place in the configuration history (for alternating colours).
    pub index: usize,
}

/// The stretches of `[start, now]` covered by each decided configuration, oldest first.
/// The time before the first change belongs to the initial configuration, which the
/// timeline leaves blank.
pub fn config_bands(configs: &[ConfigChange], start: Time, now: Time) -> Vec<ConfigBand> {
    let mut bands = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let end = configs.get(i + 1).map_or(now, |next| next.at);
        if end < start || c.at > now {
            continue;
        }
        bands.push(ConfigBand {
            from: c.at.max(start),
            to: end.min(now),
            label: c.label(),
            index: i,
        });
    }
    bands
}

impl Derived {
    /// Whether nothing new happened since the last update.
    pub fn is_current(&self, sim: &Simulation) -> bool {
        self.scanned == sim.trace().len() && self.settled == settled(sim.history())
    }

    /// Reads the new trace records and re-checks the history if an operation settled: at
    /// once when `at_once` (the page is paused, or the visitor acted); else, once the
    /// interval since the last check has passed, the check falls due and waits for
    /// [`Self::run_due_check`] (the page runs it between frames, not in one).
    pub fn update(&mut self, sim: &Simulation, at_once: bool) {
        let trace = sim.trace();
        for r in &trace[self.scanned.min(trace.len())..] {
            self.scan(r.at, &r.kind);
        }
        self.scanned = trace.len();
        let settled = settled(sim.history());
        if settled == self.settled {
            return;
        }
        if at_once {
            self.check_now(sim, settled);
            return;
        }
        // Once due, a check stays due until it runs (the interval may have grown since).
        self.due |= self.checked_at.is_none_or(|t| {
            sim.now().as_us() >= t.as_us() + check_interval_us(settled) || sim.now() < t
        });
    }

    /// Whether an update left a check due.
    pub fn check_due(&self) -> bool {
        self.due
    }

    /// Runs the check an update left due, on the history as it is now. Returns whether it ran.
    pub fn run_due_check(&mut self, sim: &Simulation) -> bool {
        if !self.due {
            return false;
        }
        let settled = settled(sim.history());
        self.check_now(sim, settled);
        true
    }

    fn check_now(&mut self, sim: &Simulation, settled: usize) {
        self.due = false;
        self.settled = settled;
        self.checked_at = Some(sim.now());
        self.check = check_view(sim.history());
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
            TraceKind::Node {
                node,
                event:
                    Event::ConfigChangeDecided {
                        slot,
                        effective,
                        change,
                        membership,
                    },
            } => {
                // Every member learns the decision; the first to do so marks the moment.
                if self.configs.iter().any(|c| c.slot == slot.0) {
                    return;
                }
                let c = ConfigChange {
                    at,
                    node: *node,
                    slot: slot.0,
                    effective: effective.0,
                    change: *change,
                    membership: membership.clone(),
                };
                let m = marker(MarkerKind::Config, c.label());
                self.configs.push(c);
                m
            }
            TraceKind::AdminRefused { command, reason } => {
                self.refusals.push((at, format!("{command}: {reason}")));
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

    #[test]
    fn the_check_waits_longer_as_the_history_grows_and_not_at_all_when_asked() {
        assert_eq!(check_interval_us(0), CHECK_EVERY_US);
        assert_eq!(check_interval_us(3_999), CHECK_EVERY_US);
        assert_eq!(check_interval_us(13_000), 6 * CHECK_EVERY_US);
        let mut sim = Simulation::new(synod_sim::Scenario::busy_cluster(1)).expect("valid");
        let mut d = Derived::default();
        sim.run_until(Time(1_000_000));
        d.update(&sim, false);
        assert!(
            d.check_due() && !d.is_current(&sim),
            "while playing, the first check falls due and waits for its own task"
        );
        assert!(d.run_due_check(&sim));
        assert!(d.is_current(&sim) && !d.check_due());
        assert!(!d.run_due_check(&sim), "nothing due, nothing run");
        sim.run_until(Time(1_100_000));
        d.update(&sim, false);
        assert!(
            !d.is_current(&sim) && !d.check_due(),
            "while playing, the next waits its interval"
        );
        sim.run_until(Time(1_600_000));
        d.update(&sim, false);
        assert!(d.check_due(), "and falls due once it has passed");
        sim.run_until(Time(1_700_000));
        d.update(&sim, true);
        assert!(
            d.is_current(&sim) && !d.check_due(),
            "paused, or after an action, it runs at once"
        );
        assert_eq!(d.settled, settled(sim.history()));
    }

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

    fn decided(slot: u64, change: AdminCommand, voters: &[u8], learners: &[u8]) -> Event {
        let mut m = Membership::of(&voters.iter().map(|n| NodeId(*n)).collect::<Vec<_>>());
        m.learners = learners
            .iter()
            .map(|n| synod_core::Learner {
                node: NodeId(*n),
                catch_up: synod_core::CatchUpMethod::Snapshot,
            })
            .collect();
        Event::ConfigChangeDecided {
            slot: synod_core::Slot(slot),
            effective: synod_core::Slot(slot + 8),
            change: Some(change),
            membership: m,
        }
    }

    #[test]
    fn each_configuration_change_is_one_entry_and_one_marker_however_many_nodes_learn_it() {
        let mut d = Derived::default();
        let add = decided(
            12,
            AdminCommand::AddLearner {
                node: NodeId(3),
                catch_up: synod_core::CatchUpMethod::Snapshot,
            },
            &[0, 1, 2],
            &[3],
        );
        for (t, node) in [(100, 0), (140, 1), (150, 2)] {
            d.scan(
                Time(t),
                &TraceKind::Node {
                    node: NodeId(node),
                    event: add.clone(),
                },
            );
        }
        let promote = decided(
            20,
            AdminCommand::Promote { node: NodeId(3) },
            &[0, 1, 2, 3],
            &[],
        );
        d.scan(
            Time(300),
            &TraceKind::Node {
                node: NodeId(1),
                event: promote,
            },
        );
        let labels: Vec<String> = d.configs.iter().map(ConfigChange::label).collect();
        assert_eq!(
            labels,
            [
                "n4 joins (snapshot) → n1 n2 n3 +n4",
                "n4 votes → n1 n2 n3 n4"
            ]
        );
        assert_eq!((d.configs[0].at, d.configs[0].node), (Time(100), NodeId(0)));
        let markers: Vec<&Marker> = d
            .markers
            .iter()
            .filter(|m| m.kind == MarkerKind::Config)
            .collect();
        assert_eq!(markers.len(), 2);
        assert_eq!(markers[1].at, Time(300));
        d.scan(
            Time(400),
            &TraceKind::AdminRefused {
                command: AdminCommand::Remove { node: NodeId(0) },
                reason: "the last voter cannot leave".into(),
            },
        );
        assert_eq!(d.refusals.len(), 1);
        assert!(d.refusals[0].1.starts_with("remove n1: "));
    }

    #[test]
    fn configuration_bands_run_from_each_change_to_the_next_inside_the_window() {
        let mut d = Derived::default();
        let add = AdminCommand::AddLearner {
            node: NodeId(3),
            catch_up: synod_core::CatchUpMethod::Replay,
        };
        d.scan(
            Time(100),
            &TraceKind::Node {
                node: NodeId(0),
                event: decided(5, add, &[0, 1, 2], &[3]),
            },
        );
        let promote = AdminCommand::Promote { node: NodeId(3) };
        d.scan(
            Time(500),
            &TraceKind::Node {
                node: NodeId(0),
                event: decided(9, promote, &[0, 1, 2, 3], &[]),
            },
        );
        let bands = config_bands(&d.configs, Time(0), Time(1000));
        assert_eq!(bands.len(), 2);
        assert_eq!((bands[0].from, bands[0].to), (Time(100), Time(500)));
        assert_eq!((bands[1].from, bands[1].to), (Time(500), Time(1000)));
        assert_eq!(bands[1].label, "n4 votes → n1 n2 n3 n4");
        // A window that starts after the first change clips it, and one that ends before
        // the second leaves it out.
        let clipped = config_bands(&d.configs, Time(300), Time(400));
        assert_eq!(clipped.len(), 1);
        assert_eq!(
            (clipped[0].from, clipped[0].to, clipped[0].index),
            (Time(300), Time(400), 0)
        );
        assert!(config_bands(&[], Time(0), Time(10)).is_empty());
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
