//! The regression gate: this run against a baseline report.
//!
//! For every scenario in both and `overall`, throughput per verify
//! (requests/s ÷ the machine's `verify_strict`/s) must not fall by more than
//! `max_regression_pct`; nor may the overall p99 in verify-times rise by more.
//! Per-scenario p99s are reported but do not fail the gate: over a smoke's
//! 2-second phases on a shared 2-core runner a single scheduling stall moves
//! them by 100 % and more, while the overall p99 (all phases) holds. Because both
//! figures are ratios to the machine's own signature speed, a baseline
//! recorded on one machine holds on another. A run with any error or any
//! decision opposite to the call's design fails regardless.
//!
//! ```
//! use tenuo_loadtest::gate;
//! let check = gate::Check::higher_is_better("cached", "throughput/verify", 0.30, 0.25, 10.0);
//! assert!(!check.passed); // fell 16.7 % > 10 %
//! ```

use std::fmt::Write;
use std::path::Path;

use crate::error::LoadError;
use crate::report::{Report, Row};

/// One comparison.
#[derive(Debug, Clone)]
pub struct Check {
    /// Scenario row.
    pub scenario: String,
    /// What was compared.
    pub metric: &'static str,
    /// Baseline value.
    pub baseline: f64,
    /// This run's value.
    pub current: f64,
    /// Change in the bad direction, percent (negative = better).
    pub regression_pct: f64,
    /// Within the bound.
    pub passed: bool,
    /// Whether a failure fails the gate (otherwise reported only).
    pub gating: bool,
}

impl Check {
    /// A figure that should not fall (throughput).
    pub fn higher_is_better(
        scenario: &str,
        metric: &'static str,
        baseline: f64,
        current: f64,
        max_pct: f64,
    ) -> Self {
        Self::with_worsening(
            scenario,
            metric,
            baseline,
            current,
            max_pct,
            baseline - current,
        )
    }

    /// A figure that should not rise (latency).
    pub fn lower_is_better(
        scenario: &str,
        metric: &'static str,
        baseline: f64,
        current: f64,
        max_pct: f64,
    ) -> Self {
        Self::with_worsening(
            scenario,
            metric,
            baseline,
            current,
            max_pct,
            current - baseline,
        )
    }

    /// A gating check whose regression is `worsening` as a share of the baseline.
    fn with_worsening(
        scenario: &str,
        metric: &'static str,
        baseline: f64,
        current: f64,
        max_pct: f64,
        worsening: f64,
    ) -> Self {
        let regression_pct = if baseline > 0.0 {
            worsening / baseline * 100.0
        } else {
            0.0
        };
        Self {
            scenario: scenario.to_owned(),
            metric,
            baseline,
            current,
            regression_pct,
            passed: regression_pct <= max_pct,
            gating: true,
        }
    }

    fn zero(scenario: &str, metric: &'static str, current: u64) -> Self {
        Self {
            scenario: scenario.to_owned(),
            metric,
            baseline: 0.0,
            current: current as f64,
            regression_pct: 0.0,
            passed: current == 0,
            gating: true,
        }
    }
}

/// The gate's findings.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Every comparison made.
    pub checks: Vec<Check>,
    /// The bound, percent.
    pub max_regression_pct: f64,
}

impl Verdict {
    /// Whether every gating check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed || !c.gating)
    }

    /// A table of the checks.
    pub fn render(&self) -> String {
        let mut out = format!(
            "\nregression gate (bound {:.0} %): {}\n",
            self.max_regression_pct,
            if self.passed() { "PASS" } else { "FAIL" }
        );
        for c in &self.checks {
            let _ = writeln!(
                out,
                "  {:<4} {:<12} {:<18} baseline {:>12.5}  now {:>12.5}  regression {:>7.1} %",
                match (c.passed, c.gating) {
                    (true, _) => "ok",
                    (false, true) => "FAIL",
                    (false, false) => "info",
                },
                c.scenario,
                c.metric,
                c.baseline,
                c.current,
                c.regression_pct
            );
        }
        out
    }
}

fn compare_rows(checks: &mut Vec<Check>, base: &Row, now: &Row, pct: f64, gate_p99: bool) {
    checks.push(Check::higher_is_better(
        &now.name,
        "throughput/verify",
        base.rps_per_verify,
        now.rps_per_verify,
        pct,
    ));
    let mut p99 = Check::lower_is_better(
        &now.name,
        "p99 in verifies",
        base.p99_in_verifies,
        now.p99_in_verifies,
        pct,
    );
    p99.gating = gate_p99;
    checks.push(p99);
}

/// Compares the first target of `current` with the first of `baseline`.
pub fn check(
    baseline: &Report,
    baseline_path: &Path,
    current: &Report,
    max_regression_pct: f64,
) -> Result<Verdict, LoadError> {
    let mismatch = || LoadError::BaselineMismatch(baseline_path.to_path_buf());
    let base = baseline.targets.first().ok_or_else(mismatch)?;
    let now = current.targets.first().ok_or_else(mismatch)?;
    let mut checks = Vec::new();
    for row in &now.scenarios {
        if let Some(b) = base.scenarios.iter().find(|b| b.name == row.name) {
            compare_rows(&mut checks, b, row, max_regression_pct, false);
        }
    }
    if checks.is_empty() {
        return Err(mismatch());
    }
    compare_rows(
        &mut checks,
        &base.overall,
        &now.overall,
        max_regression_pct,
        true,
    );
    checks.push(Check::zero("overall", "errors", now.overall.error_count));
    checks.push(Check::zero("overall", "unexpected", now.overall.unexpected));
    Ok(Verdict {
        checks,
        max_regression_pct,
    })
}
