//! Reading pod logs with the guide's own jq filters, and summing metrics over
//! replicas.

use std::io::Write;
use std::process::{Command, Stdio};

/// The guide's "All denials" filter, run by `jq` on the raw log when it is
/// installed (the same selection in Rust otherwise): one JSON object per denial.
pub fn denial_lines(raw_log: &str) -> Vec<serde_json::Value> {
    let filter = r#"select(.event == "authorization_denied")"#;
    if let Some(out) = jq(filter, raw_log) {
        return out
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
    }
    raw_log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "authorization_denied")
        .collect()
}

fn jq(filter: &str, input: &str) -> Option<String> {
    // `-R 'fromjson?'` skips non-JSON lines (kubectl may interleave some).
    let program = format!("fromjson? | {filter}");
    let mut child = Command::new("jq")
        .args(["-c", "-R", &program])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let text = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().ok()?;
    let _ = writer.join();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The sum over replicas of one sample, e.g.
/// `tenuo_authz_denied_total{reason="missing_pop"}` (0 when absent).
pub fn sum_metric(texts: &[String], sample: &str) -> f64 {
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter_map(|line| {
            line.strip_prefix(sample)
                .filter(|rest| rest.starts_with(' '))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .sum()
}
