//! The kind backend: a cluster from `e2e/kind/cluster.yaml` (pinned node
//! image), the image built and loaded, `helm upgrade --install --wait`, the
//! control plane deployed from k8s-openapi objects, the suite run from the
//! host through NodePorts (kind maps them to 127.0.0.1), pod logs and events
//! dumped on failure, the cluster deleted unless `--keep`.

mod manifests;
mod target;

use std::path::Path;

use anyhow::{bail, Result};
use tenuo_e2e::Report;
use xshell::{cmd, Shell};

pub(crate) const CLUSTER: &str = "tenuo-e2e";
pub(crate) const IMAGE: &str = "tenuo/authorizer:e2e";

/// docker (with a running daemon), kind, helm and kubectl, or a clear error.
pub(crate) fn preflight(sh: &Shell) -> Result<()> {
    let mut missing = Vec::new();
    for tool in ["docker", "kind", "helm", "kubectl"] {
        if cmd!(sh, "which {tool}")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_err()
        {
            missing.push(format!("{tool}: not on PATH"));
        }
    }
    if !missing.iter().any(|m| m.starts_with("docker"))
        && cmd!(sh, "docker info")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_err()
    {
        missing.push(
            "docker: the CLI is installed but no Docker engine answers (`docker info` fails)"
                .into(),
        );
    }
    if !missing.is_empty() {
        bail!(
            "cargo xtask e2e (kind) cannot run here:\n  {}\n\n\
             Install what is missing (https://kind.sigs.k8s.io/docs/user/quick-start/), \
             or run the same scenarios offline, without Docker:\n  cargo xtask e2e --backend local",
            missing.join("\n  ")
        );
    }
    Ok(())
}

pub(crate) fn run(sh: &Shell, root: &Path, keep: bool) -> Result<Report> {
    let config = root.join("e2e/kind/cluster.yaml");
    let dockerfile = root.join("e2e/kind/Dockerfile");
    cmd!(sh, "docker build -f {dockerfile} -t {IMAGE} .").run()?;
    let _ = cmd!(sh, "kind delete cluster --name {CLUSTER}")
        .quiet()
        .ignore_stderr()
        .run();
    cmd!(
        sh,
        "kind create cluster --name {CLUSTER} --config {config} --wait 120s"
    )
    .run()?;
    let result = (|| -> Result<Report> {
        cmd!(sh, "kind load docker-image {IMAGE} --name {CLUSTER}").run()?;
        let mut t = target::KindTarget::new(sh, root)?;
        let report = tenuo_e2e::run_suite(&mut t);
        if report.as_ref().map_or(true, |r| r.counts().1 > 0) {
            eprintln!("{}", tenuo_e2e::Target::diagnostics(&t));
        }
        report
    })();
    if keep {
        println!("keeping cluster {CLUSTER} (kind delete cluster --name {CLUSTER})");
    } else {
        let _ = cmd!(sh, "kind delete cluster --name {CLUSTER}").run();
    }
    result
}
