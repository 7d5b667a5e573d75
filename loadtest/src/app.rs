//! A whole run from [`Cli`] options: setup, targets, calibration, load,
//! reports and the gate, and the exit status each ending maps to ([`exit`]);
//! `main` only applies it.

use std::time::Duration;

use crate::calibrate::verify_strict_rate;
use crate::cli::{check_target, Cli};
use crate::cpu::{self, CpuOptions, CpuPlan};
use crate::embedded::Embedded;
use crate::error::LoadError;
use crate::gate;
use crate::progress::Progress;
use crate::report::{self, Machine, Report, RunSummary};
use crate::runner::{LoadModel, RunConfig, Runner};
use crate::setup::Setup;
use crate::warrants::Minter;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Done (and the gate, if any, passed).
    Ok,
    /// The regression gate failed.
    GateFailed,
}

/// The process exit statuses, as `--help` and the README list them. A failed
/// gate has its own: CI and scripts must tell a measured regression from a
/// harness that could not run, which exits 1 (an error returned from `main`)
/// or 2 (clap's status for bad arguments).
pub mod exit {
    /// Finished; the gate, if any, passed.
    pub const OK: u8 = 0;
    /// The run failed: the error is printed (Rust's status for an `Err` from `main`).
    pub const FAILED: u8 = 1;
    /// The regression gate failed.
    pub const GATE_FAILED: u8 = 3;
    /// An unusable target URL, server PID or metrics URL, or an unknown
    /// scenario (sysexits' `EX_USAGE`).
    pub const USAGE: u8 = 64;
}

impl Finished {
    /// The exit status of a run that ended this way.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Ok => exit::OK,
            Self::GateFailed => exit::GATE_FAILED,
        }
    }
}

/// The exit status of a run that failed with `error`: [`exit::USAGE`] for what
/// the operator gave wrongly (a target, a server PID or metrics URL that cannot
/// be read, a scenario), else [`exit::FAILED`].
pub fn error_exit_code(error: &LoadError) -> u8 {
    match error {
        LoadError::Target { .. } | LoadError::UnknownScenario(_) | LoadError::Cpu(_) => exit::USAGE,
        _ => exit::FAILED,
    }
}

/// Runs what `cli` asks for, printing the table and file paths on stdout. A
/// failed gate runs the whole measurement again, up to `--gate-attempts`
/// times, and passes if any attempt passes: a real regression fails them all,
/// a burst of load from elsewhere on the machine rarely does.
pub async fn run(cli: &Cli) -> Result<Finished, LoadError> {
    let attempts = if cli.baseline.is_some() {
        cli.gate_attempts.max(1)
    } else {
        1
    };
    for attempt in 1..=attempts {
        if attempt > 1 {
            eprintln!("gate failed; attempt {attempt} of {attempts}");
        }
        if run_once(cli).await? == Finished::Ok {
            return Ok(Finished::Ok);
        }
    }
    Ok(Finished::GateFailed)
}

