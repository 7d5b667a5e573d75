//! A child process that logs JSON lines and announces its addresses with a
//! `started` line. Its stdout and stderr both go to its log stream, as a
//! container's do under `kubectl logs`: what an operator pipes into the
//! guide's jq is everything the process prints.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::service::Listener;

/// How to start one replica.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) ready_path: String,
    /// The listener the readiness probe's port resolves to.
    pub(crate) ready: Listener,
}

pub(crate) struct Process {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) metrics: Option<SocketAddr>,
    own_log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts an authorizer replica and waits until it is ready.
    pub(crate) fn start_authorizer(plan: &Plan, logs: Arc<Mutex<String>>) -> Result<Self> {
        let p = Self::start_json(&plan.program, &plan.args, &plan.env, logs)?;
        let probe = p.address(plan.ready)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match tenuo_e2e::request(probe, "GET", &plan.ready_path, &[], "") {
                Ok(r) if r.status == 200 => return Ok(p),
                _ if Instant::now() >= deadline => bail!("replica {} never became ready", p.addr),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Starts a process (environment cleared but for PATH) and reads its
    /// `{"event":"started","listen":..,"metrics":..}` line.
    pub(crate) fn start_json(
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        logs: Arc<Mutex<String>>,
    ) -> Result<Self> {
        let mut child = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let stderr = child.stderr.take().context("stderr")?;
        let own_log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let (own, all) = (Arc::clone(&own_log), Arc::clone(&logs));
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                record(&all, &own, line);
            }
        });
        let own = Arc::clone(&own_log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["event"] == "started" {
                        let _ = tx.send((
                            v["listen"].as_str().unwrap_or_default().to_owned(),
                            v["metrics"].as_str().map(str::to_owned),
                        ));
                    }
                }
                record(&logs, &own, line);
            }
        });
        let (listen, metrics) = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                let log = own_log.lock().map(|l| l.join("\n")).unwrap_or_default();
                bail!("{} did not start ({status:?}):\n{log}", program.display());
            }
        };
        Ok(Self {
            child,
            addr: listen.parse().context("started: listen")?,
            metrics: metrics.and_then(|m| m.parse().ok()),
            own_log,
        })
    }

    /// The address of one of its listeners.
    pub(crate) fn address(&self, listener: Listener) -> Result<SocketAddr> {
        match listener {
            Listener::Http => Ok(self.addr),
            Listener::Metrics => self
                .metrics
                .with_context(|| format!("replica {} announced no metrics address", self.addr)),
        }
    }

    /// SIGTERM, then wait (at most 40 s) for the graceful exit.
    pub(crate) fn terminate(&mut self) -> Result<()> {
        // A system call, not the `kill` program: minimal systems lack it.
        use rustix::process::{kill_process, Pid, Signal};
        kill_process(Pid::from_child(&self.child), Signal::TERM).map_err(std::io::Error::from)?;
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("replica {} exited with {status} on SIGTERM", self.addr);
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        bail!("replica {} did not exit within 40 s of SIGTERM", self.addr)
    }

    pub(crate) fn log_tail(&self, n: usize) -> String {
        let log = self.own_log.lock().map(|l| l.clone()).unwrap_or_default();
        log[log.len().saturating_sub(n)..].join("\n")
    }
}

/// One line into the shared stream (every replica, as `kubectl logs -l`) and
/// into the process's own.
fn record(all: &Mutex<String>, own: &Mutex<Vec<String>>, line: String) {
    if let Ok(mut l) = all.lock() {
        l.push_str(&line);
        l.push('\n');
    }
    if let Ok(mut o) = own.lock() {
        o.push(line);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
