//! The request-header pattern's ingress as a pod (kind): injects a warrant
//! from the control plane into every request it forwards to the agent.
//!
//! Environment: `LISTEN_ADDR` (default `0.0.0.0:8081`), `UPSTREAM` and
//! `CONTROL_PLANE` (`host:port`), `HOLDER` (the agent's hex public key),
//! `TOKEN_FILE` (the projected service account token), `WARRANT_TTL`
//! (seconds, default 60). Logs one JSON line per request, never a warrant.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use tenuo_authz::crypto::PublicKey;
use tenuo_e2e::{Injector, TokenSource};

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
    println!(
        "{}",
        serde_json::json!({"event": "started", "listen": listener.local_addr()?.to_string(),
                           "upstream": injector.upstream})
    );
    injector.run(listener, Arc::new(AtomicBool::new(false)), true);
    Ok(())
}
