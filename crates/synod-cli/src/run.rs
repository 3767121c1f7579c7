//! `synod run`: play one scenario and report what happened.
//!
//! ```text
//! synod run SCENARIO.json [--json]
//! synod run LINK [--json]
//! ```
//!
//! The scenario comes from a file or a share link (see [`crate::scenario_input`]); a file
//! and the link made from it report the same trace hash.
//!
//! Prints the trace hash, the statistics, any safety violation the global oracles found, and
//! the linearizability checker's verdict on the client history. Exit status: 0 when the run
//! is clean, 1 on a safety or linearizability violation, 3 when the checker's budget ran out,
//! 2 on usage errors, a file that is not a valid scenario, or a bad link (with the same
//! message the page shows).

use crate::scenario_input::{label, load_scenario};
use synod_check::Verdict;
use synod_sim::fuzz::{run, RunReport};

const USAGE: &str = "usage: synod run SCENARIO.json|LINK [--json]

Plays the scenario (a scenario file, or a share link) for its run_us of virtual time with
every oracle on, then prints the trace hash, statistics, violations and the linearizability
verdict.

options:
  --json      print the whole report as JSON
  -h, --help  print this help

exit status: 0 clean, 1 violation found, 3 checker budget spent, 2 usage or input error
(including a bad share link)";

/// Runs `synod run` and returns the exit code.
pub fn main(args: Vec<String>) -> u8 {
    let mut json = false;
    let mut file = None;
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => {
                say!("{USAGE}");
                return 0;
            }
            "--json" => json = true,
            flag if flag.starts_with('-') => {
                eprintln!("synod run: unknown option '{flag}'\n{USAGE}");
                return 2;
            }
            _ if file.is_some() => {
                eprintln!("synod run: one scenario at a time\n{USAGE}");
                return 2;
            }
            _ => file = Some(arg),
        }
    }
    let Some(file) = file else {
        eprintln!("{USAGE}");
        return 2;
    };
    let scenario = match load_scenario(&file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("synod run: {e}");
            return 2;
        }
    };
    let file = label(&file);
    let report = match run(scenario, false) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("synod run: {file}: {e}");
            return 2;
        }
    };
    if json {
        say!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        );
    } else {
        say_raw!("{}", describe(&file, &report));
    }
    exit_code(&report)
}

fn exit_code(report: &RunReport) -> u8 {
    if report.caught() {
        1
    } else if report.linearizability == Verdict::Unknown {
        3
    } else {
        0
    }
}

/// The human-readable report.
pub fn describe(file: &str, r: &RunReport) -> String {
    let mut out = format!("{file}\n  trace hash   {:016x}\n", r.trace_hash);
    let s = &r.stats;
    out += &format!(
        "  events       {}\n  operations   {} ({} ok, {} failed, {} unknown)\n  committed    {} commands\n",
        r.events, r.operations, s.completed_ok, s.failed, s.unknown, r.committed
    );
    let per = |n: u64| {
        if r.committed == 0 {
            "-".to_owned()
        } else {
            format!("{:.2}", n as f64 / r.committed as f64)
        }
    };
    out += &format!(
        "  messages     {} between nodes ({} per committed command)\n",
        s.protocol_messages(),
        per(s.protocol_messages())
    );
    for (kind, n) in &s.sent {
        out += &format!("    {kind:<14} {n:>8}  ({} per command)\n", per(*n));
    }
    out += &format!(
        "  phase 1 runs {}\n  leader changes {}\n  latency      mean {} ms, max {} ms\n",
        s.phase1_runs,
        s.leader_changes,
        s.mean_latency_us() / 1000,
        s.latency_max_us / 1000
    );
    for v in &r.safety {
        out += &format!("  VIOLATION    {v}\n");
    }
    out += &match r.linearizability {
        Verdict::Linearizable => "  history      linearizable\n".to_owned(),
        Verdict::NotLinearizable => format!(
            "  history      NOT linearizable: {}\n",
            r.explanation
                .as_deref()
                .unwrap_or("no linearization exists")
        ),
        Verdict::Unknown => "  history      unknown (checker budget spent)\n".to_owned(),
    };
    out
}
