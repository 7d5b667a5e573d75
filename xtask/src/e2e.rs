//! `cargo xtask e2e [--backend kind|local] [--keep] [--summary-file PATH]`:
//! the end-to-end suite (`tenuo-e2e`) on a kind cluster (default) or on local
//! processes started from the chart as Helm renders it; prints the summary
//! table, appends it to `PATH` (default: `$GITHUB_STEP_SUMMARY`, when set) as
//! Markdown, and fails when any scenario failed.

mod kind;
mod local;
mod preflight;
mod render;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tenuo_e2e::Report;
use xshell::{cmd, Shell};

pub(crate) use local::Process;

use crate::project_root;

const USAGE: &str = "cargo xtask e2e [--backend kind|local] [--keep] [--summary-file PATH]";

pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<()> {
    let mut backend = "kind".to_owned();
    let mut keep = false;
    let mut summary = std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => backend = args.next().context("--backend needs kind or local")?,
            "--keep" => keep = true,
            "--summary-file" => {
                summary = Some(args.next().context("--summary-file needs a path")?.into())
            }
            other => bail!("unknown e2e argument {other}: {USAGE}"),
        }
    }
    if backend != "kind" && backend != "local" {
        bail!("unknown backend {backend}: kind or local");
    }
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    let outcome = if backend == "local" {
        run_local(&sh, &root)
    } else {
        preflight::kind(&sh).and_then(|()| kind::run(&sh, &root, keep))
    };
    let table = match &outcome {
        Ok(report) => report.render(&backend),
        Err(e) => format!("\ne2e ({backend}) did not run to the end:\n{e:#}\n"),
    };
    if let Some(path) = &summary {
        crate::summary::append(path, &format!("e2e ({backend})"), &table)
            .with_context(|| format!("writing the summary to {}", path.display()))?;
    }
    let report = outcome?;
    println!("{table}");
    let (_, failed) = report.counts();
    if failed > 0 {
        bail!("{failed} e2e scenario(s) failed");
    }
    Ok(())
}

fn run_local(sh: &Shell, root: &Path) -> Result<Report> {
    preflight::local(sh)?;
    let bins = build_local(sh, root)?;
    let mut target = local::LocalTarget::new(sh, root, bins)?;
    let report = tenuo_e2e::run_suite(&mut target);
    if report.is_err() {
        eprintln!("{}", tenuo_e2e::Target::diagnostics(&target));
    }
    report
}

/// The Python with the reference SDK (the agents) and Helm's engine (rendering):
/// the project's virtual environment under `target/`, made on first use
/// (`tenuo-pyenv`), or the error that says what to install.
pub(crate) fn python() -> Result<String> {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(python) = PYTHON.get() {
        return Ok(python.display().to_string());
    }
    let python = tenuo_pyenv::python_in(&target_dir(&project_root()))
        .context("provisioning the Python environment (the SDK agents and Helm's engine)")?;
    Ok(PYTHON.get_or_init(|| python).display().to_string())
}

/// Paths of the binaries the local backend runs.
pub(crate) struct Bins {
    pub(crate) authorizer: PathBuf,
    pub(crate) control_plane: PathBuf,
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// A debug build of `tenuo-authorizer`, or the prebuilt one
/// `TENUO_AUTHORIZER_BIN` names.
pub(crate) fn authorizer_bin(sh: &Shell, root: &Path) -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("TENUO_AUTHORIZER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    cmd!(
        sh,
        "cargo build --quiet -p tenuo-authz --features server --bin tenuo-authorizer"
    )
    .run()
    .context("building tenuo-authorizer")?;
    Ok(target_dir(root).join("debug").join("tenuo-authorizer"))
}

/// Debug builds of `tenuo-authorizer` and the control plane.
/// `TENUO_AUTHORIZER_BIN` uses a prebuilt authorizer instead.
fn build_local(sh: &Shell, root: &Path) -> Result<Bins> {
    let dir = target_dir(root).join("debug");
    let authorizer = authorizer_bin(sh, root)?;
    cmd!(
        sh,
        "cargo build --quiet -p tenuo-e2e --features control-plane --bin control-plane"
    )
    .run()
    .context("building the control plane")?;
    Ok(Bins {
        authorizer,
        control_plane: dir.join("control-plane"),
    })
}
