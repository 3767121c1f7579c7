//! The reducer: the only code that changes the simulation.
//!
//! [`Playground`] holds the simulation and the page's own state (playing or paused, speed,
//! what the visitor typed). [`Action`] lists every change. `reduce` is pure with respect to the
//! outside world: the wall-clock time of a frame arrives inside [`Action::Frame`], read by the
//! one hook that owns the animation clock.

use std::rc::Rc;
use synod_core::{ClientId, KvOp, NodeId};
use synod_sim::{Intervention, Scenario, Simulation, Time};
use yew::Reducible;

/// The longest stretch of wall-clock time one frame may advance: after the tab was hidden,
/// the simulation resumes instead of jumping ahead.
pub const MAX_FRAME_MS: f64 = 100.0;

/// Playback speeds offered, in virtual microseconds per wall-clock millisecond.
pub const SPEEDS: [(u32, &str); 5] = [
    (25, "1/40×"),
    (100, "1/10×"),
    (250, "1/4×"),
    (500, "1/2×"),
    (1000, "1×"),
];

/// What the visitor typed for one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInput {
    pub key: String,
    pub value: String,
}

/// The four operations a visitor can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Get,
    Set,
    Contains,
    Remove,
}

impl OpKind {
    pub const ALL: [OpKind; 4] = [OpKind::Set, OpKind::Get, OpKind::Contains, OpKind::Remove];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Set => "set",
            OpKind::Contains => "contains",
            OpKind::Remove => "remove",
        }
    }

    /// The operation with the typed key and value.
    pub fn with(self, input: &ClientInput) -> KvOp {
        let key = input.key.trim().to_owned();
        match self {
            OpKind::Get => KvOp::Get { key },
            OpKind::Set => KvOp::Set {
                key,
                value: input.value.trim().to_owned(),
            },
            OpKind::Contains => KvOp::Contains { key },
            OpKind::Remove => KvOp::Remove { key },
        }
    }
}

/// Everything the page shows, and the simulation behind it.
#[derive(Clone, Debug)]
pub struct Playground {
    pub sim: Simulation,
    pub playing: bool,
    /// Virtual microseconds per wall-clock millisecond.
    pub speed: u32,
    last_frame_ms: Option<f64>,
    pub inputs: Vec<ClientInput>,
    /// A message for the visitor (why an action was refused), if any.
    pub notice: Option<String>,
    /// Bumped by every action that changed something: components compare it to decide
    /// whether to render again (the reducer handle always reads the latest state, so it
    /// cannot tell old from new by itself).
    pub revision: u64,
}

/// Every change the page can make.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The animation clock ticked at this wall-clock time (milliseconds).
    Frame {
        now_ms: f64,
    },
    Play,
    Pause,
    /// Process exactly one event.
    Step,
    SetSpeed(u32),
    EditKey {
        client: ClientId,
        text: String,
    },
    EditValue {
        client: ClientId,
        text: String,
    },
    /// A client invokes an operation built from what was typed for it.
    Submit {
        client: ClientId,
        op: OpKind,
    },
    DismissNotice,
}

impl Playground {
    /// The first page: one node, two clients, playing at a speed slow enough to watch.
    pub fn new() -> Playground {
        Playground::from_scenario(Scenario::single_node(1)).expect("the built-in scenario is valid")
    }

    /// A playground for any scenario.
    pub fn from_scenario(scenario: Scenario) -> Result<Playground, String> {
        let sim = Simulation::new(scenario).map_err(|e| e.to_string())?;
        let inputs = (1..=sim.client_count())
            .map(|i| ClientInput {
                key: "k1".into(),
                value: format!("v{i}"),
            })
            .collect();
        Ok(Playground {
            sim,
            playing: true,
            speed: 250,
            last_frame_ms: None,
            inputs,
            notice: None,
            revision: 0,
        })
    }

    /// Applies one action. Returns `false` when nothing changed (so the view can skip work).
    pub fn apply(&mut self, action: Action) -> bool {
        match action {
            Action::Frame { now_ms } => return self.frame(now_ms),
            Action::Play => {
                self.playing = true;
                self.last_frame_ms = None;
            }
            Action::Pause => self.playing = false,
            Action::Step => {
                self.playing = false;
                self.sim.step();
            }
            Action::SetSpeed(speed) => self.speed = speed.max(1),
            Action::EditKey { client, text } => {
                if let Some(i) = self.inputs.get_mut(client.index()) {
                    i.key = text;
                }
            }
            Action::EditValue { client, text } => {
                if let Some(i) = self.inputs.get_mut(client.index()) {
                    i.value = text;
                }
            }
            Action::Submit { client, op } => self.submit(client, op),
            Action::DismissNotice => self.notice = None,
        }
        true
    }

