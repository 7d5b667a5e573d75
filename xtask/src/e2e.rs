//! `cargo xtask e2e [--backend kind|local] [--keep]`: the end-to-end suite
//! (`tenuo-e2e`) on a kind cluster (default) or on local processes started from
//! the chart as Helm renders it; prints the summary table and fails when any
//! scenario failed.

mod kind;
mod local;
mod render;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::project_root;

pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<()> {
    let mut backend = "kind".to_owned();
    let mut keep = false;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => backend = args.next().context("--backend needs kind or local")?,
            "--keep" => keep = true,
            other => bail!(
                "unknown e2e argument {other}: cargo xtask e2e [--backend kind|local] [--keep]"
            ),
        }
    }
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    let report = match backend.as_str() {
        "local" => {
            python_preflight(&sh)?;
            let bins = build_local(&sh, &root)?;
            let mut target = local::LocalTarget::new(&sh, &root, bins)?;
            let report = tenuo_e2e::run_suite(&mut target);
            if report.is_err() {
                eprintln!("{}", tenuo_e2e::Target::diagnostics(&target));
            }
            report?
        }
        "kind" => {
            kind::preflight(&sh)?;
            python_preflight(&sh)?;
            kind::run(&sh, &root, keep)?
        }
        other => bail!("unknown backend {other}: kind or local"),
    };
    println!("{}", report.render(&backend));
    let (_, failed) = report.counts();
    if failed > 0 {
        bail!("{failed} e2e scenario(s) failed");
    }
    Ok(())
}

/// The reference Python SDK (the agent) and Helm's engine (rendering).
fn python_preflight(sh: &Shell) -> Result<()> {
    let python = python();
    let probe = cmd!(sh, "{python} -c 'import tenuo, helm_python'")
        .quiet()
        .ignore_stderr()
        .run();
    if probe.is_err() {
        bail!(
            "e2e needs the Python SDK and Helm's engine:\n  {python} -m pip install tenuo==0.3.3 {}",
            render::PIP_PACKAGE
        );
    }
    Ok(())
}

pub(crate) fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Paths of the binaries the local backend runs.
pub(crate) struct Bins {
    pub(crate) authorizer: PathBuf,
    pub(crate) control_plane: PathBuf,
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Debug builds of `tenuo-authorizer` and the control plane.
/// `TENUO_AUTHORIZER_BIN` uses a prebuilt authorizer instead.
fn build_local(sh: &Shell, root: &Path) -> Result<Bins> {
    let dir = target_dir(root).join("debug");
    let authorizer = match std::env::var_os("TENUO_AUTHORIZER_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => {
            cmd!(
                sh,
                "cargo build --quiet -p tenuo-authz --features server --bin tenuo-authorizer"
            )
            .run()
            .context("building tenuo-authorizer")?;
            dir.join("tenuo-authorizer")
        }
    };
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
