//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use synod_check::{read_history, CheckOptions, CheckResult, Parsed, ReadOptions};

/// `<repo>/../shared/conformance/porcupine`. Missing data is a failure, not a skip: a checker
/// whose conformance suite silently does not run is not tested.
pub fn conformance_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/porcupine"
    ));
    assert!(
        dir.join("verdicts.csv").is_file(),
        "conformance data not found at {}: the repository must be cloned with `shared/` beside it \
         (<repo>/../shared/conformance/porcupine); refusing to skip the conformance suite",
        dir.display()
    );
    dir
}

/// `(relative file, linearizable)` from `verdicts.csv`.
pub fn verdicts(dir: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(dir.join("verdicts.csv")).expect("read verdicts.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (file, verdict) = l.split_once(',').expect("file,linearizable");
            (file.to_owned(), verdict.trim() == "true")
        })
        .collect()
}

pub fn parse_file(dir: &Path, file: &str) -> Parsed {
    let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
    read_history(file, &bytes, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

pub fn check_file(dir: &Path, file: &str, options: &CheckOptions) -> CheckResult {
    parse_file(dir, file).history.check(options)
}
