//! # synod-sim: one seed, one world
//!
//! A deterministic discrete-event simulator for the protocols in `synod-core`. It owns
//! virtual time, the network between nodes and clients, the clients themselves, the global
//! oracles, and the record of everything that happened. The same [`Scenario`] always produces
//! the same trace and the same trace hash, natively and in the browser.
//!
//! - [`rng`]: the fixed PRNG and its sub-streams.
//! - [`scenario`]: the scenario format (seed, cluster, network, clients, interventions).
//! - [`world`]: the [`Simulation`] itself.
//! - [`oracle`]: the cluster-wide safety checks run after every event.
//! - [`history`]: the client history handed to the linearizability checker.
//! - [`fuzz`]: random scenarios with faults, a liveness phase, and the verdict of a run.
//! - [`link`]: share links (a scenario and a view in a URL fragment) and their errors.
//! - [`export`]: the history, the trace and the scenario as files.

pub mod export;
pub mod fuzz;
pub mod history;
mod json_path;
pub mod link;
pub mod oracle;
pub mod rng;
pub mod scenario;
pub mod structured_hash;
pub mod time;
pub mod world;

pub use oracle::{Oracle, Violation};
pub use scenario::{Intervention, Scenario, Timed};
pub use time::Time;
pub use world::{
    Endpoint, Envelope, HistoryEntry, MsgId, Outcome, SimError, Simulation, TraceKind,
};
