//! The terminal table: per target, each scenario and overall (requests/s, p50,
//! p90, p99, p99.9, max, errors), the decision counts, and with two targets the
//! ratio of each figure.

use std::fmt::Write;

use super::format_us;
use super::json::{Machine, Report, Row};

fn header(out: &mut String) {
    let _ = writeln!(
        out,
        "  {:<14} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>6}",
        "scenario", "requests", "req/s", "p50", "p90", "p99", "p99.9", "max", "errors", "unexp"
    );
}

fn line(out: &mut String, row: &Row) {
    let _ = writeln!(
        out,
        "  {:<14} {:>9} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>6}",
        row.name,
        row.requests,
        row.rps,
        format_us(row.p50_us),
        format_us(row.p90_us),
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
            "  {:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "scenario", "req/s", "p50", "p90", "p99", "p99.9", "max"
        );
        for r in &report.ratios {
            let _ = writeln!(
                out,
                "  {:<14} {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x",
                r.name, r.rps, r.p50, r.p90, r.p99, r.p999, r.max
            );
        }
    }
    out
}
