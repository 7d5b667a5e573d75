//! The kind backend: the images built (the authorizer from the root
//! Dockerfile, the e2e tools and the Python SDK agent), a cluster from
//! `e2e/kind/cluster.yaml` (pinned node image), the images loaded, `helm
//! upgrade --install --wait`, the control plane, agents and ingress deployed
//! from k8s-openapi objects, the suite run from the host through NodePorts
//! (kind maps them to 127.0.0.1). On any failure after the cluster exists
//! (loading, setup, a scenario) the pods' logs and events are printed and
//! kind's node logs exported; the cluster is deleted unless `--keep`.

mod diagnostics;
mod manifests;
mod pods;
mod target;

use std::path::Path;

use anyhow::{Context, Result};
use tenuo_e2e::agents::AGENT_IMAGE;
use tenuo_e2e::Report;
use xshell::{cmd, Shell};

pub(crate) const CLUSTER: &str = "tenuo-e2e";
/// The reference control plane and the ingress (e2e/kind/Dockerfile).
pub(crate) const E2E_IMAGE: &str = "tenuo/e2e:e2e";

/// An image the run builds and loads into the cluster.
pub(crate) struct Image {
    pub(crate) dockerfile: &'static str,
    pub(crate) context: &'static str,
    pub(crate) tag: &'static str,
}

/// The product image as shipped (the chart runs it), the e2e tools, the agent.
pub(crate) const IMAGES: [Image; 3] = [
    Image {
        dockerfile: "Dockerfile",
        context: ".",
        tag: "tenuo/authorizer:e2e",
    },
    Image {
        dockerfile: "e2e/kind/Dockerfile",
        context: ".",
        tag: E2E_IMAGE,
    },
    Image {
        dockerfile: "e2e/agent/Dockerfile",
        context: "e2e/agent",
        tag: AGENT_IMAGE,
    },
];

pub(crate) fn run(sh: &Shell, root: &Path, keep: bool) -> Result<Report> {
    for image in &IMAGES {
        let (file, context, tag) = (root.join(image.dockerfile), image.context, image.tag);
        // BuildKit even where the environment opts out of it: the e2e
        // image's cache mounts need it (the preflight checked buildx).
        cmd!(sh, "docker build -f {file} -t {tag} {context}")
            .env("DOCKER_BUILDKIT", "1")
            .run()
            .with_context(|| format!("building {tag}"))?;
    }
    let config = root.join("e2e/kind/cluster.yaml");
    let _ = cmd!(sh, "kind delete cluster --name {CLUSTER}")
        .quiet()
        .ignore_stderr()
        .run();
    let result = cmd!(
        sh,
        "kind create cluster --name {CLUSTER} --config {config} --wait 120s"
    )
    .run()
    .context("creating the kind cluster")
    .and_then(|()| {
        let tags = IMAGES.iter().map(|i| i.tag);
        cmd!(sh, "kind load docker-image {tags...} --name {CLUSTER}")
            .run()
            .context("loading the images into kind")?;
        let mut t = target::KindTarget::new(sh, root).context("preparing the cluster")?;
        tenuo_e2e::run_suite(&mut t)
    });
    if result.as_ref().map_or(true, |r| r.counts().1 > 0) {
        dump(sh, root);
    }
    if keep {
        println!("keeping cluster {CLUSTER} (kind delete cluster --name {CLUSTER})");
    } else {
        let _ = cmd!(sh, "kind delete cluster --name {CLUSTER}").run();
    }
    result
}

/// Diagnostics on stderr and in `target/e2e-kind-logs/` (with kind's export
/// of the nodes' logs), for CI to keep as an artifact.
fn dump(sh: &Shell, root: &Path) {
    let text = diagnostics::collect(sh, 200);
    eprintln!("--- kind diagnostics ---\n{text}");
    let dir = root.join("target/e2e-kind-logs");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("diagnostics.txt"), &text);
    let exported = cmd!(sh, "kind export logs {dir} --name {CLUSTER}")
        .quiet()
        .ignore_status()
        .ignore_stderr()
        .run();
    if exported.is_ok() {
        eprintln!("node and pod logs: {}", dir.display());
    }
}