async fn run_once(cli: &Cli) -> Result<Finished, LoadError> {
    let setup = match &cli.setup {
        Some(dir) => Setup::load(dir)?,
        None => Setup::generate()?,
    };
    if let Some(dir) = &cli.write_setup {
        setup.write(dir)?;
        println!(
            "wrote {}/{{root.key,trusted_issuer.hex,gateway.yaml,README.txt}}",
            dir.display()
        );
        println!("trusted issuer: {}", setup.trusted_issuer().to_hex());
        return Ok(Finished::Ok);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut embedded = None;
    let mut targets = Vec::new();
    match &cli.target {
        Some(url) => targets.push((
            "target".to_owned(),
            check_target(url, cli.allow_non_loopback)?,
        )),
        None => {
            let server = Embedded::start(&setup, cli.server_threads.unwrap_or(cores))?;
            targets.push(("ours".to_owned(), server.url()));
            embedded = Some(server);
        }
    }
    if let Some(url) = &cli.compare {
        targets.push((
            "compare".to_owned(),
            check_target(url, cli.allow_non_loopback)?,
        ));
    }

    let cpu = cpu_plans(cli, &targets).await?;

    let minter = Minter::new(setup.root().clone())?;
    let params = cli.params();
    let mut phases = Vec::new();
    for scenario in cli.scenarios()? {
        phases.extend(scenario.phases(&minter, &params)?);
    }
    let verify = verify_strict_rate(Duration::from_millis(300));
    if !cli.quiet {
        eprintln!(
            "verify_strict: {verify:.0}/s per core; {} scenario phases of {:.1} s on {}",
            phases.len(),
            cli.duration().as_secs_f64(),
            targets
                .iter()
                .map(|t| t.1.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    let model = cli.model();
    let runner = Runner::new(RunConfig {
        targets,
        phases,
        model,
        duration: cli.duration(),
        rounds: cli.rounds,
        timeout: Duration::from_secs(cli.timeout.max(1)),
        progress: if cli.quiet {
            Progress::Off
        } else {
            Progress::On
        },
        cpu,
    })?;
    let results = runner.run().await?;
    if let Some(server) = embedded.take() {
        server.stop();
    }
    // Calibrated again after the load: if the machine got busier meanwhile,
    // the lower rate is the one the run had.
    let verify = verify.min(verify_strict_rate(Duration::from_millis(300)));

    let (model_name, users, rate) = match model {
        LoadModel::Closed { users } => ("closed", Some(users), None),
        LoadModel::Open { rate, .. } => ("open", None, Some(rate)),
    };
    let report = Report::build(
        &results,
        Machine {
            verify_strict_per_sec: verify,
            cores,
            online_cpus: crate::machine::online_cpus(),
        },
        RunSummary {
            model: model_name.into(),
            users,
            rate,
            duration_secs: cli.duration().as_secs_f64(),
            rounds: cli.rounds,
            depth: params.depth,
            distinct: params.distinct,
            embedded: cli.target.is_none(),
        },
    );
    print!("{}", report::table(&report));
    let written = report::write_all(&report, &results, &cli.out)?;
    println!(
        "\nreport: {}\nhgrm:   {} files in {}\nplot:   {}",
        written.json.display(),
        written.hgrm.len(),
        cli.out.display(),
        written.svg.display()
    );
    if let Some(path) = &cli.write_baseline {
        std::fs::write(path, report.to_json()).map_err(|e| LoadError::io(path, e))?;
        println!("baseline written: {}", path.display());
    }
    if let Some(path) = &cli.baseline {
        let baseline = Report::load(path)?;
        let verdict = gate::check(&baseline, path, &report, cli.max_regression)?;
        print!("{}", verdict.render());
        if !verdict.passed() {
            return Ok(Finished::GateFailed);
        }
    }
    Ok(Finished::Ok)
}

/// Where each target's CPU is read (`targets` as `run_once` lists them: the
/// embedded `ours` or `target`, then `compare`).
async fn cpu_plans(cli: &Cli, targets: &[(String, String)]) -> Result<Vec<CpuPlan>, LoadError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(cli.timeout.max(1)))
        .build()?;
    let mut plans = Vec::new();
    for (name, url) in targets {
        let (flag, pid, metrics) = match name.as_str() {
            "compare" => ("compare", cli.compare_pid, cli.compare_metrics.as_deref()),
            _ => ("target", cli.target_pid, cli.target_metrics.as_deref()),
        };
        let metrics = metrics
            .map(|m| check_target(m, cli.allow_non_loopback))
            .transpose()?;
        let options = CpuOptions {
            flag,
            url,
            embedded: name == "ours" && cli.target.is_none(),
            pid,
            metrics: metrics.as_deref(),
        };
        plans.push(cpu::plan(options, &client).await?);
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// A failed gate's status is its own: not success, not a failed run, not
    /// clap's bad-argument status, not a bad target.
    #[test]
    fn a_failed_gate_exits_with_a_status_of_its_own() {
        let clap_usage = Cli::try_parse_from(["tenuo-loadtest", "--no-such-flag"])
            .expect_err("an unknown flag")
            .exit_code();
        assert_eq!(clap_usage, 2);
        let gate = i32::from(Finished::GateFailed.exit_code());
        assert_eq!(gate, 3);
        let crash = LoadError::Goose("stopped".into());
        let bad_target = LoadError::UnknownScenario("x".into());
        for other in [
            i32::from(Finished::Ok.exit_code()),
            i32::from(error_exit_code(&crash)),
            i32::from(error_exit_code(&bad_target)),
            clap_usage,
        ] {
            assert_ne!(gate, other);
        }
        assert_eq!(error_exit_code(&crash), exit::FAILED);
        assert_eq!(error_exit_code(&bad_target), exit::USAGE);
    }
}
