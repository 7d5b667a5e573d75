//! The committed baseline (`authz/benches/instructions-baseline.json`): each
//! scenario's instruction count, optional per-scenario limits with their reason,
//! and the environment the counts were recorded in.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// A scenario may cost this much more than its baseline, in percent, unless the
/// baseline sets its own limit.
pub(crate) const DEFAULT_LIMIT_PERCENT: f64 = 2.0;

/// What instruction counts depend on besides the code: the compiler, Valgrind's
/// view of the CPU (which selects the curve and hash backends at run time) and
/// the harness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Environment {
    pub(crate) rustc: String,
    pub(crate) valgrind: String,
    pub(crate) gungraun: String,
    /// The CPU features that select a code path in the measured crates.
    pub(crate) cpu_features: Vec<String>,
}

/// One scenario as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recorded {
    pub(crate) instructions: u64,
    /// A limit other than [`DEFAULT_LIMIT_PERCENT`], with `why`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_regression_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) why: Option<String>,
    /// Why this scenario's count varies between runs of the same binary, if it
    /// does (`--prove` holds every other scenario to within a few instructions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) varies: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Baseline {
    pub(crate) environment: Option<Environment>,
    pub(crate) scenarios: BTreeMap<String, Recorded>,
}

impl Baseline {
    pub(crate) fn empty() -> Self {
        Baseline {
            environment: None,
            scenarios: BTreeMap::new(),
        }
    }

    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the baseline {}", path.display()))?;
        let baseline: Baseline = serde_json::from_str(&text)
            .with_context(|| format!("parsing the baseline {}", path.display()))?;
        for (name, recorded) in &baseline.scenarios {
            if let Some(limit) = recorded.max_regression_percent {
                anyhow::ensure!(
                    limit.is_finite() && limit > 0.0 && recorded.why.is_some(),
                    "{}: scenario {name} sets max_regression_percent {limit}; a limit must be \
                     positive and come with a `why`",
                    path.display()
                );
            }
        }
        Ok(baseline)
    }

    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }

    pub(crate) fn limit_percent(&self, scenario: &str) -> f64 {
        self.scenarios
            .get(scenario)
            .and_then(|s| s.max_regression_percent)
            .unwrap_or(DEFAULT_LIMIT_PERCENT)
    }

    /// This baseline with `measured` as its counts, keeping each surviving
    /// scenario's own limit and reason.
    pub(crate) fn updated(
        &self,
        measured: &BTreeMap<String, u64>,
        environment: Environment,
    ) -> Self {
        let scenarios = measured
            .iter()
            .map(|(name, &instructions)| {
                let kept = self.scenarios.get(name);
                let recorded = Recorded {
                    instructions,
                    max_regression_percent: kept.and_then(|k| k.max_regression_percent),
                    why: kept.and_then(|k| k.why.clone()),
                    varies: kept.and_then(|k| k.varies.clone()),
                };
                (name.clone(), recorded)
            })
            .collect();
        Baseline {
            environment: Some(environment),
            scenarios,
        }
    }
}
