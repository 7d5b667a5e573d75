//! Project automation, run as `cargo xtask <command>`.
//!
//! - `demo`: build the `tenuo` CLI and walk through minting, attenuating,
//!   signing a PoP and verifying allowed and denied calls.
//! - `chart`: lint and render the Helm chart offline with Helm's engine, parse
//!   every object into the Kubernetes API types and check its security and
//!   availability properties; bad values files must fail the named check.
//! - `e2e`: the end-to-end scenarios on a kind cluster, or offline on local
//!   processes rendered from the chart (`--backend local`).
//! - `fuzz`: build the cargo-fuzz targets and run each for `--seconds N`.
//! - `nginx`: the nginx example in a real nginx, in front of the authorizer.
//! - `perf`: the instruction-count regression gate: the `instructions` bench under
//!   Callgrind against its committed baseline.
//! - `soak`: the release server under the load test for `--minutes N`,
//!   sampling its resident memory, open descriptors and cache entries.

mod chart;
mod demo;
mod e2e;
mod fuzz;
mod nginx;
mod perf;
mod soak;
mod summary;

use std::path::PathBuf;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("chart") => chart::run(),
        Some("demo") => demo::run(),
        Some("e2e") => e2e::run(args),
        Some("fuzz") => fuzz::run(args),
        Some("nginx") => nginx::run(),
        Some("perf") => perf::run(args),
        Some("soak") => soak::run(args),
        Some(other) => bail!("unknown command {other}\n\n{USAGE}"),
        None => {
            println!("{USAGE}");
            Ok(())
        }
    }
}

const USAGE: &str = "usage: cargo xtask <command>\n\ncommands:\n  chart   lint, render and check charts/tenuo-authorizer offline\n  demo    walk through the tenuo CLI: mint, attenuate, sign a PoP, verify\n  e2e     end-to-end scenarios on kind ([--keep]), or offline with --backend local; [--summary-file PATH] appends the table as Markdown (default $GITHUB_STEP_SUMMARY)\n  fuzz    run each fuzz target for N seconds ([--seconds N] [--target NAME]... [--jobs J])\n  nginx   docs/examples/nginx-auth-request.conf in a real nginx in front of the authorizer\n  perf    instruction counts of the decision paths against authz/benches/instructions-baseline.json ([--update-baseline] [--inject SCENARIO] [--runs N] [--fallback-base REV] [--summary-file PATH])\n  soak    the release server under load for N minutes, RSS and descriptors over time ([--minutes N] [--rate R])";

/// The workspace root (the parent of this crate's directory).
pub(crate) fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
