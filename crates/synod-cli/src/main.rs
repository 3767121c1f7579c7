//! `synod`: the command-line face of the project.
//!
//! ```text
//! synod check [--format auto|jepsen-log|porcupine-kv|edn|json] [--model kv|register|kv-append]
//!             [--init VALUE] [--budget STEPS] [--json] FILE...
//! ```
//!
//! Each subcommand lives in its own module and returns the process exit code.

mod check;

use std::process::ExitCode;

const USAGE: &str = "usage: synod <command> [args]

commands:
  check   judge histories for linearizability (synod check --help)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let code = match args.next().as_deref() {
        Some("check") => check::main(args.collect()),
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
