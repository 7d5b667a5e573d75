//! The local backend: the chart rendered with Helm's engine, its Deployment
//! run as `tenuo-authorizer` processes on loopback (command, args, env, and
//! the files of its ConfigMap and Secret volumes), the replicas behind a
//! round-robin TCP proxy standing in for the Service, and a rollout as
//! start-new, ready, stop-old, one replica at a time.
//!
//! The proxy listens on 127.0.0.1 at the rendered Service's `http` port
//! (9090 by default), plus `TENUO_E2E_PORT_OFFSET` when set (for a machine
//! where that port is taken); the run fails, naming the port, when it cannot
//! bind. It forwards to each replica's listener that the Service's
//! `targetPort` resolves to through the container's named ports. The replicas
//! themselves listen on free loopback ports (two cannot share the Service's).
//!
//! Its files (Secrets, the token file, rendered values) live in one private
//! directory, `$TMPDIR/tenuo-e2e-<pid>`, removed when the target is dropped.

mod agent;
mod process;
mod proxy;
mod service;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tenuo_e2e::agents::{kubelet, AgentJob};
use tenuo_e2e::{AgentRun, ControlPlaneSpec, Target};
use xshell::Shell;

use super::{python, render, Bins};
use process::Plan;
pub(crate) use process::Process;
use proxy::Proxy;
use service::Routes;

/// Added to the Service's port numbers for the proxy, when set.
const PORT_OFFSET_VAR: &str = "TENUO_E2E_PORT_OFFSET";

pub(crate) struct LocalTarget {
    root: PathBuf,
    sh: Shell,
    bins: Bins,
    dir: PathBuf,
    secrets: BTreeMap<String, BTreeMap<String, String>>,
    /// Bound at the first install, on the rendered Service's port.
    proxy: Option<Proxy>,
    routes: Option<Routes>,
    replicas: Vec<Process>,
    generation: u32,
    logs: Arc<Mutex<String>>,
    control_plane: Option<Process>,
    tokens: BTreeMap<String, String>,
    plan: Option<(Plan, usize)>,
}

impl LocalTarget {
    pub(crate) fn new(sh: &Shell, root: &Path, bins: Bins) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("tenuo-e2e-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        private_dir(&dir)?;
        Ok(Self {
            root: root.to_path_buf(),
            sh: sh.clone(),
            bins,
            dir,
            secrets: BTreeMap::new(),
            proxy: None,
            routes: None,
            replicas: Vec::new(),
            generation: 0,
            logs: Arc::new(Mutex::new(String::new())),
            control_plane: None,
            tokens: BTreeMap::new(),
            plan: None,
        })
    }

    fn secret_dir(&self, name: &str) -> PathBuf {
        self.dir.join("secrets").join(name)
    }

