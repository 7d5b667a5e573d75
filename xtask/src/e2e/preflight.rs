//! What each backend needs on this machine, checked before anything is
//! built, with the fix in the message. kind: docker (a running engine, and
//! BuildKit through buildx: e2e/kind/Dockerfile's cache mounts need it), kind,
//! helm (major version 4, the one the chart is checked with), kubectl and jq;
//! the agents run in the cluster, so no Python. local: jq, and the project's
//! Python environment with the reference SDK (the agents) and Helm's engine
//! (rendering), made under `target/` on first use; one that cannot be made is
//! an error, never a skipped scenario, in CI or not. jq runs
//! the guide's log filters in the denial scenarios, on either backend.

use anyhow::{bail, Result};
use xshell::{cmd, Shell};

use super::python;

/// The tools of the kind path, with the versions CI pins.
const KIND_TOOLS: [(&str, &str); 5] = [
    ("docker", "Docker Engine or Docker Desktop, running"),
    ("kind", "kind v0.29.0"),
    ("helm", HELM),
    ("kubectl", "kubectl v1.33"),
    ("jq", JQ),
];
/// The Helm release that `cargo xtask chart` renders with (the engine inside
/// helm-python-sdk 0.2.2) and that the kind workflow installs: the cluster
/// must install the chart with the engine that checked it.
const HELM: &str = "Helm v4.2.3";
const HELM_MAJOR: u64 = 4;
/// What to install for jq.
const JQ: &str = "jq, e.g. `apt-get install jq` or `brew install jq`";

fn on_path(sh: &Shell, tool: &str) -> bool {
    cmd!(sh, "which {tool}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Whether `docker ARGS` succeeds.
fn docker_ok(sh: &Shell, args: &[&str]) -> bool {
    cmd!(sh, "docker {args...}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// docker (with an engine answering, and buildx), kind, helm, kubectl and
/// jq, or an error naming each missing one and the offline alternative.
pub(crate) fn kind(sh: &Shell) -> Result<()> {
    let mut missing = Vec::new();
    for (tool, what) in KIND_TOOLS {
        if !on_path(sh, tool) {
            missing.push(format!("{tool}: not on PATH (install {what})"));
        } else if tool == "docker" && !docker_ok(sh, &["info"]) {
            missing.push(
                "docker: the CLI is installed but no engine answers (`docker info` fails): \
                 start Docker, or check that this user may use its socket"
                    .to_owned(),
            );
        } else if tool == "helm" {
            let version = cmd!(sh, "helm version --short")
                .quiet()
                .ignore_stderr()
                .read()
                .unwrap_or_default();
            if let Some(problem) = helm_major_problem(&version) {
                missing.push(problem);
            }
        } else if tool == "docker" && !docker_ok(sh, &["buildx", "version"]) {
            missing.push(
                "docker buildx: `docker buildx version` fails, and e2e/kind/Dockerfile needs \
                 BuildKit (its `RUN --mount=type=cache` keeps the compiled crates across \
                 runs): install the buildx plugin (docker-buildx-plugin, or Docker Desktop)"
                    .to_owned(),
            );
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "cargo xtask e2e (kind) cannot run here:\n  {}\n\n\
         Install what is missing (https://kind.sigs.k8s.io/docs/user/quick-start/), \
         or run the same scenarios offline, on local processes started from the chart \
         (it needs jq, and Python 3 with its venv module):\n  cargo xtask e2e --backend local",
        missing.join("\n  "),
    )
}

/// Why `helm version --short` output (`v4.2.3+g...`) is not the Helm the chart
/// is checked with, or `None` when its major version is right.
fn helm_major_problem(version: &str) -> Option<String> {
    let shown = version.trim();
    let major = shown
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u64>().ok());
    match major {
        Some(HELM_MAJOR) => None,
        Some(_) => Some(format!(
            "helm: {shown} is on PATH, but the chart is rendered and checked with Helm \
             {HELM_MAJOR} (install {HELM}, the release CI installs and `cargo xtask chart` \
             renders with)"
        )),
        None => Some(format!(
            "helm: `helm version --short` printed {shown:?}, not a version; install {HELM}"
        )),
    }
}

/// jq, and the project's Python environment (made now if it is not yet).
pub(crate) fn local(sh: &Shell) -> Result<()> {
    if !on_path(sh, "jq") {
        bail!(
            "cargo xtask e2e --backend local needs jq on PATH (the denial scenarios run the \
             guide's log filters): install {JQ}"
        );
    }
    python()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::helm_major_problem;

    #[test]
    fn helm_must_be_major_version_4() {
        assert_eq!(helm_major_problem("v4.2.3+g8f8c8a1\n"), None);
        assert_eq!(helm_major_problem("v4.3.0"), None);
        let old = helm_major_problem("v3.18.4+gd80839c").expect("Helm 3 refused");
        assert!(
            old.contains("v3.18.4") && old.contains("Helm v4.2.3"),
            "{old}"
        );
        assert!(helm_major_problem("v5.0.0").is_some());
        assert!(helm_major_problem("").is_some());
        assert!(helm_major_problem("version.BuildInfo{}").is_some());
    }
}
