//! Runs phases (one workload each) against one or two targets.
//!
//! With two targets (`--compare`), each phase is split into rounds and the
//! targets take turns within a round, in alternating order (A B, B A, ...), so
//! drift of the machine (thermal, other load, cache warmth) falls on both
//! alike. Both get the same calls: the same workload and a call sequence that
//! starts at zero for each.
//!
//! Around every slice the runner reads the target's CPU time, where it can
//! ([`crate::cpu`]); a phase's rows carry the CPU its slices took.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::call::{Phase, Urls, Workload};
use crate::closed_loop::{self, ClosedLoop};
use crate::cpu::{CpuPlan, CpuSource};
use crate::error::LoadError;
use crate::open_loop::{self, OpenLoop};
use crate::progress::{Progress, Ticker};
use crate::recorder::{Recorder, ScenarioStats};

/// Gives each row of a phase its share of the CPU its slices took, by requests
/// (rows of one phase share one window, so they get its CPU per request).
fn share_cpu(rows: &mut [ScenarioStats], spent: Option<Duration>) {
    let total: u64 = rows.iter().map(ScenarioStats::requests).sum();
    let single = rows.len() == 1;
    for row in rows {
        row.server_cpu = spent.map(|cpu| {
            if single || total == 0 {
                cpu
            } else {
                cpu.mul_f64(row.requests() as f64 / total as f64)
            }
        });
    }
}

/// Warm-up calls per phase and target, at most.
const MAX_WARMUP_CALLS: usize = 10_000;

/// How load is offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    /// goose users, each waiting for its answer before the next call.
    Closed {
        /// Concurrent users.
        users: usize,
    },
    /// Fixed arrival rate, latency from the intended send time.
    Open {
        /// Requests per second.
        rate: f64,
        /// Most requests outstanding.
        max_in_flight: usize,
    },
}

/// What to run.
pub struct RunConfig {
    /// `(name, base URL)` of each target: one, or two to compare.
    pub targets: Vec<(String, String)>,
    /// `(row name, workload)` of each phase, run in order.
    pub phases: Vec<Phase>,
    /// The load model.
    pub model: LoadModel,
    /// Measured time per phase and target.
    pub duration: Duration,
    /// Interleaved rounds per phase (with two targets).
    pub rounds: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Progress on stderr.
    pub progress: Progress,
    /// How each target's CPU is read, in the order of `targets` (a target
    /// without an entry is not measured).
    pub cpu: Vec<CpuPlan>,
}

impl std::fmt::Debug for RunConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunConfig")
            .field("targets", &self.targets)
            .field(
                "phases",
                &self.phases.iter().map(|p| &p.0).collect::<Vec<_>>(),
            )
            .field("model", &self.model)
            .field("duration", &self.duration)
            .field("rounds", &self.rounds)
            .field("cpu", &self.cpu)
            .finish_non_exhaustive()
    }
}

/// One phase's rows for one target.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    /// Phase name.
    pub name: String,
    /// Its rows (usually one).
    pub rows: Vec<ScenarioStats>,
}

/// Everything measured on one target.
#[derive(Debug, Clone)]
pub struct TargetResults {
    /// `ours`, `target` or `compare`.
    pub name: String,
    /// Base URL.
    pub url: String,
    /// Per phase.
    pub phases: Vec<PhaseResult>,
    /// Where its CPU was read, if it was.
    pub cpu_source: Option<String>,
    /// Why its CPU is `n/a` (in some phases or all), if it is.
    pub cpu_unavailable: Option<String>,
}

impl TargetResults {
    /// Every row of every phase, in order.
    pub fn rows(&self) -> impl Iterator<Item = &ScenarioStats> {
        self.phases.iter().flat_map(|p| p.rows.iter())
    }

    /// All rows merged (time = sum of the phases' times).
    pub fn overall(&self) -> ScenarioStats {
        let elapsed = self
            .phases
            .iter()
            .filter_map(|p| p.rows.first())
            .map(|r| r.elapsed)
            .sum();
        ScenarioStats::merged("overall", self.rows(), Some(elapsed))
    }
}

/// Results of a run.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// Per target, in the order given.
    pub targets: Vec<TargetResults>,
}

/// Drives a [`RunConfig`].
#[derive(Debug)]
pub struct Runner {
    config: RunConfig,
    client: reqwest::Client,
}

impl Runner {
    /// A runner with its own HTTP client (open loop and warm-up).
    pub fn new(config: RunConfig) -> Result<Self, LoadError> {
        let in_flight = match config.model {
            LoadModel::Open { max_in_flight, .. } => max_in_flight,
            LoadModel::Closed { users } => users,
        };
        let client = open_loop::client(config.timeout, in_flight)?;
        Ok(Self { config, client })
    }

