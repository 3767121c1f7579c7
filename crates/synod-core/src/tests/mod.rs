//! Cluster-level tests, driven by the deterministic harness in `testkit`.

mod multi_paxos;
