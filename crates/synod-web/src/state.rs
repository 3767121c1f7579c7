//! The reducer: the only code that changes the simulation.
//!
//! [`Playground`] holds the simulation and the page's own state (playing or paused, speed,
//! what the visitor typed, what is selected). [`Action`] lists every change. `reduce` is pure
//! with respect to the outside world: the wall-clock time of a frame arrives inside
//! [`Action::Frame`], read by the one hook that owns the animation clock.
//!
//! ## Why the simulation sits behind a shared cell
//!
//! Yew's reducer hands `reduce` an `Rc<Self>` that is also held by every handle that rendered
//! it, so a textbook reducer clones the whole state on every action. The simulation keeps its
//! full trace, message archive and history (the page needs all three to scrub, narrate and
//! check), so that clone grows with the run and would blow the per-frame budget within a
//! minute. The simulation therefore lives in a [`SimCell`] (`Rc<RefCell<Simulation>>`) that
//! only `Playground::apply` borrows mutably; every other field is cheap to clone, and views
//! decide whether to render again by the `revision` counter, never by comparing states.
//!
//! ## Time travel
//!
//! The world at an earlier moment `t` is rebuilt by replaying the scenario (seed plus every
//! intervention so far) up to `t`: the simulator is deterministic, so that is exactly the past.
//! Playing on from there replays the recorded future. Acting at an earlier moment forks:
//! the scenario is cut at `t` ([`Scenario::truncated`]), replayed, and the new intervention
//! starts a different future.
//!
//! ## Share links
//!
//! A link is the same replay from another browser: [`Playground::share_state`] takes the
//! whole scenario (the recorded future included), the moment shown (with an event count
//! when the visitor stepped to a point between two events of one microsecond), playing or
//! paused, and the panels; [`Playground::from_share`] replays it to that moment, so the
//! trace hash is the sharer's. The recorded future stays ahead, as after a scrub.

use crate::derived::{CheckView, Derived};
use crate::share::{Page, Panel};
use serde::{Deserialize, Serialize};
use std::cell::{Ref, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use synod_core::{Bug, Bugs, CatchUpMethod, ClientId, KvOp, NodeId, Protocol, ReadMode};
use synod_sim::link::ShareState;
use synod_sim::rng::Ratio;
use synod_sim::scenario::NetworkConfig;
use synod_sim::world::Endpoint;
use synod_sim::{Intervention, MsgId, Outcome, Scenario, Simulation, Time};
use yew::Reducible;

/// The longest stretch of wall-clock time one frame may advance: after the tab was hidden,
/// the simulation resumes instead of jumping ahead.
pub const MAX_FRAME_MS: f64 = 100.0;

/// Playback speeds offered, in virtual microseconds per wall-clock millisecond.
pub const SPEEDS: [(u32, &str); 6] = [
    (10, "1/100×"),
    (25, "1/40×"),
    (100, "1/10×"),
    (250, "1/4×"),
    (500, "1/2×"),
    (1000, "1×"),
];

/// The speed the page opens at: slow enough to follow a message across a link.
pub const DEFAULT_SPEED: u32 = 100;

/// How many events "step to the next completion" may process before giving up.
const MAX_STEPS_TO_COMPLETION: u32 = 200_000;

/// The latest virtual moment a share link may open at. Opening replays the scenario from
/// zero to there before the page shows anything, so a link (or a `t` parameter) asking for
/// hours of virtual time is refused with a reason rather than freezing the page.
pub const MAX_OPEN_US: u64 = 15 * 60 * 1_000_000;

/// The extra delay a visitor adds to one message.
pub const DELAY_US: u64 = 200_000;

/// The simulation and what is derived from its trace, shared between the reducer's
/// successive states (see the module docs).
#[derive(Clone, Debug)]
pub struct SimCell(Rc<RefCell<World>>);

/// What the cell holds.
#[derive(Debug)]
pub struct World {
    pub sim: Simulation,
    /// Faults and leader changes on the time axis, which slot served which command, and the
    /// checker's verdict; only ever appended to or recomputed from `sim`.
    pub derived: Derived,
    /// Every node's picture at the current moment, taken once per change rather than once
    /// per component that draws it, with the last [`LOG_SLOTS`] slots of each log: a whole
    /// log's picture formats every command in it, and at a minute of a busy cluster that
    /// alone took longer than a frame. The replicas' strips read the whole log's runs
    /// instead ([`Simulation::log_runs`]).
    pub views: Vec<Option<synod_core::NodeView>>,
}

/// How many log slots each replica's card shows (the latest ones), and so how many each
/// node's picture holds.
pub const LOG_SLOTS: usize = 12;

impl SimCell {
    fn new(sim: Simulation) -> SimCell {
        let views = sim.node_views_recent(LOG_SLOTS);
        SimCell(Rc::new(RefCell::new(World {
            sim,
            derived: Derived::default(),
            views,
        })))
    }

    fn sim_mut(&self) -> std::cell::RefMut<'_, Simulation> {
        std::cell::RefMut::map(self.0.borrow_mut(), |w| &mut w.sim)
    }
}

