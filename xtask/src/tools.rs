//! Finds or installs every tool the web build and the browser tests need.
//!
//! Pinned: Trunk 0.21.14 (0.22 needs a newer rustc than the one this project targets), and the
//! `wasm-bindgen` CLI at exactly the version of the `wasm-bindgen` crate in `Cargo.lock`
//! (the two must match, or the generated glue does not fit the compiled module), and
//! Binaryen's `wasm-opt` from npm's `binaryen` package at [`BINARYEN_VERSION`] (Debian's is too
//! old to read what rustc emits; npm's is Binaryen compiled to wasm and run by Node.js, which
//! the wasm tests need anyway). Trunk is told to use these and never to download anything
//! (`Trunk.toml` pins the versions and sets `offline`; xtask passes `--offline`).

use crate::{root, run, Failure, Result};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

pub const TRUNK_VERSION: &str = "0.21.14";
/// npm's `binaryen` release; its `wasm-opt` reports `version_132`, which `Trunk.toml` pins.
pub const BINARYEN_VERSION: &str = "132.0.0";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Where the tools are.
#[derive(Debug, Clone)]
pub struct Tools {
    pub trunk: PathBuf,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// `$CARGO_HOME/bin`, where `cargo install` puts binaries.
pub fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin")
}

/// Where the pinned Binaryen is installed: beside `$CARGO_HOME/bin`, in a folder named after
/// its version, so every checkout shares it and a new pin installs next to the old one.
fn binaryen_dir() -> PathBuf {
    cargo_bin()
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join("synod-tools")
        .join(format!("binaryen-{BINARYEN_VERSION}"))
}

/// The folder holding the pinned `wasm-opt` (npm's links to the package's scripts).
fn binaryen_bin() -> PathBuf {
    binaryen_dir().join("node_modules").join(".bin")
}

/// `PATH` with the pinned Binaryen and `$CARGO_HOME/bin` first, so Trunk finds the pinned
/// wasm-opt and wasm-bindgen (it looks tools up on `PATH` and checks their versions), even
/// where some other `wasm-opt` sits in `$CARGO_HOME/bin`.
pub fn path_with_tools() -> std::ffi::OsString {
    let mut parts = vec![binaryen_bin(), cargo_bin()];
    if let Some(p) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(parts).expect("PATH entries are valid")
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &PathBuf) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    })
}

/// The `wasm-bindgen` version `Cargo.lock` holds.
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| Failure(format!("cannot read Cargo.lock: {e}")))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err(Failure("Cargo.lock has no wasm-bindgen entry".into()))
}

/// Installs whatever is missing and returns where everything is.
pub fn ensure_all() -> Result<Tools> {
    ensure_wasm_target()?;
    let trunk = ensure_trunk()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_opt()?;
    let (chromium, chromedriver) = ensure_chromium()?;
    Ok(Tools {
        trunk,
        chromium,
        chromedriver,
    })
}

/// Installs only what running Rust tests in Node.js needs: the wasm32 target and the
/// wasm-bindgen CLI (with its test runner) matching `Cargo.lock`.
pub fn ensure_wasm_tests() -> Result {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()
}

fn ensure_wasm_target() -> Result {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| Failure(format!("rustup is needed to add the wasm target: {e}")))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    timed("add the wasm32 target (about 30 s)", || {
        run(
            "rustup target add",
            Command::new("rustup").args(["target", "add", WASM_TARGET]),
        )
    })
}

fn ensure_trunk() -> Result<PathBuf> {
    let trunk = cargo_bin().join("trunk");
    let want = format!("trunk {TRUNK_VERSION}");
    if version_of(&trunk).as_deref() == Some(want.as_str()) {
        return Ok(trunk);
    }
    timed("build Trunk from crates.io (about 11 minutes)", || {
        run(
            "cargo install trunk",
            Command::new("cargo").args([
                "install",
                &format!("trunk@{TRUNK_VERSION}"),
                "--locked",
                "--force",
            ]),
        )
    })?;
    match version_of(&trunk) {
        Some(v) if v == want => Ok(trunk),
        other => Err(Failure(format!(
            "installed Trunk reports {other:?}, expected '{want}'"
        ))),
    }
}

