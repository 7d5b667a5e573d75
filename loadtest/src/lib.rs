//! tenuo-loadtest: load for Tenuo authorizers, measured in microseconds.
//!
//! goose runs the closed-loop users (see [`closed_loop`]); an open-loop
//! scheduler of our own issues requests at a fixed arrival rate and measures
//! latency from each request's *intended* send time, so a stalled target shows
//! up in the tail instead of being hidden by coordinated omission (see
//! [`open_loop`]). Every request's latency is recorded by the harness itself
//! into HDR histograms (1 µs to 60 s, 3 significant digits), per scenario and
//! overall, with the decision counts ([`Recorder`]).
//!
//! The pieces compose: a [`Setup`] (root key and gateway YAML) mints warrants
//! ([`Minter`]); a [`Scenario`] turns them into a [`Workload`] of HTTP calls;
//! the [`Runner`] drives a workload against one or two targets in interleaved
//! rounds, reading each target's CPU around every slice ([`cpu`]); [`report`]
//! renders the results and [`gate`] compares them with a baseline, normalised by
//! the machine's own `verify_strict` rate ([`calibrate`]).
//!
//! ```
//! use tenuo_loadtest::{Recorder, Outcome, Expect};
//! use std::time::Duration;
//!
//! let recorder = Recorder::new(vec!["demo".into()]);
//! for _ in 0..99 {
//!     recorder.record(0, Duration::from_micros(100), &Outcome::Allow, Expect::Allow);
//! }
//! recorder.record(0, Duration::from_millis(50), &Outcome::Allow, Expect::Allow);
//! let stats = recorder.take(Duration::from_secs(1));
//! assert_eq!(stats[0].requests(), 100);
//! assert!(stats[0].hist.value_at_quantile(0.5) < 101);
//! assert!(stats[0].hist.max() >= 49_950);
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod calibrate;
mod call;
mod classify;
pub mod cli;
pub mod closed_loop;
pub mod cpu;
pub mod duration;
pub mod embedded;
mod error;
pub mod gate;
mod machine;
pub mod open_loop;
mod progress;
mod recorder;
pub mod report;
mod runner;
mod scenarios;
mod setup;
mod warrants;

pub use call::{Call, Expect, FixedCall, Phase, Workload};
pub use classify::{classify, map_reference_error, Outcome};
pub use error::LoadError;
pub use progress::Progress;
pub use recorder::{Recorder, ScenarioStats, HIGHEST_US, LOWEST_US, SIGNIFICANT_DIGITS};
pub use runner::{LoadModel, PhaseResult, RunConfig, RunResults, Runner, TargetResults};
pub use scenarios::{Scenario, ScenarioKind, ScenarioParams};
pub use setup::Setup;
pub use warrants::{Chain, Minter};
