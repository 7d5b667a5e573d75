//! Per-request latency in microseconds, in HDR histograms, with decision counts.
//!
//! One [`Recorder`] per (phase, target): a histogram per label (scenario row)
//! of 1 µs to 60 s at 3 significant digits, the allow/deny-by-reason/error
//! counts, and the active window (first send to last completion) of each slice,
//! so requests per second exclude goose's start-up and ramp.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::call::Expect;
use crate::classify::Outcome;

/// Lowest recordable latency, µs.
pub const LOWEST_US: u64 = 1;
/// Highest recordable latency, µs (60 s); longer ones are clamped.
pub const HIGHEST_US: u64 = 60_000_000;
/// Significant digits kept.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram with the harness's bounds.
pub(crate) fn new_histogram() -> Histogram<u64> {
    // The bounds are constants known to be valid.
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        .unwrap_or_else(|_| unreachable!("valid HDR bounds"))
}

/// Results of one label.
#[derive(Debug, Clone)]
pub struct ScenarioStats {
    /// Row name.
    pub name: String,
    /// Latency, µs, of every completed request (allowed, denied or HTTP error).
    pub hist: Histogram<u64>,
    /// Allowed.
    pub allow: u64,
    /// Denied, by reason.
    pub deny: BTreeMap<String, u64>,
    /// Errors (transport, timeout, 404, 5xx), by kind.
    pub errors: BTreeMap<String, u64>,
    /// Decisions opposite to what the call was built for (allow expected, deny
    /// given, or the reverse).
    pub unexpected: u64,
    /// Measured time.
    pub elapsed: Duration,
    /// CPU time the target spent serving these requests, where it was measured
    /// (see [`crate::cpu`]).
    pub server_cpu: Option<Duration>,
}

impl ScenarioStats {
    fn empty(name: String) -> Self {
        Self {
            name,
            hist: new_histogram(),
            allow: 0,
            deny: BTreeMap::new(),
            errors: BTreeMap::new(),
            unexpected: 0,
            elapsed: Duration::ZERO,
            server_cpu: None,
        }
    }

    /// Requests answered or failed.
    pub fn requests(&self) -> u64 {
        self.allow + self.denied() + self.error_count()
    }

    /// Denials of any reason.
    pub fn denied(&self) -> u64 {
        self.deny.values().sum()
    }

    /// Errors of any kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Requests per second over the measured time.
    pub fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests() as f64 / secs
        } else {
            0.0
        }
    }

    /// Server CPU time per request, where the CPU was measured and there were
    /// requests.
    pub fn cpu_per_request(&self) -> Option<Duration> {
        let requests = u128::from(self.requests());
        let cpu = self.server_cpu?.as_nanos();
        let nanos = cpu.checked_div(requests)?;
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// Adds `other` into `self` (histograms, counts and time; the server CPU
    /// only if both have it).
    pub fn merge(&mut self, other: &ScenarioStats) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.hist.add(&other.hist);
        self.allow += other.allow;
        for (k, v) in &other.deny {
            *self.deny.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.unexpected += other.unexpected;
        self.elapsed += other.elapsed;
        self.server_cpu = match (self.server_cpu, other.server_cpu) {
            (Some(mine), Some(theirs)) => Some(mine + theirs),
            _ => None,
        };
    }

    /// All rows merged under `name`; elapsed is the sum of the rows' times
    /// unless `elapsed` is given, the server CPU the sum of theirs if every row
    /// has it.
    pub fn merged<'a>(
        name: &str,
        rows: impl IntoIterator<Item = &'a ScenarioStats>,
        elapsed: Option<Duration>,
    ) -> Self {
        let mut all = Self::empty(name.to_owned());
        all.server_cpu = Some(Duration::ZERO);
        for row in rows {
            all.merge(row);
        }
        if let Some(elapsed) = elapsed {
            all.elapsed = elapsed;
        }
        all
    }
}

#[derive(Debug)]
struct Window {
    first: Option<Instant>,
    last: Option<Instant>,
    total: Duration,
}

/// Thread-safe recorder shared by every user or task of a run.
#[derive(Debug)]
pub struct Recorder {
    rows: Vec<Mutex<ScenarioStats>>,
    window: Mutex<Window>,
    completed: AtomicU64,
    failed: AtomicU64,
}

impl Recorder {
    /// One row per label.
    pub fn new(labels: Vec<String>) -> Self {
        Self {
            rows: labels
                .into_iter()
                .map(|l| Mutex::new(ScenarioStats::empty(l)))
                .collect(),
            window: Mutex::new(Window {
                first: None,
                last: None,
                total: Duration::ZERO,
            }),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// Records one completed request of row `label` that took `latency`.
    pub fn record(&self, label: usize, latency: Duration, outcome: &Outcome, expect: Expect) {
        let micros = (latency.as_micros() as u64).clamp(LOWEST_US, HIGHEST_US);
        let Some(row) = self.rows.get(label) else {
            return;
        };
        let mut row = row.lock().unwrap_or_else(|p| p.into_inner());
        let _ = row.hist.record(micros);
        match outcome {
            Outcome::Allow => {
                row.allow += 1;
                if expect == Expect::Deny {
                    row.unexpected += 1;
                }
            }
            Outcome::Deny(reason) => {
                match row.deny.get_mut(reason.as_str()) {
                    Some(n) => *n += 1,
                    None => {
                        row.deny.insert(reason.clone(), 1);
                    }
                }
                if expect == Expect::Allow {
                    row.unexpected += 1;
                }
            }
            Outcome::Error(kind) => {
                *row.errors.entry(kind.clone()).or_default() += 1;
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        drop(row);
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `count` requests that were never sent (open loop: the in-flight
    /// bound stayed full until the run's hard stop).
    pub fn record_unsent(&self, label: usize, count: u64) {
        if let Some(row) = self.rows.get(label) {
            let mut row = row.lock().unwrap_or_else(|p| p.into_inner());
            *row.errors.entry("not_sent".into()).or_default() += count;
            self.failed.fetch_add(count, Ordering::Relaxed);
        }
    }

    /// Marks activity between `start` and `end` in the current slice.
    pub fn span(&self, start: Instant, end: Instant) {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        w.first = Some(w.first.map_or(start, |f| f.min(start)));
        w.last = Some(w.last.map_or(end, |l| l.max(end)));
    }

    /// Ends a slice: its active window joins the measured time.
    pub fn close_slice(&self) {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(first), Some(last)) = (w.first.take(), w.last.take()) {
            w.total += last.saturating_duration_since(first);
        }
    }

    /// Requests completed so far, and of those, errors (for progress).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.completed.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }

    /// Measured time of the closed slices.
    pub fn measured(&self) -> Duration {
        self.window.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// The rows, each with `elapsed` as its time (rows of a workload share it).
    pub fn take(&self, elapsed: Duration) -> Vec<ScenarioStats> {
        self.rows
            .iter()
            .map(|row| {
                let mut row = row.lock().unwrap_or_else(|p| p.into_inner()).clone();
                row.elapsed = elapsed;
                row
            })
            .collect()
    }
}