/// What the visitor chose to run: the strategy, read mode, sizes and an optional
/// deliberately broken variant. Plain data, so a share link can carry it later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    pub protocol: Protocol,
    pub read_mode: ReadMode,
    pub nodes: u8,
    pub clients: u16,
    pub bug: Option<Bug>,
    pub seed: u64,
    /// Every node snapshots and compacts its log every this many applied slots (0: only
    /// when told to). Only the Paxos strategies take snapshots.
    #[serde(default)]
    pub snapshot_every: u64,
}

impl Default for Setup {
    /// The first impression: three Multi-Paxos nodes, three clients.
    fn default() -> Self {
        Setup {
            protocol: Protocol::MultiPaxos,
            read_mode: ReadMode::Log,
            nodes: 3,
            clients: 3,
            bug: None,
            seed: 1,
            snapshot_every: 0,
        }
    }
}

impl Setup {
    /// The scenario this setup describes, with a slow automatic workload.
    pub fn scenario(&self) -> Scenario {
        let nodes = if self.protocol == Protocol::SingleNode {
            1
        } else {
            self.nodes.max(1)
        };
        let mut s = Scenario::cluster(self.seed, nodes, self.protocol, self.clients.max(1));
        s.cluster.read_mode = self.read_mode;
        s.cluster.bugs = self.bug.map_or_else(Bugs::none, Bugs::only);
        if takes_snapshots(self.protocol) {
            s.cluster.snapshot_every = self.snapshot_every;
        }
        if let Some(w) = s.clients.workload.as_mut() {
            w.think_min_us = 600_000;
            w.think_max_us = 1_600_000;
        }
        s
    }

    /// The setup a scenario was made from, as near as the setup bar can show it (the
    /// scenario itself, not this, is what runs).
    pub fn of_scenario(s: &Scenario) -> Setup {
        Setup {
            protocol: s.cluster.protocol,
            read_mode: s.cluster.read_mode,
            nodes: s.cluster.nodes,
            clients: s.clients.count,
            bug: s.cluster.bugs.iter().next(),
            seed: s.seed,
            snapshot_every: s.cluster.snapshot_every,
        }
    }

    /// One sentence on what the chosen combination guarantees.
    pub fn guarantee(&self) -> String {
        let mut text = self.protocol.guarantee().to_owned();
        if self.protocol != Protocol::SingleNode && !self.read_mode.is_safe() {
            text.push_str(
                " Local reads are answered from one replica's table at once: fast, and \
                 not linearizable, because that table may lag behind acknowledged writes.",
            );
        }
        if let Some(bug) = self.bug {
            text.push_str(&format!(" Broken on purpose: {}", bug.describe()));
        }
        text
    }
}

/// Page state that is not the simulation: plain data, so a share link can carry it later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewState {
    pub playing: bool,
    /// Virtual microseconds per wall-clock millisecond.
    pub speed: u32,
    /// Only narration lines containing this text are shown.
    pub filter: String,
    pub help: bool,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            playing: true,
            speed: DEFAULT_SPEED,
            filter: String::new(),
            help: false,
        }
    }
}

/// What the visitor typed for one client, and which node it sends to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInput {
    pub key: String,
    pub value: String,
    pub target: NodeId,
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

/// What the visitor selected; the views highlight what is related to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// An operation, by its index in the history.
    Op(usize),
    Message(MsgId),
    Node(NodeId),
    /// A log slot (its number).
    Slot(u64),
}

