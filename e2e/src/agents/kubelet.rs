//! What a kubelet does for an agent Job, for backends that run it as a local
//! process (`agent.py` of this checkout, with the host's Python).
//!
//! Honoured: the Job's Secrets (written to the target), its namespace and
//! `activeDeadlineSeconds` (300 s when absent); the pod's one container and
//! `serviceAccountName`; the container's `args`, `env` (`value`, and
//! `secretKeyRef` read from the Job's Secret objects, `optional` included)
//! and `volumeMounts` of projected `serviceAccountToken` volumes (the
//! account's token written to a file, and values under the mount path
//! rewritten to it).
//!
//! Refused (the run fails before it starts): more than one container, init
//! containers, a `command`, `envFrom`, any other `valueFrom`, and any other
//! kind of mounted volume or projection.
//!
//! Ignored, as they shape the pod's sandbox rather than what the agent does:
//! the image and its pull policy, ports and probes, resources, security
//! contexts, `restartPolicy` and `backoffLimit` (one run either way),
//! `automountServiceAccountToken` (no token exists unless projected), the
//! projected token's `expirationSeconds` and `audience`, labels, and the
//! Job's Services (the process is reached on its loopback address).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{Container, PodSpec, Secret};

use super::AgentJob;
use crate::agents::AgentRun;
use crate::target::Target;

/// The Job's `activeDeadlineSeconds` when it sets none (as the builder does).
const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

/// The agent container as a process: its command line, environment, and how
/// long it may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Arguments to `agent.py`.
    pub args: Vec<String>,
    /// The whole environment the container declares, in order.
    pub env: Vec<(String, String)>,
    /// The Job's `activeDeadlineSeconds`: kill the process when it passes.
    pub deadline: Duration,
}

/// Runs the Job as a kubelet would: its Secrets written to the target, the
/// container resolved (projected tokens written to a scratch directory,
/// removed afterwards), then `process` runs it.
pub fn run<T: Target + ?Sized>(
    target: &mut T,
    job: &AgentJob,
    process: impl FnOnce(&mut T, &Resolved) -> Result<AgentRun>,
) -> Result<AgentRun> {
    for secret in &job.secrets {
        let name = secret
            .metadata
            .name
            .as_deref()
            .context("a Secret without a name")?;
        target.write_secret(name, &secret_data(secret)?)?;
    }
    let dir = std::env::temp_dir().join(format!("tenuo-e2e-{}-{}", job.name(), std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let resolved = resolve(job, &dir, &|identity| target.workload_token(identity));
    let run = resolved.and_then(|r| process(target, &r));
    // The token file is a credential: never left behind.
    let _ = std::fs::remove_dir_all(&dir);
    run
}

/// A Secret's data as strings (`stringData` over `data`, as the API server
/// merges them).
pub(crate) fn secret_data(secret: &Secret) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in secret.data.iter().flatten() {
        let text = String::from_utf8(v.0.clone())
            .with_context(|| format!("Secret key {k} is not UTF-8"))?;
        out.insert(k.clone(), text);
    }
    for (k, v) in secret.string_data.iter().flatten() {
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

/// The agent container's arguments and environment; projected tokens are
/// written under `dir` (`token(identity)` gives each service account's).
pub(crate) fn resolve(
    job: &AgentJob,
    dir: &Path,
    token: &dyn Fn(&str) -> Result<String>,
) -> Result<Resolved> {
    let pod = job.pod().context("the Job has no pod template")?;
    let [container] = pod.containers.as_slice() else {
        bail!("{}: one container expected", job.name());
    };
    if pod.init_containers.as_ref().is_some_and(|c| !c.is_empty()) {
        bail!("{}: init containers do not run here", job.name());
    }
    if container.command.is_some() {
        bail!(
            "{}: the image's entrypoint (agent.py) runs here, not a command",
            job.name()
        );
    }
    let namespace = job.job.metadata.namespace.as_deref().unwrap_or("default");
    let mounts = mount_volumes(pod, container, namespace, dir, token)?;
    let secret = |name: &str| -> Result<BTreeMap<String, String>> {
        let found = job
            .secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
            .with_context(|| format!("Secret {name} is not part of the Job"))?;
        secret_data(found)
    };
    if container.env_from.as_ref().is_some_and(|e| !e.is_empty()) {
        bail!("{}: envFrom does not run here", job.name());
    }
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(v), None) => v.clone(),
            (None, Some(from)) => {
                let Some(r) = &from.secret_key_ref else {
                    bail!("env {}: only value and secretKeyRef run here", var.name);
                };
                match secret(&r.name)?.remove(&r.key) {
                    Some(v) => v,
                    None if r.optional == Some(true) => continue,
                    None => bail!("env {}: Secret {} has no key {}", var.name, r.name, r.key),
                }
            }
            _ => bail!("env {}: a value or a valueFrom", var.name),
        };
        // Later entries win, as in a pod.
        env.retain(|(k, _)| *k != var.name);
        env.push((var.name.clone(), rewrite(&value, &mounts)));
    }
    let deadline = job
        .job
        .spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .and_then(|s| u64::try_from(s).ok())
        .map_or(DEFAULT_DEADLINE, Duration::from_secs);
    Ok(Resolved {
        args: container.args.clone().unwrap_or_default(),
        env,
        deadline,
    })
}

