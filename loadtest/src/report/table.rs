//! The terminal table: per target, each scenario and overall (requests/s,
//! server CPU per request, mean, p50, p90, p95, p99, p99.9, max, errors), the
//! decision counts, and with two targets the ratio of each figure. Under each
//! target's name, where its CPU was read from, or why it is unavailable (the
//! column then says `n/a`).

use std::fmt::Write;

use super::json::{Machine, Report, Row};
use super::{format_cpu_us, format_us};

fn header(out: &mut String) {
    let _ = writeln!(
        out,
        "  {:<14} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>6}",
        "scenario",
        "requests",
        "req/s",
        "cpu/req",
        "mean",
        "p50",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "max",
        "errors",
        "unexp"
    );
}

fn line(out: &mut String, row: &Row) {
    let _ = writeln!(
        out,
        "  {:<14} {:>9} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>6}",
        row.name,
        row.requests,
        row.rps,
        format_cpu_us(row.cpu_us_per_request),
        format_us(row.mean_us.round() as u64),
        format_us(row.p50_us),
        format_us(row.p90_us),
        format_us(row.p95_us),
        format_us(row.p99_us),
        format_us(row.p999_us),
        format_us(row.max_us),
        row.error_count,
        row.unexpected
    );
}

fn decisions(out: &mut String, row: &Row) {
    let mut parts = vec![format!("allow {}", row.allow)];
    parts.extend(row.deny.iter().map(|(k, v)| format!("{k} {v}")));
    parts.extend(row.errors.iter().map(|(k, v)| format!("error:{k} {v}")));
    let _ = writeln!(
        out,
        "  {:<14} {}",
        format!("{}:", row.name),
        parts.join(", ")
    );
}

/// `2 cores`, or `load generator on 1 of 2 CPUs` when it was pinned apart.
fn cpu_layout(machine: &Machine) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match machine.online_cpus {
        Some(online) if online > machine.cores => {
            format!("load generator on {} of {online} CPUs", machine.cores)
        }
        _ => format!("{} core{}", machine.cores, plural(machine.cores)),
    }
}