/// Everything the page shows, and the simulation behind it.
#[derive(Clone, Debug)]
pub struct Playground {
    sim: SimCell,
    pub setup: Setup,
    pub view: ViewState,
    /// The furthest moment this run has reached; the scrubber goes from zero to here.
    pub horizon: Time,
    last_frame_ms: Option<f64>,
    pub inputs: Vec<ClientInput>,
    pub network: NetworkConfig,
    pub workload_on: bool,
    pub selection: Option<Selection>,
    /// Nodes picked for one side of a partition.
    pub picked: BTreeSet<NodeId>,
    /// A message for the visitor (why an action was refused, or what just happened).
    pub notice: Option<String>,
    /// How many times the future was forked.
    pub forks: u32,
    /// Bumped by every action that changed something: components compare it to decide
    /// whether to render again (the reducer handle always reads the latest state, so it
    /// cannot tell old from new by itself).
    pub revision: u64,
    /// The revision of the last change that was not a frame (the visitor's actions): every
    /// side panel shows it at once (see [`Playground::panel_revision`]).
    pub action_revision: u64,
    /// How the page is framed: panels shown, chrome, read-only, theme, the link banner.
    pub page: Page,
}

/// While playing, each side panel renders again every this many changed frames (five times
/// a second at 60 frames a second).
pub const PANEL_EVERY_FRAMES: u64 = 12;

/// The frame, among each [`PANEL_EVERY_FRAMES`], on which a side panel renders while playing.
/// The panels take turns on the odd frames and the replicas' cards on the even ones (see
/// [`Playground::replica_card_revision`]), so that a frame renders at most one of them (the
/// network's and the membership's panels, both light, share theirs): no frame pays for two.
/// With six frames to a turn each frame had a card and a panel, and the frames that drew a
/// card with the client forms or the statistics were the slowest of the run.
pub fn panel_phase(panel: Panel) -> u64 {
    match panel {
        Panel::Replicas | Panel::Cluster | Panel::Timeline => 0,
        Panel::Clients => 1,
        Panel::Narration => 3,
        Panel::Stats => 5,
        Panel::Network | Panel::Membership => 7,
        Panel::Selection => 9,
    }
}

/// Every change the page can make.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The animation clock ticked at this wall-clock time (milliseconds).
    Frame {
        now_ms: f64,
    },
    /// Run the checker, if a frame left it due (see [`Playground::check_due`]): the page
    /// sends this from a task of its own after the frame, so that the frames stay light.
    Check,
    Play,
    Pause,
    TogglePlay,
    /// Process exactly one event.
    Step,
    /// Run until some operation completes (or is given up).
    StepToCompletion,
    SetSpeed(u32),
    /// Faster or slower by one notch.
    Faster,
    Slower,
    /// Show the world at this virtual time (microseconds), at or before the horizon.
    Scrub(u64),
    /// Move the moment shown by this many microseconds (back when negative).
    ScrubBy(i64),
    /// Close the help, or else clear the selection.
    Escape,
    Crash(NodeId),
    Restart(NodeId),
    /// Put a node in the partition group, or take it out.
    Pick(NodeId),
    /// Cut the picked nodes off from the others.
    Partition,
    Heal,
    DropMessage(MsgId),
    DuplicateMessage(MsgId),
    DelayMessage(MsgId),
    /// Loss and duplication probabilities, per mille.
    SetLoss(u32),
    SetDuplicate(u32),
    /// The longest one-way latency, in milliseconds.
    SetLatency(u64),
    SetWorkload(bool),
    /// Start again with a different setup.
    Configure(Setup),
    EditKey {
        client: ClientId,
        text: String,
    },
    EditValue {
        client: ClientId,
        text: String,
    },
    SetTarget {
        client: ClientId,
        node: NodeId,
    },
    /// A client invokes an operation built from what was typed for it.
    Submit {
        client: ClientId,
        op: OpKind,
    },
    /// A new node joins as a learner, catches up by this method and is promoted to voter.
    AddNode(CatchUpMethod),
    /// A node leaves the cluster through a configuration change decided in the log.
    RemoveNode(NodeId),
    /// A node snapshots its state now and compacts its log below the snapshot.
    SnapshotNow(NodeId),
    /// A node stops processing (messages to it wait), or carries on.
    PauseNode(NodeId),
    ResumeNode(NodeId),
    /// Messages on the one-way link wait in flight until the link is released.
    Hold {
        from: Endpoint,
        to: Endpoint,
    },
    Release {
        from: Endpoint,
        to: Endpoint,
    },
    Select(Option<Selection>),
    SetFilter(String),
    ToggleHelp,
    DismissNotice,
    /// Replay a share link's scenario to its position, with its view.
    Open(Box<ShareState>),
    /// Start again from a scenario (a scenario file), keeping the page's framing.
    LoadScenario(Box<Scenario>),
    /// Show or hide a panel.
    TogglePanel(Panel),
    /// Show this in the banner (a link that could not be opened).
    Banner(String),
    DismissBanner,
}

