//! The regression gate and the exit statuses: a baseline far above the run
//! fails with the gate's own status (3, not a failed run's 1 nor bad
//! arguments' 2), the committed `baselines/ci.json` passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use tenuo_loadtest::gate;
use tenuo_loadtest::report::Report;

/// The bound `.ci/run` uses.
const CI_BOUND_PCT: &str = "50";

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines/ci.json")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The smoke run of `.ci/run`, gated against `baseline`, in up to `attempts` runs.
fn smoke(baseline: &Path, out: &Path, attempts: u32) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenuo-loadtest"))
        .args(["--gate-attempts", &attempts.to_string()])
        .args([
            "--smoke",
            "--quiet",
            "--max-regression",
            CI_BOUND_PCT,
            "--baseline",
        ])
        .arg(baseline)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.code(), stdout)
}

#[test]
fn committed_baseline_is_a_smoke_report() {
    let baseline = Report::load(&committed()).unwrap();
    let names: Vec<&str> = baseline.targets[0]
        .scenarios
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["cached", "deny", "cold"]);
    assert!(baseline.machine.verify_strict_per_sec > 0.0);
    // A run equal to the baseline passes; one at a tenth of its throughput fails.
    assert!(gate::check(&baseline, &committed(), &baseline, 50.0)
        .unwrap()
        .passed());
    let mut slow = baseline.clone();
    for row in slow.targets[0].scenarios.iter_mut() {
        row.rps_per_verify /= 10.0;
    }
    let verdict = gate::check(&baseline, &committed(), &slow, 50.0).unwrap();
    assert!(!verdict.passed(), "{}", verdict.render());
}

#[test]
fn baseline_far_above_fails_the_run() {
    let mut far = Report::load(&committed()).unwrap();
    let target = &mut far.targets[0];
    for row in target
        .scenarios
        .iter_mut()
        .chain(std::iter::once(&mut target.overall))
    {
        row.rps_per_verify *= 100.0;
        row.p99_in_verifies /= 100.0;
    }
    let dir = scratch("gate-far-above");
    let path = dir.join("far-above.json");
    std::fs::write(&path, far.to_json()).unwrap();
    let (code, stdout) = smoke(&path, &dir, 1);
    assert_eq!(
        code,
        Some(3),
        "a baseline 100x above must fail the gate, with the gate's status"
    );
    assert!(stdout.contains("regression gate (bound 50 %): FAIL"));
}

/// Throughput depends on the build: the committed baseline is a release run.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "release only: cargo test --release -p tenuo-loadtest --test gate"
)]
fn committed_baseline_passes() {
    let dir = scratch("gate-committed");
    let (code, stdout) = smoke(&committed(), &dir, 2);
    assert_eq!(code, Some(0), "the committed baseline must pass:\n{stdout}");
    assert!(stdout.contains("PASS"));
}

/// Bad arguments exit 2 before any load, with the reason; not the gate's 3.
#[test]
fn a_bad_duration_exits_2_naming_the_problem() {
    for (arg, reason) in [
        ("0s", "zero"),
        ("-30s", "negative"),
        ("soon", "not a number"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_tenuo-loadtest"))
            .args(["--duration", arg])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "--duration {arg}: {stderr}");
        assert!(
            stderr.contains("--duration") && stderr.contains(reason),
            "--duration {arg}: {stderr}"
        );
    }
}
