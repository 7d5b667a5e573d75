//! Replays every committed fuzz input through its target on the stable
//! toolchain: the seed corpora (`fuzz/seeds/<target>/`) and the inputs of every
//! crash found so far (`fuzz/regressions/<target>/`, one file per crash, named
//! after what it found). A crash that comes back fails here.

use std::path::{Path, PathBuf};

use tenuo_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable corpus file");
            (p, bytes)
        })
        .collect()
}

#[test]
fn every_target_has_seeds_and_every_input_passes() {
    for (name, run) in TARGETS {
        let seeds = inputs(&fuzz_dir().join("seeds").join(name));
        assert!(!seeds.is_empty(), "no seeds for {name}");
        let regressions = inputs(&fuzz_dir().join("regressions").join(name));
        for (path, bytes) in seeds.iter().chain(&regressions) {
            let outcome = std::panic::catch_unwind(|| run(bytes));
            assert!(outcome.is_ok(), "{name}: {} fails", path.display());
        }
        eprintln!(
            "{name:<16} {:>4} seeds {:>3} regressions",
            seeds.len(),
            regressions.len()
        );
    }
}

#[test]
fn targets_survive_degenerate_inputs() {
    let big = vec![0xffu8; 300 * 1024];
    let deep = vec![0x81u8; 4096];
    for (_, run) in TARGETS {
        for input in [&[][..], &[0], &[1], &[3, 0x83, 0x01], &big, &deep] {
            run(input);
        }
    }
}

/// The differential seeds are real decisions: both implementations decide them,
/// some are allowed, and they agree (so the target compares something).
#[test]
fn differential_seeds_are_decided_alike_by_both_implementations() {
    use tenuo_fuzz_targets::differential::{ours, theirs, Case};
    let seeds = inputs(&fuzz_dir().join("seeds").join("differential"));
    let (mut compared, mut allowed) = (0, 0);
    for (path, bytes) in &seeds {
        let case = Case::decode(bytes);
        let Some(reference) = theirs(&case) else {
            continue;
        };
        let ours = ours(&case);
        compared += 1;
        if ours.is_ok() {
            allowed += 1;
        }
        assert_eq!(
            ours.is_ok(),
            reference.is_ok(),
            "{}: {ours:?} vs {reference:?}",
            path.display()
        );
    }
    assert!(
        compared >= seeds.len() / 2,
        "{compared} of {} compared",
        seeds.len()
    );
    assert!(allowed >= 5, "only {allowed} allowed seeds");
}