/// Writes each mounted projected token; returns (mount path, local dir).
fn mount_volumes(
    pod: &PodSpec,
    container: &Container,
    namespace: &str,
    dir: &Path,
    token: &dyn Fn(&str) -> Result<String>,
) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for mount in container.volume_mounts.iter().flatten() {
        let volume = pod
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == mount.name)
            .with_context(|| format!("volume {} is not in the pod", mount.name))?;
        let sources = volume
            .projected
            .as_ref()
            .and_then(|p| p.sources.as_ref())
            .with_context(|| format!("volume {}: only projected tokens run here", volume.name))?;
        let local = dir.join(&volume.name);
        std::fs::create_dir_all(&local)?;
        for source in sources {
            let Some(sa) = &source.service_account_token else {
                bail!(
                    "volume {}: only serviceAccountToken sources run here",
                    volume.name
                );
            };
            let account = pod.service_account_name.as_deref().unwrap_or("default");
            let identity = format!("system:serviceaccount:{namespace}:{account}");
            write_private(&local.join(&sa.path), &token(&identity)?)?;
        }
        out.push((mount.mount_path.trim_end_matches('/').to_owned(), local));
    }
    Ok(out)
}

/// A path under a mount, moved to where that mount is on this host.
fn rewrite(value: &str, mounts: &[(String, PathBuf)]) -> String {
    for (mount, local) in mounts {
        if let Some(rest) = value.strip_prefix(mount.as_str()) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("{}{rest}", local.display());
            }
        }
    }
    value.to_owned()
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{self, AgentNetwork, AgentPod, CREDENTIALS_SECRET, TOKEN_FILE};
    use tenuo_authz::crypto::SigningKey;

    fn net() -> AgentNetwork {
        AgentNetwork {
            authorizer: "http://127.0.0.1:1".into(),
            control_plane: "http://127.0.0.1:2".into(),
            serve_listen: "127.0.0.1:3".into(),
            serve_upstream: "127.0.0.1:3".into(),
        }
    }

    fn no_token(_: &str) -> Result<String> {
        bail!("no token expected")
    }

    #[test]
    fn secret_key_refs_resolve_from_the_secret_object() {
        let key = SigningKey::generate().expect("key");
        let job = agents::env_from_secret(
            &net(),
            "system:serviceaccount:agents:batch",
            "w4rr4nt",
            &key,
            3,
        );
        let dir = std::env::temp_dir();
        let r = resolve(&job, &dir, &no_token).expect("resolves");
        let env: BTreeMap<_, _> = r.env.into_iter().collect();
        assert_eq!(
            env.get("TENUO_WARRANT_BASE64").map(String::as_str),
            Some("w4rr4nt")
        );
        assert_eq!(env.get("TENUO_AGENT_KEY"), Some(&key.to_hex().to_string()));
        // Only what the pod asks for: the Secret's keys are not all exported.
        assert!(!env.contains_key("WARRANT_BASE64"));
        assert_eq!(r.args[0], "env");
    }

    #[test]
    fn a_missing_secret_key_fails() {
        let job = AgentPod::new("x", None, vec![])
            .secret(CREDENTIALS_SECRET, BTreeMap::new())
            .env_from_secret_key("TENUO_WARRANT_BASE64", CREDENTIALS_SECRET, "WARRANT_BASE64")
            .build();
        let err = resolve(&job, &std::env::temp_dir(), &no_token).expect_err("no key");
        assert!(
            format!("{err:#}").contains("no key WARRANT_BASE64"),
            "{err:#}"
        );
    }

    #[test]
    fn the_projected_token_is_the_pods_service_account_and_its_path_is_rewritten() {
        let dir = std::env::temp_dir().join(format!("kubelet-test-{}", std::process::id()));
        let job = agents::fetch(&net(), "system:serviceaccount:agents:reader", 2, 60);
        let r = resolve(&job, &dir, &|id| Ok(format!("token-of-{id}"))).expect("resolves");
        let file = r
            .env
            .iter()
            .find(|(k, _)| k == "TENUO_WORKLOAD_TOKEN_FILE")
            .map(|(_, v)| PathBuf::from(v))
            .expect("token file variable");
        assert_ne!(file, PathBuf::from(TOKEN_FILE));
        assert!(file.starts_with(&dir));
        let token = std::fs::read_to_string(&file).expect("token written");
        assert_eq!(token, "token-of-system:serviceaccount:agents:reader");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn pod_of(job: &mut AgentJob) -> &mut PodSpec {
        job.job
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .expect("a pod template")
    }

    #[test]
    fn unsupported_sources_fail_closed() {
        type Change = fn(&mut PodSpec);
        let refused: [(&str, Change); 3] = [
            ("a command", |p| {
                p.containers[0].command = Some(vec!["sh".into()]);
            }),
            ("envFrom", |p| {
                p.containers[0].env_from = Some(vec![Default::default()]);
            }),
            ("init containers", |p| {
                p.init_containers = Some(vec![Container::default()]);
            }),
        ];
        for (what, change) in refused {
            let mut job = AgentPod::new("x", None, vec![]).env("A", "1").build();
            assert!(resolve(&job, &std::env::temp_dir(), &no_token).is_ok());
            change(pod_of(&mut job));
            let err = resolve(&job, &std::env::temp_dir(), &no_token).expect_err(what);
            assert!(err.to_string().contains(what), "{what}: {err}");
        }
    }

    #[test]
    fn the_jobs_deadline_bounds_the_run() {
        let mut job = AgentPod::new("x", None, vec![]).build();
        let dir = std::env::temp_dir();
        let deadline = |job: &AgentJob| resolve(job, &dir, &no_token).expect("resolves").deadline;
        assert_eq!(deadline(&job), Duration::from_secs(300));
        if let Some(spec) = job.job.spec.as_mut() {
            spec.active_deadline_seconds = Some(7);
        }
        assert_eq!(deadline(&job), Duration::from_secs(7));
        if let Some(spec) = job.job.spec.as_mut() {
            spec.active_deadline_seconds = None;
        }
        assert_eq!(deadline(&job), DEFAULT_DEADLINE);
    }

    #[test]
    fn mount_prefixes_match_whole_segments() {
        let mounts = vec![("/var/run/secrets/tenuo".to_owned(), PathBuf::from("/tmp/x"))];
        assert_eq!(
            rewrite("/var/run/secrets/tenuo/token", &mounts),
            "/tmp/x/token"
        );
        assert_eq!(
            rewrite("/var/run/secrets/tenuox", &mounts),
            "/var/run/secrets/tenuox"
        );
    }
}