/// The table for every target (and the ratios for a comparison).
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let run = &report.run;
    let load = match (run.users, run.rate) {
        (_, Some(rate)) => {
            format!("open loop at {rate:.0} req/s (latency from intended send time)")
        }
        (Some(users), _) => format!("closed loop, {users} goose users"),
        _ => run.model.clone(),
    };
    let _ = writeln!(
        out,
        "\n{load}; {:.1} s per scenario{}; depth {}, {} distinct cached chains; verify_strict {:.0}/s per core, {}{}",
        run.duration_secs,
        if report.targets.len() > 1 {
            format!(" per target in {} interleaved rounds", run.rounds)
        } else {
            String::new()
        },
        run.depth,
        run.distinct,
        report.machine.verify_strict_per_sec,
        cpu_layout(&report.machine),
        if run.embedded { "; embedded target shares them" } else { "" }
    );
    for target in &report.targets {
        let _ = writeln!(out, "\n{} — {}", target.name, target.url);
        if let Some(source) = &target.cpu_source {
            let _ = writeln!(out, "  server CPU from {source}");
        }
        if let Some(why) = &target.cpu_unavailable {
            let _ = writeln!(out, "  server CPU unavailable: {why}");
        }
        header(&mut out);
        for row in &target.scenarios {
            line(&mut out, row);
        }
        line(&mut out, &target.overall);
        let _ = writeln!(out, "  decisions");
        for row in &target.scenarios {
            decisions(&mut out, row);
        }
    }
    if let [a, b, ..] = report.targets.as_slice() {
        let _ = writeln!(
            out,
            "\n{} / {} (req/s above 1 = {} faster; latency below 1 = {} faster)",
            b.name, a.name, b.name, b.name
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "scenario", "req/s", "cpu/req", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"
        );
        for r in &report.ratios {
            let cpu = r
                .cpu_per_request
                .map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2}x"));
            let _ = writeln!(
                out,
                "  {:<14} {:>8.2}x {:>9} {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x",
                r.name, r.rps, cpu, r.mean, r.p50, r.p90, r.p95, r.p99, r.p999, r.max
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::{Ratio, RunSummary, TargetReport};
    use crate::{Expect, Outcome, Recorder};

    /// A row of 1 µs to 100 µs, one request each: mean 50.5 µs, p95 95 µs.
    fn row(name: &str) -> Row {
        let recorder = Recorder::new(vec![name.into()]);
        for us in 1..=100 {
            recorder.record(0, Duration::from_micros(us), &Outcome::Allow, Expect::Allow);
        }
        Row::from_stats(&recorder.take(Duration::from_secs(1))[0], 10_000.0)
    }

    fn report(targets: usize) -> Report {
        let target = |name: &str| TargetReport {
            name: name.into(),
            url: "http://127.0.0.1:9090".into(),
            scenarios: vec![row("cached")],
            overall: row("overall"),
            cpu_source: None,
            cpu_unavailable: Some("not measured here".into()),
        };
        let ratios = if targets > 1 {
            vec![Ratio {
                name: "cached".into(),
                rps: 1.0,
                cpu_per_request: Some(0.75),
                p50: 1.0,
                p90: 1.0,
                p95: 0.5,
                p99: 1.0,
                p999: 1.0,
                max: 1.0,
                mean: 2.0,
            }]
        } else {
            Vec::new()
        };
        Report {
            tool: "tenuo-loadtest".into(),
            version: "0".into(),
            machine: Machine {
                verify_strict_per_sec: 10_000.0,
                cores: 2,
                online_cpus: None,
            },
            run: RunSummary {
                model: "closed".into(),
                users: Some(4),
                rate: None,
                duration_secs: 1.0,
                rounds: 1,
                depth: 2,
                distinct: 64,
                embedded: true,
            },
            targets: ["ours", "compare"][..targets]
                .iter()
                .map(|n| target(n))
                .collect(),
            ratios,
        }
    }

    /// The cell under `column` in the line starting with `first` (after the
    /// header line that names the columns).
    fn cell(table: &str, header_first: &str, first: &str, column: &str) -> String {
        let lines: Vec<&str> = table.lines().collect();
        let h = lines
            .iter()
            .position(|l| l.split_whitespace().next() == Some(header_first))
            .expect("a header");
        let at = lines[h]
            .split_whitespace()
            .position(|c| c == column)
            .unwrap_or_else(|| panic!("no {column} column in {}", lines[h]));
        let line = lines[h..]
            .iter()
            .find(|l| l.split_whitespace().next() == Some(first))
            .expect("the row");
        line.split_whitespace().nth(at).expect("a cell").to_owned()
    }

    #[test]
    fn the_table_has_mean_and_p95_columns() {
        let r = row("cached");
        assert_eq!(r.p95_us, 95);
        assert!((r.mean_us - 50.5).abs() < 0.01, "{}", r.mean_us);
        let table = render(&report(1));
        assert_eq!(cell(&table, "scenario", "cached", "mean"), "51µs");
        assert_eq!(cell(&table, "scenario", "cached", "p95"), "95µs");
        assert_eq!(cell(&table, "scenario", "cached", "p50"), "50µs");
        assert_eq!(cell(&table, "scenario", "overall", "p99"), "99µs");
    }

    #[test]
    fn the_ratio_table_has_mean_and_p95_columns() {
        let table = render(&report(2));
        let ratios = &table[table.find("compare / ours").expect("ratios")..];
        assert_eq!(cell(ratios, "scenario", "cached", "mean"), "2.00x");
        assert_eq!(cell(ratios, "scenario", "cached", "p95"), "0.50x");
        assert_eq!(cell(ratios, "scenario", "cached", "cpu/req"), "0.75x");
    }

    #[test]
    fn the_table_gives_cpu_per_request_or_says_why_not() {
        let mut report = report(1);
        let table = render(&report);
        assert_eq!(cell(&table, "scenario", "cached", "cpu/req"), "n/a");
        assert!(
            table.contains("server CPU unavailable: not measured here"),
            "{table}"
        );
        let target = &mut report.targets[0];
        target.cpu_source = Some("pid 42".into());
        target.cpu_unavailable = None;
        target.scenarios[0].cpu_us_per_request = Some(38.24);
        target.overall.cpu_us_per_request = Some(412.4);
        let table = render(&report);
        assert!(table.contains("server CPU from pid 42"), "{table}");
        assert!(!table.contains("n/a"), "{table}");
        assert_eq!(cell(&table, "scenario", "cached", "cpu/req"), "38.2µs");
        assert_eq!(cell(&table, "scenario", "overall", "cpu/req"), "412µs");
        // The columns after it stay in place.
        assert_eq!(cell(&table, "scenario", "cached", "p95"), "95µs");
    }
}