    /// The rendered Deployment as a process plan, its replica count, and the
    /// Service's routes to it.
    fn plan(&mut self, objects: &[Value]) -> Result<(Plan, usize, Routes)> {
        let deployment = objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .context("the chart rendered no Deployment")?;
        let replicas = deployment["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
        let pod = &deployment["spec"]["template"]["spec"];
        let container = pod["containers"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "tenuo-authorizer"))
            .context("no tenuo-authorizer container")?;
        let routes = service::resolve(objects, deployment, container)?;
        let gen_dir = self.dir.join(format!("gen-{}", self.generation));
        // Volumes: ConfigMaps written per generation, Secrets live (shared).
        let mut mounts: Vec<(String, PathBuf)> = Vec::new();
        for m in container["volumeMounts"].as_array().into_iter().flatten() {
            let name = m["name"].as_str().unwrap_or_default();
            let mount_path = m["mountPath"].as_str().unwrap_or_default().to_owned();
            let volume = pod["volumes"]
                .as_array()
                .and_then(|v| v.iter().find(|v| v["name"] == name))
                .with_context(|| format!("volume {name} not in the pod"))?;
            let local = if let Some(cm) = volume["configMap"]["name"].as_str() {
                let data = objects
                    .iter()
                    .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm)
                    .with_context(|| format!("ConfigMap {cm} not rendered"))?;
                let d = gen_dir.join(name);
                std::fs::create_dir_all(&d)?;
                for (k, v) in data["data"].as_object().into_iter().flatten() {
                    std::fs::write(d.join(k), v.as_str().unwrap_or_default())?;
                }
                d
            } else if let Some(secret) = volume["secret"]["secretName"].as_str() {
                if !self.secrets.contains_key(secret) {
                    bail!("Secret {secret} (volume {name}) does not exist");
                }
                for item in volume["secret"]["items"].as_array().into_iter().flatten() {
                    if item["key"] != item["path"] {
                        bail!("volume {name}: items that rename keys are not supported locally");
                    }
                }
                self.secret_dir(secret)
            } else {
                bail!("volume {name}: only configMap and secret volumes run locally");
            };
            mounts.push((mount_path, local));
        }
        let mut env = Vec::new();
        for e in container["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap_or_default().to_owned();
            let Some(value) = e["value"].as_str() else {
                bail!("env {name}: only literal values run locally");
            };
            let value = match name.as_str() {
                // Loopback only, on free ports.
                "LISTEN_ADDR" | "METRICS_ADDR" => "127.0.0.1:0".to_owned(),
                _ => mounts
                    .iter()
                    .find_map(|(mount, local)| {
                        value
                            .strip_prefix(mount.as_str())
                            .map(|rest| format!("{}{rest}", local.display()))
                    })
                    .unwrap_or_else(|| value.to_owned()),
            };
            env.push((name, value));
        }
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        let mut program = strings(&container["command"]);
        let args = strings(&container["args"]);
        if program.is_empty() {
            // The image's entrypoint is the authorizer.
            program.push(self.bins.authorizer.display().to_string());
        }
        let ready_path = container["readinessProbe"]["httpGet"]["path"]
            .as_str()
            .unwrap_or("/ready")
            .to_owned();
        Ok((
            Plan {
                program: PathBuf::from(&program[0]),
                args: program[1..].iter().cloned().chain(args).collect(),
                env,
                ready_path,
                ready: routes.ready,
            },
            replicas,
            routes,
        ))
    }

    /// The proxy on the Service's `http` port (plus the offset), bound once.
    fn bind_service(&mut self, routes: &Routes) -> Result<()> {
        let offset: u16 = match std::env::var(PORT_OFFSET_VAR) {
            Ok(v) => v
                .parse()
                .with_context(|| format!("{PORT_OFFSET_VAR}={v} is not a port offset"))?,
            Err(_) => 0,
        };
        let port = routes.http_port.checked_add(offset).with_context(|| {
            format!(
                "{} + {PORT_OFFSET_VAR} {offset} is no port",
                routes.http_port
            )
        })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if self.proxy.as_ref().is_some_and(|p| p.addr == addr) {
            return Ok(());
        }
        let proxy =
            Proxy::start(addr).with_context(|| {
                format!(
                "cannot listen on {addr}, Service {}'s http port {}{}: stop what listens there, \
                 or set {PORT_OFFSET_VAR}=N to use port {}+N",
                routes.name,
                routes.http_port,
                if offset > 0 { format!(" + {offset}") } else { String::new() },
                routes.http_port
            )
            })?;
        for p in &self.replicas {
            proxy.add(p.address(routes.http)?);
        }
        self.proxy = Some(proxy);
        Ok(())
    }

    /// Start-new, ready, stop-old, one replica at a time (maxSurge 1,
    /// maxUnavailable 0): an old replica leaves the Service before its
    /// SIGTERM, as its endpoint would.
    fn rollout(&mut self, plan: &Plan, replicas: usize, routes: &Routes) -> Result<()> {
        let proxy = self.proxy.as_ref().context("no Service bound")?;
        let mut old = std::mem::take(&mut self.replicas);
        for _ in 0..replicas {
            let p = Process::start_authorizer(plan, Arc::clone(&self.logs))?;
            proxy.add(p.address(routes.http)?);
            self.replicas.push(p);
            if let Some(mut o) = old.pop() {
                proxy.remove(o.address(routes.http)?);
                o.terminate()?;
            }
        }
        for mut o in old {
            proxy.remove(o.address(routes.http)?);
            o.terminate()?;
        }
        let behind = proxy.backends().len();
        if behind != replicas {
            bail!("the Service routes to {behind} replicas after the rollout, want {replicas}");
        }
        Ok(())
    }
}

impl Target for LocalTarget {
    fn name(&self) -> &str {
        "local"
    }

