//! The suite: setup, then every scenario as a row of the report.

mod control_plane;
mod delivery;
mod denials;
mod rotation;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::client::ControlPlaneClient;
use crate::fixture::{base_values, Fixture};
use crate::logs::jq_available;
use crate::report::{Report, Row};
use crate::target::Target;

/// What the scenarios share after setup.
pub(crate) struct Ctx {
    pub(crate) fixture: Fixture,
    pub(crate) cp: ControlPlaneClient,
    pub(crate) revocation_wait: Duration,
    /// Whether `jq` runs here (the denial rows fail without it).
    pub(crate) jq: bool,
}

impl Ctx {
    pub(crate) fn old_hex(&self) -> String {
        self.fixture.old.public_key().to_hex()
    }

    pub(crate) fn new_hex(&self) -> String {
        self.fixture.new.public_key().to_hex()
    }
}

/// A scenario's counts, or why it failed.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Requests sent to the authorizer.
    pub(crate) requests: u64,
    /// Failed allowed requests and failed checks.
    pub(crate) failures: u64,
    /// What failed, for the report.
    pub(crate) problems: Vec<String>,
}

impl Outcome {
    /// A check: when it fails, one more failure and its description.
    pub(crate) fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.fail(what());
        }
    }

    /// One failure, described.
    pub(crate) fn fail(&mut self, what: String) {
        self.failures += 1;
        self.problems.push(what);
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Sets up the control plane and the release, then runs every scenario.
/// `Err` only when setup fails; a failed scenario is a failed row.
pub fn run_suite(target: &mut dyn Target) -> Result<Report> {
    let jq = jq_available();
    if !jq && std::env::var("CI").is_ok_and(|v| v == "true") {
        anyhow::bail!(
            "jq is not on PATH: the denial scenarios run the guide's jq filters, and CI=true \
             requires them (install jq)"
        );
    }
    let fixture = Fixture::generate()?;
    let spec = fixture.control_plane();
    target
        .write_secret(&spec.keys_secret, &fixture.keys_secret())
        .context("writing the control plane keys Secret")?;
    let addr = target
        .deploy_control_plane(&spec)
        .context("deploying the control plane")?;
    let cp = ControlPlaneClient {
        addr,
        admin_token: fixture.admin_token.clone(),
    };
    let srl = cp.revocations().context("fetching the revocation list")?;
    target.write_secret(
        "tenuo-revocations",
        &BTreeMap::from([("revocations".to_owned(), srl)]),
    )?;
    let old = fixture.old.public_key().to_hex();
    target
        .upgrade(&base_values(std::slice::from_ref(&old), false))
        .context("installing the chart")?;
    let revocation_wait = if target.name() == "kind" {
        Duration::from_secs(150) // kubelet syncs Secret volumes in about a minute
    } else {
        Duration::from_secs(20)
    };
    let ctx = Ctx {
        fixture,
        cp,
        revocation_wait,
        jq,
    };

    let mut report = Report::default();
    for row in denials::run(target, &ctx) {
        report.rows.push(row);
    }
    let scenarios: [(&str, Scenario); 5] = [
        ("control_plane_policy", control_plane::policy),
        ("control_plane_fetch", delivery::control_plane_fetch),
        ("request_header", delivery::request_header),
        ("env_from_secret", delivery::env_from_secret),
        ("rollout_restart_under_load", rotation::restart_under_load),
    ];
    for (name, scenario) in scenarios {
        report.rows.push(timed(name, target, &ctx, scenario));
    }
    report.rows.extend(rotation::run(target, &ctx));
    Ok(report)
}

type Scenario = fn(&mut dyn Target, &Ctx) -> Result<Outcome>;

pub(crate) fn timed(name: &str, target: &mut dyn Target, ctx: &Ctx, f: Scenario) -> Row {
    let start = Instant::now();
    let result = f(target, ctx);
    row(name, start, result, target)
}

/// A row from an outcome. A failed row counts at least one failure, so the
/// table never shows FAIL next to 0 (a problem reported without a count, as
/// an agent's error list, is one).
pub(crate) fn row(name: &str, start: Instant, result: Result<Outcome>, target: &dyn Target) -> Row {
    let (passed, requests, failures, detail) = match result {
        Ok(o) => {
            let passed = o.problems.is_empty() && o.failures == 0;
            let failures = if passed { 0 } else { o.failures.max(1) };
            (passed, o.requests, failures, o.problems.join("\n"))
        }
        Err(e) => (false, 0, 1, format!("{e:#}")),
    };
    let detail = if passed {
        detail
    } else {
        format!("{detail}\n--- diagnostics ---\n{}", target.diagnostics())
    };
    Row {
        scenario: name.to_owned(),
        passed,
        requests,
        failures,
        time: start.elapsed(),
        detail,
    }
}
