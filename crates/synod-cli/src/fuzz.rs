//! `synod fuzz` and `synod mutants`: many random worlds, in parallel, judged by every oracle.
//!
//! ```text
//! synod fuzz [--seeds N] [--start S] [--nodes N] [--protocol P] [--read-mode M] [--bug NAME]
//!            [--faults LIST] [--jobs J] [--save DIR]
//! synod mutants [--seeds N] [--nodes N] [--jobs J]
//! ```
//!
//! Seeds are spread over worker threads; each seed is an independent, deterministic world,
//! so the results do not depend on the number of threads. The summary is printed in seed order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use synod_core::{Bug, Bugs, Protocol, ReadMode};
use synod_sim::fuzz::{run, scenario, Fault, FuzzConfig, RunReport, Summary};

const FUZZ_USAGE: &str =
    "usage: synod fuzz [--seeds N] [--start S] [--nodes N] [--protocol P] [--read-mode M]
                  [--bug NAME] [--faults LIST] [--jobs J] [--save DIR]

Runs N random scenarios (seeds S .. S+N-1) with randomized fault parameters, checks every
oracle after every event, a liveness phase after healing, and linearizability at the end.

options:
  --seeds N       how many seeds (default 100)
  --start S       first seed (default 0)
  --nodes N       cluster size, 1 to 7 (default 3)
  --protocol P    single-node, naive, timestamps, sequencer, basic-paxos, multi-paxos (default)
  --read-mode M   log (default), quorum or local
  --bug NAME      switch on a deliberately broken variant (repeatable); see `synod mutants`
  --faults LIST   comma-separated fault classes (default all): crash, partition, loss,
                  duplicate, delay, pause, skew, membership, snapshot; `none` for a calm
                  network
  --jobs J        worker threads (default: the number of cores)
  --save DIR      write the scenario of every failing seed to DIR/seed-S.json

exit status: 0 no violation, 1 any safety, linearizability or liveness failure, 2 usage error";

const MUTANTS_USAGE: &str = "usage: synod mutants [--seeds N] [--nodes N] [--jobs J]

Runs the fuzzer once per deliberately broken variant and prints whether it was killed (a
safety or linearizability violation found), the first failing seed and the kill rate.

exit status: 0 every variant killed, 1 some variant survived, 2 usage error";

struct Options {
    config: FuzzConfig,
    seeds: u64,
    start: u64,
    jobs: usize,
    save: Option<String>,
}

