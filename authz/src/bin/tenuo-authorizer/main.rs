//! `tenuo-authorizer`: the sidecar and gateway server (see `tenuo_authz::server`).
//!
//! `tenuo-authorizer serve` reads CONTRACTS §5 settings from flags and the
//! environment. Bad configuration exits with a message naming what to fix and
//! status 64 (EX_USAGE); SIGTERM or Ctrl-C stops gracefully.

use std::process::ExitCode;

/// jemalloc rather than glibc's allocator: the verified-chain cache turns over many
/// small allocations from several threads, and glibc kept what it freed resident
/// (62.7 MiB peak under a 100,000-chain flood against a 16 MiB cache budget).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use clap::{Parser, Subcommand};
use tenuo_authz::server::{logging, run, ProcessEnv, ServeArgs, ServerConfig, ServerError};

/// Tenuo warrant authorizer: sidecar, gateway, Envoy ext_authz.
#[derive(Debug, Parser)]
#[command(name = "tenuo-authorizer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve authorization decisions.
    Serve(ServeArgs),
}

const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    let Command::Serve(args) = Cli::parse().command;
    let config = match ServerConfig::resolve(args, &ProcessEnv) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("tenuo-authorizer: {error}");
            return ExitCode::from(EX_USAGE);
        }
    };
    logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tenuo-authorizer: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The signal handlers are installed before the server starts: a SIGTERM that
    // arrives during start-up must shut it down gracefully, not kill it.
    match runtime.block_on(async {
        let signal = shutdown_signal();
        run(config, signal).await
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ ServerError::Config(_)) => {
            eprintln!("tenuo-authorizer: {error}");
            ExitCode::from(EX_USAGE)
        }
        Err(error) => {
            eprintln!("tenuo-authorizer: {error}");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM (Kubernetes) or Ctrl-C. Registers the handlers when called (inside the
/// runtime); the returned future completes on the first signal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt => {}
            }
            return;
        }
        let _ = interrupt.await;
    }
}
