//! The latency percentile plot, as a self-contained SVG: latency (log scale)
//! against percentile on the usual HDR axis (0 %, 90 %, 99 %, 99.9 %, ...:
//! log of 1/(1-p)), one line per scenario, dashed for the compared target; the
//! legend gives each line's server CPU per request, or `n/a` where it was not
//! measured.

use std::fmt::Write;

use super::json::Report;
use super::{format_cpu_us, format_us};
use crate::runner::RunResults;

const W: f64 = 960.0;
const H: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 270.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
/// Rightmost percentile shown: 99.999 %.
const X_NINES: f64 = 5.0;
const COLORS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The plot of every row of every target.
pub fn render(report: &Report, results: &RunResults) -> String {
    // (legend, colour, dashed, points as (nines, µs))
    let mut series = Vec::new();
    let mut colour_of = Vec::<String>::new();
    for (t, target) in results.targets.iter().enumerate() {
        for row in target.rows().filter(|r| !r.hist.is_empty()) {
            let c = match colour_of.iter().position(|n| *n == row.name) {
                Some(i) => i,
                None => {
                    colour_of.push(row.name.clone());
                    colour_of.len() - 1
                }
            };
            let points: Vec<(f64, f64)> = row
                .hist
                .iter_quantiles(10)
                .map(|v| {
                    let q = v.quantile_iterated_to();
                    let nines = if q >= 1.0 {
                        X_NINES
                    } else {
                        (1.0 / (1.0 - q)).log10().min(X_NINES)
                    };
                    (nines, v.value_iterated_to().max(1) as f64)
                })
                .collect();
            let mut legend = if results.targets.len() > 1 {
                format!("{} [{}]", row.name, target.name)
            } else {
                row.name.clone()
            };
            // `n/a` where it was not measured, as in the table.
            let cpu = row.cpu_per_request().map(|d| d.as_secs_f64() * 1e6);
            legend.push_str(&format!(" · {} CPU", format_cpu_us(cpu)));
            series.push((legend, COLORS[c % COLORS.len()], t > 0, points));
        }
    }
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.3.iter().map(|p| p.1))
        .fold((f64::MAX, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let y_lo = lo.min(hi).log10().floor().max(0.0);
    let y_hi = hi.log10().ceil().max(y_lo + 1.0);
    let px = |nines: f64| LEFT + nines / X_NINES * (W - LEFT - RIGHT);
    let py = |us: f64| H - BOTTOM - (us.log10() - y_lo) / (y_hi - y_lo) * (H - TOP - BOTTOM);

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let title = format!(
        "Latency by percentile — {} — {}",
        report.run.model,
        report
            .targets
            .iter()
            .map(|t| format!("{} {}", t.name, t.url))
            .collect::<Vec<_>>()
            .join(" vs ")
    );
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="28" font-size="15" font-weight="bold">{}</text>"#,
        escape(&title)
    );
    // Grid: percentiles.
    for (nines, label) in [
        (0.0, "0%"),
        (1.0, "90%"),
        (2.0, "99%"),
        (3.0, "99.9%"),
        (4.0, "99.99%"),
        (5.0, "99.999%"),
    ] {
        let x = px(nines);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 18.0
        );
    }
    // Grid: latency decades.
    let mut decade = y_lo;
    while decade <= y_hi {
        let us = 10f64.powf(decade);
        let y = py(us);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            format_us(us as u64)
        );
        decade += 1.0;
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text><text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">latency (log scale)</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 16.0,
        (TOP + H - BOTTOM) / 2.0
    );
    for (i, (legend, colour, dashed, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|&(n, us)| format!("{:.1},{:.1}", px(n), py(us)))
            .collect();
        let dash = if *dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"/>"#,
            path.join(" ")
        );
        let y = TOP + 16.0 * i as f64;
        let x = W - RIGHT + 16.0;
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            x + 24.0,
            x + 30.0,
            y + 4.0,
            escape(legend)
        );
    }
    out.push_str("</svg>\n");
    out
}