fn parse(args: Vec<String>, mutants: bool) -> Result<Option<Options>, String> {
    let mut o = Options {
        config: FuzzConfig::new(3),
        seeds: if mutants { 200 } else { 100 },
        start: 0,
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        save: None,
    };
    let mut it = args.into_iter();
    let mut bugs = Bugs::none();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag} needs a whole number, not '{v}'"))
        };
        match flag.as_str() {
            "--seeds" => o.seeds = number(value()?)?,
            "--start" if !mutants => o.start = number(value()?)?,
            "--jobs" => o.jobs = number(value()?)?.clamp(1, 64) as usize,
            "--nodes" => {
                let n = number(value()?)?;
                o.config.nodes = u8::try_from(n)
                    .ok()
                    .filter(|n| (1..=7).contains(n))
                    .ok_or_else(|| format!("--nodes must be 1 to 7, not {n}"))?;
            }
            "--protocol" if !mutants => {
                let v = value()?;
                o.config.protocol = Protocol::from_name(&v).ok_or_else(|| {
                    let names: Vec<_> = Protocol::ALL.iter().map(|p| p.name()).collect();
                    format!("unknown protocol '{v}' (one of: {})", names.join(", "))
                })?;
            }
            "--read-mode" if !mutants => {
                let v = value()?;
                o.config.read_mode = ReadMode::ALL
                    .into_iter()
                    .find(|m| m.name() == v)
                    .ok_or_else(|| format!("unknown read mode '{v}' (log, quorum or local)"))?;
            }
            "--bug" if !mutants => {
                let v = value()?;
                let bug = Bug::from_name(&v).ok_or_else(|| {
                    let names: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
                    format!("unknown bug '{v}' (one of: {})", names.join(", "))
                })?;
                bugs = bugs.with(bug);
            }
            "--faults" if !mutants => {
                let v = value()?;
                o.config.faults = if v == "none" {
                    Vec::new()
                } else {
                    v.split(',')
                        .map(|f| {
                            Fault::from_name(f.trim()).ok_or_else(|| {
                                format!(
                                    "unknown fault class '{f}' (crash, partition, loss, duplicate, delay, pause, skew, membership, snapshot, or none)"
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?
                };
            }
            "--save" if !mutants => o.save = Some(value()?),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    let range = o.config.protocol.node_range();
    if !range.contains(&o.config.nodes) {
        return Err(format!(
            "{} supports {} to {} nodes, not {}",
            o.config.protocol,
            range.start(),
            range.end(),
            o.config.nodes
        ));
    }
    o.config.bugs = bugs;
    Ok(Some(o))
}

/// Runs seeds `start..start+count` on `jobs` threads; results in seed order.
fn run_seeds(
    config: &FuzzConfig,
    start: u64,
    count: u64,
    jobs: usize,
    label: &str,
) -> Vec<RunReport> {
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let results: Mutex<Vec<Option<RunReport>>> = Mutex::new(vec![None; count as usize]);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let report =
                    run(scenario(start + i, config), true).expect("fuzz scenarios are valid");
                results.lock().expect("no worker panics")[i as usize] = Some(report);
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
        let mut last = Instant::now();
        while done.load(Ordering::Relaxed) < count {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= Duration::from_secs(1) {
                last = Instant::now();
                eprint!(
                    "\r{label}{} / {count} seeds, {:.0?}   ",
                    done.load(Ordering::Relaxed),
                    started.elapsed()
                );
            }
        }
    });
    if started.elapsed() >= Duration::from_secs(1) {
        eprintln!();
    }
    results
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.expect("every seed ran"))
        .collect()
}

/// The command line that replays one seed of a fuzz run.
fn replay_command(o: &Options, seed: u64) -> String {
    let c = &o.config;
    let mut cmd = format!(
        "synod fuzz --seeds 1 --start {seed} --nodes {} --protocol {} --read-mode {}",
        c.nodes,
        c.protocol.name(),
        c.read_mode.name()
    );
    for b in c.bugs.iter() {
        cmd += &format!(" --bug {}", b.name());
    }
    if c.faults.len() != Fault::ALL.len() {
        let names: Vec<_> = c.faults.iter().map(|f| f.name()).collect();
        cmd += &format!(
            " --faults {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(",")
            }
        );
    }
    cmd
}

/// Runs `synod fuzz` and returns the exit code.
pub fn fuzz_main(args: Vec<String>) -> u8 {
    let o = match parse(args, false) {
        Ok(Some(o)) => o,
        Ok(None) => {
            say!("{FUZZ_USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("synod fuzz: {e}\n{FUZZ_USAGE}");
            return 2;
        }
    };
    let t = Instant::now();
    let reports = run_seeds(&o.config, o.start, o.seeds, o.jobs, "");
    let elapsed = t.elapsed();
    let mut summary = Summary::default();
    for r in &reports {
        summary.add(r);
    }
    say!("{summary}");
    say!(
        "({} events in {:.1?}: {:.0} events/s on {} thread(s))",
        summary.events,
        elapsed,
        summary.events as f64 / elapsed.as_secs_f64().max(1e-9),
        o.jobs
    );
    for (seed, problem) in &summary.failures {
        say!(
            "seed {seed}: {problem}\n  replay: {}",
            replay_command(&o, *seed)
        );
        if let Some(dir) = &o.save {
            let path = format!("{dir}/seed-{seed}.json");
            let s = scenario(*seed, &o.config);
            let written = std::fs::create_dir_all(dir).and_then(|_| {
                std::fs::write(
                    &path,
                    serde_json::to_string_pretty(&s).expect("scenarios serialize"),
                )
            });
            match written {
                Ok(()) => say!("  scenario: {path} (synod run {path})"),
                Err(e) => eprintln!("synod fuzz: cannot write {path}: {e}"),
            }
        }
    }
    u8::from(!summary.failures.is_empty())
}

/// Runs `synod mutants` and returns the exit code.
pub fn mutants_main(args: Vec<String>) -> u8 {
    let o = match parse(args, true) {
        Ok(Some(o)) => o,
        Ok(None) => {
            say!("{MUTANTS_USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("synod mutants: {e}\n{MUTANTS_USAGE}");
            return 2;
        }
    };
    say!(
        "{:<26} {:<7} {:>12} {:>10}",
        "variant",
        "killed",
        "first seed",
        "kill rate"
    );
    let mut survivors = 0;
    for bug in Bug::ALL {
        if !bug.implemented() {
            say!(
                "{:<26} {:<7} {:>12} {:>10}",
                bug.name(),
                "n/a",
                "-",
                "not built"
            );
            continue;
        }
        let config = FuzzConfig {
            bugs: Bugs::only(bug),
            read_mode: if bug == Bug::NaiveQuorumRead {
                ReadMode::Quorum
            } else {
                ReadMode::Log
            },
            ..o.config.clone()
        };
        let reports = run_seeds(&config, 0, o.seeds, o.jobs, &format!("{}: ", bug.name()));
        let killed: Vec<u64> = reports
            .iter()
            .filter(|r| r.caught())
            .map(|r| r.seed)
            .collect();
        survivors += usize::from(killed.is_empty());
        say!(
            "{:<26} {:<7} {:>12} {:>9.1}%",
            bug.name(),
            if killed.is_empty() { "NO" } else { "yes" },
            killed.first().map_or("-".to_owned(), u64::to_string),
            100.0 * killed.len() as f64 / o.seeds.max(1) as f64
        );
    }
    u8::from(survivors > 0)
}
