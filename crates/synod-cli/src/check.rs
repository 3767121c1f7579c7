//! `synod check`: judge history files for linearizability.
//!
//! ```text
//! synod check [--format auto|jepsen-log|porcupine-kv|edn|json] [--model kv|register|kv-append]
//!             [--init VALUE] [--budget STEPS] [--json] FILE...
//! ```
//!
//! One line per file on stdout: `FILE: linearizable`, `FILE: not linearizable (first illegal
//! op: ...)` or `FILE: unknown (budget spent)`; with `--json`, one JSON object per file instead,
//! witness included. Exit status: 0 when every file is linearizable, 1 when any is not, 3 when
//! none is illegal but some are unknown, 2 on usage or parse errors (which go to stderr, naming
//! the file and line). Arguments are parsed by hand to keep the command dependency-light.

use synod_check::{
    read_history, CheckOptions, CheckResult, Format, ModelKind, Parsed, ReadOptions, RegValue,
    Verdict,
};

const USAGE: &str = "usage: synod check [--format auto|jepsen-log|porcupine-kv|edn|json] [--model kv|register|kv-append]
                   [--init VALUE] [--budget STEPS] [--json] FILE...

Checks each history FILE for linearizability and prints one line per file:
  FILE: linearizable
  FILE: not linearizable (first illegal op: ...)
  FILE: unknown (budget spent)

options:
  --format F     input format (default auto: decided by content)
                   jepsen-log    Jepsen etcd log lines (Porcupine test_data/jepsen), register model
                   porcupine-kv  Porcupine kv lines, kv-append model
                   edn           Jepsen history.edn as Knossos reads it, register model
                   json          Synod JSON (version 1), model named in the file
  --model M      sequential specification: kv, register or kv-append (default: the format's)
  --init VALUE   initial register value (integer, string, or nil; default nil)
  --budget STEPS search budget in steps per file (default 50000000); when spent: unknown
  --json         print the full result as one JSON object per file, witness included
  -h, --help     print this help

exit status: 0 all linearizable, 1 some not linearizable, 3 none illegal but some unknown,
             2 usage or parse error";

/// Parsed command line.
#[derive(Debug)]
struct Args {
    read: ReadOptions,
    budget: u64,
    json: bool,
    files: Vec<String>,
}

/// What to do after parsing the arguments.
#[derive(Debug)]
enum Command {
    Help,
    Run(Args),
}

/// Runs `synod check` and returns the exit code.
pub fn main(args: Vec<String>) -> u8 {
    match parse_args(args) {
        Ok(Command::Help) => {
            say!("{USAGE}");
            0
        }
        Ok(Command::Run(args)) => run(&args),
        Err(message) => {
            eprintln!("synod check: {message}\n\n{USAGE}");
            2
        }
    }
}

fn parse_args(args: Vec<String>) -> Result<Command, String> {
    let mut read = ReadOptions::default();
    let mut budget = synod_check::DEFAULT_BUDGET;
    let mut json = false;
    let mut files = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => json = true,
            "--format" => {
                let v = value("--format")?;
                read.format =
                    Format::from_name(&v).ok_or_else(|| format!("unknown format {v:?}"))?;
            }
            "--model" => {
                let v = value("--model")?;
                read.model =
                    Some(ModelKind::from_name(&v).ok_or_else(|| format!("unknown model {v:?}"))?);
            }
            "--init" => read.init = RegValue::parse_arg(&value("--init")?),
            "--budget" => {
                let v = value("--budget")?;
                budget = v
                    .replace('_', "")
                    .parse()
                    .map_err(|_| format!("--budget needs a number of steps, not {v:?}"))?;
            }
            "--" => files.extend(it.by_ref()),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s:?}")),
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        return Err(String::from("no history files given"));
    }
    if read.init.is_some() && read.model.is_some_and(|m| m != ModelKind::Register) {
        return Err(String::from("--init applies only to the register model"));
    }
    Ok(Command::Run(Args {
        read,
        budget,
        json,
        files,
    }))
}

/// The outcome of one file, for the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileOutcome {
    Checked(Verdict),
    Error,
}

fn run(args: &Args) -> u8 {
    let options = CheckOptions::with_budget(args.budget);
    let outcomes: Vec<FileOutcome> = args
        .files
        .iter()
        .map(|file| check_file(file, args, &options))
        .collect();
    exit_code(&outcomes)
}

