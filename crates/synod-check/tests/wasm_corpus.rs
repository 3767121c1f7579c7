//! The conformance corpus checked in wasm, timed, for `cargo xtask bench`: parse and check
//! every file, once to warm up and then [`ROUNDS`] times, and print each round's time for the
//! xtask to compare with the native criterion figure. The verdicts are asserted too, so a
//! wasm build that answers differently fails rather than reporting a fast wrong figure.
//!
//! `cargo xtask bench` packs the corpus into one bundle (see `xtask/src/main.rs`) and names it
//! in `SYNOD_CORPUS_BUNDLE` at compile time: wasm in Node has no file system of its own.
#![cfg(target_arch = "wasm32")]

use synod_check::{read_history, CheckOptions, ReadOptions, Verdict};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

const BUNDLE: &[u8] = include_bytes!(env!(
    "SYNOD_CORPUS_BUNDLE",
    "build through `cargo xtask bench`, which bundles the corpus"
));

/// Timed rounds after the warm-up.
const ROUNDS: usize = 10;

/// One corpus file: its name, the verdict the corpus gives it, and its bytes.
struct File<'a> {
    name: &'a str,
    linearizable: bool,
    bytes: &'a [u8],
}

/// The bundle is a sequence of records: a header line `NAME VERDICT LENGTH\n` followed by
/// LENGTH bytes of the file.
fn unbundle(mut rest: &[u8]) -> Vec<File<'_>> {
    let mut files = Vec::new();
    while !rest.is_empty() {
        let eol = rest.iter().position(|&b| b == b'\n').expect("header line");
        let header = std::str::from_utf8(&rest[..eol]).expect("UTF-8 header");
        let mut words = header.split(' ');
        let (Some(name), Some(verdict), Some(len), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            panic!("bad bundle header {header:?}");
        };
        let len: usize = len.parse().expect("length");
        let body = &rest[eol + 1..];
        files.push(File {
            name,
            linearizable: verdict == "true",
            bytes: &body[..len],
        });
        rest = &body[len..];
    }
    files
}

fn check_all(files: &[File<'_>]) {
    for f in files {
        let parsed = read_history(f.name, f.bytes, &ReadOptions::default()).expect("parses");
        let verdict = parsed.history.check(&CheckOptions::default()).verdict;
        let want = if f.linearizable {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        assert_eq!(verdict, want, "{}", f.name);
    }
}

#[wasm_bindgen_test]
fn corpus_in_wasm() {
    let files = unbundle(BUNDLE);
    assert!(
        files.len() >= 100,
        "only {} files in the bundle",
        files.len()
    );
    check_all(&files);
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = js_sys::Date::now();
        check_all(&files);
        rounds.push(js_sys::Date::now() - start);
    }
    for ms in &rounds {
        console_log!("synod-wasm-corpus-round-ms {ms} files {}", files.len());
    }
}
