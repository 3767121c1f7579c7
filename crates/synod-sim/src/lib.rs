//! # synod-sim: one seed, one world
//!
//! A deterministic discrete-event simulator for the protocols in `synod-core`. It owns
//! virtual time, the network between nodes and clients, the clients themselves, and the
//! record of everything that happened. The same [`Scenario`] always produces the same trace
//! and the same trace hash, natively and in the browser.
//!
//! - [`rng`]: the fixed PRNG and its sub-streams.
//! - [`scenario`]: the scenario format (seed, cluster, network, clients, interventions).
//! - [`world`]: the [`Simulation`] itself.

pub mod rng;
pub mod scenario;
pub mod time;
pub mod world;

pub use scenario::{Intervention, Scenario, Timed};
pub use time::Time;
pub use world::{Envelope, HistoryEntry, Outcome, SimError, Simulation, TraceKind};
