//! Reading a scenario from a file, with messages that say what is wrong and where.

use synod_sim::Scenario;

/// Reads and validates a scenario file.
pub fn load_scenario(path: &str) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    parse_scenario(&text).map_err(|e| format!("{path}: {e}"))
}

/// Parses and validates scenario JSON.
pub fn parse_scenario(text: &str) -> Result<Scenario, String> {
    let scenario: Scenario = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a valid scenario at line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    scenario.validate().map_err(|e| e.to_string())?;
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
