//! `cargo xtask perf`: the instruction-count regression gate.
//!
//! Runs `authz/benches/instructions.rs` under gungraun (Callgrind), compares each
//! scenario with `authz/benches/instructions-baseline.json`, prints the table
//! (scenario, baseline, now, delta) and appends it to the CI job summary. Any
//! scenario more than 2% over its baseline (or its own recorded limit) fails the
//! gate, as does a scenario that is new or lost. Counts repeat for the same
//! binary and input, so the gate does not flake the way wall-clock gates do.
//!
//! The counts also depend on the compiler and on the CPU features Valgrind
//! reports, so the baseline records that environment. On another environment the
//! committed counts cannot be compared; with `--fallback-base REV` the gate then
//! measures REV on this machine and compares against that instead.

mod baseline;
mod bench;
mod gate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::project_root;
use baseline::Baseline;

const USAGE: &str = "cargo xtask perf [--update-baseline] [--inject SCENARIO] [--runs N] \
[--fallback-base REV] [--summary-file PATH] | cargo xtask perf --prove";

const BASELINE: &str = "authz/benches/instructions-baseline.json";

struct Options {
    update: bool,
    prove: bool,
    inject: Option<String>,
    runs: usize,
    fallback_base: Option<String>,
    summary: Option<PathBuf>,
}

fn options(args: impl Iterator<Item = String>) -> Result<Options> {
    let mut options = Options {
        update: false,
        prove: false,
        inject: None,
        runs: 1,
        fallback_base: None,
        summary: std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{arg} needs a value: {USAGE}"))
        };
        match arg.as_str() {
            "--update-baseline" => options.update = true,
            "--prove" => options.prove = true,
            "--inject" => options.inject = Some(value()?),
            "--runs" => {
                options.runs = value()?
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .context("--runs needs a whole number of at least 1")?
            }
            "--fallback-base" => options.fallback_base = Some(value()?),
            "--summary-file" => options.summary = Some(value()?.into()),
            other => bail!("unknown perf argument {other}: {USAGE}"),
        }
    }
    if options.update && options.inject.is_some() {
        bail!("--update-baseline with --inject would record the injected regression");
    }
    Ok(options)
}

pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<()> {
    let options = options(args)?;
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    let target = crate::e2e::target_dir(&root);
    let environment = bench::environment(&sh, bench::valgrind_version(&sh)?)?;
    let runner = bench::runner(&sh, &target)?;
    if options.prove {
        let baseline = Baseline::load(&root.join(BASELINE))?;
        return prove(&sh, &root, &runner, &baseline, environment);
    }

    let runs = (0..options.runs)
        .map(|_| bench::measure(&sh, &root, &runner, options.inject.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    let measured = median(&runs);
    if options.runs > 1 {
        println!("{}", spread(&runs));
    }

    let path = root.join(BASELINE);
    if options.update {
        let old = if path.exists() {
            Baseline::load(&path)?
        } else {
            Baseline::empty()
        };
        old.updated(&measured, environment).save(&path)?;
        println!("recorded {} scenarios in {BASELINE}", measured.len());
        return Ok(());
    }

    let committed = Baseline::load(&path)?;
    let (reference, against) = match &committed.environment {
        Some(recorded) if *recorded == environment => (committed.clone(), BASELINE.to_owned()),
        recorded => {
            let why = format!(
                "{BASELINE} was recorded in {recorded:?}; this machine is {environment:?}, \
                 and instruction counts are comparable only in the same environment"
            );
            let Some(rev) = &options.fallback_base else {
                bail!("{why}. Record it here with --update-baseline, or pass --fallback-base REV");
            };
            eprintln!("{why}: comparing against {rev} measured on this machine instead");
            let counts = measure_at(&sh, &target, &runner, rev)?;
            let base = committed.updated(&counts, environment.clone());
            (base, format!("{rev} (measured here)"))
        }
    };

    let rows = gate::judge(&reference, &measured);
    let table = gate::render(&rows);
    let heading = match &options.inject {
        Some(scenario) => {
            format!("instruction counts against {against}, one SHA-256 injected into {scenario}")
        }
        None => format!("instruction counts against {against}"),
    };
    println!("{heading}\n\n{table}");
    if let Some(summary) = &options.summary {
        crate::summary::append(summary, &heading, &table)
            .with_context(|| format!("writing the summary to {}", summary.display()))?;
    }
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict.fails())
        .map(|r| r.scenario.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "instruction-count gate failed for {}; if the change is deliberate, rerun with \
             --update-baseline and commit {BASELINE}",
            failed.join(", ")
        );
    }
    Ok(())
}

/// The scenario `--prove` injects a regression into.
const PROVE_SCENARIO: &str = "allow/cached_3";

/// Runs of unchanged code `--prove` compares.
const PROVE_RUNS: usize = 5;

/// Spread allowed between runs of a scenario the baseline marks as varying
/// (random batch coefficients), in percent.
const VARYING_SPREAD_PERCENT: f64 = 1.0;

