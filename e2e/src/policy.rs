//! The control plane's policy file: which workload may get which tools, with
//! which constraints, for how long at most.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tenuo_authz::constraint::{Constraint, ConstraintSet};

/// The whole policy (JSON).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Policy {
    /// Global TTL cap in seconds; no warrant outlives it.
    pub max_ttl_secs: u64,
    /// By workload identity (`system:serviceaccount:<ns>:<name>`).
    pub workloads: BTreeMap<String, WorkloadPolicy>,
}

/// What one workload may be granted.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct WorkloadPolicy {
    /// Tools, each with its constraints.
    pub tools: BTreeMap<String, ToolPolicy>,
    /// The workload's own TTL cap (still under the global one).
    pub max_ttl_secs: u64,
}

/// Constraints of one tool: argument name to glob pattern.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ToolPolicy {
    /// `path: "/data/*"`.
    #[serde(default)]
    pub patterns: BTreeMap<String, String>,
}

impl ToolPolicy {
    /// The constraint set a warrant carries for this tool.
    pub fn constraints(&self) -> Result<ConstraintSet> {
        let mut set = ConstraintSet::new();
        for (arg, glob) in &self.patterns {
            let c = Constraint::pattern(glob).with_context(|| format!("pattern {glob:?}"))?;
            set.insert(arg.clone(), c);
        }
        Ok(set)
    }
}

impl Policy {
    /// The TTL granted for a request: the smallest of the ask and both caps.
    pub fn ttl_for(&self, workload: &WorkloadPolicy, asked: Option<u64>) -> u64 {
        let cap = self.max_ttl_secs.min(workload.max_ttl_secs).max(1);
        asked.unwrap_or(cap).clamp(1, cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_granted_ttl_is_the_smallest_of_the_ask_and_both_caps() {
        let policy = Policy {
            max_ttl_secs: 300,
            workloads: BTreeMap::new(),
        };
        let short = WorkloadPolicy {
            max_ttl_secs: 60,
            ..WorkloadPolicy::default()
        };
        let long = WorkloadPolicy {
            max_ttl_secs: 86_400,
            ..WorkloadPolicy::default()
        };
        assert_eq!(policy.ttl_for(&short, Some(3600)), 60);
        assert_eq!(policy.ttl_for(&short, Some(30)), 30);
        assert_eq!(policy.ttl_for(&short, None), 60);
        assert_eq!(policy.ttl_for(&long, Some(3600)), 300);
        assert_eq!(policy.ttl_for(&short, Some(0)), 1);
    }
}