    /// The Service; before the first install, an address nothing serves.
    fn authorizer(&self) -> SocketAddr {
        self.proxy
            .as_ref()
            .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |p| p.addr)
    }

    fn write_secret(&mut self, name: &str, data: &BTreeMap<String, String>) -> Result<()> {
        let dir = self.secret_dir(name);
        std::fs::create_dir_all(&dir)?;
        for (k, v) in data {
            // Write then rename, as the kubelet swaps a Secret volume atomically.
            let tmp = dir.join(format!(".{k}.tmp"));
            write_private(&tmp, v.as_bytes())?;
            std::fs::rename(&tmp, dir.join(k))?;
        }
        self.secrets.insert(name.to_owned(), data.clone());
        Ok(())
    }

    fn deploy_control_plane(&mut self, spec: &ControlPlaneSpec) -> Result<SocketAddr> {
        let policy = self.dir.join("policy.json");
        std::fs::write(&policy, serde_json::to_vec_pretty(&spec.policy)?)?;
        for (i, w) in spec.workloads.iter().enumerate() {
            let token = format!("tok-{i}-{}", &spec.admin_token[6..]);
            self.tokens.insert(w.clone(), token);
        }
        let by_token: BTreeMap<&String, &String> =
            self.tokens.iter().map(|(w, t)| (t, w)).collect();
        let tokens = self.dir.join("tokens.json");
        write_private(&tokens, &serde_json::to_vec_pretty(&by_token)?)?;
        let keys = self.secret_dir(&spec.keys_secret);
        let args = vec![
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--policy".to_owned(),
            policy.display().to_string(),
            "--keys-dir".to_owned(),
            keys.display().to_string(),
            "--signing-key".to_owned(),
            spec.initial_key.clone(),
            "--tokens".to_owned(),
            tokens.display().to_string(),
        ];
        let env = vec![("ADMIN_TOKEN".to_owned(), spec.admin_token.clone())];
        let p = Process::start_json(&self.bins.control_plane, &args, &env, Arc::default())?;
        let addr = p.addr;
        self.control_plane = Some(p);
        Ok(addr)
    }

    fn workload_token(&self, workload: &str) -> Result<String> {
        self.tokens
            .get(workload)
            .cloned()
            .with_context(|| format!("no token for {workload}"))
    }

    fn upgrade(&mut self, values: &Value) -> Result<()> {
        self.generation += 1;
        let file = self.dir.join(format!("values-{}.json", self.generation));
        std::fs::write(&file, serde_json::to_vec_pretty(values)?)?;
        let objects = render::render(&self.sh, &self.root, &file)?;
        let (plan, replicas, routes) = self.plan(&objects)?;
        self.bind_service(&routes)?;
        self.rollout(&plan, replicas, &routes)?;
        self.plan = Some((plan, replicas));
        self.routes = Some(routes);
        Ok(())
    }

    fn restart(&mut self) -> Result<()> {
        let (plan, replicas) = self.plan.clone().context("nothing installed")?;
        let routes = self.routes.clone().context("nothing installed")?;
        self.rollout(&plan, replicas, &routes)
    }

    fn logs(&self) -> Result<String> {
        Ok(self.logs.lock().map(|l| l.clone()).unwrap_or_default())
    }

    /// Each replica's metrics, through the Service's `metrics` targetPort.
    fn metrics(&self) -> Result<Vec<String>> {
        let routes = self.routes.as_ref().context("nothing installed")?;
        self.replicas
            .iter()
            .map(|p| {
                let metrics = p.address(routes.metrics)?;
                Ok(tenuo_e2e::request(metrics, "GET", "/metrics", &[], "")?.body)
            })
            .collect()
    }

    /// As a kubelet would ([`kubelet::run`]): `agent.py` of this checkout
    /// with the project's Python, killed at the Job's deadline.
    fn run_agent_job(&mut self, job: &AgentJob) -> Result<AgentRun> {
        kubelet::run(self, job, |t, agent| {
            agent::run(&python()?, &t.root.join("e2e/agent/agent.py"), agent)
        })
    }

    fn diagnostics(&self) -> String {
        let logs = self.logs().unwrap_or_default();
        let tail: Vec<&str> = logs.lines().rev().take(30).collect();
        let cp = self
            .control_plane
            .as_ref()
            .map(|p| p.log_tail(10))
            .unwrap_or_default();
        format!(
            "authorizer logs (last 30 lines):\n{}\ncontrol plane:\n{cp}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }
}

impl Drop for LocalTarget {
    /// Stops the processes, then removes the directory: it holds the signing
    /// seeds and the workloads' tokens.
    fn drop(&mut self) {
        self.replicas.clear();
        self.control_plane = None;
        self.proxy = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A directory only this user may read (mode 0700 on unix).
fn private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// A file only this user may read (mode 0600 on unix): a Secret's key, the
/// token file.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .with_context(|| format!("writing {}", path.display()))
}
