//! [`Target`] on a kind cluster, through kubectl and helm: the suite runs on
//! the host through NodePorts; agents run in the cluster as Jobs, their
//! ingress as a Deployment.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tenuo_e2e::agents::{AgentJob, AGENTS_NAMESPACE, HEADER_AGENT, HEADER_PORT};
use tenuo_e2e::{
    AgentNetwork, AgentRun, ControlPlaneSpec, Ingress, IngressSpec, Target, NAMESPACE, RELEASE,
};
use xshell::{cmd, Shell};

use super::manifests::{self, CONTROL_PLANE_HTTP};
use super::{diagnostics, pods, E2E_IMAGE};

/// NodePorts kind maps to 127.0.0.1 (see e2e/kind/cluster.yaml).
pub(crate) const AUTHORIZER_PORT: u16 = 30090;
pub(crate) const CONTROL_PLANE_PORT: u16 = 30080;
pub(crate) const INGRESS_PORT: u16 = 30081;
/// The guide's selector of the authorizer's pods (`kubectl logs -l app=tenuo-authorizer`).
const GUIDE_SELECTOR: &str = "app=tenuo-authorizer";
/// How long the pods a rollout replaced may take to exit (the chart's
/// grace period is 30 s).
const REPLACED_WAIT: Duration = Duration::from_secs(120);
/// An agent Job's own deadline is 300 s; this is a little longer.
const JOB_WAIT: Duration = Duration::from_secs(330);
/// Pod states that no amount of waiting fixes.
const STUCK: [&str; 5] = [
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
];

/// Where pods find the Services: cluster DNS.
pub(crate) fn network() -> AgentNetwork {
    let svc = |name: &str, ns: &str, port: u16| format!("{name}.{ns}.svc.cluster.local:{port}");
    AgentNetwork {
        authorizer: format!("http://{}", svc(RELEASE, NAMESPACE, 9090)),
        control_plane: format!(
            "http://{}",
            svc("control-plane", NAMESPACE, CONTROL_PLANE_HTTP)
        ),
        serve_listen: format!("0.0.0.0:{HEADER_PORT}"),
        serve_upstream: svc(HEADER_AGENT, AGENTS_NAMESPACE, HEADER_PORT),
    }
}

pub(crate) struct KindTarget {
    sh: Shell,
    root: PathBuf,
    dir: PathBuf,
    generation: u32,
}

