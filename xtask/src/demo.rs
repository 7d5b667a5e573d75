//! `cargo xtask demo`: the CLI walk-through a new user runs first.
//!
//! A control plane issues a root warrant to an orchestrator, the orchestrator
//! attenuates it for a worker, the worker signs a PoP, and the authorizer's
//! decision is shown for an allowed call and for each common mistake.

use anyhow::{ensure, Context, Result};
use xshell::{cmd, Shell};

use crate::project_root;

pub(crate) fn run() -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    // The dev profile shares its build with the tests; the walk-through is not timed.
    cmd!(
        sh,
        "cargo build --quiet -p tenuo-authz --features cli --bin tenuo"
    )
    .run()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), std::path::PathBuf::from);
    let tenuo = target.join("debug/tenuo");
    let tmp = sh.create_temp_dir()?;
    let dir = tmp.path();

    step("1. keys for the control plane, an orchestrator and a worker");
    let mut keys = Vec::new();
    for name in ["control-plane", "orchestrator", "worker"] {
        let prefix = dir.join(name);
        let public = cmd!(sh, "{tenuo} keygen --out {prefix}").quiet().read()?;
        println!("   {name:<14} {public}");
        keys.push((dir.join(format!("{name}.key")), public));
    }
    let [(cp_key, cp_pub), (orch_key, orch_pub), (worker_key, worker_pub)] =
        <[_; 3]>::try_from(keys).ok().context("three keys")?;

    step("2. the control plane issues read_file on /data/* to the orchestrator, for 10 minutes");
    let root = cmd!(sh, "{tenuo} issue --key {cp_key} --holder {orch_pub} --tool read_file --constraint path=pattern:/data/* --ttl 10m").quiet().read()?;
    println!("   {}…", &root[..root.len().min(72)]);

    step("3. the orchestrator narrows it to /data/reports/* for the worker, for 1 minute");
    let chain = cmd!(sh, "{tenuo} attenuate --key {orch_key} --holder {worker_pub} --tool read_file --constraint path=pattern:/data/reports/* --ttl 60s").stdin(&root).quiet().read()?;
    println!(
        "{}",
        cmd!(sh, "{tenuo} inspect").stdin(&chain).quiet().read()?
    );

    step("4. the worker signs a proof of possession for read_file(path=/data/reports/q3.csv)");
    let pop = cmd!(
        sh,
        "{tenuo} sign-pop --key {worker_key} --tool read_file --arg path=/data/reports/q3.csv"
    )
    .stdin(&chain)
    .quiet()
    .read()?;
    println!("   {pop}");

    step("5. the authorizer decides");
    let verify = |label: &str, extra: &[&str], pop: &str| -> Result<i32> {
        let output = cmd!(
            sh,
            "{tenuo} verify --issuer {cp_pub} --tool read_file --pop {pop} {extra...}"
        )
        .stdin(&chain)
        .quiet()
        .ignore_status()
        .output()?;
        let code = output.status.code().unwrap_or(-1);
        println!(
            "   {label:<34} exit {code}  {}",
            String::from_utf8_lossy(&output.stdout).trim()
        );
        Ok(code)
    };
    ensure!(
        verify(
            "allowed call",
            &["--arg", "path=/data/reports/q3.csv"],
            &pop
        )? == 0,
        "the allowed call was denied"
    );
    let wide_pop = cmd!(
        sh,
        "{tenuo} sign-pop --key {worker_key} --tool read_file --arg path=/data/secrets.txt"
    )
    .stdin(&chain)
    .quiet()
    .read()?;
    ensure!(
        verify(
            "outside the child's constraint",
            &["--arg", "path=/data/secrets.txt"],
            &wide_pop
        )? == 1,
        "a widened call was allowed"
    );
    ensure!(
        verify(
            "PoP signed for other arguments",
            &["--arg", "path=/data/reports/q4.csv"],
            &pop
        )? == 1,
        "a PoP for other arguments was accepted"
    );
    let forged = "A".repeat(86);
    ensure!(
        verify(
            "PoP from the wrong key",
            &["--arg", "path=/data/reports/q3.csv"],
            &forged
        )? == 1,
        "a forged PoP was allowed"
    );
    let untrusted = cmd!(sh, "{tenuo} verify --issuer {orch_pub} --tool read_file --pop {pop} --arg path=/data/reports/q3.csv --json")
        .stdin(&chain)
        .quiet()
        .ignore_status()
        .read()?;
    println!("   {:<34} {untrusted}", "untrusted root (JSON)");
    ensure!(
        untrusted.contains("untrusted_issuer"),
        "an untrusted root was not reported"
    );
    println!("\ndemo complete: every decision matched expectations");
    Ok(())
}

fn step(title: &str) {
    println!("\n{title}");
}
