//! `process_cpu_seconds_total` out of a Prometheus (or OpenMetrics) text scrape.
//!
//! Only what the harness needs: the samples of one metric name, with or without
//! labels (some clients split the counter by `mode`), summed. A label value may
//! hold spaces, braces and escaped quotes, so the label set is skipped by
//! walking its quoting, not by searching for the first `}`.

/// The metric the harness reads.
pub(crate) const CPU_SECONDS: &str = "process_cpu_seconds_total";

/// The sum of every sample named `name` in `text`; `None` if there is none, or
/// if one is not a finite, non-negative number.
pub(crate) fn sum_of(text: &str, name: &str) -> Option<f64> {
    let mut total = None::<f64>;
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let rest = match rest.chars().next() {
            Some('{') => after_labels(rest)?,
            Some(' ' | '\t') => rest,
            // Another metric whose name starts with this one.
            _ => continue,
        };
        let value: f64 = rest.split_ascii_whitespace().next()?.parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        total = Some(total.unwrap_or(0.0) + value);
    }
    total
}

/// What follows the label set that `text` starts with (`{...}`); `None` if the
/// set never closes.
fn after_labels(text: &str) -> Option<&str> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => quoted = !quoted,
            (false, _, '}') => return text.get(i + 1..),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &str = "\
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds counter
process_cpu_seconds_total 12.5
# HELP process_cpu_seconds_total_extra A metric whose name starts with the same.
process_cpu_seconds_total_extra 1000
process_resident_memory_bytes 2.4e7
# EOF
";

    #[test]
    fn reads_the_plain_sample() {
        assert_eq!(sum_of(SCRAPE, CPU_SECONDS), Some(12.5));
        assert_eq!(sum_of(SCRAPE, "process_resident_memory_bytes"), Some(2.4e7));
    }

    #[test]
    fn sums_labelled_samples_whatever_their_values_hold() {
        let text = "\
process_cpu_seconds_total{mode=\"user\"} 2.25 1700000000000
process_cpu_seconds_total{mode=\"system\",note=\"a } b \\\" {c}\"} 0.75
process_cpu_seconds_total{} 1e0
";
        assert_eq!(sum_of(text, CPU_SECONDS), Some(4.0));
    }

    #[test]
    fn absent_or_unusable_is_none() {
        assert_eq!(sum_of("", CPU_SECONDS), None);
        assert_eq!(
            sum_of("# TYPE process_cpu_seconds counter\n", CPU_SECONDS),
            None
        );
        assert_eq!(sum_of("process_cpu_seconds_totally 3\n", CPU_SECONDS), None);
        for bad in ["NaN", "+Inf", "-1", "soon", ""] {
            let text = format!("process_cpu_seconds_total {bad}\n");
            assert_eq!(sum_of(&text, CPU_SECONDS), None, "{bad:?}");
        }
        assert_eq!(
            sum_of("process_cpu_seconds_total{mode=\"user} 3\n", CPU_SECONDS),
            None
        );
    }
}
