//! The guide's "Debugging Denials" commands, run as the guide writes them: its
//! three jq programs, verbatim, over the authorizer's raw log stream (what
//! `kubectl logs -l app=tenuo-authorizer` prints); and metric samples summed
//! over replicas.
//!
//! The programs run through plain `jq`, with no `-R`/`fromjson?` wrapper: a
//! log stream that is not one JSON object per line breaks the operator's jq,
//! so it must break ours, and the error names the first offending line. Where
//! the `jq` program is not installed (a fresh machine running the unit tests),
//! the same programs run in libjq, jq's own engine, through its Python bindings
//! in the project's Python environment (`tenuo-pyenv`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The guide's "All denials" program: `jq 'select(.event == "authorization_denied")'`.
pub(crate) const ALL_DENIALS: &str = r#"select(.event == "authorization_denied")"#;
/// The guide's "By tool" program: `jq 'select(.tool == "read_file")'`.
pub(crate) const BY_TOOL: &str = r#"select(.tool == "read_file")"#;
/// The tool the guide's "By tool" program selects.
pub(crate) const BY_TOOL_NAME: &str = "read_file";
/// The guide's "Count by reason" program, run with `-r`; the guide pipes its
/// output through `sort | uniq -c | sort -rn`, done here by [`count_by_reason`].
pub(crate) const COUNT_BY_REASON: &str = r#"select(.event == "authorization_denied") | .reason"#;

/// Whether `jq` runs here.
pub(crate) fn jq_available() -> bool {
    Command::new("jq")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The guide's "All denials" filter over the raw log: one JSON object per
/// denial, in log order.
pub fn denial_lines(raw_log: &str) -> Result<Vec<Value>> {
    values(&jq(&[ALL_DENIALS], raw_log)?)
}

/// The guide's "By tool" filter (`read_file`) over the raw log.
pub(crate) fn tool_lines(raw_log: &str) -> Result<Vec<Value>> {
    values(&jq(&[BY_TOOL], raw_log)?)
}

/// The guide's "Count by reason": `jq -r` with its program, then
/// `sort | uniq -c | sort -rn`, as (count, reason) pairs, largest first.
pub(crate) fn count_by_reason(raw_log: &str) -> Result<Vec<(u64, String)>> {
    let out = jq(&["-r", COUNT_BY_REASON], raw_log)?;
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for line in out.lines() {
        *counts.entry(line).or_default() += 1;
    }
    let mut sorted: Vec<(u64, String)> = counts
        .into_iter()
        .map(|(reason, n)| (n, reason.to_owned()))
        .collect();
    // `sort -rn` on `uniq -c` output: by count, descending; ties by text.
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    Ok(sorted)
}

/// One reason's count in [`count_by_reason`]'s output (0 when absent).
pub(crate) fn count_of(counts: &[(u64, String)], reason: &str) -> u64 {
    counts
        .iter()
        .find(|(_, r)| r == reason)
        .map_or(0, |(n, _)| *n)
}

/// What runs the guide's jq programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jq {
    /// The `jq` program on PATH.
    Program,
    /// libjq, through its Python bindings in the project's environment.
    Library,
}

impl Jq {
    /// The `jq` program when installed, else libjq (asked once per process: each
    /// scenario runs several programs).
    fn here() -> Self {
        static HERE: std::sync::OnceLock<Jq> = std::sync::OnceLock::new();
        *HERE.get_or_init(|| {
            if jq_available() {
                Self::Program
            } else {
                Self::Library
            }
        })
    }

    /// The command that runs `jq ARGS` over its standard input.
    fn command(self, args: &[&str]) -> Result<Command> {
        match self {
            Self::Program => {
                let mut command = Command::new("jq");
                command.args(args);
                Ok(command)
            }
            Self::Library => {
                let python = tenuo_pyenv::python().context(
                    "jq is not installed, and the project's Python environment (with libjq's \
                     bindings) could not be made: install jq, or Python 3 with its venv module",
                )?;
                let mut command = Command::new(python);
                command.arg("-c").arg(LIBJQ_AS_JQ).args(args);
                Ok(command)
            }
        }
    }
}

