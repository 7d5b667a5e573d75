//! Our authorizer, in-process on loopback, with the run's generated trust and
//! gateway YAML: the default target, so a run needs no setup.
//!
//! It runs on its own tokio runtime (its own worker threads), so the load
//! generator's tasks and the server's never share a run queue; on a small
//! machine they still share the cores, which the report states.
//!
//! Every thread of that runtime is named [`EMBEDDED_THREADS`], and its blocking
//! threads (where cache misses are verified) idle for an hour before they exit:
//! the server's CPU is the sum over those threads ([`crate::cpu`]), and a thread
//! that exited mid-run would take its share with it.

use std::net::SocketAddr;
use tenuo_authz::crypto::PublicKey;
use tokio::sync::oneshot;

use crate::cpu::EMBEDDED_THREADS;
use crate::error::LoadError;
use crate::setup::Setup;

/// A running embedded authorizer.
#[derive(Debug)]
pub struct Embedded {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Embedded {
    /// Starts the authorizer on `127.0.0.1:0` with `worker_threads` threads,
    /// trusting `setup`'s root and routing with its gateway YAML.
    pub fn start(setup: &Setup, worker_threads: usize) -> Result<Self, LoadError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1))
            .thread_name(EMBEDDED_THREADS)
            .thread_keep_alive(std::time::Duration::from_secs(3600))
            .enable_all()
            .build()
            .map_err(|e| LoadError::Embedded(e.to_string()))?;
        let trusted = setup.trusted_issuer();
        let yaml = setup.gateway_yaml();
        let (started, ready) = std::sync::mpsc::sync_channel(1);
        let (stop, stopped) = oneshot::channel();
        // The server is built and run on its own thread: `start` may be called
        // from inside another runtime, where blocking on this one is not allowed.
        let thread = std::thread::Builder::new()
            .name(EMBEDDED_THREADS.into())
            .spawn(move || {
                runtime.block_on(async move {
                    match serve(trusted, &yaml).await {
                        Ok(server) => {
                            let _ = started.send(Ok(server.addr));
                            let _ = stopped.await;
                            server.shutdown().await;
                        }
                        Err(e) => {
                            let _ = started.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| LoadError::Embedded(e.to_string()))?;
        let addr = ready
            .recv()
            .map_err(|e| LoadError::Embedded(e.to_string()))??;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A started server: its address and how to stop it.
struct Server {
    addr: SocketAddr,
    running: tenuo_authz::server::RunningServer,
}

impl Server {
    async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// `tenuo_authz::server::spawn` on loopback ports chosen by the OS, trusting
/// `trusted`, routing with `yaml`; no drain delay (nothing balances to it).
async fn serve(trusted: PublicKey, yaml: &str) -> Result<Server, LoadError> {
    use tenuo_authz::server::{spawn, ServerConfig};

    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut config = ServerConfig::default();
    config.listen = loopback;
    config.metrics_listen = loopback;
    config.trusted_issuers = vec![trusted];
    config.gateway_yaml = Some(yaml.to_owned());
    config.drain_delay = std::time::Duration::ZERO;
    config.shutdown_grace = std::time::Duration::from_secs(2);
    let running = spawn(config)
        .await
        .map_err(|e| LoadError::Embedded(e.to_string()))?;
    Ok(Server {
        addr: running.addr,
        running,
    })
}
