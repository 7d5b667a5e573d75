//! Continuous load: agents fetching a warrant per task from the control plane
//! and calling the authorizer, until [`Load::finish`]. A deadline guards a
//! scenario that never finishes; reaching it is a failure of the load, not a
//! quiet stop, since the steps after it would run without load.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tenuo_authz::constraint::ArgValue;
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::decode_token;

use crate::client::ControlPlaneClient;
use crate::http::request;

/// Counters of a load run.
#[derive(Debug, Default)]
pub struct LoadStats {
    /// Allowed requests sent.
    pub requests: AtomicU64,
    /// Failures: requests not answered 200 (or not at all), control plane
    /// errors, and each worker that reached the deadline (and stopped).
    pub failures: AtomicU64,
    /// Warrants fetched.
    pub warrants: AtomicU64,
    /// The first failures, for the report.
    pub errors: Mutex<Vec<String>>,
}

impl LoadStats {
    /// (requests, failures) now.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::SeqCst),
            self.failures.load(Ordering::SeqCst),
        )
    }

    fn fail(&self, what: String) {
        self.failures.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut e) = self.errors.lock() {
            if e.len() < 10 {
                e.push(what);
            }
        }
    }
}

/// A running load.
pub struct Load {
    stop: Arc<AtomicBool>,
    /// Live counters.
    pub stats: Arc<LoadStats>,
    workers: Vec<JoinHandle<()>>,
}

/// One task: a fresh warrant this often.
const TASK: Duration = Duration::from_millis(1000);
/// Pause between calls, so two cores still have room for the servers.
const PACE: Duration = Duration::from_millis(15);

impl Load {
    /// Starts `workers` agents; they run until [`Load::finish`], or fail when
    /// `deadline` passes first.
    pub fn start(
        authorizer: SocketAddr,
        cp: ControlPlaneClient,
        token: String,
        workers: usize,
        deadline: Duration,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(LoadStats::default());
        let workers = (0..workers)
            .map(|_| {
                let (stop, stats, cp, token) =
                    (stop.clone(), stats.clone(), cp.clone(), token.clone());
                std::thread::spawn(move || worker(authorizer, &cp, &token, &stop, &stats, deadline))
            })
            .collect();
        Self {
            stop,
            stats,
            workers,
        }
    }

    /// Stops and joins every worker; returns the counters.
    pub fn finish(self) -> Arc<LoadStats> {
        self.stop.store(true, Ordering::SeqCst);
        for w in self.workers {
            let _ = w.join();
        }
        self.stats
    }
}

fn worker(
    authorizer: SocketAddr,
    cp: &ControlPlaneClient,
    token: &str,
    stop: &AtomicBool,
    stats: &LoadStats,
    deadline: Duration,
) {
    let Ok(key) = SigningKey::generate() else {
        stats.fail("no key".into());
        return;
    };
    let started = Instant::now();
    let mut held: Option<(String, tenuo_authz::warrant::WarrantId, Instant)> = None;
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String("/data/report".into()));
    while !stop.load(Ordering::SeqCst) {
        if started.elapsed() >= deadline {
            stats.fail(format!(
                "the load reached its {} s deadline before the scenario finished it",
                deadline.as_secs()
            ));
            return;
        }
        if held.as_ref().is_none_or(|(_, _, at)| at.elapsed() >= TASK) {
            match cp.warrant(token, &key.public_key(), None) {
                Ok(issued) => match decode_token(&issued.warrant) {
                    Ok((_, chain)) if !chain.is_empty() => {
                        stats.warrants.fetch_add(1, Ordering::SeqCst);
                        let id = *chain[chain.len() - 1].id();
                        held = Some((issued.warrant, id, Instant::now()));
                    }
                    other => stats.fail(format!("undecodable warrant: {other:?}")),
                },
                Err(e) => stats.fail(format!("control plane: {e:#}")),
            }
        }
        let Some((warrant, id, _)) = &held else {
            std::thread::sleep(PACE);
            continue;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let pop = sign_pop(&key, id, "read_file", &args, now).to_base64url();
        stats.requests.fetch_add(1, Ordering::SeqCst);
        match request(
            authorizer,
            "GET",
            "/files/read?path=/data/report",
            &[("x-tenuo-warrant", warrant), ("x-tenuo-pop", &pop)],
            "",
        ) {
            Ok(r) if r.status == 200 => {}
            Ok(r) => stats.fail(format!("{} {}", r.status, r.body)),
            Err(e) => stats.fail(format!("{e:#}")),
        }
        std::thread::sleep(PACE);
    }
}
