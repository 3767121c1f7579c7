//! `cargo xtask <verb>`: the one place where build, serve, test and bench automation lives.
//!
//! - `serve`: installs what is missing, then serves the playground at http://127.0.0.1:8080.
//! - `test`: everything CI checks, in order, stopping at the first failure.
//! - `browser`: only the web build and the browser tests.
//! - `bench`: the criterion benchmarks.
//! - `tools`: installs what is missing and does nothing else.

mod browser;
mod http;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <serve|test|bench|tools>

  serve [--port N]   install missing tools, build and serve the playground (default port 8080)
  test               everything CI checks: fmt, clippy, native tests, wasm builds, the web
                     build and browser tests in headless Chromium
  browser [NAME...]  only the web build and the browser tests (a subset of `test`); with
                     names, only the flows whose names contain one of them
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
            browser::run_matching(&t, &args[1..])
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
            .env("PATH", tools::path_with_cargo_bin())
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
    step("browser tests", &mut || browser::run_all(&tools))?;
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
            .env("PATH", tools::path_with_cargo_bin())
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
    run("criterion benchmarks", &mut cmd)
}