/// Spread allowed between runs of every other scenario, in instructions: a cache
/// lookup compares the clock with the entry's expiry, and which branch that takes
/// depends on the time it is.
const REPEATABLE_SPREAD_INSTRUCTIONS: u64 = 64;

/// `--prove`: the gate's own demonstration, on this machine. Five runs of
/// unchanged code agree; one SHA-256 injected into [`PROVE_SCENARIO`] fails the
/// gate for that scenario and no other; without it the gate passes.
fn prove(
    sh: &Shell,
    root: &Path,
    runner: &Path,
    baseline: &Baseline,
    environment: baseline::Environment,
) -> Result<()> {
    let runs = (0..PROVE_RUNS)
        .map(|_| bench::measure(sh, root, runner, None))
        .collect::<Result<Vec<_>>>()?;
    println!("{}", spread(&runs));
    for name in runs[0].keys() {
        let counts: Vec<u64> = runs.iter().filter_map(|r| r.get(name).copied()).collect();
        let (min, max) = (counts.iter().min(), counts.iter().max());
        let (Some(&min), Some(&max)) = (min, max) else {
            continue;
        };
        let spread = (max - min) as f64 * 100.0 / min.max(1) as f64;
        let varies = baseline.scenarios.get(name).and_then(|s| s.varies.as_ref());
        let repeatable = match varies {
            Some(_) => spread <= VARYING_SPREAD_PERCENT,
            None => max - min <= REPEATABLE_SPREAD_INSTRUCTIONS,
        };
        if counts.len() != runs.len() || !repeatable {
            bail!("{name} is not repeatable: {counts:?}, a spread of {spread:.3}%");
        }
    }
    let unchanged = median(&runs);
    // Gated against this machine's own unchanged runs, so the proof holds in any
    // environment; the per-scenario limits are the baseline's.
    let reference = baseline.updated(&unchanged, environment);
    let injected = bench::measure(sh, root, runner, Some(PROVE_SCENARIO))?;
    let rows = gate::judge(&reference, &injected);
    println!(
        "one SHA-256 injected into {PROVE_SCENARIO}:\n\n{}",
        gate::render(&rows)
    );
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict.fails())
        .map(|r| r.scenario.as_str())
        .collect();
    if failed != [PROVE_SCENARIO] {
        bail!("the injected regression should fail {PROVE_SCENARIO} alone; the gate failed {failed:?}");
    }
    let again = bench::measure(sh, root, runner, None)?;
    let rows = gate::judge(&reference, &again);
    if let Some(row) = rows.iter().find(|r| r.verdict.fails()) {
        bail!(
            "without the injection the gate should pass; it failed {}",
            row.scenario
        );
    }
    println!(
        "proved: {PROVE_RUNS} runs agree; the injected SHA-256 fails {PROVE_SCENARIO} alone; \
         the gate passes again without it"
    );
    Ok(())
}

/// Measures the bench as it is at `rev`, in a detached worktree under target/.
fn measure_at(
    sh: &Shell,
    target: &Path,
    runner: &Path,
    rev: &str,
) -> Result<BTreeMap<String, u64>> {
    let tree = target.join("perf-base");
    if tree.exists() {
        let _ = cmd!(sh, "git worktree remove --force {tree}").quiet().run();
    }
    cmd!(sh, "git worktree add --detach --quiet {tree} {rev}")
        .run()
        .with_context(|| format!("checking out {rev} (a shallow clone may not have it)"))?;
    // A target directory of its own: Cargo fingerprints workspace sources by their
    // path inside the workspace, so building REV into this checkout's target
    // directory would leave REV's artifacts there looking up to date, and the next
    // release build here (the loadtest, say) would link REV's library.
    let _target = sh.push_env("CARGO_TARGET_DIR", target.join("perf-base-build"));
    let counts = bench::measure(sh, &tree, runner, None);
    let _ = cmd!(sh, "git worktree remove --force {tree}").quiet().run();
    counts.with_context(|| format!("measuring {rev}"))
}

/// Per scenario, the median of the runs' counts.
fn median(runs: &[BTreeMap<String, u64>]) -> BTreeMap<String, u64> {
    let mut all: BTreeMap<&String, Vec<u64>> = BTreeMap::new();
    for run in runs {
        for (name, count) in run {
            all.entry(name).or_default().push(*count);
        }
    }
    all.into_iter()
        .map(|(name, mut counts)| {
            counts.sort_unstable();
            (name.clone(), counts[counts.len() / 2])
        })
        .collect()
}

/// Per scenario, the counts of every run and their spread.
fn spread(runs: &[BTreeMap<String, u64>]) -> String {
    let mut out = format!("{} runs:\n", runs.len());
    for name in runs[0].keys() {
        let counts: Vec<u64> = runs.iter().filter_map(|r| r.get(name).copied()).collect();
        let (min, max) = (
            counts.iter().min().copied().unwrap_or(0),
            counts.iter().max().copied().unwrap_or(0),
        );
        let spread = if min == 0 {
            0.0
        } else {
            (max - min) as f64 * 100.0 / min as f64
        };
        let list: Vec<String> = counts.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "  {name:<24} spread {spread:.3}%  {}\n",
            list.join(" ")
        ));
    }
    out
}