impl Action {
    /// Whether the action changes the scenario (an intervention or a new setup): what a
    /// read-only page refuses. Every variant is listed, so a new one must be classified.
    pub fn changes_scenario(&self) -> bool {
        match self {
            Action::Crash(_)
            | Action::Restart(_)
            | Action::Partition
            | Action::Heal
            | Action::DropMessage(_)
            | Action::DuplicateMessage(_)
            | Action::DelayMessage(_)
            | Action::SetLoss(_)
            | Action::SetDuplicate(_)
            | Action::SetLatency(_)
            | Action::SetWorkload(_)
            | Action::Configure(_)
            | Action::Submit { .. }
            | Action::AddNode(_)
            | Action::RemoveNode(_)
            | Action::SnapshotNow(_)
            | Action::PauseNode(_)
            | Action::ResumeNode(_)
            | Action::Hold { .. }
            | Action::Release { .. }
            | Action::LoadScenario(_) => true,
            Action::Frame { .. }
            | Action::Check
            | Action::Play
            | Action::Pause
            | Action::TogglePlay
            | Action::Step
            | Action::StepToCompletion
            | Action::SetSpeed(_)
            | Action::Faster
            | Action::Slower
            | Action::Scrub(_)
            | Action::ScrubBy(_)
            | Action::Escape
            | Action::Pick(_)
            | Action::EditKey { .. }
            | Action::EditValue { .. }
            | Action::SetTarget { .. }
            | Action::Select(_)
            | Action::SetFilter(_)
            | Action::ToggleHelp
            | Action::DismissNotice
            | Action::Open(_)
            | Action::TogglePanel(_)
            | Action::Banner(_)
            | Action::DismissBanner => false,
        }
    }
}

impl Playground {
    /// The first page: three Multi-Paxos nodes and three clients with a slow workload.
    pub fn new() -> Playground {
        Playground::with_setup(Setup::default()).expect("the built-in setup is valid")
    }

    /// A playground for a setup.
    pub fn with_setup(setup: Setup) -> Result<Playground, String> {
        let scenario = setup.scenario();
        Playground::with_scenario(setup, scenario)
    }

    /// A playground running `scenario` (interventions included: they are replayed as time
    /// reaches them), shown in the setup bar as `setup`.
    fn with_scenario(setup: Setup, scenario: Scenario) -> Result<Playground, String> {
        let sim = Simulation::new(scenario.clone()).map_err(|e| e.to_string())?;
        let nodes = sim.node_count();
        let inputs = (0..sim.client_count())
            .map(|i| ClientInput {
                key: "k1".into(),
                value: format!("v{}", i + 1),
                target: NodeId((i % u16::from(nodes)) as u8),
            })
            .collect();
        let mut p = Playground {
            sim: SimCell::new(sim),
            setup,
            view: ViewState::default(),
            horizon: Time::ZERO,
            last_frame_ms: None,
            inputs,
            network: scenario.network.clone(),
            workload_on: scenario.clients.workload.is_some(),
            selection: None,
            picked: BTreeSet::new(),
            notice: None,
            forks: 0,
            revision: 0,
            action_revision: 0,
            page: Page::default(),
        };
        p.refresh(true);
        Ok(p)
    }

