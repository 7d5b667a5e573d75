//! Renders the chart with Helm's engine (`xtask/src/chart/render.py`, as
//! `cargo xtask chart` does) for one values file.

use std::path::Path;

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

/// The rendered objects (JSON), or the engine's error.
pub(crate) fn render(sh: &Shell, root: &Path, values: &Path) -> Result<Vec<serde_json::Value>> {
    let python = super::python()?;
    let script = root.join("xtask/src/chart/render.py");
    let (release, namespace) = (tenuo_e2e::RELEASE, tenuo_e2e::NAMESPACE);
    let out = cmd!(
        sh,
        "{python} {script} --chart charts/tenuo-authorizer --release {release} --namespace {namespace} {values}"
    )
    .quiet()
    .ignore_status()
    .output()?;
    if !out.status.success() {
        bail!(
            "render.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("render.py output")?;
    let result = &v["results"][0];
    if result["stage"] != "ok" {
        bail!(
            "the chart did not render ({}): {}",
            result["stage"],
            result["error"]
        );
    }
    Ok(result["objects"]
        .as_array()
        .map(|objs| objs.iter().map(|o| o["object"].clone()).collect())
        .unwrap_or_default())
}
