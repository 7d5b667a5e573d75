//! End-to-end scenarios for `tenuo-authorizer`, written once against a
//! [`Target`] so the same suite runs on a kind cluster and on local processes
//! rendered from the Helm chart (`cargo xtask e2e [--backend local]`).
//!
//! - [`Target`]: what a backend gives the suite: the authorizer Service and the
//!   control plane endpoints, pod logs and metrics, Secrets, upgrades with new
//!   values (a rollout), restarts, workload credentials, agents.
//! - [`agents`]: the agents as Kubernetes Jobs (k8s-openapi), one builder for
//!   kind (applied) and local processes (run as a kubelet would).
//! - [`Injector`]: the request-header pattern's ingress, a thread or the
//!   `ingress` binary (feature `ingress`) in a pod.
//! - [`run_suite`]: every scenario (denials, rotation under load, the three
//!   delivery patterns), each a row of the [`Report`].
//! - The `control-plane` binary (feature `control-plane`): the reference control
//!   plane that issues warrants over HTTP to authenticated workloads.
//!
//! Errors are `anyhow`, as in `xtask`, which is this crate's only caller: it is
//! test tooling, not a library, and every error ends as a line in a report for a
//! person to read, never as a value a caller matches on.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod agents;
mod client;
mod fixture;
mod http;
mod ingress;
mod load;
mod logs;
mod policy;
mod report;
mod scenarios;
mod target;

pub use client::ControlPlaneClient;
pub use fixture::{base_values, Fixture, GATEWAY_YAML, NAMESPACE, RELEASE};
pub use http::{request, Reply};
pub use ingress::{stop_accepting, Forwarded, Ingress, IngressSpec, Injector, TokenSource};
pub use load::{Load, LoadStats};
pub use logs::{denial_lines, sum_metric};
pub use policy::{Policy, ToolPolicy, WorkloadPolicy};
pub use report::{Report, Row};
pub use scenarios::run_suite;
pub use target::{AgentNetwork, AgentRun, ControlPlaneSpec, Target};
