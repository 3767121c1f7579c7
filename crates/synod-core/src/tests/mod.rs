//! Cluster-level tests, driven by the deterministic harness in `testkit`.

mod basic_paxos;
mod bugs;
mod multi_paxos;
mod strategies;
