//! Reports: the JSON document (also the baseline format), the terminal table,
//! HDR percentile distributions and the latency percentile plot. The table, the
//! JSON and the plot's legend give the server CPU per request; the `.hgrm`
//! files are latency only, in the format HDR plotters read.
//!
//! [`Report::build`] turns [`RunResults`] into the serialisable summary;
//! [`write_all`] writes `report.json`, one `.hgrm` per target and row, and
//! `latency.svg` into the output directory.

mod hgrm;
mod json;
mod svg;
mod table;

use std::path::{Path, PathBuf};

pub use hgrm::render as hgrm;
pub use json::{Machine, Ratio, Report, Row, RunSummary, TargetReport};
pub use svg::render as svg;
pub use table::render as table;

use crate::error::LoadError;
use crate::runner::RunResults;

/// Files written by [`write_all`].
#[derive(Debug, Clone)]
pub struct Written {
    /// `report.json`.
    pub json: PathBuf,
    /// `latency.svg`.
    pub svg: PathBuf,
    /// The `.hgrm` files.
    pub hgrm: Vec<PathBuf>,
}

/// Writes the report, the plot and the percentile distributions into `dir`.
pub fn write_all(report: &Report, results: &RunResults, dir: &Path) -> Result<Written, LoadError> {
    std::fs::create_dir_all(dir).map_err(|e| LoadError::io(dir, e))?;
    let write = |name: &str, text: &str| -> Result<PathBuf, LoadError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| LoadError::io(&path, e))?;
        Ok(path)
    };
    let json = write("report.json", &report.to_json())?;
    let svg = write("latency.svg", &svg::render(report, results))?;
    let mut hgrm = Vec::new();
    for target in &results.targets {
        let overall = target.overall();
        for row in target.rows().chain(std::iter::once(&overall)) {
            let name = format!("{}-{}.hgrm", target.name, row.name);
            hgrm.push(write(&name, &hgrm::render(&row.hist))?);
        }
    }
    Ok(Written { json, svg, hgrm })
}

/// A CPU time per request in µs: `4.21µs`, `38.2µs`, `412µs`, `1.23ms`, or
/// `n/a` where it was not measured.
pub fn format_cpu_us(us: Option<f64>) -> String {
    match us {
        None => "n/a".to_owned(),
        Some(us) if us < 10.0 => format!("{us:.2}µs"),
        Some(us) if us < 100.0 => format!("{us:.1}µs"),
        Some(us) => format_us(us.round() as u64),
    }
}

/// `412µs`, `1.23ms`, `2.50s`.
pub fn format_us(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}