/// `jq [-r] PROGRAM` over standard input, in libjq: each output on its own
/// line, strings raw with `-r`; an input that is not JSON fails, as with jq.
const LIBJQ_AS_JQ: &str = r#"
import json, sys, jq
args = sys.argv[1:]
raw, program = "-r" in args, args[-1]
try:
    outputs = jq.compile(program).input_text(sys.stdin.read()).all()
except ValueError as error:
    sys.exit(f"jq: error: {error}")
for out in outputs:
    print(out if raw and isinstance(out, str) else json.dumps(out))
"#;

/// Runs `jq ARGS` with `input` on stdin; its stdout, or why it failed.
fn jq(args: &[&str], input: &str) -> Result<String> {
    jq_with(Jq::here(), args, input)
}

fn jq_with(runner: Jq, args: &[&str], input: &str) -> Result<String> {
    let mut child = runner
        .command(args)?
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running jq ({runner:?})"))?;
    let mut stdin = child.stdin.take().context("jq stdin")?;
    let text = input.to_owned();
    // Written from another thread: jq's output can fill its pipe before it
    // has read all of a large log.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().context("waiting for jq")?;
    let _ = writer.join();
    if !out.status.success() {
        let offending = first_non_json_line(input)
            .map(|(n, l)| format!("; log line {n} is not a JSON object: {l:?}"))
            .unwrap_or_default();
        bail!(
            "jq {args:?} failed ({}): {}{offending}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("jq output is not UTF-8")
}

/// jq prints each selected object pretty, over several lines: read them as a
/// stream of JSON values.
fn values(text: &str) -> Result<Vec<Value>> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .context("jq output is not a stream of JSON values")
}

fn first_non_json_line(raw: &str) -> Option<(usize, &str)> {
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .find(|(_, l)| !serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object()))
        .map(|(i, l)| (i + 1, l))
}

