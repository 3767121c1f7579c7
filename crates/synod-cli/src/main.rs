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

/// `println!` that survives a closed pipe: `synod check ... | head` ends quietly when `head`
/// stops reading, instead of panicking with "failed printing to stdout".
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with the same behaviour as [`say!`].
macro_rules! say_raw {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!($($arg)*))
    };
}

mod check;
mod fuzz;
mod link;
mod run;
mod scenario_input;

use std::process::ExitCode;

/// Writes to standard output. When the reader has gone away, exits at once with the status a
/// shell reports for SIGPIPE (141); any other write error is reported and exits 2.
pub(crate) fn write_out(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("synod: cannot write to standard output: {e}");
        std::process::exit(2);
    }
}

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
            say!("{USAGE}");
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
