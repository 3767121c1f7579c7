//! Cluster-level and handler-level tests, driven by the deterministic harness in `testkit`.

mod basic_paxos;
mod bugs;
mod fuzz;
mod handlers;
mod membership;
mod multi_paxos;
mod reads;
mod snapshots;
mod strategies;
