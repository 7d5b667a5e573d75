//! [`Target`] on a kind cluster, through kubectl and helm.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};
use tenuo_e2e::{AgentRun, ControlPlaneSpec, Target, NAMESPACE, RELEASE};
use xshell::{cmd, Shell};

use super::manifests;
use crate::e2e::python;

/// NodePorts kind maps to 127.0.0.1 (see e2e/kind/cluster.yaml).
pub(crate) const AUTHORIZER_PORT: u16 = 30090;
pub(crate) const CONTROL_PLANE_PORT: u16 = 30080;
pub(crate) const AGENTS: &str = "agents";

pub(crate) struct KindTarget {
    sh: Shell,
    root: PathBuf,
    dir: PathBuf,
    secrets: BTreeMap<String, BTreeMap<String, String>>,
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
            secrets: BTreeMap::new(),
            generation: 0,
        };
        t.apply(&manifests::namespaces())?;
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
}

impl Target for KindTarget {
    fn name(&self) -> &str {
        "kind"
    }

    fn authorizer(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], AUTHORIZER_PORT))
    }

    fn write_secret(&mut self, name: &str, data: &BTreeMap<String, String>) -> Result<()> {
        self.apply(&[manifests::secret(name, NAMESPACE, data)?])?;
        self.secrets.insert(name.to_owned(), data.clone());
        Ok(())
    }

    fn deploy_control_plane(&mut self, spec: &ControlPlaneSpec) -> Result<SocketAddr> {
        self.apply(&manifests::control_plane(
            spec,
            super::IMAGE,
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
        // checks with a TokenReview.
        let name = workload.rsplit(':').next().context("workload identity")?;
        let sh = &self.sh;
        Ok(
            cmd!(sh, "kubectl -n {AGENTS} create token {name} --duration=1h")
                .quiet()
                .read()?,
        )
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
        Ok(())
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
        Ok(())
    }

    fn logs(&self) -> Result<String> {
        let sh = &self.sh;
        let selector = format!("app.kubernetes.io/name={RELEASE}");
        Ok(cmd!(
            sh,
            "kubectl -n {NAMESPACE} logs -l {selector} --tail=-1 --max-log-requests=10"
        )
        .quiet()
        .read()?)
    }

    fn metrics(&self) -> Result<Vec<String>> {
        let sh = &self.sh;
        let selector = format!("app.kubernetes.io/name={RELEASE}");
        let pods = cmd!(sh, "kubectl -n {NAMESPACE} get pods -l {selector} --field-selector=status.phase=Running -o name").quiet().read()?;
        pods.lines()
            .map(|pod| {
                let name = pod.trim_start_matches("pod/");
                let path = format!("/api/v1/namespaces/{NAMESPACE}/pods/{name}:9091/proxy/metrics");
                Ok(cmd!(sh, "kubectl get --raw {path}").quiet().read()?)
            })
            .collect()
    }

    fn run_agent(
        &mut self,
        args: &[String],
        env: &[(String, String)],
        env_from_secret: Option<&str>,
    ) -> Result<AgentRun> {
        // The agent runs on the host, through the NodePorts.
        let mut command = std::process::Command::new(python());
        command.arg(self.root.join("e2e/agent/agent.py")).args(args);
        command.envs(env.iter().map(|(k, v)| (k, v)));
        if let Some(name) = env_from_secret {
            command.envs(self.secrets.get(name).context("no such Secret")?);
        }
        let out = command.output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .with_context(|| format!("agent output {stdout:?}"))
    }

    fn diagnostics(&self) -> String {
        let sh = &self.sh;
        let logs = cmd!(
            sh,
            "kubectl logs -A --all-containers --tail=50 -l app.kubernetes.io/part-of=tenuo-e2e"
        )
        .quiet()
        .ignore_status()
        .read()
        .unwrap_or_default();
        let auth = self.logs().unwrap_or_default();
        let events = cmd!(sh, "kubectl get events -A --sort-by=.lastTimestamp")
            .quiet()
            .ignore_status()
            .read()
            .unwrap_or_default();
        let tail = |s: &str, n: usize| {
            s.lines()
                .rev()
                .take(n)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        };
        format!(
            "pod logs:\n{}\n{}\nevents:\n{}",
            tail(&logs, 40),
            tail(&auth, 40),
            tail(&events, 40)
        )
    }
}
