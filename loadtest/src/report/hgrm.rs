//! The HDR percentile distribution text (HdrHistogram's
//! `outputPercentileDistribution`, values in milliseconds), which HDR plotters
//! such as hdrhistogram.github.io/HdrHistogram/plotFiles.html read.

use std::fmt::Write;

use hdrhistogram::Histogram;

use crate::recorder::SIGNIFICANT_DIGITS;

/// Iteration steps per half-distance to 100 %, as the Java default.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The distribution of `hist` (µs), written in ms.
pub fn render(hist: &Histogram<u64>) -> String {
    let scale = 1000.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !hist.is_empty() {
        for v in hist.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = v.value_iterated_to() as f64 / scale;
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.3} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10} {:>14}", "inf");
            }
        }
    }
    let sub_buckets = (2.0 * 10f64.powi(i32::from(SIGNIFICANT_DIGITS)))
        .log2()
        .ceil()
        .exp2() as u64;
    let (mean, stdev, max) = if hist.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            hist.mean() / scale,
            hist.stdev() / scale,
            hist.max() as f64 / scale,
        )
    };
    let _ = writeln!(
        out,
        "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        hist.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {sub_buckets:12}]",
        hist.buckets()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_layout() {
        let mut h = crate::recorder::new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let text = render(&h);
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        assert!(text.contains("#[Max     =       10.0"), "{text}");
        assert!(text.contains("Total count    =         1000]"), "{text}");
        let last = text.lines().rfind(|l| !l.starts_with('#')).unwrap();
        assert!(last.contains("1.000000000000"), "{last}");
        assert!(last.ends_with("inf"));
    }
}
