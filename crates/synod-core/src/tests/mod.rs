//! Cluster-level tests, driven by the deterministic harness in `testkit`.

mod basic_paxos;
mod multi_paxos;
mod strategies;