fn exit_code(outcomes: &[FileOutcome]) -> u8 {
    let any = |o: FileOutcome| outcomes.contains(&o);
    if any(FileOutcome::Error) {
        2
    } else if any(FileOutcome::Checked(Verdict::NotLinearizable)) {
        1
    } else if any(FileOutcome::Checked(Verdict::Unknown)) {
        3
    } else {
        0
    }
}

fn check_file(file: &str, args: &Args, options: &CheckOptions) -> FileOutcome {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("synod check: {file}: cannot read: {e}");
            return FileOutcome::Error;
        }
    };
    let parsed = match read_history(file, &bytes, &args.read) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synod check: {e}");
            return FileOutcome::Error;
        }
    };
    let result = parsed.history.check(options);
    if args.json {
        say!("{}", json_report(file, &parsed, &result));
    } else {
        say!("{file}: {}", summary(&parsed, &result));
    }
    FileOutcome::Checked(result.verdict)
}

/// The text after `FILE: `.
fn summary(parsed: &Parsed, result: &CheckResult) -> String {
    match result.verdict {
        Verdict::Linearizable => String::from("linearizable"),
        Verdict::Unknown => String::from("unknown (budget spent)"),
        Verdict::NotLinearizable => {
            let failure = result
                .first_failure()
                .expect("a not-linearizable result has a failure");
            let line = parsed
                .lines
                .get(failure.blocked as usize)
                .copied()
                .unwrap_or(0);
            format!(
                "not linearizable (first illegal op: {}, line {line})",
                parsed.history.describe_operation(failure.blocked)
            )
        }
    }
}

fn json_report(file: &str, parsed: &Parsed, result: &CheckResult) -> String {
    let report = serde_json::json!({
        "file": file,
        "format": parsed.format.name(),
        "model": parsed.history.model().name(),
        "operations": parsed.history.len(),
        "result": result,
    });
    report.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_and_files_are_parsed() {
        let Ok(Command::Run(a)) = parse_args(args(&[
            "--format", "edn", "--init", "0", "--budget", "1_000", "--json", "a.edn",
        ])) else {
            panic!("expected a run");
        };
        assert_eq!(a.read.format, Format::Edn);
        assert_eq!(a.read.init, Some(RegValue::Int(0)));
        assert_eq!(a.budget, 1000);
        assert!(a.json);
        assert_eq!(a.files, vec![String::from("a.edn")]);
    }

    #[test]
    fn bad_usage_is_an_error() {
        assert!(parse_args(args(&[])).is_err());
        assert!(parse_args(args(&["--format", "xml", "f"])).is_err());
        assert!(parse_args(args(&["--model"])).is_err());
        assert!(parse_args(args(&["--budget", "lots", "f"])).is_err());
        assert!(parse_args(args(&["--frobnicate", "f"])).is_err());
        assert!(parse_args(args(&["--model", "kv", "--init", "1", "f"])).is_err());
        assert!(matches!(parse_args(args(&["--help"])), Ok(Command::Help)));
    }

    fn corpus(file: &str) -> String {
        format!(
            "{}/../../../shared/conformance/porcupine/{file}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn real_files_give_the_documented_exit_codes() {
        let (good, bad, empty) = (
            corpus("jepsen/etcd_002.log"),
            corpus("jepsen/etcd_000.log"),
            corpus("jepsen/etcd_095.log"),
        );
        assert_eq!(main(args(&[&good, &empty, &corpus("kv/c01-ok.txt")])), 0);
        assert_eq!(main(args(&[&good, &bad])), 1);
        assert_eq!(main(args(&["--budget", "10", &good])), 3);
        assert_eq!(
            main(args(&[
                "--json",
                "--format",
                "porcupine-kv",
                &corpus("kv/c10-bad.txt")
            ])),
            1
        );
        assert_eq!(
            main(args(&["--format", "json", &good])),
            2,
            "a log is not JSON"
        );
        assert_eq!(
            main(args(&["--model", "kv", &good])),
            2,
            "a log is a register"
        );
        assert_eq!(main(args(&["/nonexistent/history.edn"])), 2);
    }

    #[test]
    fn exit_codes_rank_errors_then_failures_then_unknowns() {
        use FileOutcome::{Checked, Error};
        assert_eq!(exit_code(&[Checked(Verdict::Linearizable)]), 0);
        assert_eq!(
            exit_code(&[Checked(Verdict::Unknown), Checked(Verdict::NotLinearizable)]),
            1
        );
        assert_eq!(
            exit_code(&[Checked(Verdict::Unknown), Checked(Verdict::Linearizable)]),
            3
        );
        assert_eq!(exit_code(&[Error, Checked(Verdict::NotLinearizable)]), 2);
    }
}
