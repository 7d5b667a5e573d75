//! `tenuo-loadtest`: see `tenuo-loadtest --help` and the crate docs.

use std::process::ExitCode;

use clap::Parser;
use tenuo_loadtest::app::{self, Finished};
use tenuo_loadtest::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match app::run(&cli).await {
        Ok(Finished::Ok) => Ok(ExitCode::SUCCESS),
        Ok(Finished::GateFailed) => Ok(ExitCode::from(1)),
        Err(e @ tenuo_loadtest::LoadError::Target { .. })
        | Err(e @ tenuo_loadtest::LoadError::UnknownScenario(_)) => {
            eprintln!("tenuo-loadtest: {e}");
            Ok(ExitCode::from(64))
        }
        Err(e) => Err(e.into()),
    }
}