impl KindTarget {
    pub(crate) fn new(sh: &Shell, root: &Path) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("tenuo-e2e-kind-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let t = Self {
            sh: sh.clone(),
            root: root.to_path_buf(),
            dir,
            generation: 0,
        };
        t.apply(&manifests::namespaces()?)?;
        Ok(t)
    }

    fn apply(&self, objects: &[Value]) -> Result<()> {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects}).to_string();
        cmd!(self.sh, "kubectl apply -f -")
            .stdin(list)
            .quiet()
            .run()?;
        Ok(())
    }

    fn json(&self, args: &[&str]) -> Result<Value> {
        let sh = &self.sh;
        let text = cmd!(sh, "kubectl {args...} -o json").quiet().read()?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Waits until the authorizer's pods are all of the current ReplicaSet
    /// and none is terminating: `rollout status` returns before the pods it
    /// replaced have gone, and their logs and metrics would still be read.
    fn wait_replaced_gone(&self) -> Result<()> {
        let deployment = self.json(&["-n", NAMESPACE, "get", "deployment", RELEASE])?;
        let sets = self.json(&["-n", NAMESPACE, "get", "replicasets", "-l", GUIDE_SELECTOR])?;
        let hash = pods::current_hash(&deployment, &sets)?;
        let deadline = Instant::now() + REPLACED_WAIT;
        loop {
            let all = self.json(&["-n", NAMESPACE, "get", "pods", "-l", GUIDE_SELECTOR])?;
            let stale = pods::stale(&all, &hash);
            if stale.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "pods {stale:?} (terminating, or not of ReplicaSet {RELEASE}-{hash}) \
                     were still there {REPLACED_WAIT:?} after the rollout"
                );
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Waits for the Job to succeed or fail; a pod stuck in a state that
    /// waiting cannot fix fails at once.
    fn wait_job(&self, name: &str) -> Result<&'static str> {
        let deadline = Instant::now() + JOB_WAIT;
        let selector = format!("job-name={name}");
        loop {
            let job = self.json(&["-n", AGENTS_NAMESPACE, "get", "job", name])?;
            if job["status"]["succeeded"].as_u64().unwrap_or(0) > 0 {
                return Ok("succeeded");
            }
            if job["status"]["failed"].as_u64().unwrap_or(0) > 0 {
                return Ok("failed");
            }
            let pods = self.json(&["-n", AGENTS_NAMESPACE, "get", "pods", "-l", &selector])?;
            for pod in pods["items"].as_array().into_iter().flatten() {
                for c in pod["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let waiting = &c["state"]["waiting"];
                    if let Some(reason) = waiting["reason"].as_str() {
                        if STUCK.contains(&reason) {
                            bail!("Job {name}: {reason}: {}", waiting["message"]);
                        }
                    }
                }
            }
            if Instant::now() >= deadline {
                bail!("Job {name} neither succeeded nor failed in {JOB_WAIT:?}");
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}

impl Drop for KindTarget {
    /// The rendered values files are the run's own.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Target for KindTarget {
    fn name(&self) -> &str {
        "kind"
    }

    fn authorizer(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], AUTHORIZER_PORT))
    }

    fn write_secret(&mut self, name: &str, data: &BTreeMap<String, String>) -> Result<()> {
        self.apply(&[manifests::secret(name, NAMESPACE, data)?])
    }

    fn deploy_control_plane(&mut self, spec: &ControlPlaneSpec) -> Result<SocketAddr> {
        self.apply(&manifests::service_accounts(spec)?)?;
        self.apply(&manifests::control_plane(
            spec,
            E2E_IMAGE,
            CONTROL_PLANE_PORT,
        )?)?;
        self.apply(&[manifests::authorizer_node_port(AUTHORIZER_PORT)?])?;
        let sh = &self.sh;
        cmd!(
            sh,
            "kubectl -n {NAMESPACE} rollout status deployment/control-plane --timeout=120s"
        )
        .run()?;
        Ok(SocketAddr::from(([127, 0, 0, 1], CONTROL_PLANE_PORT)))
    }

    fn workload_token(&self, workload: &str) -> Result<String> {
        // system:serviceaccount:<ns>:<name> → a bound token the control plane
        // checks with a TokenReview (what the suite's own load presents; the
        // agents' pods present their projected tokens).
        let name = workload.rsplit(':').next().context("workload identity")?;
        let sh = &self.sh;
        Ok(cmd!(
            sh,
            "kubectl -n {AGENTS_NAMESPACE} create token {name} --duration=1h"
        )
        .quiet()
        .read()?)
    }

    fn upgrade(&mut self, values: &Value) -> Result<()> {
        self.generation += 1;
        let mut values = values.clone();
        values["image"] =
            json!({"repository": "tenuo/authorizer", "tag": "e2e", "pullPolicy": "Never"});
        let file = self.dir.join(format!("values-{}.json", self.generation));
        std::fs::write(&file, serde_json::to_vec_pretty(&values)?)?;
        let chart = self.root.join("charts/tenuo-authorizer");
        let sh = &self.sh;
        cmd!(sh, "helm upgrade --install {RELEASE} {chart} -n {NAMESPACE} --create-namespace -f {file} --wait --timeout 180s").run()?;
        cmd!(
            sh,
            "kubectl -n {NAMESPACE} rollout status deployment/{RELEASE} --timeout=180s"
        )
        .run()?;
        self.wait_replaced_gone()
    }

    fn restart(&mut self) -> Result<()> {
        let sh = &self.sh;
        cmd!(
            sh,
            "kubectl -n {NAMESPACE} rollout restart deployment/{RELEASE}"
        )
        .run()?;
        cmd!(
            sh,
            "kubectl -n {NAMESPACE} rollout status deployment/{RELEASE} --timeout=180s"
        )
        .run()?;
        self.wait_replaced_gone()
    }

    fn logs(&self) -> Result<String> {
        let sh = &self.sh;
        Ok(cmd!(
            sh,
            "kubectl -n {NAMESPACE} logs -l {GUIDE_SELECTOR} --tail=-1 --max-log-requests=10"
        )
        .quiet()
        .read()?)
    }

    /// Each serving pod's metrics (terminating pods left out: they leave
    /// with their counts).
    fn metrics(&self) -> Result<Vec<String>> {
        let all = self.json(&["-n", NAMESPACE, "get", "pods", "-l", GUIDE_SELECTOR])?;
        let sh = &self.sh;
        pods::serving(&all)
            .iter()
            .map(|name| {
                let path = format!("/api/v1/namespaces/{NAMESPACE}/pods/{name}:9091/proxy/metrics");
                Ok(cmd!(sh, "kubectl get --raw {path}").quiet().read()?)
            })
            .collect()
    }

    fn diagnostics(&self) -> String {
        diagnostics::collect(&self.sh, 40)
    }

    fn agent_network(&self, _control_plane: SocketAddr) -> Result<AgentNetwork> {
        Ok(network())
    }

    /// Applies the Job (replacing one of the same name) and its objects,
    /// waits for it, and reads the summary from its log.
    fn run_agent_job(&mut self, job: &AgentJob) -> Result<AgentRun> {
        let name = job.name().to_owned();
        let sh = &self.sh;
        cmd!(
            sh,
            "kubectl -n {AGENTS_NAMESPACE} delete job {name} --ignore-not-found --cascade=foreground --wait=true"
        )
        .quiet()
        .run()?;
        self.apply(&manifests::agent_job(job)?)?;
        let state = self.wait_job(&name)?;
        let sh = &self.sh;
        let logs = cmd!(
            sh,
            "kubectl -n {AGENTS_NAMESPACE} logs job/{name} -c agent --tail=-1"
        )
        .quiet()
        .ignore_status()
        .read()?;
        serde_json::from_str(logs.lines().last().unwrap_or_default())
            .with_context(|| format!("Job {name} {state}; its log: {logs:?}"))
    }

    fn start_ingress(&mut self, spec: &IngressSpec) -> Result<Ingress> {
        let control_plane = network()
            .control_plane
            .trim_start_matches("http://")
            .to_owned();
        self.apply(&manifests::ingress(
            spec,
            E2E_IMAGE,
            &control_plane,
            INGRESS_PORT,
        )?)?;
        let sh = &self.sh;
        cmd!(
            sh,
            "kubectl -n {AGENTS_NAMESPACE} rollout status deployment/ingress --timeout=120s"
        )
        .run()?;
        Ok(Ingress::remote(SocketAddr::from((
            [127, 0, 0, 1],
            INGRESS_PORT,
        ))))
    }
}
