//! Runs `render.py` (Helm's engine, offline) over a list of values files and
//! reads its JSON answer.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use xshell::{cmd, Shell};

/// One chart to render, with the values files to render it with.
pub(crate) struct Suite<'a> {
    pub(crate) chart: &'a str,
    /// A chart copied into `chart`'s `charts/` first (a parent using it).
    pub(crate) subchart: Option<&'a str>,
    pub(crate) release: &'a str,
    pub(crate) namespace: &'a str,
    pub(crate) values: Vec<PathBuf>,
}

#[derive(Deserialize)]
pub(crate) struct Output {
    pub(crate) engine: String,
    pub(crate) results: Vec<Rendered>,
}

/// What Helm made of one values file.
#[derive(Deserialize)]
pub(crate) struct Rendered {
    pub(crate) values: PathBuf,
    pub(crate) stage: Stage,
    pub(crate) error: Option<String>,
    pub(crate) lint: Vec<LintMessage>,
    pub(crate) objects: Vec<RawObject>,
}

/// How far Helm got: schema validation, then template rendering.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stage {
    Ok,
    Schema,
    Render,
}

#[derive(Deserialize)]
pub(crate) struct LintMessage {
    /// 1 info, 2 warning, 3 error; strict lint fails on 2 and up.
    pub(crate) severity: u8,
    pub(crate) path: String,
    pub(crate) message: String,
}

/// One rendered manifest, as Helm's YAML reader turned it into JSON.
#[derive(Deserialize, Clone)]
pub(crate) struct RawObject {
    pub(crate) source: String,
    pub(crate) object: serde_json::Value,
}

pub(crate) fn render(sh: &Shell, root: &Path, suite: &Suite<'_>) -> Result<Output> {
    let python = crate::e2e::python()?;
    let script = root.join("xtask/src/chart/render.py");
    let (chart, release, namespace) = (suite.chart, suite.release, suite.namespace);
    let sub: Vec<&str> = suite
        .subchart
        .map(|s| vec!["--subchart", s])
        .unwrap_or_default();
    let values = &suite.values;
    let out = cmd!(
        sh,
        "{python} {script} --chart {chart} {sub...} --release {release} --namespace {namespace} {values...}"
    )
    .ignore_status()
    .output()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "render.py failed for {chart}:\n{stderr}\n\
             (Helm's engine, helm-python-sdk, runs in the project's Python environment {python})"
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("render.py output for {chart}"))
}
