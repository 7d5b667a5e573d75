//! `tenuo-loadtest`: see `tenuo-loadtest --help` and the crate docs.

use std::process::ExitCode;

use clap::Parser;
use tenuo_loadtest::app;
use tenuo_loadtest::cli::Cli;

// jemalloc rather than glibc's allocator: every request allocates headers, a URL
// and response buffers, and glibc's malloc took a visible share of the load
// generator's CPU, which on a small machine is taken from the authorizer under
// test. Not on MSVC targets, which jemalloc does not support.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The statuses are `app::exit`'s: 3 for a failed gate, 64 for a bad target or
/// scenario, 1 for any other error (returned, so Rust prints it and exits 1).
#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match app::run(&cli).await {
        Ok(finished) => Ok(ExitCode::from(finished.exit_code())),
        Err(e) if app::error_exit_code(&e) != app::exit::FAILED => {
            eprintln!("tenuo-loadtest: {e}");
            Ok(ExitCode::from(app::error_exit_code(&e)))
        }
        Err(e) => Err(e.into()),
    }
}