    /// Runs every phase on every target.
    pub async fn run(&self) -> Result<RunResults, LoadError> {
        let c = &self.config;
        let mut cpu: Vec<CpuPlan> = (0..c.targets.len())
            .map(|t| {
                c.cpu.get(t).cloned().unwrap_or_else(|| {
                    CpuPlan::Unavailable("the run was not asked to measure it".into())
                })
            })
            .collect();
        let mut targets: Vec<TargetResults> = c
            .targets
            .iter()
            .zip(&cpu)
            .map(|((name, url), plan)| TargetResults {
                name: name.clone(),
                url: url.clone(),
                phases: Vec::new(),
                cpu_source: match plan {
                    CpuPlan::Measure(source) => Some(source.describe()),
                    CpuPlan::Unavailable(_) => None,
                },
                cpu_unavailable: None,
            })
            .collect();
        let rounds = if c.targets.len() > 1 {
            c.rounds.max(1)
        } else {
            1
        };
        let slice = c.duration.div_f64(rounds as f64);
        for (phase, workload) in &c.phases {
            let recorders: Vec<Arc<Recorder>> = c
                .targets
                .iter()
                .map(|_| Arc::new(Recorder::new(workload.labels())))
                .collect();
            let seqs: Vec<Arc<AtomicU64>> = c.targets.iter().map(|_| Arc::default()).collect();
            let mut spent: Vec<Option<Duration>> = cpu
                .iter()
                .map(|plan| matches!(plan, CpuPlan::Measure(_)).then_some(Duration::ZERO))
                .collect();
            for (_, url) in &c.targets {
                self.warm_up(url, workload.as_ref()).await;
            }
            for round in 0..rounds {
                let mut order: Vec<usize> = (0..c.targets.len()).collect();
                if round % 2 == 1 {
                    order.reverse();
                }
                for t in order {
                    let (name, url) = &c.targets[t];
                    let label = if c.targets.len() > 1 {
                        format!("{phase} [{name}] {}/{rounds}", round + 1)
                    } else {
                        phase.clone()
                    };
                    let ticker = Ticker::start(c.progress, label, Arc::clone(&recorders[t]));
                    let before = self.read_cpu(name, &mut cpu[t]).await;
                    self.slice(url, workload, &recorders[t], &seqs[t], slice)
                        .await?;
                    let after = self.read_cpu(name, &mut cpu[t]).await;
                    drop(ticker);
                    recorders[t].close_slice();
                    spent[t] = match (spent[t], before, after) {
                        (Some(sum), Some(before), Some(after)) => {
                            Some(sum + after.saturating_sub(before))
                        }
                        _ => None,
                    };
                }
            }
            for ((target, recorder), spent) in targets.iter_mut().zip(&recorders).zip(spent) {
                let mut rows = recorder.take(recorder.measured());
                share_cpu(&mut rows, spent);
                target.phases.push(PhaseResult {
                    name: phase.clone(),
                    rows,
                });
            }
        }
        for (target, plan) in targets.iter_mut().zip(cpu) {
            if let CpuPlan::Unavailable(why) = plan {
                target.cpu_unavailable = Some(why);
            }
        }
        Ok(RunResults { targets })
    }

    /// Reads a target's CPU time; on the first failure, says why on stderr and
    /// reads it no more (its later phases report `n/a`).
    async fn read_cpu(&self, target: &str, plan: &mut CpuPlan) -> Option<Duration> {
        let CpuPlan::Measure(source) = plan else {
            return None;
        };
        match CpuSource::read(source, &self.client).await {
            Ok(time) => Some(time),
            Err(e) => {
                eprintln!("server CPU of {target}: {e}; n/a from here on");
                *plan = CpuPlan::Unavailable(e.to_string());
                None
            }
        }
    }

    async fn slice(
        &self,
        url: &str,
        workload: &Arc<dyn Workload>,
        recorder: &Arc<Recorder>,
        seq: &Arc<AtomicU64>,
        duration: Duration,
    ) -> Result<(), LoadError> {
        let c = &self.config;
        match c.model {
            LoadModel::Closed { users } => {
                let settings = ClosedLoop {
                    users,
                    duration,
                    timeout: c.timeout,
                };
                closed_loop::run(
                    url,
                    Arc::clone(workload),
                    Arc::clone(recorder),
                    Arc::clone(seq),
                    &settings,
                )
                .await
            }
            LoadModel::Open {
                rate,
                max_in_flight,
            } => {
                let settings = OpenLoop {
                    rate,
                    duration,
                    max_in_flight,
                    timeout: c.timeout,
                };
                open_loop::run(
                    &self.client,
                    url,
                    Arc::clone(workload),
                    Arc::clone(recorder),
                    Arc::clone(seq),
                    &settings,
                )
                .await
            }
        }
    }

    /// Sends the workload's warm-up calls once, unrecorded.
    async fn warm_up(&self, url: &str, workload: &dyn Workload) {
        let urls = Urls::new(url);
        for call in workload.warmup().iter().take(MAX_WARMUP_CALLS) {
            let _ = open_loop::send(&self.client, &urls, call).await;
        }
    }
}
