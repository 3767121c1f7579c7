//! The conformance suite: every history in `shared/conformance/porcupine` gets the verdict in its
//! `verdicts.csv` (Porcupine's own test expectations). The files come from the Porcupine
//! repository (MIT licence, see `shared/conformance/porcupine/LICENSE.md`).

mod common;

use common::{check_file, conformance_dir, verdicts};
use synod_check::{CheckOptions, Verdict};

#[test]
fn every_conformance_file_gets_its_porcupine_verdict() {
    let dir = conformance_dir();
    let expected = verdicts(&dir);
    assert_eq!(expected.len(), 108, "verdicts.csv should list 108 files");
    let mut wrong = Vec::new();
    let (mut linearizable, mut illegal) = (0, 0);
    for (file, want) in &expected {
        let result = check_file(&dir, file, &CheckOptions::default());
        let want_verdict = if *want {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        if result.verdict != want_verdict {
            wrong.push(format!(
                "{file}: expected {want_verdict:?}, got {:?}",
                result.verdict
            ));
        }
        if result.verdict == Verdict::Linearizable {
            linearizable += 1;
        } else {
            illegal += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} conformance files disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Both kinds must occur, so the test cannot pass by saying the same thing every time.
    assert!(
        linearizable > 10 && illegal > 10,
        "{linearizable} linearizable, {illegal} not"
    );
}

#[test]
fn the_empty_etcd_history_is_linearizable() {
    let dir = conformance_dir();
    let result = check_file(&dir, "jepsen/etcd_095.log", &CheckOptions::default());
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.steps, 0);
}
