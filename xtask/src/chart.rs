//! `cargo xtask chart`: lint and render `charts/tenuo-authorizer` with Helm's
//! own engine, offline, for a matrix of values files; parse every object into
//! the Kubernetes API types; check its security and availability properties.
//!
//! Values files may start with comment directives:
//! - `# expect: <check>`: the render must fail that check and no other
//!   (every file under `tests/bad/` has one);
//! - `# profile: defaults`: also run the checks of default values;
//! - `# set: PATH=VALUE`: applied on top of the file as `helm --set` would be
//!   (read by `render.py`);
//! - `# checksum-differs-from: <file>`: this file differs from that one (same
//!   directory) only in `config.gateway`, so its pods' `checksum/config` must
//!   differ from that render's (the `checksum-rolls` check);
//! - `# api-versions: GROUP/VERSION,...`: rendered as if the cluster served
//!   these APIs, as `helm template --api-versions` (read by `render.py`);
//! - `# error-contains: TEXT`: with `expect:`, the failure's message must
//!   hold TEXT, so a file fails for the reason it was written for.
//!
//! Besides the renders: the Istio example's gRPC provider is held to the
//! rendered Service (`istio.rs`), the documents' `--set` arguments to shell
//! quoting (`set_quoting.rs`), and the kind workflow to the Helm release
//! whose engine rendered the chart (`workflows.rs`).

mod availability;
mod checks;
mod figures;
mod gateway;
mod istio;
mod objects;
mod render;
mod rollout;
mod security;
mod set_quoting;
#[cfg(test)]
mod tests;
mod workflows;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::Shell;

use crate::project_root;
use render::{Rendered, Stage, Suite};

const CHART: &str = "charts/tenuo-authorizer";
const AGENT_EXAMPLE: &str = "charts/tenuo-authorizer/tests/agent-example";

pub(crate) fn run() -> Result<()> {
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    let suites = [
        Suite {
            chart: CHART,
            subchart: None,
            release: "tenuo-authorizer",
            namespace: "tenuo-system",
            values: values_files(
                &root,
                &[&format!("{CHART}/ci"), &format!("{CHART}/tests/bad")],
            )?,
        },
        // An agent's chart that depends on this one and includes the sidecar
        // snippet: proves the snippet renders a valid, secure container.
        Suite {
            chart: AGENT_EXAMPLE,
            subchart: Some(CHART),
            release: "agent",
            namespace: "agents",
            values: values_files(
                &root,
                &[
                    &format!("{AGENT_EXAMPLE}/ci"),
                    &format!("{AGENT_EXAMPLE}/bad"),
                ],
            )?,
        },
    ];

    let example = std::fs::read_to_string(root.join(istio::EXAMPLE))
        .with_context(|| format!("reading {}", istio::EXAMPLE))?;
    let providers =
        istio::providers(&example).with_context(|| format!("reading {}", istio::EXAMPLE))?;

    let mut rows = Vec::new();
    let mut engine = String::new();
    for suite in &suites {
        let out = render::render(&sh, &root, suite)?;
        println!("{}: rendered with {}", suite.chart, out.engine);
        for r in &out.results {
            rows.push(evaluate(&root, r, &providers)?);
        }
        engine = out.engine;
    }
    compare_pairs(&mut rows)?;
    report(&rows)?;

    workflows::check_helm(&root, &engine)?;
    workflows::check_all(&root)?;

    let unquoted = set_quoting::check(&root)?;
    if !unquoted.is_empty() {
        bail!(
            "documented --set arguments with an unquoted `[` (zsh refuses them, bash may \
             glob them); quote each one, e.g. --set 'config.trustedRoots[0]=KEY':\n  {}",
            unquoted.join("\n  ")
        );
    }
    println!("docs ok: every documented --set with brackets is quoted");
    Ok(())
}

/// The `checksum-rolls` check, on every file naming the render it differs
/// from; at least one pair must exist, or the check would never run.
fn compare_pairs(rows: &mut [Row]) -> Result<()> {
    let sums: BTreeMap<PathBuf, BTreeMap<String, String>> = rows
        .iter()
        .map(|r| (r.file.clone(), r.checksums.clone()))
        .collect();
    let mut pairs = 0;
    for row in rows.iter_mut() {
        let Some(before) = &row.differs_from else {
            continue;
        };
        let Some(before_sums) = sums.get(before) else {
            bail!(
                "{}: checksum-differs-from names {}, which is not in the matrix",
                row.file.display(),
                before.display()
            );
        };
        pairs += 1;
        for v in rollout::compare(before_sums, &row.checksums) {
            fail(row, v.check, format!("{}: {}", v.object, v.message));
        }
    }
    if pairs == 0 {
        bail!("no values file has `# checksum-differs-from:`, so checksum-rolls never ran");
    }
    Ok(())
}

fn values_files(root: &Path, dirs: &[&str]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(root.join(dir)).with_context(|| format!("reading {dir}"))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
    }
    files.sort();
    Ok(files)
}

