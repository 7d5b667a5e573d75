//! Running `authz/benches/instructions.rs` under gungraun: the tools it needs
//! (Valgrind, the `gungraun-runner` of the harness's exact version), the run, and
//! its JSON lines read back as scenario -> instructions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use super::baseline::Environment;

/// The harness version: `gungraun` in authz's dev-dependencies is pinned to it,
/// and the runner must match it exactly.
pub(crate) const GUNGRAUN_VERSION: &str = "0.20.0";

/// The variable the bench reads in setup to add one SHA-256 to a scenario.
pub(crate) const INJECT_VAR: &str = "TENUO_PERF_INJECT";

/// CPU features that change which code the measured crates run (curve25519's
/// SIMD backends, SHA extensions), as `/proc/cpuinfo` names them.
const PATH_SELECTING_FEATURES: &[&str] =
    &["avx2", "avx512f", "avx512ifma", "sha_ni", "bmi2", "adx"];

/// Valgrind, or the one error that says how to get it.
pub(crate) fn valgrind_version(sh: &Shell) -> Result<String> {
    cmd!(sh, "valgrind --version")
        .quiet()
        .read()
        .map(|v| v.trim().to_owned())
        .context(
            "valgrind is needed for instruction counts: install it (Debian: apt-get install \
             valgrind); .ci/run does this itself",
        )
}

/// The `gungraun-runner` binary, installed under `target/tools/` on first use.
pub(crate) fn runner(sh: &Shell, target: &Path) -> Result<PathBuf> {
    let root = target.join(format!("tools/gungraun-runner-{GUNGRAUN_VERSION}"));
    let binary = root.join("bin/gungraun-runner");
    if !binary.exists() {
        eprintln!(
            "== installing gungraun-runner {GUNGRAUN_VERSION} into {}",
            root.display()
        );
        let version = format!("={GUNGRAUN_VERSION}");
        cmd!(
            sh,
            "cargo install gungraun-runner --version {version} --locked --quiet --root {root}"
        )
        .run()
        .context("installing gungraun-runner")?;
    }
    Ok(binary)
}

pub(crate) fn environment(sh: &Shell, valgrind: String) -> Result<Environment> {
    let rustc = cmd!(sh, "rustc --version")
        .quiet()
        .read()?
        .trim()
        .to_owned();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap_or_default();
    let cpu_features = PATH_SELECTING_FEATURES
        .iter()
        .filter(|f| flags.contains(f))
        .map(|f| (*f).to_owned())
        .collect();
    Ok(Environment {
        rustc,
        valgrind,
        gungraun: GUNGRAUN_VERSION.to_owned(),
        cpu_features,
    })
}

/// Builds and runs the bench in `workspace`, returning each scenario's count.
/// `inject` names the scenario that gets one extra SHA-256.
pub(crate) fn measure(
    sh: &Shell,
    workspace: &Path,
    runner: &Path,
    inject: Option<&str>,
) -> Result<BTreeMap<String, u64>> {
    let _dir = sh.push_dir(workspace);
    let _runner = sh.push_env("GUNGRAUN_RUNNER", runner);
    // Unset unless injecting: the environment's size shifts the process's memory
    // layout, and with it the allocator's counts by a few hundred instructions.
    let _inject = inject.map(|scenario| sh.push_env(INJECT_VAR, scenario));
    let output = cmd!(
        sh,
        "cargo bench --quiet -p tenuo-authz --bench instructions -- --output-format=json"
    )
    .quiet()
    .ignore_status()
    .output()
    .context("running cargo bench --bench instructions")?;
    if !output.status.success() {
        bail!(
            "the instruction-count bench failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse(&String::from_utf8_lossy(&output.stdout))
}

/// Reads gungraun's JSON lines (one object per benchmark): the scenario is
/// `function/id`, the count is Callgrind's total `Ir`.
pub(crate) fn parse(json_lines: &str) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for line in json_lines
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
    {
        let summary: serde_json::Value =
            serde_json::from_str(line).context("a gungraun summary line is not JSON")?;
        let field = |name: &str| {
            summary[name]
                .as_str()
                .with_context(|| format!("a gungraun summary has no `{name}`: {line}"))
        };
        let scenario = format!("{}/{}", field("function_name")?, field("id")?);
        let instructions = summary["profiles"][0]["data"]["total"]["metrics"]["Ir"]["values"]
            ["new"]
            .as_u64()
            .with_context(|| format!("{scenario}: no Callgrind `Ir` count in {line}"))?;
        if counts.insert(scenario.clone(), instructions).is_some() {
            bail!("scenario {scenario} was reported twice");
        }
    }
    if counts.is_empty() {
        bail!("the bench reported no scenarios (is it the gungraun harness, run with --output-format=json?)");
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_function_id_and_total_instructions() {
        let line = r#"{"function_name":"allow","id":"cached_3","profiles":[{"data":{"total":{"metrics":{"Ir":{"values":{"new":428411}}}}}}]}"#;
        let counts = parse(&format!("noise on stdout\n{line}\n")).unwrap();
        assert_eq!(
            counts,
            BTreeMap::from([("allow/cached_3".to_owned(), 428_411)])
        );
    }

    #[test]
    fn a_line_without_a_count_or_no_lines_at_all_is_an_error() {
        let no_count = r#"{"function_name":"allow","id":"cached_3","profiles":[]}"#;
        assert!(parse(no_count)
            .unwrap_err()
            .to_string()
            .contains("allow/cached_3"));
        assert!(parse("").is_err());
    }
}
