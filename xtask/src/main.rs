//! `cargo xtask <verb>`: the one place where build, serve, test and bench automation lives.
//!
//! - `serve`: installs what is missing, then serves the playground at http://127.0.0.1:8080.
//! - `test`: everything CI checks, in order, stopping at the first failure.
//! - `browser [NAME..]`: only the web build and the browser tests (those whose name contains
//!   one of the NAMEs, when given).
//! - `bench`: the criterion benchmarks.
//! - `tools`: installs what is missing and does nothing else.

mod browser;
mod http;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <serve|test|browser|bench|tools>

  serve [--port N]   install missing tools, build and serve the playground (default port 8080)
  test               everything CI checks: fmt, clippy, native tests, wasm builds, the web
                     build and browser tests in headless Chromium
  browser [NAME..]   only the web build and the browser tests (a subset of `test`); with
                     names, only the flows whose name contains one of them
  bench              criterion benchmarks of the checker, the simulator and the page
  tools              install missing tools only";

/// A failed step, with the message a person needs to fix it.
#[derive(Debug)]
pub struct Failure(pub String);

pub type Result<T = ()> = std::result::Result<T, Failure>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        Some("browser") => tools::ensure_all().and_then(|t| {
            web_build(&t)?;
            browser::run_all(&t, &args[1..])
        }),
        Some("tools") => tools::ensure_all().map(|_| ()),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure(USAGE.to_owned())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("\nxtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Runs a command in the workspace root, echoing it, and fails with `what` if it fails.
pub fn run(what: &str, cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}").replace('"', "");
    println!("\n==> {what}\n    $ {shown}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| Failure(format!("{what}: could not start {shown}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!(
            "{what} failed ({status}); command: {shown}"
        )))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn serve(args: &[String]) -> Result {
    let port = match args {
        [] => 8080,
        [flag, n] if flag == "--port" => n
            .parse()
            .map_err(|_| Failure(format!("--port needs a number, not '{n}'")))?,
        _ => return Err(Failure(USAGE.to_owned())),
    };
    let t = Instant::now();
    let tools = tools::ensure_all()?;
    println!("tools ready in {:.0?}", t.elapsed());
    println!("\nSynod playground: http://127.0.0.1:{port}/  (Ctrl-C to stop)\n");
    run(
        "serve the playground",
        Command::new(&tools.trunk)
            .env("PATH", tools::path_with_tools())
            .args(["serve", "--address", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--release", "--offline", "--no-autoreload"]),
    )
}

fn test() -> Result {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut step = |name: &str, f: &mut dyn FnMut() -> Result| -> Result {
        let t = Instant::now();
        f()?;
        timings.push((name.to_owned(), t.elapsed()));
        Ok(())
    };
    step("format", &mut || {
        run(
            "cargo fmt --check",
            cargo().args(["fmt", "--all", "--check"]),
        )
        .map_err(|Failure(m)| Failure(format!("{m}\n    fix: run `cargo fmt --all`")))
    })?;
    step("clippy", &mut || {
        run(
            "clippy, warnings are errors",
            cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        )
    })?;
    step("native tests", &mut || {
        run("native tests", cargo().args(["test", "--workspace"]))
    })?;
    let tools = tools::ensure_all()?;
    step("wasm build", &mut || {
        run(
            "wasm32 build of the core, simulator and checker",
            cargo().args([
                "build",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                "synod-core",
                "-p",
                "synod-sim",
                "-p",
                "synod-check",
            ]),
        )
    })?;
    step("wasm determinism", &mut wasm_determinism)?;
    step("web build", &mut || web_build(&tools))?;
    step("browser tests", &mut || browser::run_all(&tools, &[]))?;
    println!("\nall checks passed in {:.0?}", started.elapsed());
    for (name, d) in &timings {
        println!("  {name:<14} {d:.1?}");
    }
    Ok(())
}

/// Runs a fixed set of seeded worlds natively and in wasm (Node.js, through
/// `wasm-bindgen-test-runner`) and fails unless their trace hashes agree.
fn wasm_determinism() -> Result {
    let native = synod_sim::fuzz::determinism_fingerprint();
    println!(
        "\n==> native trace hashes\n    {}",
        native.replace(',', "\n    ")
    );
    let runner = tools::cargo_bin().join("wasm-bindgen-test-runner");
    run(
        "the same seeds in wasm must give the same trace hashes",
        cargo()
            .args([
                "test",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                "synod-sim",
                "--test",
                "wasm_determinism",
            ])
            .env("SYNOD_NATIVE_HASHES", &native)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner),
    )
}

/// Builds the site into `dist/` with Trunk, using only the installed tools.
pub fn web_build(tools: &tools::Tools) -> Result {
    run(
        "web build through Trunk",
        Command::new(&tools.trunk)
            .env("PATH", tools::path_with_tools())
            .args(["build", "--release", "--offline"]),
    )?;
    let index = root().join("dist/index.html");
    if !index.exists() {
        return Err(Failure(format!(
            "Trunk finished but {} is missing",
            index.display()
        )));
    }
    Ok(())
}

fn bench(args: &[String]) -> Result {
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace"]);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run("criterion benchmarks", &mut cmd)?;
    wasm_corpus_bench()?;
    wasm_throughput_bench()
}

/// The criterion benchmark whose median the wasm corpus figure is compared with.
const NATIVE_CORPUS_BENCH: &str = "check/porcupine_corpus_108_files";

/// Times the conformance corpus (parse + check) in wasm, in Node.js through
/// `wasm-bindgen-test-runner`, and compares it with the native criterion median. The target is
/// within 3x of native. The test asserts every verdict, so a wrong answer fails the bench.
fn wasm_corpus_bench() -> Result {
    tools::ensure_wasm_tests()?;
    let bundle = target_dir().join("synod-corpus.bundle");
    let files = bundle_corpus(&bundle)?;
    let what = "the conformance corpus in wasm (Node.js)";
    println!("\n==> {what}: {files} files");
    let stdout = wasm_test_output(
        what,
        "synod-check",
        "wasm_corpus",
        &[("SYNOD_CORPUS_BUNDLE", bundle.as_os_str())],
    )?;
    let mut rounds: Vec<f64> = stdout
        .lines()
        .filter_map(|l| l.split("synod-wasm-corpus-round-ms ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    if rounds.is_empty() {
        eprintln!("{stdout}");
        return Err(Failure(format!(
            "{what}: the test printed no round times (is the runner showing console output?)"
        )));
    }
    rounds.sort_by(f64::total_cmp);
    let wasm_ms = rounds[rounds.len() / 2];
    println!(
        "    wasm: median {wasm_ms:.1} ms per pass over the corpus ({} rounds, {:.1}..{:.1} ms)",
        rounds.len(),
        rounds[0],
        rounds[rounds.len() - 1]
    );
    match native_median_ms(NATIVE_CORPUS_BENCH) {
        Some(native_ms) => {
            let ratio = wasm_ms / native_ms;
            let verdict = if ratio <= 3.0 {
                "within the 3x target"
            } else {
                "OVER the 3x target"
            };
            println!(
                "    native ({NATIVE_CORPUS_BENCH}, criterion median): {native_ms:.1} ms; \
                 wasm/native = {ratio:.2}, {verdict}"
            );
        }
        None => println!(
            "    native: no criterion figure for {NATIVE_CORPUS_BENCH} yet; run \
             `cargo xtask bench` without a filter to get one"
        ),
    }
    Ok(())
}

/// Runs the simulator's busy cluster in wasm (Node.js) and prints its events per second, to
/// set beside criterion's native `simulator` throughput printed above.
fn wasm_throughput_bench() -> Result {
    let what = "the simulator's throughput in wasm (Node.js)";
    println!("\n==> {what}");
    let stdout = wasm_test_output(what, "synod-sim", "wasm_throughput", &[])?;
    let line = stdout
        .lines()
        .find(|l| l.starts_with("wasm: "))
        .ok_or_else(|| Failure(format!("{what}: the test printed no figure")))?;
    println!("    {line}");
    Ok(())
}

/// Builds one wasm test in release mode, runs it in Node.js through
/// `wasm-bindgen-test-runner` with its console output shown, and returns that output.
fn wasm_test_output(
    what: &str,
    package: &str,
    test: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<String> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
        "--test",
        test,
        // wasm-bindgen-test shows a passing test's console output only when asked.
        "--",
        "--nocapture",
    ])
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        tools::cargo_bin().join("wasm-bindgen-test-runner"),
    )
    .current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(|e| Failure(format!("{what}: could not start cargo: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        return Err(Failure(format!("{what} failed ({})", out.status)));
    }
    Ok(stdout)
}

/// Where cargo puts its output (and criterion its reports), as an absolute path: xtask runs
/// cargo from the workspace root, so a relative `CARGO_TARGET_DIR` is taken from there, and
/// the wasm corpus test includes the bundle by a path that must not depend on its own folder.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Packs the corpus named in `verdicts.csv` into one file the wasm test includes at compile
/// time: for each file a header line `NAME VERDICT LENGTH` and then its bytes. Returns how many.
fn bundle_corpus(bundle: &Path) -> Result<usize> {
    let dir = root().join("../shared/conformance/porcupine");
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Failure(format!("cannot read {}: {e}", p.display())))
    };
    let csv = read(&dir.join("verdicts.csv"))?;
    let mut out = Vec::new();
    let mut files = 0;
    for line in String::from_utf8_lossy(&csv).lines().skip(1) {
        let Some((name, verdict)) = line.trim().split_once(',') else {
            continue;
        };
        let bytes = read(&dir.join(name))?;
        out.extend_from_slice(format!("{name} {verdict} {}\n", bytes.len()).as_bytes());
        out.extend_from_slice(&bytes);
        files += 1;
    }
    if let Some(parent) = bundle.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(bundle, out)
        .map_err(|e| Failure(format!("cannot write {}: {e}", bundle.display())))?;
    Ok(files)
}

/// The median of a criterion benchmark's last run, in milliseconds, if it has one.
fn native_median_ms(bench: &str) -> Option<f64> {
    let path = target_dir()
        .join("criterion")
        .join(bench)
        .join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    Some(json["median"]["point_estimate"].as_f64()? / 1e6)
}
