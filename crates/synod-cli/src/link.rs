//! `synod link`: the share link for a scenario.
//!
//! ```text
//! synod link SCENARIO.json [--base URL]
//! ```
//!
//! Prints `URL#s1.…`, the link that opens the playground on this scenario (at its start, with
//! the default view). The input may also be a share link, to re-point it at another base.
//! Exit status: 0, or 2 on usage errors or an input that is not a valid scenario.

use crate::scenario_input::load_scenario;
use synod_sim::link::{link, ShareState, DEFAULT_BASE_URL};

const USAGE: &str = "usage: synod link SCENARIO.json [--base URL]

Prints the share link that opens the playground on the scenario.

options:
  --base URL  the playground's address (default http://127.0.0.1:8080/, where
              `cargo xtask serve` serves it)
  -h, --help  print this help

exit status: 0 printed, 2 usage or input error";

/// Runs `synod link` and returns the exit code.
pub fn main(args: Vec<String>) -> u8 {
    let mut base = DEFAULT_BASE_URL.to_owned();
    let mut input = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                say!("{USAGE}");
                return 0;
            }
            "--base" => match args.next() {
                Some(url) => base = url,
                None => {
                    eprintln!("synod link: --base needs a URL\n{USAGE}");
                    return 2;
                }
            },
            flag if flag.starts_with("--") => {
                eprintln!("synod link: unknown option '{flag}'\n{USAGE}");
                return 2;
            }
            _ if input.is_some() => {
                eprintln!("synod link: one scenario at a time\n{USAGE}");
                return 2;
            }
            _ => input = Some(arg),
        }
    }
    let Some(input) = input else {
        eprintln!("{USAGE}");
        return 2;
    };
    match load_scenario(&input) {
        Ok(scenario) => {
            say!("{}", link(&base, &ShareState::new(scenario)));
            0
        }
        Err(e) => {
            eprintln!("synod link: {e}");
            2
        }
    }
}
