//! Command-line options, and how they become a run.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::duration;
use crate::error::LoadError;
use crate::runner::LoadModel;
use crate::scenarios::{Scenario, ScenarioParams};

/// Load for Tenuo authorizers: goose users or a fixed arrival rate, latency in
/// µs in HDR histograms, a table, JSON, .hgrm and an SVG plot, and a regression
/// gate. With no arguments: every scenario against the embedded authorizer.
#[derive(Debug, Clone, Parser)]
#[command(name = "tenuo-loadtest", version, after_help = EXIT_STATUS)]
pub struct Cli {
    /// Authorizer to load (base URL, loopback only unless --allow-non-loopback).
    /// Without it, the embedded authorizer is started on 127.0.0.1.
    #[arg(long, value_name = "URL", conflicts_with = "embedded")]
    pub target: Option<String>,
    /// Start our authorizer in-process on loopback (the default).
    #[arg(long)]
    pub embedded: bool,
    /// A second authorizer, driven with the same warrants and calls in
    /// interleaved rounds; the report adds the ratio of every figure.
    #[arg(long, value_name = "URL")]
    pub compare: Option<String>,
    /// Process id of the --target server: the report's server CPU per request is
    /// its user plus system time (/proc/PID/stat). Without this or
    /// --target-metrics, the process listening on a loopback target's port is
    /// looked up.
    #[arg(long, value_name = "PID", requires = "target")]
    pub target_pid: Option<u32>,
    /// Prometheus metrics of the --target server (e.g.
    /// http://127.0.0.1:9091/metrics; /metrics when no path is given): its CPU
    /// per request from process_cpu_seconds_total, for a server whose process
    /// cannot be read from here. Loopback only unless --allow-non-loopback.
    #[arg(
        long,
        value_name = "URL",
        requires = "target",
        conflicts_with = "target_pid"
    )]
    pub target_metrics: Option<String>,
    /// --target-pid for the --compare server.
    #[arg(long, value_name = "PID", requires = "compare")]
    pub compare_pid: Option<u32>,
    /// --target-metrics for the --compare server.
    #[arg(
        long,
        value_name = "URL",
        requires = "compare",
        conflicts_with = "compare_pid"
    )]
    pub compare_metrics: Option<String>,
    /// Read the root key from DIR (written by --write-setup), so external
    /// targets trust the minted warrants.
    #[arg(long, value_name = "DIR")]
    pub setup: Option<PathBuf>,
    /// Write root.key, trusted_issuer.hex, gateway.yaml and README.txt (how to
    /// start an authorizer with them) to DIR, then exit.
    #[arg(long, value_name = "DIR")]
    pub write_setup: Option<PathBuf>,
    /// Scenarios to run in turn: cached, cold, deny, depth, mixed, per-task,
    /// cold-burst.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "cached,cold,deny,depth,mixed"
    )]
    pub scenario: String,
    /// A custom weighted mix run as one more scenario, e.g. cached:9,deny:1
    /// (alone if --scenario is not given).
    #[arg(long, value_name = "SPEC")]
    pub mix: Option<String>,
    /// Chain depth of cached, cold and deny warrants (1 = a root warrant).
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Distinct chains the cached scenario cycles over.
    #[arg(long, default_value_t = 64)]
    pub distinct: usize,
    /// Calls each per-task warrant is used for before the next is fetched
    /// (the guide's short-lived, task-scoped warrants).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub calls_per_warrant: u64,
    /// Depths of the depth sweep.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "1,2,4,8",
        value_delimiter = ','
    )]
    pub depths: Vec<usize>,
    /// Closed loop: concurrent goose users.
    #[arg(long, default_value_t = 8)]
    pub users: usize,
    /// Open loop at this many requests per second (instead of goose users).
    #[arg(long, value_name = "PER_SEC")]
    pub rate: Option<f64>,
    /// Open loop: most requests outstanding.
    #[arg(long, default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Per scenario (and per target): seconds (3, 0.5) or with units (30s, 2m,
    /// 1m30s, 500ms), 100ms to 1h; goose rounds up to whole seconds.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "3",
        value_parser = duration::parse,
        allow_hyphen_values = true
    )]
    pub duration: Duration,
    /// Interleaved rounds per scenario with --compare.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Worker threads of the embedded authorizer (default: all cores).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Where report.json, latency.svg and the .hgrm files go.
    #[arg(long, value_name = "DIR", default_value = "target/loadtest")]
    pub out: PathBuf,
    /// Gate against this report: exit 3 if throughput/verify falls or p99
    /// rises by more than --max-regression percent.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Bound of the gate, percent.
    #[arg(long, value_name = "PCT", default_value_t = 25.0)]
    pub max_regression: f64,
    /// With --baseline: on a failed gate, run again, up to this many runs in
    /// all; pass if any passes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub gate_attempts: usize,
    /// Also write this run's report to FILE, as a new baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Short CI run: cached, deny and cold, 2 s each, 4 users.
    #[arg(long)]
    pub smoke: bool,
    /// Send load to a non-loopback address (never from CI).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Cli {
    /// The scenarios to run.
    pub fn scenarios(&self) -> Result<Vec<Scenario>, LoadError> {
        let scenario_given = self.scenario != "cached,cold,deny,depth,mixed";
        let mut list = if self.smoke && !scenario_given {
            Scenario::parse_list("cached,deny,cold")?
        } else if self.mix.is_some() && !scenario_given {
            Vec::new()
        } else {
            Scenario::parse_list(&self.scenario)?
        };
        if let Some(mix) = &self.mix {
            list.push(Scenario::parse_mix(mix)?);
        }
        Ok(list)
    }

    /// Warrant shape.
    pub fn params(&self) -> ScenarioParams {
        ScenarioParams {
            depth: self.depth.max(1),
            distinct: self.distinct.max(1),
            depths: self.depths.clone(),
            calls_per_warrant: self.calls_per_warrant.max(1),
        }
    }

    /// Closed loop with goose users, or open loop at `--rate`.
    pub fn model(&self) -> LoadModel {
        match self.rate {
            Some(rate) => LoadModel::Open {
                rate,
                max_in_flight: self.max_in_flight,
            },
            None => LoadModel::Closed {
                users: if self.smoke { 4 } else { self.users },
            },
        }
    }

    /// Per scenario and target.
    pub fn duration(&self) -> Duration {
        if self.smoke {
            Duration::from_secs(2)
        } else {
            self.duration
        }
    }
}

