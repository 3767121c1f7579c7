//! `synod link` and `synod run` with a share link, through the real binary: the link of a
//! file replays to the same trace hash as the file, and a bad link exits 2 with the message
//! the page shows.

use std::path::PathBuf;
use std::process::{Command, Output};
use synod_core::{ClientId, KvOp, NodeId, Protocol};
use synod_sim::export::scenario_to_json;
use synod_sim::link::{decode, LinkError};
use synod_sim::{Intervention, Scenario, Time, Timed};

fn synod(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(args)
        .output()
        .expect("the synod binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scenario file in a fresh temporary directory.
fn scenario_file(name: &str, scenario: &Scenario) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synod-cli-link-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("scenario.json");
    std::fs::write(&path, scenario_to_json(scenario)).expect("write");
    path
}

fn sample() -> Scenario {
    let mut s = Scenario::cluster(4, 3, Protocol::MultiPaxos, 2);
    s.run_us = 3_000_000;
    s.interventions = vec![
        Timed {
            at: Time(500_000),
            action: Intervention::Crash { node: NodeId(0) },
        },
        Timed {
            at: Time(700_000),
            action: Intervention::Submit {
                client: ClientId(1),
                node: NodeId(1),
                op: KvOp::Set {
                    key: "x".into(),
                    value: "1".into(),
                },
            },
        },
        Timed {
            at: Time(2_000_000),
            action: Intervention::Restart { node: NodeId(0) },
        },
    ];
    s
}

fn trace_hash_line(report: &str) -> &str {
    report
        .lines()
        .find(|l| l.trim_start().starts_with("trace hash"))
        .unwrap_or_else(|| panic!("no trace hash in {report}"))
}

#[test]
fn a_file_and_its_link_report_the_same_trace_hash() {
    let path = scenario_file("same-hash", &sample());
    let file = path.to_str().expect("utf-8 path");
    let out = synod(&["link", file, "--base", "https://synod.example/play"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let link = stdout(&out).trim().to_owned();
    assert!(link.starts_with("https://synod.example/play#s1."), "{link}");
    assert_eq!(decode(&link).expect("opens").scenario, sample());

    let by_file = synod(&["run", file]);
    let by_link = synod(&["run", &link]);
    assert_eq!(by_file.status.code(), by_link.status.code());
    let (by_file, by_link) = (stdout(&by_file), stdout(&by_link));
    assert_eq!(trace_hash_line(&by_file), trace_hash_line(&by_link));
    assert!(by_link.starts_with("share link\n"), "{by_link}");
    // The bare fragment and the `#fragment` work too.
    let fragment = link.split('#').nth(1).expect("fragment");
    let by_fragment = stdout(&synod(&["run", fragment]));
    assert_eq!(trace_hash_line(&by_fragment), trace_hash_line(&by_file));
    let by_hash = stdout(&synod(&["run", &format!("#{fragment}")]));
    assert_eq!(trace_hash_line(&by_hash), trace_hash_line(&by_file));
}

#[test]
fn the_default_base_is_the_local_playground() {
    let path = scenario_file("default-base", &Scenario::single_node(1));
    let out = synod(&["link", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("http://127.0.0.1:8080/#s1."));
}

#[test]
fn bad_links_exit_2_with_the_message_the_page_shows() {
    let path = scenario_file("bad-links", &sample());
    let out = synod(&["link", path.to_str().expect("utf-8")]);
    let link = stdout(&out).trim().to_owned();
    let truncated = &link[..link.len() - 20];
    let newer = link.replace("#s1.", "#s2.");
    for bad in [
        truncated,
        newer.as_str(),
        "https://synod.example/#",
        "#s1.AB%CD",
    ] {
        let out = synod(&["run", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let want = decode(bad).expect_err("bad").to_string();
        assert_eq!(stderr(&out).trim(), format!("synod run: {want}"), "{bad}");
    }
    assert!(matches!(decode(truncated), Err(LinkError::Truncated)));
}

#[test]
fn link_usage_errors_exit_2() {
    assert_eq!(synod(&["link"]).status.code(), Some(2));
    assert_eq!(synod(&["link", "--base"]).status.code(), Some(2));
    assert_eq!(synod(&["link", "a.json", "b.json"]).status.code(), Some(2));
    let out = synod(&["link", "/nonexistent/scenario.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    assert_eq!(synod(&["link", "--help"]).status.code(), Some(0));
}
