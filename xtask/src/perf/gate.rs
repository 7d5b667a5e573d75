//! The gate's judgement: measured instruction counts against the baseline, one
//! row per scenario, rendered for the terminal and the CI job summary.

use std::collections::BTreeMap;

use super::baseline::Baseline;

/// What became of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within its limit.
    Ok,
    /// Fewer instructions than the limit allows in the other direction: fine, but
    /// the baseline should be lowered so later regressions are measured from here.
    Improved,
    /// Over its limit: the gate fails.
    Regressed,
    /// Measured, not in the baseline: the gate fails until it is recorded.
    New,
    /// In the baseline, not measured: the gate fails (a scenario was lost).
    Missing,
}

impl Verdict {
    pub(crate) fn fails(self) -> bool {
        matches!(self, Verdict::Regressed | Verdict::New | Verdict::Missing)
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Improved => "improved (update the baseline)",
            Verdict::Regressed => "REGRESSED",
            Verdict::New => "NEW (no baseline)",
            Verdict::Missing => "MISSING (not measured)",
        }
    }
}

/// One scenario's line of the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) baseline: Option<u64>,
    pub(crate) now: Option<u64>,
    pub(crate) limit_percent: f64,
    pub(crate) verdict: Verdict,
}

impl Row {
    /// Change from the baseline in percent, when both counts exist.
    pub(crate) fn delta_percent(&self) -> Option<f64> {
        match (self.baseline, self.now) {
            (Some(base), Some(now)) if base > 0 => {
                Some((now as f64 - base as f64) * 100.0 / base as f64)
            }
            _ => None,
        }
    }
}

/// Compares `measured` (scenario -> instructions) with `baseline`.
pub(crate) fn judge(baseline: &Baseline, measured: &BTreeMap<String, u64>) -> Vec<Row> {
    let mut names: Vec<&String> = baseline.scenarios.keys().chain(measured.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let recorded = baseline.scenarios.get(name);
            let limit_percent = baseline.limit_percent(name);
            let base = recorded.map(|s| s.instructions);
            let now = measured.get(name).copied();
            let mut row = Row {
                scenario: name.clone(),
                baseline: base,
                now,
                limit_percent,
                verdict: Verdict::Ok,
            };
            row.verdict = match (base, now) {
                (None, _) => Verdict::New,
                (_, None) => Verdict::Missing,
                (Some(_), Some(_)) => match row.delta_percent() {
                    Some(delta) if delta > limit_percent => Verdict::Regressed,
                    Some(delta) if delta < -limit_percent => Verdict::Improved,
                    _ => Verdict::Ok,
                },
            };
            row
        })
        .collect()
}

/// The table for the terminal (aligned text; also used inside the summary's
/// code block, so both read the same).
pub(crate) fn render(rows: &[Row]) -> String {
    let count = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), group_thousands);
    let lines: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                count(r.baseline),
                count(r.now),
                r.delta_percent().map_or_else(
                    || "-".to_owned(),
                    |d| format!("{d:+.2}% (limit {:.0}%)", r.limit_percent),
                ),
                r.verdict.label().to_owned(),
            ]
        })
        .collect();
    let header = ["scenario", "baseline", "now", "delta", "verdict"].map(String::from);
    let mut widths = [0usize; 5];
    for line in std::iter::once(&header).chain(&lines) {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in std::iter::once(&header).chain(&lines) {
        let cells: Vec<String> = line
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                if i == 0 || i == 4 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf::baseline::{Recorded, DEFAULT_LIMIT_PERCENT};

    fn baseline(entries: &[(&str, u64, Option<f64>)]) -> Baseline {
        let mut b = Baseline::empty();
        for (name, instructions, limit) in entries {
            b.scenarios.insert(
                (*name).to_owned(),
                Recorded {
                    instructions: *instructions,
                    max_regression_percent: *limit,
                    why: limit.map(|_| "test".to_owned()),
                    varies: None,
                },
            );
        }
        b
    }

    fn measured(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
        entries.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    }

    fn verdicts(rows: &[Row]) -> Vec<(&str, Verdict)> {
        rows.iter()
            .map(|r| (r.scenario.as_str(), r.verdict))
            .collect()
    }

    #[test]
    fn a_scenario_over_two_percent_fails_and_is_named() {
        let rows = judge(
            &baseline(&[
                ("allow/cached_3", 100_000, None),
                ("deny/pop", 50_000, None),
            ]),
            &measured(&[("allow/cached_3", 102_001), ("deny/pop", 50_000)]),
        );
        assert_eq!(
            verdicts(&rows),
            [
                ("allow/cached_3", Verdict::Regressed),
                ("deny/pop", Verdict::Ok)
            ]
        );
        let table = render(&rows);
        let line = table
            .lines()
            .find(|l| l.starts_with("allow/cached_3"))
            .unwrap();
        assert_eq!(
            line.split_whitespace().collect::<Vec<_>>(),
            [
                "allow/cached_3",
                "100,000",
                "102,001",
                "+2.00%",
                "(limit",
                "2%)",
                "REGRESSED"
            ]
        );
    }

    #[test]
    fn exactly_at_the_limit_passes_and_a_large_drop_asks_for_a_new_baseline() {
        let rows = judge(
            &baseline(&[("a", 100_000, None), ("b", 100_000, None)]),
            &measured(&[("a", 102_000), ("b", 90_000)]),
        );
        assert_eq!(
            verdicts(&rows),
            [("a", Verdict::Ok), ("b", Verdict::Improved)]
        );
        assert!(!rows.iter().any(|r| r.verdict.fails()));
    }

    #[test]
    fn a_per_scenario_limit_overrides_the_default() {
        let rows = judge(
            &baseline(&[("noisy", 100_000, Some(5.0)), ("tight", 100_000, None)]),
            &measured(&[("noisy", 104_000), ("tight", 104_000)]),
        );
        assert_eq!(
            verdicts(&rows),
            [("noisy", Verdict::Ok), ("tight", Verdict::Regressed)]
        );
        assert_eq!(rows[1].limit_percent, DEFAULT_LIMIT_PERCENT);
    }

    #[test]
    fn new_and_lost_scenarios_fail() {
        let rows = judge(
            &baseline(&[("kept", 10, None), ("lost", 10, None)]),
            &measured(&[("kept", 10), ("added", 10)]),
        );
        assert_eq!(
            verdicts(&rows),
            [
                ("added", Verdict::New),
                ("kept", Verdict::Ok),
                ("lost", Verdict::Missing)
            ]
        );
        assert_eq!(rows.iter().filter(|r| r.verdict.fails()).count(), 2);
    }
}
