//! The JSON report: per target, per row and overall, with the machine's
//! `verify_strict` rate and the normalised figures the gate compares, and the
//! server CPU per request where it was measured (`null` where not, with the
//! reason under the target). A report is also a baseline (`--baseline FILE`
//! reads one).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::LoadError;
use crate::recorder::ScenarioStats;
use crate::runner::RunResults;

/// The machine a run was measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// `verify_strict` per second on one core.
    pub verify_strict_per_sec: f64,
    /// Logical cores the load generator may run on (its CPU affinity).
    pub cores: usize,
    /// Logical cores online on the machine; more than `cores` when the load
    /// generator was pinned (e.g. `taskset -c 1`) away from the targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_cpus: Option<usize>,
}

/// How the run was configured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// `closed` or `open`.
    pub model: String,
    /// goose users (closed loop).
    pub users: Option<usize>,
    /// Arrivals per second (open loop).
    pub rate: Option<f64>,
    /// Measured seconds per phase and target.
    pub duration_secs: f64,
    /// Interleaved rounds (compare).
    pub rounds: usize,
    /// Chain depth.
    pub depth: usize,
    /// Distinct chains of `cached`.
    pub distinct: usize,
    /// Whether the target was the embedded authorizer (sharing the cores).
    pub embedded: bool,
}

/// One row: a scenario or `overall`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// Scenario name.
    pub name: String,
    /// Requests completed (or failed).
    pub requests: u64,
    /// Measured seconds.
    pub seconds: f64,
    /// Requests per second.
    pub rps: f64,
    /// Server CPU time per request, µs (user plus system; see
    /// [`crate::cpu`]); `null` where it was not measured, and in reports
    /// written before it existed.
    #[serde(default)]
    pub cpu_us_per_request: Option<f64>,
    /// Server CPU time over the row's slices, seconds; `null` where it was not
    /// measured.
    #[serde(default)]
    pub server_cpu_secs: Option<f64>,
    /// Median, µs.
    pub p50_us: u64,
    /// 90th percentile, µs.
    pub p90_us: u64,
    /// 95th percentile, µs. Reports written before it existed (baselines
    /// among them) read as 0.
    #[serde(default)]
    pub p95_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p999_us: u64,
    /// Maximum, µs.
    pub max_us: u64,
    /// Mean, µs.
    pub mean_us: f64,
    /// Allowed.
    pub allow: u64,
    /// Denied by reason.
    pub deny: BTreeMap<String, u64>,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    /// Error total.
    pub error_count: u64,
    /// Decisions opposite to the call's design.
    pub unexpected: u64,
    /// Requests per second divided by `verify_strict` per second.
    pub rps_per_verify: f64,
    /// p99 in units of one `verify_strict` time.
    pub p99_in_verifies: f64,
}

impl Row {
    /// From recorded stats, normalised by `verify_per_sec`.
    pub fn from_stats(stats: &ScenarioStats, verify_per_sec: f64) -> Self {
        let h = &stats.hist;
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        let rps = stats.rps();
        let p99 = q(0.99);
        let verify = verify_per_sec.max(1.0);
        Self {
            name: stats.name.clone(),
            requests: stats.requests(),
            seconds: stats.elapsed.as_secs_f64(),
            rps,
            // From whole nanoseconds, so the JSON reads 32.093, not 32.092999999999996.
            cpu_us_per_request: stats.cpu_per_request().map(|d| d.as_nanos() as f64 / 1e3),
            server_cpu_secs: stats.server_cpu.map(|d| d.as_secs_f64()),
            p50_us: q(0.50),
            p90_us: q(0.90),
            p95_us: q(0.95),
            p99_us: p99,
            p999_us: q(0.999),
            max_us: if h.is_empty() { 0 } else { h.max() },
            mean_us: if h.is_empty() { 0.0 } else { h.mean() },
            allow: stats.allow,
            deny: stats.deny.clone(),
            errors: stats.errors.clone(),
            error_count: stats.error_count(),
            unexpected: stats.unexpected,
            rps_per_verify: rps / verify,
            p99_in_verifies: p99 as f64 * verify / 1e6,
        }
    }
}

/// One target's rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetReport {
    /// `ours`, `target` or `compare`.
    pub name: String,
    /// Base URL.
    pub url: String,
    /// Per scenario row.
    pub scenarios: Vec<Row>,
    /// All rows merged.
    pub overall: Row,
    /// Where the server CPU was read, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_source: Option<String>,
    /// Why the server CPU is `n/a` (in some rows or all), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_unavailable: Option<String>,
}

