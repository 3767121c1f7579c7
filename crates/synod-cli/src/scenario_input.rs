//! Reading a scenario from a file or a share link, with messages that say what is wrong and
//! where.
//!
//! An argument is read as a share link when it looks like one (a URL, a `#fragment`, a bare
//! `s1.` fragment, or anything containing `#s1.`) and is not the name of an existing file;
//! otherwise as a scenario file. A bad link's message is the same [`LinkError`] text the
//! page shows.
//!
//! [`LinkError`]: synod_sim::link::LinkError

use std::path::Path;
use synod_sim::export::scenario_from_json;
use synod_sim::link::{decode, looks_like_link, ShareState};
use synod_sim::Scenario;

/// Whether `arg` is taken as a share link rather than a file name. A name ending in `.json`
/// is always a file, so that a missing `s1.json` is reported as a missing file.
pub fn is_link(arg: &str) -> bool {
    looks_like_link(arg) && !arg.ends_with(".json") && !Path::new(arg).is_file()
}

/// What to call the input in reports: the file name, or "share link" (links are long).
pub fn label(arg: &str) -> String {
    if is_link(arg) {
        "share link".to_owned()
    } else {
        arg.to_owned()
    }
}

/// Reads and validates a scenario from a file or a share link.
pub fn load_scenario(arg: &str) -> Result<Scenario, String> {
    if is_link(arg) {
        return decode(arg)
            .map(|ShareState { scenario, .. }| scenario)
            .map_err(|e| e.to_string());
    }
    let bytes = std::fs::read(arg).map_err(|e| format!("{arg}: cannot read: {e}"))?;
    scenario_from_json(&bytes).map_err(|e| format!("{arg}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_scenario(text: &str) -> Result<Scenario, String> {
        scenario_from_json(text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn bad_scenarios_are_refused_with_where_and_what() {
        let err = parse_scenario("{\"version\": 1,\n \"seed\": \"x\"}").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let mut s = Scenario::single_node(1);
        s.cluster.nodes = 9;
        let err = parse_scenario(&serde_json::to_string(&s).unwrap()).unwrap_err();
        assert!(err.contains("not 9"), "{err}");
        let mut s = Scenario::single_node(1);
        s.version = 99;
        let err = parse_scenario(&serde_json::to_string(&s).unwrap()).unwrap_err();
        assert!(err.contains("version 99 is not supported"), "{err}");
    }

    #[test]
    fn a_valid_scenario_round_trips() {
        let s = Scenario::cluster(3, 3, synod_core::Protocol::MultiPaxos, 2);
        assert_eq!(parse_scenario(&serde_json::to_string(&s).unwrap()), Ok(s));
    }

    #[test]
    fn links_and_files_are_told_apart() {
        assert!(is_link("https://synod.example/#s1.AAAA"));
        assert!(is_link("#s1.AAAA"));
        assert!(is_link("s1.AAAA"));
        assert!(!is_link("scenario.json"));
        assert!(!is_link("s1.json"));
        assert_eq!(label("s1.AAAA"), "share link");
        let err = load_scenario("https://synod.example/#s1.AAAA").unwrap_err();
        assert!(err.contains("the link is incomplete"), "{err}");
    }
}
