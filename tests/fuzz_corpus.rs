//! Replays every file of the fuzz corpus (`fuzz/corpus/<target>/`, seeds and findings) through
//! the fuzz targets' own entry points (`fuzz/src/lib.rs`), so CI checks on stable Rust, without
//! AFL, that none of them panics (or breaks a round trip) again.

#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::Path;

fn replay(target: &str) {
    let targets = fuzz::Targets::new(Path::new(env!("CARGO_MANIFEST_DIR")));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no corpus", dir.display());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let replayed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| targets.run(target, &data)));
        assert!(replayed.is_ok(), "{} panicked", file.display());
    }
}

#[test]
fn every_target_has_a_corpus_and_a_test() {
    assert_eq!(
        fuzz::TARGETS,
        ["callback", "crypto", "scripts", "form_input"]
    );
}

#[test]
fn callback_corpus() {
    replay("callback");
}

#[test]
fn crypto_corpus() {
    replay("crypto");
}

#[test]
fn scripts_corpus() {
    replay("scripts");
}

#[test]
fn form_input_corpus() {
    replay("form_input");
}
