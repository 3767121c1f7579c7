//! `synod`: the command-line face of the project.
//!
//! ```text
//! synod check [--format auto|jepsen-log|porcupine-kv|edn|json] [--model kv|register|kv-append]
//!             [--init VALUE] [--budget STEPS] [--json] FILE...
//! synod run SCENARIO.json|LINK [--json]
//! synod link SCENARIO.json [--base URL]
//! synod fuzz [--seeds N] [--start S] [--nodes N] [--protocol P] [--bug NAME] [--faults LIST]
//! synod mutants [--seeds N]
//! ```
//!
//! Each subcommand lives in its own module and returns the process exit code.

mod check;
mod fuzz;
mod link;
mod run;
mod scenario_input;

use std::process::ExitCode;

const USAGE: &str = "usage: synod <command> [args]

commands:
  check     judge histories for linearizability (synod check --help)
  run       play a scenario (file or share link) and report its trace hash, statistics
            and verdict
  link      print the share link for a scenario file
  fuzz      run many random scenarios with faults against every oracle
  mutants   check that every deliberately broken variant is caught";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let code = match args.next().as_deref() {
        Some("check") => check::main(args.collect()),
        Some("run") => run::main(args.collect()),
        Some("link") => link::main(args.collect()),
        Some("fuzz") => fuzz::fuzz_main(args.collect()),
        Some("mutants") => fuzz::mutants_main(args.collect()),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("synod: unknown command '{other}'\n{USAGE}");
            2
        }
        None => {
            eprintln!("{USAGE}");
            2
        }
    };
    ExitCode::from(code)
}
