//! The request-header pattern's ingress as a pod (kind): injects a warrant
//! from the control plane into every request it forwards to the agent.
//!
//! Environment: `LISTEN_ADDR` (default `0.0.0.0:8081`), `UPSTREAM` and
//! `CONTROL_PLANE` (`host:port`), `HOLDER` (the agent's hex public key),
//! `TOKEN_FILE` (the projected service account token), `WARRANT_TTL`
//! (seconds, default 60). Logs one JSON line per request, never a warrant.
//! At SIGTERM (or Ctrl-C) it stops accepting, lets the requests in flight
//! finish, and exits.

#[path = "shared/shutdown.rs"]
mod shutdown;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use tenuo_authz::crypto::PublicKey;
use tenuo_e2e::{stop_accepting, Injector, TokenSource};

fn var(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set"))
}

fn main() -> Result<()> {
    let listen = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "0.0.0.0:8081".to_owned());
    let injector = Injector {
        upstream: var("UPSTREAM")?,
        control_plane: var("CONTROL_PLANE")?,
        holder: PublicKey::from_hex(&var("HOLDER")?).context("HOLDER: a hex public key")?,
        ttl_secs: match std::env::var("WARRANT_TTL") {
            Ok(t) => t.parse().context("WARRANT_TTL: seconds")?,
            Err(_) => 60,
        },
        token: TokenSource::File(PathBuf::from(var("TOKEN_FILE")?)),
    };
    let listener = TcpListener::bind(&listen).with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    // A runtime only to wait for the signal; the ingress itself is threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let terminated = {
        let _in_runtime = runtime.enter();
        shutdown::terminated()?
    };
    println!(
        "{}",
        serde_json::json!({"event": "started", "listen": addr.to_string(),
                           "upstream": injector.upstream})
    );
    let stop = Arc::new(AtomicBool::new(false));
    let accepting = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || injector.run(listener, stop, true))
    };
    runtime.block_on(terminated);
    stop_accepting(&stop, addr);
    if accepting.join().is_err() {
        anyhow::bail!("the accept loop panicked");
    }
    println!("{}", serde_json::json!({"event": "stopped"}));
    Ok(())
}
