//! `tenuo-authorizer`: the sidecar and gateway server (see `tenuo_authz::server`).
//!
//! `tenuo-authorizer serve` reads `docs/reference.md` §5 settings from flags and the
//! environment, and the reference authorizer's (its global `--trusted-keys`,
//! `--revocation-list`, `--revocation-floor`, and `serve --port --bind --socket
//! --health-port ...`). Bad configuration exits with a message naming what to
//! fix and status 64 (EX_USAGE); SIGTERM or Ctrl-C stops gracefully. `info`,
//! `check` and `verify` are the reference's one-shot subcommands.

use std::process::ExitCode;

// jemalloc rather than glibc's allocator: the verified-chain cache turns over many
// small allocations from several threads, and glibc kept what it freed resident
// (README, "Performance"). Not on MSVC targets, which jemalloc does not support.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod oneshot;

use clap::{Parser, Subcommand};
use tenuo_authz::server::{
    logging, run, GlobalArgs, ProcessEnv, ServeArgs, ServerConfig, ServerError,
};

/// Tenuo warrant authorizer: sidecar, gateway, Envoy ext_authz.
#[derive(Debug, Parser)]
#[command(name = "tenuo-authorizer", version, about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve authorization decisions.
    Serve(Box<ServeArgs>),
    /// Print the version and the trusted keys; fails when no valid key is set.
    Info,
    /// Verify a warrant chain's signatures and lifetimes (no call).
    Check(oneshot::CheckArgs),
    /// Decide one call (exit 0 allow, 1 deny).
    Verify(oneshot::VerifyArgs),
}

const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Command::Serve(args) => args,
        Command::Info => return oneshot::info(&cli.global, &ProcessEnv),
        Command::Check(args) => return oneshot::check(&cli.global, &args, &ProcessEnv),
        Command::Verify(args) => return oneshot::verify(&cli.global, &args, &ProcessEnv),
    };
    let config = match ServerConfig::resolve_with(&cli.global, *args, &ProcessEnv) {
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
        Err(error @ (ServerError::Config(_) | ServerError::Floor(_))) => {
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
