//! The fuzz targets' inputs replayed on stable (issue 12, part 6): every
//! file under `tests/fuzz/<target>/` (a few seeds, and each input a fuzzer
//! found to crash, hang or exhaust memory) goes through the very function
//! its `cargo fuzz` target calls, included from `fuzz/src/lib.rs`, and must
//! return, without a panic, within a time bound.

#[path = "../fuzz/src/lib.rs"]
mod cases;

use std::path::Path;
use std::time::{Duration, Instant};

/// Longest one input may take in a debug build: the fuzzers run each with
/// a 10 s timeout in release; nothing saved takes near a second.
const BOUND: Duration = Duration::from_secs(10);

/// Replays every file of `tests/fuzz/<target>/`; there must be some.
fn replay(target: &str, case: Case) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let started = Instant::now();
        // The hook has printed the panic; this names the input.
        if std::panic::catch_unwind(|| case(&data)).is_err() {
            panic!("{} made the {target} target panic", file.display());
        }
        let took = started.elapsed();
        assert!(took < BOUND, "{} took {took:?}", file.display());
    }
}

/// A fuzz target's body.
type Case = fn(&[u8]);

/// Each target's function, by the name of its folder.
const TARGETS: [(&str, Case); 6] = [
    ("tiff", cases::tiff),
    ("pmtiles", cases::pmtiles),
    ("mbtiles", cases::mbtiles),
    ("gpkg_wkb", cases::gpkg_wkb),
    ("mvt_encode", cases::mvt_encode),
    ("request", cases::request),
];

#[test]
fn every_saved_fuzz_input_is_read_without_a_panic_or_a_500_in_bounded_time() {
    for (target, case) in TARGETS {
        replay(target, case);
    }
}