    fn frame(&mut self, now_ms: f64) -> bool {
        let last = self.last_frame_ms.replace(now_ms);
        if !self.playing {
            // Paused: the clock reading is discarded with this state, and Play starts afresh.
            return false;
        }
        let Some(last) = last else {
            // The first frame after start or Play only sets the clock; keep that state.
            return true;
        };
        let elapsed_ms = (now_ms - last).clamp(0.0, MAX_FRAME_MS);
        let advance_us = (elapsed_ms * f64::from(self.speed)).round() as u64;
        if advance_us == 0 {
            return false;
        }
        let target = self.sim.now().plus_us(advance_us);
        self.sim.run_until(target);
        true
    }

    fn submit(&mut self, client: ClientId, op: OpKind) {
        let Some(input) = self.inputs.get(client.index()) else {
            return;
        };
        if input.key.trim().is_empty() {
            self.notice = Some(format!("{client}: type a key first"));
            return;
        }
        let op = op.with(input);
        let node = NodeId(0);
        match self
            .sim
            .intervene(Intervention::Submit { client, node, op })
        {
            Ok(()) => self.notice = None,
            Err(e) => self.notice = Some(e.to_string()),
        }
    }

    /// The virtual time now.
    pub fn now(&self) -> Time {
        self.sim.now()
    }
}

impl Default for Playground {
    fn default() -> Self {
        Playground::new()
    }
}

impl Reducible for Playground {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        if next.apply(action) {
            next.revision += 1;
            Rc::new(next)
        } else {
            // Nothing changed: the same Rc tells Yew to skip the render.
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_sim::Outcome;

    #[test]
    fn frames_advance_virtual_time_by_speed_and_pause_stops_them() {
        let mut p = Playground::new();
        p.apply(Action::Frame { now_ms: 1000.0 });
        assert_eq!(p.now(), Time::ZERO, "the first frame only sets the clock");
        assert!(p.apply(Action::Frame { now_ms: 1016.0 }));
        assert_eq!(p.now(), Time(16 * 250));
        p.apply(Action::Pause);
        assert!(!p.apply(Action::Frame { now_ms: 1032.0 }));
        assert_eq!(p.now(), Time(16 * 250));
        p.apply(Action::Play);
        p.apply(Action::Frame { now_ms: 5000.0 });
        assert!(!p.apply(Action::Frame { now_ms: 5000.0 }));
        p.apply(Action::Frame { now_ms: 9000.0 });
        assert_eq!(
            p.now(),
            Time(16 * 250 + 100 * 250),
            "a long gap advances at most MAX_FRAME_MS"
        );
    }

    #[test]
    fn submit_uses_what_was_typed_and_completes_when_time_passes() {
        let mut p = Playground::new();
        p.apply(Action::EditKey {
            client: ClientId(0),
            text: " x ".into(),
        });
        p.apply(Action::EditValue {
            client: ClientId(0),
            text: "7".into(),
        });
        p.apply(Action::Submit {
            client: ClientId(0),
            op: OpKind::Set,
        });
        assert_eq!(
            p.sim.history()[0].op,
            KvOp::Set {
                key: "x".into(),
                value: "7".into()
            }
        );
        p.apply(Action::Frame { now_ms: 0.0 });
        for i in 1..=20 {
            p.apply(Action::Frame {
                now_ms: f64::from(i) * 100.0,
            });
        }
        assert!(matches!(p.sim.history()[0].outcome, Outcome::Ok { .. }));
    }

    #[test]
    fn refused_actions_leave_a_notice_and_change_nothing_else() {
        let mut p = Playground::new();
        p.apply(Action::Submit {
            client: ClientId(1),
            op: OpKind::Get,
        });
        p.apply(Action::Submit {
            client: ClientId(1),
            op: OpKind::Get,
        });
        assert_eq!(p.sim.history().len(), 1);
        assert_eq!(
            p.notice.as_deref(),
            Some("c2 is still waiting for its previous operation")
        );
        p.apply(Action::EditKey {
            client: ClientId(0),
            text: "  ".into(),
        });
        p.apply(Action::Submit {
            client: ClientId(0),
            op: OpKind::Get,
        });
        assert_eq!(p.notice.as_deref(), Some("c1: type a key first"));
        assert_eq!(p.sim.history().len(), 1);
    }

    #[test]
    fn step_processes_one_event_and_pauses() {
        let mut p = Playground::new();
        let before = p.sim.stats().events;
        p.apply(Action::Step);
        assert!(!p.playing);
        assert_eq!(p.sim.stats().events, before + 1);
    }
}
