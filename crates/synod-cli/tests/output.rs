//! The binary's output stream: a reader that stops early (`synod check ... | head -1`) ends the
//! program quietly, without a panic message.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/porcupine"
    );
    let files: Vec<String> = (0..100)
        .map(|i| format!("{corpus}/jepsen/etcd_{i:03}.log"))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(["check", "--json"])
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synod starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("one line");
    // The reader is dropped here: the pipe is closed after one line of a hundred. The JSON lines
    // with their witnesses are far more than a pipe holds, so however late the pipe closes, the
    // program is still writing then.
    assert!(first.contains("etcd_000.log"), "{first}");
    let out = child.wait_with_output().expect("synod ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