    /// The world a share link describes: its scenario replayed from zero to the link's
    /// position, so the state (trace hash included) is the sharer's, with the recorded
    /// future still ahead; playing or paused, and framed, as the link says.
    pub fn from_share(share: &ShareState) -> Result<Playground, String> {
        if share.start_position_us() > MAX_OPEN_US {
            return Err(format!(
                "it opens at {} of virtual time, and the page replays at most {} when it \
                 opens a link",
                crate::format::time(Time(share.start_position_us())),
                crate::format::time(Time(MAX_OPEN_US))
            ));
        }
        let scenario = share.scenario.clone();
        let last = scenario.interventions.last().map_or(Time::ZERO, |t| t.at);
        let mut p = Playground::with_scenario(Setup::of_scenario(&scenario), scenario)?;
        let at = Time(share.start_position_us());
        match share.view.position_events {
            Some(events) if share.view.embed.start_at_us.is_none() => {
                p.sim.sim_mut().replay_to(at, events)
            }
            _ => p.sim.sim_mut().run_until(at),
        }
        p.horizon = at.max(last);
        p.view.playing = share.starts_playing();
        p.page = Page::from_view(&share.view);
        p.restore_controls();
        p.refresh(true);
        Ok(p)
    }

    /// The page as the URL asks for it: the link's world, or the default one (with the
    /// query's settings) when there is no link or a bad one, whose message is the banner.
    pub fn from_opening(o: &crate::share::Opening) -> Playground {
        let share = ShareState {
            view: o.view.clone(),
            ..o.share
                .clone()
                .unwrap_or_else(|| ShareState::new(Setup::default().scenario()))
        };
        let mut p = Playground::from_share(&share).unwrap_or_else(|e| {
            let mut p = Playground::new();
            p.page.banner = Some(format!("This scenario could not be opened: {e}"));
            p
        });
        if let Some(b) = o.page().banner {
            p.page.banner = Some(b);
        }
        p
    }

    /// What a share link of this moment carries: the whole scenario (the recorded future
    /// included), the moment shown, whether it plays, and the panels shown.
    pub fn share_state(&self) -> ShareState {
        ShareState {
            scenario: self.sim().scenario().clone(),
            view: synod_sim::link::ViewState {
                position_us: Some(self.now().as_us()),
                position_events: self.sim().mid_moment().then(|| self.sim().stats().events),
                panels: self.page.panels.names(),
                playing: self.view.playing,
                embed: synod_sim::link::EmbedOptions::default(),
            },
        }
    }

