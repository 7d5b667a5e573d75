//! `tenuo-loadtest`: see `tenuo-loadtest --help` and the crate docs.

use std::process::ExitCode;

use clap::Parser;
use tenuo_loadtest::app::{self, Finished};
use tenuo_loadtest::cli::Cli;

// jemalloc rather than glibc's allocator: every request allocates headers, a URL
// and response buffers, and glibc's malloc took a visible share of the load
// generator's CPU, which on a small machine is taken from the authorizer under
// test. Not on MSVC targets, which jemalloc does not support.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
