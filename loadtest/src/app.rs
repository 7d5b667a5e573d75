//! A whole run from [`Cli`] options: setup, targets, calibration, load,
//! reports and the gate. `main` only maps the result to an exit code.

use std::time::Duration;

use crate::calibrate::verify_strict_rate;
use crate::cli::{check_target, Cli};
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
