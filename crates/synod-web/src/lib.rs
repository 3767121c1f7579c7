//! # synod-web: the playground page
//!
//! The page is a view of one [`synod_sim::Simulation`] owned by a reducer
//! ([`state::Playground`]). Every change to the simulation goes through
//! [`state::Action`]; components only read the state and dispatch actions. One hook
//! ([`app::use_animation_clock`]) converts wall-clock frames into "advance the simulation to
//! virtual time t".
//!
//! - `state`: the reducer, time travel (scrub, fork), interventions.
//! - `derived`: what is computed from the trace incrementally (timeline markers, which slot
//!   served which command) and the checker's verdict with linearization points.
//! - `app`: the components; `keys`: keyboard shortcuts; `perf`: per-frame work measurement.
//! - `members`: adding and removing nodes, snapshots and compaction in the log view, the
//!   comparison of the two ways to catch up, pausing nodes and holding links.
//! - `share`: what the URL opens (share links, embed settings, panels) and the embed
//!   snippet; `import`: someone else's history, checked and laid out; `export`: the files
//!   the page saves; `dom`: the browser glue for all three (clipboard, downloads, uploads,
//!   the embed's height messages, standalone SVG).
//! - `geometry`, `format`: layout math and words.
//!
//! The logic below the views (the reducer, geometry, formatting, shortcuts) is plain Rust and
//! is tested natively; the browser tests in `web/tests/` cover the DOM glue and user flows.

pub mod app;
pub mod derived;
pub mod dom;
pub mod dots;
pub mod export;
pub mod format;
pub mod geometry;
pub mod import;
pub mod keys;
pub mod members;
pub mod perf;
pub mod share;
pub mod state;
pub mod tools;