fn ensure_wasm_bindgen() -> Result {
    let version = locked_wasm_bindgen()?;
    let bin = cargo_bin().join("wasm-bindgen");
    let want = format!("wasm-bindgen {version}");
    if version_of(&bin).as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    // Not `--locked`: one of the CLI's locked dependencies is no longer on the registry.
    timed(
        &format!("build wasm-bindgen-cli {version} (about 4 minutes)"),
        || {
            run(
                "cargo install wasm-bindgen-cli",
                Command::new("cargo").args([
                    "install",
                    "wasm-bindgen-cli",
                    "--version",
                    &version,
                    "--force",
                ]),
            )
        },
    )?;
    match version_of(&bin) {
        Some(v) if v == want => Ok(()),
        other => Err(Failure(format!(
            "installed wasm-bindgen reports {other:?}, expected '{want}'"
        ))),
    }
}

/// The `wasm-opt` version `Trunk.toml` pins (`wasm_opt = "version_N"`), as Trunk compares it.
fn pinned_wasm_opt() -> Result<String> {
    let toml = std::fs::read_to_string(root().join("Trunk.toml"))
        .map_err(|e| Failure(format!("cannot read Trunk.toml: {e}")))?;
    toml.lines()
        .find_map(|l| l.trim().strip_prefix("wasm_opt = \""))
        .map(|v| v.trim_end_matches('"').to_owned())
        .ok_or_else(|| Failure("Trunk.toml pins no wasm_opt version under [tools]".into()))
}

fn ensure_wasm_opt() -> Result {
    let major = BINARYEN_VERSION
        .split('.')
        .next()
        .unwrap_or(BINARYEN_VERSION);
    let pinned = pinned_wasm_opt()?;
    if pinned != format!("version_{major}") {
        return Err(Failure(format!(
            "Trunk.toml pins wasm_opt = \"{pinned}\" but xtask installs binaryen \
             {BINARYEN_VERSION}; make them agree (tools::BINARYEN_VERSION)"
        )));
    }
    let bin = binaryen_bin().join("wasm-opt");
    let want = format!("wasm-opt version {major} (version_{major})");
    if version_of(&bin).as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    let npm = match which("npm") {
        Some(npm) => npm,
        None => {
            install_debian("Node.js and npm", &["nodejs", "npm"])?;
            which("npm")
                .ok_or_else(|| Failure("npm is still not on PATH after installing".into()))?
        }
    };
    let dir = binaryen_dir();
    timed(
        &format!("install wasm-opt from npm's binaryen {BINARYEN_VERSION} (about 10 s)"),
        || {
            run(
                "npm install binaryen",
                Command::new(npm)
                    .args(["install", "--prefix"])
                    .arg(&dir)
                    .args(["--no-save", "--no-package-lock", "--no-audit", "--no-fund"])
                    .arg(format!("binaryen@{BINARYEN_VERSION}")),
            )
        },
    )?;
    match version_of(&bin) {
        Some(v) if v == want => Ok(()),
        other => Err(Failure(format!(
            "installed wasm-opt reports {other:?}, expected '{want}'"
        ))),
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn ensure_chromium() -> Result<(PathBuf, PathBuf)> {
    if let (Some(c), Some(d)) = (which("chromium"), which("chromedriver")) {
        return Ok((c, d));
    }
    install_debian(
        "Chromium (for the browser tests)",
        &["chromium", "chromium-driver"],
    )?;
    match (which("chromium"), which("chromedriver")) {
        (Some(c), Some(d)) => Ok((c, d)),
        _ => Err(Failure(
            "chromium or chromedriver is still not on PATH after installing".into(),
        )),
    }
}

/// Installs Debian packages, or says how to when that fails (it needs root).
fn install_debian(what: &str, packages: &[&str]) -> Result {
    let list = packages.join(" ");
    timed(&format!("install Debian's {list} (about 1 minute)"), || {
        run("apt-get update", Command::new("apt-get").arg("update"))?;
        run(
            &format!("apt-get install {list}"),
            Command::new("apt-get").args(["install", "-y"]).args(packages),
        )
    })
    .map_err(|Failure(m)| {
        Failure(format!(
            "{m}\n    {what} is needed; as root run:\n    apt-get update && apt-get install -y {list}"
        ))
    })
}

fn timed(what: &str, f: impl FnOnce() -> Result) -> Result {
    println!("\n==> first run: {what}");
    let t = Instant::now();
    f()?;
    println!("    done in {:.0?}", t.elapsed());
    Ok(())
}
