//! `cargo xtask fuzz [--seconds N] [--target NAME]... [--jobs J] [--list]`:
//! builds the cargo-fuzz harness in `fuzz/` (libFuzzer, `--sanitizer none`,
//! debug assertions on; this works on the stable toolchain), runs each target
//! for N seconds on its working corpus plus the committed seeds and
//! regressions, and prints executions, coverage and crashes per target.
//! Fails when a target crashed; the crashing input is kept under
//! `<target dir>/fuzz/artifacts/<target>/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::project_root;

/// The targets, as `fuzz/Cargo.toml` declares them.
const TARGETS: [&str; 8] = [
    "decode",
    "pop_header",
    "constraints",
    "gateway_config",
    "extract",
    "differential",
    "cbor_value",
    "approvals_header",
];

struct Options {
    seconds: u64,
    targets: Vec<String>,
    jobs: usize,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>> {
    let mut options = Options {
        seconds: 60,
        targets: Vec::new(),
        jobs: 1,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--seconds" => options.seconds = value("a number of seconds")?.parse()?,
            "--target" => {
                let name = value("a target name")?;
                if !TARGETS.contains(&name.as_str()) {
                    bail!("unknown target {name}; targets: {}", TARGETS.join(", "));
                }
                options.targets.push(name);
            }
            "--jobs" => options.jobs = value("a number")?.parse::<usize>()?.max(1),
            "--list" => {
                println!("{}", TARGETS.join("\n"));
                return Ok(None);
            }
            other => bail!(
                "unknown fuzz argument {other}: cargo xtask fuzz [--seconds N] [--target NAME]... [--jobs J] [--list]"
            ),
        }
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok(Some(options))
}

pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<()> {
    let Some(options) = parse(args)? else {
        return Ok(());
    };
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(root.join("fuzz"));
    preflight(&sh)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("fuzz");
    println!("== building the fuzz targets (cargo fuzz build --sanitizer none --debug-assertions)");
    cmd!(
        sh,
        "cargo fuzz build --sanitizer none --debug-assertions --target-dir {target_dir}"
    )
    .run()
    .context("cargo fuzz build failed")?;
    let bin_dir = target_dir.join(host_triple(&sh)?).join("release");

    let mut results = Vec::new();
    for batch in options.targets.chunks(options.jobs) {
        println!("== fuzzing {} for {} s", batch.join(", "), options.seconds);
        let running: Vec<(String, Child, PathBuf)> = batch
            .iter()
            .map(|target| {
                spawn(&root, &bin_dir, &target_dir, target, options.seconds)
                    .map(|(child, log)| (target.clone(), child, log))
            })
            .collect::<Result<_>>()?;
        for (target, mut child, log) in running {
            let status = child.wait()?;
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let artifacts = artifacts(&target_dir, &target);
            results.push(Figures::parse(&target, &text, status.success(), artifacts));
        }
    }

    println!(
        "\n{:<16} {:>6} {:>12} {:>9} {:>7} {:>8} {:>7} {:>8}",
        "target", "secs", "execs", "exec/s", "cov", "ft", "corpus", "crashes"
    );
    for f in &results {
        println!(
            "{:<16} {:>6} {:>12} {:>9} {:>7} {:>8} {:>7} {:>8}",
            f.target,
            options.seconds,
            f.execs,
            f.exec_per_sec,
            f.cov,
            f.ft,
            f.corpus,
            f.crashes.len()
        );
    }
    let crashed: Vec<&Figures> = results.iter().filter(|f| !f.ok).collect();
    if crashed.is_empty() {
        println!("\nno crash. Logs: {}", target_dir.join("logs").display());
        return Ok(());
    }
    for f in &crashed {
        eprintln!("\n{} crashed; inputs:", f.target);
        for a in &f.crashes {
            eprintln!("  {}", a.display());
        }
        eprintln!(
            "  reproduce: {} <input>\n  then copy the input to fuzz/regressions/{}/<what-it-found> (replayed by `cargo test -p tenuo-fuzz-targets`)",
            bin_dir.join(&f.target).display(),
            f.target
        );
    }
    bail!("{} target(s) crashed", crashed.len())
}

fn preflight(sh: &Shell) -> Result<()> {
    if cmd!(sh, "cargo fuzz --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        bail!(
            "cargo-fuzz is not installed. Install it with `cargo install cargo-fuzz` \
             (stable works: the targets are built with --sanitizer none; a C++ toolchain \
             is needed to build libFuzzer)."
        );
    }
    Ok(())
}

fn host_triple(sh: &Shell) -> Result<String> {
    let info = cmd!(sh, "rustc -vV").quiet().read()?;
    info.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV names no host")
}

/// Starts one target for `seconds` on its working corpus (first directory,
/// where new inputs go) and the committed seeds and regressions.
fn spawn(
    root: &Path,
    bin_dir: &Path,
    target_dir: &Path,
    target: &str,
    seconds: u64,
) -> Result<(Child, PathBuf)> {
    let corpus = target_dir.join("corpus").join(target);
    let artifacts = target_dir.join("artifacts").join(target);
    let logs = target_dir.join("logs");
    for dir in [&corpus, &artifacts, &logs] {
        std::fs::create_dir_all(dir)?;
    }
    let log = logs.join(format!("{target}.log"));
    let out = std::fs::File::create(&log)?;
    let mut command = Command::new(bin_dir.join(target));
    command
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        // A single input running this long, or this much memory, is a finding.
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg(&corpus);
    for committed in ["seeds", "regressions"] {
        let dir = root.join("fuzz").join(committed).join(target);
        if dir.is_dir() {
            command.arg(dir);
        }
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", bin_dir.join(target).display()))?;
    Ok((child, log))
}

fn artifacts(target_dir: &Path, target: &str) -> Vec<PathBuf> {
    std::fs::read_dir(target_dir.join("artifacts").join(target))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// What libFuzzer reported for one run.
struct Figures {
    target: String,
    ok: bool,
    execs: String,
    exec_per_sec: String,
    cov: String,
    ft: String,
    corpus: String,
    crashes: Vec<PathBuf>,
}

impl Figures {
    fn parse(target: &str, log: &str, ok: bool, crashes: Vec<PathBuf>) -> Self {
        let stat = |name: &str| {
            log.lines()
                .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
                .map_or("?".to_owned(), |v| v.trim().to_owned())
        };
        // The last status line: "#N  DONE/pulse  cov: X ft: Y corp: Z/..".
        let status = log
            .lines()
            .rev()
            .find(|l| l.contains(" cov: "))
            .unwrap_or("");
        let after = |key: &str| {
            status
                .split_whitespace()
                .skip_while(|w| *w != key)
                .nth(1)
                .map_or("?".to_owned(), |v| {
                    v.split('/').next().unwrap_or(v).to_owned()
                })
        };
        Self {
            target: target.to_owned(),
            ok: ok && crashes.is_empty(),
            execs: stat("number_of_executed_units"),
            exec_per_sec: stat("average_exec_per_sec"),
            cov: after("cov:"),
            ft: after("ft:"),
            corpus: after("corp:"),
            crashes,
        }
    }
}
