//! # synod-web: the playground page
//!
//! The page is a view of one [`synod_sim::Simulation`] owned by a reducer
//! ([`state::Playground`]). Every change to the simulation goes through
//! [`state::Action`]; components only read the state and dispatch actions. One hook
//! ([`app::use_animation_clock`]) converts wall-clock frames into "advance the simulation to
//! virtual time t".
//!
//! The logic below the views (the reducer, geometry, formatting) is plain Rust and is tested
//! natively; the browser tests in `web/tests/` cover the DOM glue.

pub mod app;
pub mod format;
pub mod geometry;
pub mod state;