/// The exit statuses, under `--help`; `app::exit` holds the numbers, and a test
/// holds this text to them.
const EXIT_STATUS: &str = "\
Exit status:
  0   the run finished (and the gate, if any, passed)
  1   the run failed (a target stopped answering, a file could not be written, ...)
  2   bad command-line arguments
  3   the regression gate failed: a real result, not a crash
  64  an unusable --target/--compare URL, server PID or metrics URL, or an unknown scenario";

/// Checks that `url` is http(s) on a loopback address (unless allowed).
pub fn check_target(url: &str, allow_non_loopback: bool) -> Result<String, LoadError> {
    let bad = |problem| LoadError::Target {
        url: url.to_owned(),
        problem,
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("scheme must be http or https"));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => return Err(bad("no host")),
    };
    if !loopback && !allow_non_loopback {
        return Err(bad(
            "not a loopback address (127.0.0.1, [::1], localhost); pass --allow-non-loopback to load it",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::app::exit;

    #[test]
    fn help_lists_each_exit_status() {
        let help = Cli::command().render_long_help().to_string();
        for (code, what) in [
            (exit::OK, "the run finished"),
            (exit::FAILED, "the run failed"),
            (2, "bad command-line arguments"),
            (exit::GATE_FAILED, "the regression gate failed"),
            (exit::USAGE, "an unusable --target"),
        ] {
            let line = format!("{code:<3} {what}");
            assert!(help.contains(&line), "no `{line}` in --help:\n{help}");
        }
    }

    #[test]
    fn duration_takes_units_and_plain_seconds() {
        let parse = |d: &str| Cli::try_parse_from(["tenuo-loadtest", "--duration", d]);
        let secs = |d: &str| parse(d).expect("accepted").duration();
        assert_eq!(secs("1m30s"), Duration::from_secs(90));
        assert_eq!(secs("2.5"), Duration::from_millis(2500));
        assert_eq!(
            Cli::try_parse_from(["tenuo-loadtest"])
                .expect("defaults")
                .duration(),
            Duration::from_secs(3)
        );
        for bad in ["0s", "-1", "soon"] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains("--duration"), "{err}");
        }
    }
}
