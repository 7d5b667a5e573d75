//! What a backend (kind or local processes) gives the scenarios.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Result;

use crate::agents::{self, AgentJob};
pub use crate::agents::{AgentNetwork, AgentRun};
use crate::ingress::{Ingress, IngressSpec};
use crate::policy::Policy;

/// How to run the control plane.
#[derive(Debug, Clone)]
pub struct ControlPlaneSpec {
    /// Secret with the signing keys (one hex seed per data key).
    pub keys_secret: String,
    /// The data key signing at start.
    pub initial_key: String,
    /// The policy.
    pub policy: Policy,
    /// Bearer token of `/admin/*` (rotation, revocation).
    pub admin_token: String,
    /// Workload identities that get a credential (offline: the token file).
    pub workloads: Vec<String>,
}

/// A deployment of the authorizer the scenarios can drive.
pub trait Target {
    /// `kind` or `local`.
    fn name(&self) -> &str;
    /// The authorizer Service (load-balanced over the replicas).
    fn authorizer(&self) -> SocketAddr;
    /// Creates or replaces a Secret; mounted copies see the change.
    fn write_secret(&mut self, name: &str, data: &BTreeMap<String, String>) -> Result<()>;
    /// Starts the control plane; returns its address.
    fn deploy_control_plane(&mut self, spec: &ControlPlaneSpec) -> Result<SocketAddr>;
    /// The credential a workload presents to the control plane
    /// (a service account token on kind, the token file's entry offline).
    fn workload_token(&self, workload: &str) -> Result<String>;
    /// `helm upgrade --install --wait` with these values: a rollout when the
    /// pod template changes, complete on return (all new replicas ready, the
    /// replaced ones gone).
    fn upgrade(&mut self, values: &serde_json::Value) -> Result<()>;
    /// `kubectl rollout restart` and wait for it, as [`Target::upgrade`].
    fn restart(&mut self) -> Result<()>;
    /// The authorizer's log lines (stdout), as `kubectl logs -l
    /// app=tenuo-authorizer` prints them: on kind those of the pods that exist
    /// now (a replaced pod's lines leave with it, and [`Target::upgrade`] and
    /// [`Target::restart`] return once the replaced pods are gone); locally
    /// every replica's since the first install, replaced ones included.
    fn logs(&self) -> Result<String>;
    /// The metrics text of each current replica (never a terminating one).
    fn metrics(&self) -> Result<Vec<String>>;
    /// Runs an agent Job to completion (within its `activeDeadlineSeconds`)
    /// and returns the summary the Python agent prints last. A process
    /// backend runs its container as [`agents::kubelet::run`] does.
    fn run_agent_job(&mut self, job: &AgentJob) -> Result<AgentRun>;
    /// Logs and events worth showing when a scenario failed.
    fn diagnostics(&self) -> String;

    /// Where agent pods find the authorizer and this control plane. By
    /// default, processes on loopback: the suite's own addresses, and a
    /// free loopback port for a serving agent.
    fn agent_network(&self, control_plane: SocketAddr) -> Result<AgentNetwork> {
        agents::loopback_network(self.authorizer(), control_plane)
    }

    /// Starts the ingress of the request-header pattern in front of a
    /// serving agent. By default a thread of this process, fetching warrants
    /// with the workload's token.
    fn start_ingress(&mut self, spec: &IngressSpec) -> Result<Ingress> {
        let token = self.workload_token(&spec.workload)?;
        Ingress::spawn_local(spec, token)
    }
}