/// Second target's figure over the first's, per row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ratio {
    /// Row name.
    pub name: String,
    /// Throughput ratio.
    pub rps: f64,
    /// Server CPU per request ratio, where both targets' was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_per_request: Option<f64>,
    /// p50 ratio.
    pub p50: f64,
    /// p90 ratio.
    pub p90: f64,
    /// p95 ratio (0 in reports written before it existed).
    #[serde(default)]
    pub p95: f64,
    /// p99 ratio.
    pub p99: f64,
    /// p99.9 ratio.
    pub p999: f64,
    /// max ratio.
    pub max: f64,
    /// mean ratio (0 in reports written before it existed).
    #[serde(default)]
    pub mean: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if a > 0.0 {
        b / a
    } else {
        0.0
    }
}

impl Ratio {
    fn of(a: &Row, b: &Row) -> Self {
        Self {
            name: a.name.clone(),
            rps: ratio(a.rps, b.rps),
            cpu_per_request: match (a.cpu_us_per_request, b.cpu_us_per_request) {
                (Some(a), Some(b)) if a > 0.0 => Some(b / a),
                _ => None,
            },
            p50: ratio(a.p50_us as f64, b.p50_us as f64),
            p90: ratio(a.p90_us as f64, b.p90_us as f64),
            p95: ratio(a.p95_us as f64, b.p95_us as f64),
            p99: ratio(a.p99_us as f64, b.p99_us as f64),
            p999: ratio(a.p999_us as f64, b.p999_us as f64),
            max: ratio(a.max_us as f64, b.max_us as f64),
            mean: ratio(a.mean_us, b.mean_us),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `tenuo-loadtest`.
    pub tool: String,
    /// Harness version.
    pub version: String,
    /// The machine.
    pub machine: Machine,
    /// The configuration.
    pub run: RunSummary,
    /// Per target.
    pub targets: Vec<TargetReport>,
    /// `compare` over the first target, per row and overall (compare runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratios: Vec<Ratio>,
}

impl Report {
    /// Summarises `results`.
    pub fn build(results: &RunResults, machine: Machine, run: RunSummary) -> Self {
        let verify = machine.verify_strict_per_sec;
        let targets: Vec<TargetReport> = results
            .targets
            .iter()
            .map(|t| TargetReport {
                name: t.name.clone(),
                url: t.url.clone(),
                scenarios: t.rows().map(|r| Row::from_stats(r, verify)).collect(),
                overall: Row::from_stats(&t.overall(), verify),
                cpu_source: t.cpu_source.clone(),
                cpu_unavailable: t.cpu_unavailable.clone(),
            })
            .collect();
        let ratios = match targets.as_slice() {
            [a, b, ..] => a
                .scenarios
                .iter()
                .zip(&b.scenarios)
                .chain(std::iter::once((&a.overall, &b.overall)))
                .map(|(x, y)| Ratio::of(x, y))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            tool: "tenuo-loadtest".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            machine,
            run,
            targets,
            ratios,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a report (or baseline) file.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, e))?;
        serde_json::from_str(&text).map_err(|source| LoadError::Json {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    use super::Report;

    /// The committed CI baseline loads, whatever columns were added since.
    #[test]
    fn the_committed_baseline_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines/ci.json");
        let report = Report::load(&path).expect("the CI baseline loads");
        assert!(!report.targets[0].scenarios.is_empty());
    }

    /// A report written before p95 (and the mean ratio) existed reads them as 0.
    #[test]
    fn a_report_without_p95_reads_it_as_zero() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines/ci.json");
        let text = std::fs::read_to_string(&path).expect("the baseline");
        let mut old: Value = serde_json::from_str(&text).expect("JSON");
        let mut rows = 0;
        let mut strip = |row: &mut Value| {
            row.as_object_mut().expect("a row").remove("p95_us");
            rows += 1;
        };
        for target in old["targets"].as_array_mut().expect("targets") {
            for row in target["scenarios"].as_array_mut().expect("rows") {
                strip(row);
            }
            strip(&mut target["overall"]);
        }
        assert!(rows > 0);
        let report: Report = serde_json::from_value(old).expect("an old report loads");
        assert!(report.targets[0].scenarios.iter().all(|r| r.p95_us == 0));
        assert_eq!(report.targets[0].overall.p95_us, 0);
    }
}