struct Row {
    file: PathBuf,
    objects: usize,
    expect: Option<String>,
    /// Text the expected failure's message must hold.
    error_contains: Option<String>,
    failed: BTreeSet<&'static str>,
    details: Vec<String>,
    /// `checksum/config` by Deployment name, for `checksum-differs-from`.
    checksums: BTreeMap<String, String>,
    /// The render this one differs from only in `config.gateway`.
    differs_from: Option<PathBuf>,
}

impl Row {
    fn passed(&self) -> bool {
        let reason = self
            .error_contains
            .as_deref()
            .is_none_or(|text| self.details.iter().any(|d| d.contains(text)));
        match &self.expect {
            None => self.failed.is_empty(),
            Some(want) => reason && self.failed.len() == 1 && self.failed.contains(want.as_str()),
        }
    }
}

fn evaluate(root: &Path, r: &Rendered, providers: &[istio::Provider]) -> Result<Row> {
    let text = std::fs::read_to_string(root.join(&r.values))?;
    let directive = |key: &str| {
        text.lines()
            .take_while(|l| l.starts_with('#'))
            .find_map(|l| {
                l.trim_start_matches('#')
                    .trim()
                    .strip_prefix(key)
                    .map(|v| v.trim().to_owned())
            })
    };
    let mut row = Row {
        file: r.values.clone(),
        objects: r.objects.len(),
        expect: directive("expect:"),
        error_contains: directive("error-contains:"),
        failed: BTreeSet::new(),
        details: Vec::new(),
        checksums: BTreeMap::new(),
        differs_from: directive("checksum-differs-from:").map(|f| {
            let dir = r.values.parent().unwrap_or(Path::new(""));
            dir.join(f)
        }),
    };
    let error = || r.error.clone().unwrap_or_default();
    match r.stage {
        Stage::Schema => fail(&mut row, "schema", error()),
        Stage::Render => fail(&mut row, "render", error()),
        Stage::Ok => {}
    }
    for m in r.lint.iter().filter(|m| m.severity >= 2) {
        fail(&mut row, "lint", format!("{}: {}", m.path, m.message));
    }
    let mut typed = Vec::new();
    for raw in &r.objects {
        match objects::parse(raw) {
            Ok(t) => typed.push(t),
            Err(e) => fail(&mut row, "typed", e),
        }
    }
    if row.failed.contains("typed") {
        return Ok(row); // the property checks would see an incomplete set
    }
    row.checksums = rollout::checksums(&checks::pods(&typed));
    let defaults = directive("profile:").as_deref() == Some("defaults");
    let mut violations = checks::run_all(&typed, defaults);
    let gateway = checks::pods(&typed).iter().any(|p| p.gateway);
    istio::check(&typed, providers, defaults && gateway, &mut violations);
    for v in violations {
        fail(&mut row, v.check, format!("{}: {}", v.object, v.message));
    }
    Ok(row)
}

fn fail(row: &mut Row, check: &'static str, detail: String) {
    row.failed.insert(check);
    row.details.push(format!("[{check}] {detail}"));
}

fn report(rows: &[Row]) -> Result<()> {
    let width = rows
        .iter()
        .map(|r| r.file.display().to_string().len())
        .max()
        .unwrap_or(0);
    println!("\n{:width$}  objects  result", "values file");
    for r in rows {
        let failed: Vec<&str> = r.failed.iter().copied().collect();
        let result = match (&r.expect, r.passed()) {
            (None, true) => "pass".to_owned(),
            (Some(want), true) => format!("fails as expected: {want}"),
            (None, false) => format!("FAILED: {}", failed.join(", ")),
            (Some(want), false) => match &r.error_contains {
                Some(text) if failed == [want.as_str()] => {
                    format!("WRONG: failed {want}, but no message holds {text:?}")
                }
                _ => format!("WRONG: expected {want}, got [{}]", failed.join(", ")),
            },
        };
        println!("{:width$}  {:>7}  {result}", r.file.display(), r.objects);
        if !r.passed() || std::env::var_os("VERBOSE").is_some() {
            for d in &r.details {
                println!("{:width$}           {d}", "");
            }
        }
    }

    // Every check must be shown able to fail, by a bad values file or a unit test.
    let proven: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.passed())
        .filter_map(|r| r.expect.as_deref())
        .collect();
    let unproven: Vec<&str> = checks::CHECKS
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !proven.contains(id) && !checks::UNIT_TESTED.contains(id))
        .collect();
    let bad = rows.iter().filter(|r| !r.passed()).count();
    let (good, expected) = (
        rows.iter().filter(|r| r.expect.is_none()).count(),
        proven.len(),
    );
    println!(
        "\n{} checks; {expected} shown failing by bad values, {} by unit tests",
        checks::CHECKS.len(),
        checks::UNIT_TESTED.len()
    );
    println!("{} passed, {bad} failed", rows.len() - bad);
    if bad > 0 {
        bail!(
            "{bad} of {} renders did not give the expected result",
            rows.len()
        );
    }
    if !unproven.is_empty() {
        bail!("no bad values file or unit test shows these checks failing: {unproven:?}");
    }
    println!("chart ok: {good} renders pass, every check shown able to fail");
    Ok(())
}