    /// The simulation, to read.
    pub fn sim(&self) -> Ref<'_, Simulation> {
        Ref::map(self.sim.0.borrow(), |w| &w.sim)
    }

    /// Every node's picture now (`None` for a crashed node).
    pub fn views(&self) -> Ref<'_, [Option<synod_core::NodeView>]> {
        Ref::map(self.sim.0.borrow(), |w| w.views.as_slice())
    }

    /// What the views read besides the simulation: faults and leader changes on the time
    /// axis, the slot that served each command, and the checker's verdict.
    pub fn derived(&self) -> Ref<'_, Derived> {
        Ref::map(self.sim.0.borrow(), |w| &w.derived)
    }

    /// The virtual time now.
    pub fn now(&self) -> Time {
        self.sim().now()
    }

    /// Whether the view is at an earlier moment than the furthest one reached.
    pub fn in_the_past(&self) -> bool {
        self.now() < self.horizon
    }

    /// The revision side panel `panel` renders: the visitor's last action at once, and while
    /// playing the latest frame of the panel's turn (every [`PANEL_EVERY_FRAMES`] frames, at
    /// its [`panel_phase`]), so that only the moving pictures (cluster, timeline, clock) pay
    /// for every frame.
    pub fn panel_revision(&self, panel: Panel) -> u64 {
        self.turn_revision(panel_phase(panel))
    }

    /// The revision replica `index`'s card renders: the replicas panel spreads its cards
    /// over the turns, each card being as costly as a small panel, so that no frame redraws
    /// every replica's log and table. The cards take the even frames of a turn, clear of the
    /// side panels' (see [`panel_phase`]); a seventh takes the one frame left.
    pub fn replica_card_revision(&self, index: usize) -> u64 {
        const CARD_PHASES: [u64; 7] = [0, 2, 4, 6, 8, 10, 11];
        self.turn_revision(CARD_PHASES[index % CARD_PHASES.len()])
    }

    /// The latest revision at `phase` of the turns, or the visitor's last action if later.
    fn turn_revision(&self, phase: u64) -> u64 {
        let due = self
            .revision
            .saturating_sub((self.revision + phase) % PANEL_EVERY_FRAMES);
        due.max(self.action_revision)
    }

    /// The checker's view of the history so far.
    pub fn check(&self) -> Ref<'_, CheckView> {
        Ref::map(self.derived(), |d| &d.check)
    }

    /// Applies one action. Returns `false` when nothing changed (so the view can skip work).
    pub fn apply(&mut self, action: Action) -> bool {
        if self.page.read_only && action.changes_scenario() {
            self.notice =
                Some("This view is read-only: it can be played and scrubbed, not changed.".into());
            self.refresh(true);
            return true;
        }
        match action {
            Action::Frame { now_ms } => return self.frame(now_ms),
            Action::Check => return self.run_due_check(),
            Action::Play => self.play(),
            Action::Pause => self.view.playing = false,
            Action::TogglePlay => {
                if self.view.playing {
                    self.view.playing = false;
                } else {
                    self.play();
                }
            }
            Action::Step => {
                self.view.playing = false;
                self.sim.sim_mut().step();
            }
            Action::StepToCompletion => self.step_to_completion(),
            Action::SetSpeed(speed) => self.view.speed = speed.max(1),
            Action::Faster => self.view.speed = notch(self.view.speed, 1),
            Action::Slower => self.view.speed = notch(self.view.speed, -1),
            Action::Scrub(us) => self.scrub(Time(us)),
            Action::ScrubBy(by) => {
                let t = self.now().as_us().saturating_add_signed(by);
                self.scrub(Time(t));
            }
            Action::Escape => {
                if self.view.help {
                    self.view.help = false;
                } else {
                    self.selection = None;
                }
            }
            Action::Crash(node) => self.act(Intervention::Crash { node }),
            Action::Restart(node) => self.act(Intervention::Restart { node }),
            Action::Pick(node) => {
                if !self.picked.remove(&node) {
                    self.picked.insert(node);
                }
            }
            Action::Partition => self.partition(),
            Action::Heal => {
                self.act(Intervention::Heal);
                self.picked.clear();
            }
            Action::DropMessage(msg) => self.act(Intervention::DropMessage { msg }),
            Action::DuplicateMessage(msg) => self.act(Intervention::DuplicateMessage { msg }),
            Action::DelayMessage(msg) => self.act(Intervention::DelayMessage {
                msg,
                by_us: DELAY_US,
            }),
            Action::SetLoss(pm) => {
                let mut n = self.network.clone();
                n.loss = Ratio::per_mille(pm.min(1000));
                self.set_network(n);
            }
            Action::SetDuplicate(pm) => {
                let mut n = self.network.clone();
                n.duplicate = Ratio::per_mille(pm.min(1000));
                self.set_network(n);
            }
            Action::SetLatency(ms) => {
                let mut n = self.network.clone();
                let max_us = ms.clamp(1, 5_000) * 1000;
                n.latency_max_us = max_us;
                n.latency_min_us = max_us / 3;
                self.set_network(n);
            }
            Action::SetWorkload(on) => {
                self.act(Intervention::SetWorkload { on });
            }
            Action::Configure(setup) => self.configure(setup),
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
            Action::SetTarget { client, node } => {
                if let Some(i) = self.inputs.get_mut(client.index()) {
                    i.target = node;
                }
            }
            Action::Submit { client, op } => self.submit(client, op),
            Action::AddNode(catch_up) => self.act_checked(Intervention::AddNode { catch_up }),
            Action::RemoveNode(node) => self.act_checked(Intervention::RemoveNode { node }),
            Action::SnapshotNow(node) => self.snapshot_now(node),
            Action::PauseNode(node) => self.act_checked(Intervention::Pause { node }),
            Action::ResumeNode(node) => self.act_checked(Intervention::Resume { node }),
            Action::Hold { from, to } => self.act_checked(Intervention::Hold { from, to }),
            Action::Release { from, to } => self.act_checked(Intervention::Release { from, to }),
            Action::Select(s) => self.selection = s,
            Action::SetFilter(f) => self.view.filter = f,
            Action::ToggleHelp => self.view.help = !self.view.help,
            Action::DismissNotice => self.notice = None,
            Action::Open(share) => self.open(&share, None),
            Action::LoadScenario(scenario) => {
                let page = Page {
                    banner: None,
                    ..self.page.clone()
                };
                self.open(&ShareState::new(*scenario), Some(page));
                self.view.playing = true;
            }
            Action::TogglePanel(panel) => {
                let on = !self.page.panels.has(panel);
                self.page.panels = self.page.panels.with(panel, on);
            }
            Action::Banner(text) => self.page.banner = Some(text),
            Action::DismissBanner => self.page.banner = None,
        }
        self.refresh(true);
        true
    }

    fn play(&mut self) {
        self.view.playing = true;
        self.last_frame_ms = None;
    }

    fn frame(&mut self, now_ms: f64) -> bool {
        let last = self.last_frame_ms.replace(now_ms);
        if !self.view.playing {
            // Paused: the clock reading is discarded with this state, and Play starts afresh.
            return false;
        }
        let Some(last) = last else {
            // The first frame after start or Play only sets the clock; keep that state.
            return true;
        };
        let elapsed_ms = (now_ms - last).clamp(0.0, MAX_FRAME_MS);
        let advance_us = (elapsed_ms * f64::from(self.view.speed)).round() as u64;
        if advance_us == 0 {
            return false;
        }
        {
            let mut sim = self.sim.sim_mut();
            let target = sim.now().plus_us(advance_us);
            sim.run_until(target);
        }
        self.refresh(false);
        true
    }

    /// Brings the horizon and the derived views up to date with the simulation. `acted`: the
    /// visitor did something (not a frame of play), so the checker runs at once.
    fn refresh(&mut self, acted: bool) {
        let mut world = self.sim.0.borrow_mut();
        let w = &mut *world;
        self.horizon = self.horizon.max(w.sim.now());
        if !w.derived.is_current(&w.sim) {
            w.derived.update(&w.sim, acted || !self.view.playing);
        }
        w.views = w.sim.node_views_recent(LOG_SLOTS);
    }

    /// Whether a frame left the checker due: while playing, frames only read the new trace,
    /// and the checker, which re-reads the whole history, runs on [`Action::Check`].
    pub fn check_due(&self) -> bool {
        self.sim.0.borrow().derived.check_due()
    }

    fn run_due_check(&mut self) -> bool {
        let mut world = self.sim.0.borrow_mut();
        let w = &mut *world;
        w.derived.run_due_check(&w.sim)
    }

    fn step_to_completion(&mut self) {
        self.view.playing = false;
        let mut sim = self.sim.sim_mut();
        let settled = |s: &Simulation| {
            s.history()
                .iter()
                .filter(|e| !matches!(e.outcome, Outcome::Pending))
                .count()
        };
        let before = settled(&sim);
        for _ in 0..MAX_STEPS_TO_COMPLETION {
            if !sim.step() || settled(&sim) > before {
                break;
            }
        }
    }

    /// Shows the world at `t`: replays the scenario from the start when `t` is in the past,
    /// runs forward (replaying the recorded future) otherwise.
    fn scrub(&mut self, t: Time) {
        let t = t.min(self.horizon);
        self.view.playing = false;
        let now = self.now();
        if t == now {
            return;
        }
        if t < now {
            let scenario = self.sim().scenario().clone();
            match Simulation::new(scenario) {
                Ok(mut past) => {
                    past.run_until(t);
                    self.replace_sim(past);
                }
                Err(e) => self.notice = Some(e.to_string()),
            }
        } else {
            self.sim.sim_mut().run_until(t);
        }
        self.restore_controls();
    }

    /// Network and workload settings in force at the current moment (after a scrub).
    fn restore_controls(&mut self) {
        let sim = self.sim();
        let now = sim.now();
        let s = sim.scenario();
        let mut network = s.network.clone();
        let mut workload = s.clients.workload.is_some();
        for i in s.interventions.iter().filter(|i| i.at <= now) {
            match &i.action {
                Intervention::SetNetwork { network: n } => network = n.clone(),
                Intervention::SetWorkload { on } => workload = *on,
                _ => {}
            }
        }
        drop(sim);
        self.network = network;
        self.workload_on = workload;
    }

    fn replace_sim(&mut self, sim: Simulation) {
        self.sim = SimCell::new(sim);
    }

    /// Before acting at an earlier moment, cut the recorded future away: the world is
    /// rebuilt from the scenario truncated at now, so the new action starts a new future.
    fn fork_if_in_the_past(&mut self) {
        let now = self.now();
        if now >= self.horizon {
            return;
        }
        let has_future = self
            .sim()
            .scenario()
            .interventions
            .iter()
            .any(|i| i.at > now);
        if has_future {
            let scenario = self.sim().scenario().truncated(now);
            match Simulation::new(scenario) {
                Ok(mut fresh) => {
                    fresh.run_until(now);
                    self.replace_sim(fresh);
                }
                Err(e) => {
                    self.notice = Some(e.to_string());
                    return;
                }
            }
        }
        self.horizon = now;
        self.forks += 1;
        self.notice = Some(format!(
            "You acted at {}: the recorded future was discarded and a new one starts here.",
            crate::format::time(now)
        ));
    }

    /// Records and applies an intervention now, forking first when in the past.
    fn act(&mut self, action: Intervention) {
        self.try_act(action);
    }

    /// [`Playground::act`], telling whether the simulation accepted the intervention.
    fn try_act(&mut self, action: Intervention) -> bool {
        self.fork_if_in_the_past();
        let result = self.sim.sim_mut().intervene(action.clone());
        match result {
            Ok(()) => {
                match action {
                    Intervention::SetNetwork { network } => self.network = network,
                    Intervention::SetWorkload { on } => self.workload_on = on,
                    _ => {}
                }
                true
            }
            Err(e) => {
                self.notice = Some(e.to_string());
                false
            }
        }
    }

    fn set_network(&mut self, network: NetworkConfig) {
        self.act(Intervention::SetNetwork { network });
    }

    fn partition(&mut self) {
        let n = self.sim().node_count();
        let (inside, outside): (Vec<NodeId>, Vec<NodeId>) =
            (0..n).map(NodeId).partition(|id| self.picked.contains(id));
        if inside.is_empty() || outside.is_empty() {
            self.notice = Some(
                "Pick some nodes (not all) first: they will be cut off from the others.".into(),
            );
            return;
        }
        self.act(Intervention::Partition {
            groups: vec![inside, outside],
        });
    }

    fn configure(&mut self, setup: Setup) {
        match Playground::with_setup(setup) {
            Ok(mut fresh) => {
                fresh.view = ViewState {
                    playing: true,
                    ..self.view.clone()
                };
                fresh.page = self.page.clone();
                fresh.revision = self.revision;
                fresh.action_revision = self.revision;
                *self = fresh;
            }
            Err(e) => self.notice = Some(e),
        }
    }

    /// Replaces the world with a shared one; `page` keeps the current framing instead of the
    /// link's. A scenario the simulator refuses leaves everything as it was.
    fn open(&mut self, share: &ShareState, page: Option<Page>) {
        match Playground::from_share(share) {
            Ok(mut fresh) => {
                fresh.view.speed = self.view.speed;
                if let Some(page) = page {
                    fresh.page = page;
                }
                fresh.revision = self.revision;
                fresh.action_revision = self.revision;
                *self = fresh;
            }
            Err(e) => self.page.banner = Some(format!("This scenario could not be opened: {e}")),
        }
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
        let node = input.target;
        if self.try_act(Intervention::Submit { client, node, op }) {
            self.notice = None;
        }
    }
}

/// Whether a strategy takes snapshots (and so offers a snapshot policy).
pub fn takes_snapshots(protocol: Protocol) -> bool {
    matches!(protocol, Protocol::BasicPaxos | Protocol::MultiPaxos)
}

/// The next speed up or down the list.
fn notch(speed: u32, by: i32) -> u32 {
    let i = SPEEDS.iter().position(|(s, _)| *s >= speed).unwrap_or(0) as i32;
    let j = (i + by).clamp(0, SPEEDS.len() as i32 - 1) as usize;
    SPEEDS[j].0
}

impl Default for Playground {
    fn default() -> Self {
        Playground::new()
    }
}

impl Reducible for Playground {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        // Cheap: the simulation is shared (see the module docs), the rest is small.
        let mut next = (*self).clone();
        // The checker's own task is part of playing, like a frame: the side panels take it
        // on their turns.
        let frame = matches!(action, Action::Frame { .. } | Action::Check);
        if next.apply(action) {
            next.revision += 1;
            if !frame {
                next.action_revision = next.revision;
            }
            Rc::new(next)
        } else {
            // Nothing changed: the same Rc tells Yew to skip the render.
            self
        }
    }
}

mod members;
pub use members::refusal;

#[cfg(test)]
mod tests;
