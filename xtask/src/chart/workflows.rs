//! What the CI workflows promise about the chart and the gates: the kind job
//! installs the Helm release whose engine `cargo xtask chart` checked the chart
//! with; every workflow cancels a run that a newer push superseded; the
//! loadtest gate runs once per push (in `.ci/run`, nowhere else).

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The workflow that installs Helm for the kind cluster.
pub(crate) const KIND_WORKFLOW: &str = ".github/workflows/e2e-kind.yml";

/// The Helm version in a `helm-vX.Y.Z-linux-amd64.tar.gz` download, if any.
pub(crate) fn installed_helm(workflow: &str) -> Option<&str> {
    let start = workflow.find("helm-v")? + "helm-v".len();
    let rest = &workflow[start..];
    let end = rest.find("-linux-amd64.tar.gz")?;
    let version = &rest[..end];
    let numeric = version.split('.').count() == 3
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric.then_some(version)
}

/// The Helm version in the engine line `render.py` prints, e.g.
/// `helm-python-sdk 0.2.2 (Helm v4.2.3)` or `helm binary (Helm v4.2.3+g...)`.
pub(crate) fn engine_helm(engine: &str) -> Option<&str> {
    let start = engine.find("(Helm v")? + "(Helm v".len();
    let rest = &engine[start..];
    let end = rest.find([')', '+'])?;
    Some(&rest[..end])
}

/// The kind workflow must install the Helm that rendered the chart here.
pub(crate) fn check_helm(root: &Path, engine: &str) -> Result<()> {
    let text = std::fs::read_to_string(root.join(KIND_WORKFLOW))
        .with_context(|| format!("reading {KIND_WORKFLOW}"))?;
    let Some(installed) = installed_helm(&text) else {
        bail!("{KIND_WORKFLOW}: no helm-vX.Y.Z-linux-amd64.tar.gz download found");
    };
    let Some(rendered) = engine_helm(engine) else {
        bail!("cannot tell the Helm version of the engine {engine:?}");
    };
    if installed != rendered {
        bail!(
            "{KIND_WORKFLOW} installs Helm v{installed}, but the chart was rendered and \
             checked with Helm v{rendered} ({engine}): install the same release there"
        );
    }
    println!("kind workflow installs Helm v{installed}, the engine the chart was checked with");
    Ok(())
}

/// Every workflow under `.github/workflows/`, by file name, parsed.
pub(crate) fn read_all(root: &Path) -> Result<Vec<(String, Value)>> {
    let dir = root.join(".github/workflows");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value: Value = serde_norway::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            out.push((name.into_owned(), value));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// [`problems`] of every workflow, as one error.
pub(crate) fn check_all(root: &Path) -> Result<()> {
    let all = read_all(root)?;
    let found: Vec<String> = all.iter().flat_map(|(n, w)| problems(n, w)).collect();
    if !found.is_empty() {
        bail!("CI workflows:\n  {}", found.join("\n  "));
    }
    println!(
        "workflows ok: {} cancel superseded runs, none repeats the loadtest gate",
        all.len()
    );
    Ok(())
}

/// Every `run:` script of a parsed workflow, with its job's name.
fn run_steps(workflow: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(jobs) = workflow["jobs"].as_object() {
        for (name, job) in jobs {
            for step in job["steps"].as_array().into_iter().flatten() {
                if let Some(run) = step["run"].as_str() {
                    out.push((name.clone(), run.to_owned()));
                }
            }
        }
    }
    out
}

/// What is wrong with one workflow on its own: no `concurrency` group keyed
/// by workflow and ref that cancels in progress, or a loadtest run of its own.
pub(crate) fn problems(name: &str, workflow: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let c = &workflow["concurrency"];
    if c["group"].as_str() != Some("${{ github.workflow }}-${{ github.ref }}")
        || c["cancel-in-progress"].as_bool() != Some(true)
    {
        out.push(format!(
            "{name}: needs concurrency {{group: ${{{{ github.workflow }}}}-${{{{ github.ref }}}}, \
             cancel-in-progress: true}}"
        ));
    }
    for (job, run) in run_steps(workflow) {
        if run.contains("tenuo-loadtest") {
            out.push(format!(
                "{name}: job {job} runs tenuo-loadtest, which .ci/run already runs: \
                 the gate would run twice per push"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflows() -> Vec<(String, Value)> {
        read_all(&crate::project_root()).expect("the workflows")
    }

    #[test]
    fn every_workflow_cancels_superseded_runs_and_none_repeats_the_gate() {
        let all = workflows();
        assert!(all.len() >= 2, "the tests and e2e-kind workflows");
        let found: Vec<String> = all.iter().flat_map(|(n, w)| problems(n, w)).collect();
        assert_eq!(found, Vec::<String>::new());
    }

    /// The gate runs once per push: one workflow step runs `.ci/run`, which
    /// runs the gated smoke once, and uploads its report whether or not it passed.
    #[test]
    fn the_gate_runs_once_and_its_report_is_kept() {
        let all = workflows();
        let ci_runs: Vec<&str> = all
            .iter()
            .flat_map(|(n, w)| run_steps(w).into_iter().map(move |(_, r)| (n, r)))
            .filter(|(_, r)| r.contains(".ci/run"))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(ci_runs, ["tests.yml"]);
        let script =
            std::fs::read_to_string(crate::project_root().join(".ci/run")).expect(".ci/run");
        let gated = script
            .lines()
            .filter(|l| l.contains("--baseline loadtest/baselines/ci.json"))
            .count();
        assert_eq!(gated, 1, ".ci/run runs the gate once");

        let (_, tests) = all
            .iter()
            .find(|(n, _)| n == "tests.yml")
            .expect("tests.yml");
        let steps = tests["jobs"]["ci"]["steps"].as_array().expect("steps");
        let upload = steps
            .iter()
            .find(|s| s["with"]["name"] == "loadtest-report")
            .expect("a loadtest-report upload");
        assert_eq!(upload["if"], "always()");
        assert_eq!(upload["with"]["path"], "target/loadtest");
    }

    #[test]
    fn a_workflow_without_concurrency_or_with_its_own_gate_is_reported() {
        let yaml =
            "jobs:\n  gate:\n    steps:\n      - run: cargo run -p tenuo-loadtest -- --smoke\n";
        let w: Value = serde_norway::from_str(yaml).expect("YAML");
        assert_eq!(problems("loadtest.yml", &w).len(), 2);
        let keep = "concurrency: {group: x, cancel-in-progress: true}\n";
        let w: Value = serde_norway::from_str(keep).expect("YAML");
        assert_eq!(problems("x.yml", &w).len(), 1, "the group must be per ref");
    }

    #[test]
    fn helm_versions_are_read_from_the_download_and_the_engine() {
        let text = std::fs::read_to_string(crate::project_root().join(KIND_WORKFLOW))
            .expect("the kind workflow");
        assert_eq!(installed_helm(&text), Some("4.2.3"));
        assert_eq!(
            installed_helm("get helm-v3.18.4-linux-amd64.tar.gz"),
            Some("3.18.4")
        );
        assert_eq!(installed_helm("helm-vX-linux-amd64.tar.gz"), None);
        assert_eq!(
            engine_helm("helm-python-sdk 0.2.2 (Helm v4.2.3)"),
            Some("4.2.3")
        );
        assert_eq!(
            engine_helm("helm binary (Helm v4.2.3+g1a2b3c4)"),
            Some("4.2.3")
        );
        assert_eq!(engine_helm("helm binary"), None);
    }
}