/// The sum over replicas of one sample, named exactly as in the exposition,
/// e.g. `tenuo_authz_denied_total{reason="missing_pop"}` (0 when absent).
/// Labels may be given in any order and a subset of the sample's labels.
pub fn sum_metric(texts: &[String], sample: &str) -> f64 {
    let Some((name, want)) = parse_sample(sample) else {
        return 0.0;
    };
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (head, value) = split_value(line)?;
            let (n, labels) = parse_sample(head)?;
            (n == name && want.iter().all(|(k, v)| labels.get(k) == Some(v)))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// `name{labels} value [timestamp]` → (`name{labels}`, `value`).
fn split_value(line: &str) -> Option<(&str, &str)> {
    let end = line.rfind('}').map_or(0, |i| i + 1);
    let (head, rest) = match end {
        0 => line.split_once(' ')?,
        _ => line.split_at(end),
    };
    Some((head.trim(), rest.split_whitespace().next()?))
}

/// `name{a="x",b="y"}` → (`name`, {a: x, b: y}); label values unescaped.
fn parse_sample(text: &str) -> Option<(&str, BTreeMap<String, String>)> {
    let Some((name, rest)) = text.split_once('{') else {
        return Some((text.trim(), BTreeMap::new()));
    };
    let body = rest.strip_suffix('}')?;
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        }
        labels.insert(key.trim().to_owned(), value);
    }
    Some((name.trim(), labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = concat!(
        r#"{"level":"info","event":"started","listen":"127.0.0.1:1"}"#,
        "\n",
        r#"{"level":"warn","event":"authorization_denied","reason":"missing_pop","tool":"read_file","request_id":"a"}"#,
        "\n",
        r#"{"level":"warn","event":"authorization_denied","reason":"tool_not_in_warrant","tool":"run","request_id":"b"}"#,
        "\n",
        r#"{"level":"warn","event":"authorization_denied","reason":"missing_pop","tool":"read_file","request_id":"c"}"#,
        "\n",
        r#"{"level":"debug","event":"authorization_allowed","tool":"read_file","request_id":"d"}"#,
        "\n",
    );

    fn ids(lines: &[Value]) -> Vec<&str> {
        lines
            .iter()
            .filter_map(|l| l["request_id"].as_str())
            .collect()
    }

    #[test]
    fn the_guides_filters_select_as_the_guide_says() {
        assert_eq!(ids(&denial_lines(LOG).unwrap()), ["a", "b", "c"]);
        assert_eq!(ids(&tool_lines(LOG).unwrap()), ["a", "c", "d"]);
        let counts = count_by_reason(LOG).unwrap();
        assert_eq!(
            counts,
            [
                (2, "missing_pop".to_owned()),
                (1, "tool_not_in_warrant".to_owned())
            ]
        );
        assert_eq!(count_of(&counts, "missing_pop"), 2);
        assert_eq!(count_of(&counts, "invalid_pop"), 0);
    }

    /// libjq answers as the program does (run here whether or not jq is installed).
    #[test]
    fn libjq_runs_the_guides_programs_as_jq_does() {
        let all = jq_with(Jq::Library, &[ALL_DENIALS], LOG).unwrap();
        assert_eq!(ids(&values(&all).unwrap()), ["a", "b", "c"]);
        let reasons = jq_with(Jq::Library, &["-r", COUNT_BY_REASON], LOG).unwrap();
        assert_eq!(
            reasons.lines().collect::<Vec<_>>(),
            ["missing_pop", "tool_not_in_warrant", "missing_pop"]
        );
        if jq_available() {
            for args in [&[ALL_DENIALS][..], &[BY_TOOL], &["-r", COUNT_BY_REASON]] {
                let program = values_or_lines(&jq_with(Jq::Program, args, LOG).unwrap());
                let library = values_or_lines(&jq_with(Jq::Library, args, LOG).unwrap());
                assert_eq!(program, library, "jq {args:?}");
            }
        }
        let broken = format!("{LOG}not json\n");
        assert!(jq_with(Jq::Library, &[ALL_DENIALS], &broken).is_err());
    }

    /// Output compared by value: the program pretty-prints, libjq does not.
    fn values_or_lines(text: &str) -> Vec<String> {
        values(text).map_or_else(
            |_| text.lines().map(str::to_owned).collect(),
            |values| values.iter().map(Value::to_string).collect(),
        )
    }

    #[test]
    fn a_non_json_line_breaks_the_filters_and_is_named() {
        let raw = format!("{LOG}thread 'main' panicked at src/main.rs\n");
        let err = denial_lines(&raw).unwrap_err().to_string();
        assert!(err.contains("log line 6"), "{err}");
        assert!(err.contains("panicked"), "{err}");
        assert!(count_by_reason(&raw).is_err());
    }

    #[test]
    fn samples_match_by_name_and_labels_in_any_order() {
        let a = "# TYPE tenuo_authz_total counter\n\
                 tenuo_authz_total{result=\"deny\",tool=\"read_file\"} 3\n\
                 tenuo_authz_total{result=\"allow\",tool=\"read_file\"} 10\n\
                 tenuo_authz_total_extra{result=\"deny\",tool=\"read_file\"} 100\n"
            .to_owned();
        let b = "tenuo_authz_total{tool=\"read_file\",result=\"deny\"} 2 1700000000\n".to_owned();
        let texts = [a, b];
        let deny = r#"tenuo_authz_total{result="deny",tool="read_file"}"#;
        assert_eq!(sum_metric(&texts, deny), 5.0);
        assert_eq!(
            sum_metric(&texts, r#"tenuo_authz_total{result="allow"}"#),
            10.0
        );
        assert_eq!(sum_metric(&texts, "tenuo_authz_total"), 15.0);
        assert_eq!(sum_metric(&texts, r#"tenuo_authz_total{tool="run"}"#), 0.0);
    }
}
