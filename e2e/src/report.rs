//! The summary table.

use std::fmt::Write;
use std::time::Duration;

/// One scenario's outcome.
#[derive(Debug, Clone)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Passed?
    pub passed: bool,
    /// Requests sent to the authorizer.
    pub requests: u64,
    /// Failed allowed requests (or failed checks).
    pub failures: u64,
    /// Wall time.
    pub time: Duration,
    /// Why it failed, or notes.
    pub detail: String,
}

/// Every row, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The rows.
    pub rows: Vec<Row>,
}

impl Report {
    /// Passed and failed counts.
    pub fn counts(&self) -> (usize, usize) {
        let passed = self.rows.iter().filter(|r| r.passed).count();
        (passed, self.rows.len() - passed)
    }

    /// The table, then details of failures, then `N passed, M failed`.
    pub fn render(&self, backend: &str) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| r.scenario.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let mut out = String::new();
        let _ = writeln!(out, "\ne2e ({backend})");
        let _ = writeln!(
            out,
            "{:width$}  result  {:>8}  {:>8}  {:>7}",
            "scenario", "requests", "failures", "time"
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:width$}  {:6}  {:>8}  {:>8}  {:>6.1}s",
                r.scenario,
                if r.passed { "pass" } else { "FAIL" },
                r.requests,
                r.failures,
                r.time.as_secs_f64()
            );
        }
        for r in self.rows.iter().filter(|r| !r.passed) {
            let _ = writeln!(out, "\n{} failed:\n{}", r.scenario, r.detail);
        }
        let (passed, failed) = self.counts();
        let _ = writeln!(out, "\n{passed} passed, {failed} failed");
        out
    }
}
