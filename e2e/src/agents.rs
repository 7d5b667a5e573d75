//! The delivery scenarios' agents as Kubernetes workloads, in k8s-openapi
//! types: a Job running the Python SDK agent (`e2e/agent/agent.py`), the
//! Secrets its pod reads and the Services in front of it. One builder for
//! every backend, so they cannot drift: kind applies these objects, a process
//! backend runs the container as a kubelet would ([`kubelet`]).

pub mod kubelet;

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ProjectedVolumeSource, ResourceRequirements, SeccompProfile, Secret,
    SecretKeySelector, SecurityContext, Service, ServiceAccountTokenProjection, ServicePort,
    ServiceSpec, TCPSocketAction, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tenuo_authz::crypto::SigningKey;

/// Namespace of the agents (their service accounts are the control plane's
/// workload identities, `system:serviceaccount:agents:<name>`).
pub const AGENTS_NAMESPACE: &str = "agents";
/// The agent image (`e2e/agent/Dockerfile`); its entrypoint is `agent.py`.
pub const AGENT_IMAGE: &str = "tenuo/e2e-agent:e2e";
/// Where a pod's projected service account token is mounted.
pub const TOKEN_DIR: &str = "/var/run/secrets/tenuo";
/// The token file in [`TOKEN_DIR`], read on every use (the kubelet rotates it).
pub const TOKEN_FILE: &str = "/var/run/secrets/tenuo/token";
/// Lifetime of projected tokens (the API server's minimum).
const TOKEN_SECS: i64 = 600;
/// The serving agent of the request-header pattern: its Job and Service name.
pub const HEADER_AGENT: &str = "agent-header";
/// The port the serving agent listens on in its pod.
pub const HEADER_PORT: u16 = 8000;
/// The guide's Secret of the environment-variable pattern.
pub const CREDENTIALS_SECRET: &str = "tenuo-credentials";
/// Label on every object of the suite (diagnostics select on it).
pub const PART_OF: (&str, &str) = ("app.kubernetes.io/part-of", "tenuo-e2e");

/// An agent as the cluster sees it: the Job, and what its pod depends on.
#[derive(Debug, Clone)]
pub struct AgentJob {
    /// One pod, one container named `agent`, run to completion.
    pub job: Job,
    /// Secrets the pod reads (created before the Job).
    pub secrets: Vec<Secret>,
    /// Services in front of the pod (cluster routing: a process backend
    /// reaches the agent on its loopback address instead).
    pub services: Vec<Service>,
}

impl AgentJob {
    /// The Job's name.
    pub fn name(&self) -> &str {
        self.job.metadata.name.as_deref().unwrap_or_default()
    }

    /// The pod template's spec.
    pub fn pod(&self) -> Option<&PodSpec> {
        self.job.spec.as_ref()?.template.spec.as_ref()
    }
}

/// The part of a `system:serviceaccount:<ns>:<name>` identity that names
/// the service account.
pub fn service_account_name(identity: &str) -> &str {
    identity.rsplit(':').next().unwrap_or(identity)
}

/// Object metadata with the suite's label.
pub fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(BTreeMap::from([(
            PART_OF.0.to_owned(),
            PART_OF.1.to_owned(),
        )])),
        ..ObjectMeta::default()
    }
}

/// The workload token, projected for the API server's audience (so the
/// control plane's TokenReview accepts it) and mounted at [`TOKEN_DIR`];
/// the only credential in the pod (no automounted token).
pub fn token_volume() -> (Volume, VolumeMount) {
    let volume = Volume {
        name: "workload-token".into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    path: "token".into(),
                    expiration_seconds: Some(TOKEN_SECS),
                    audience: None,
                }),
                ..VolumeProjection::default()
            }]),
            ..ProjectedVolumeSource::default()
        }),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name: "workload-token".into(),
        mount_path: TOKEN_DIR.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    (volume, mount)
}

/// Non-root (65532, like the authorizer's image), seccomp `RuntimeDefault`.
pub fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(65532),
        run_as_group: Some(65532),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// Read-only root filesystem, no privilege escalation, no capabilities.
pub fn container_security() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    }
}

/// Builds an [`AgentJob`]: the agent container with these arguments, as
/// service account `service_account` (none: `default`, with no token).
#[derive(Debug, Clone)]
pub struct AgentPod {
    name: String,
    service_account: Option<String>,
    args: Vec<String>,
    env: Vec<EnvVar>,
    volumes: Vec<Volume>,
    mounts: Vec<VolumeMount>,
    serve_port: Option<u16>,
    secrets: Vec<Secret>,
    services: Vec<Service>,
}

impl AgentPod {
    /// An agent Job named `name` running `agent.py <args>`.
    pub fn new(name: &str, service_account: Option<&str>, args: Vec<String>) -> Self {
        Self {
            name: name.to_owned(),
            service_account: service_account.map(str::to_owned),
            args,
            env: Vec::new(),
            volumes: Vec::new(),
            mounts: Vec::new(),
            serve_port: None,
            secrets: Vec::new(),
            services: Vec::new(),
        }
    }

    /// A literal environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push(EnvVar {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            ..EnvVar::default()
        });
        self
    }

    /// `env[].valueFrom.secretKeyRef`: variable `name` from `key` of Secret `secret`.
    pub fn env_from_secret_key(mut self, name: &str, secret: &str, key: &str) -> Self {
        self.env.push(EnvVar {
            name: name.to_owned(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.to_owned(),
                    key: key.to_owned(),
                    optional: Some(false),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
        self
    }

    /// The projected workload token, its path in `TENUO_WORKLOAD_TOKEN_FILE`.
    pub fn workload_token(mut self) -> Self {
        let (volume, mount) = token_volume();
        self.volumes.push(volume);
        self.mounts.push(mount);
        self.env("TENUO_WORKLOAD_TOKEN_FILE", TOKEN_FILE)
    }

    /// A Secret (string data) in the agents' namespace, created with the Job.
    pub fn secret(mut self, name: &str, data: BTreeMap<String, String>) -> Self {
        self.secrets.push(Secret {
            metadata: meta(name, Some(AGENTS_NAMESPACE)),
            string_data: Some(data),
            ..Secret::default()
        });
        self
    }

    /// The agent serves on `port`: a readiness probe, and a Service named
    /// after the Job selecting its pod.
    pub fn serve(mut self, port: u16) -> Self {
        self.serve_port = Some(port);
        self.services.push(Service {
            metadata: meta(&self.name, Some(AGENTS_NAMESPACE)),
            spec: Some(ServiceSpec {
                selector: Some(BTreeMap::from([("app".to_owned(), self.name.clone())])),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: port.into(),
                    target_port: Some(IntOrString::Int(port.into())),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        });
        self
    }

    /// The Job: one try (a failed agent is a failed scenario, not a retry),
    /// five minutes at most.
    pub fn build(self) -> AgentJob {
        let mut labels = BTreeMap::from([("app".to_owned(), self.name.clone())]);
        labels.insert(PART_OF.0.to_owned(), PART_OF.1.to_owned());
        let port = self.serve_port.map(i32::from);
        let container = Container {
            name: "agent".into(),
            image: Some(AGENT_IMAGE.into()),
            // Loaded into kind's nodes, never pulled.
            image_pull_policy: Some("Never".into()),
            args: Some(self.args),
            env: Some(self.env),
            volume_mounts: (!self.mounts.is_empty()).then_some(self.mounts),
            ports: port.map(|p| {
                vec![ContainerPort {
                    name: Some("http".into()),
                    container_port: p,
                    ..ContainerPort::default()
                }]
            }),
            readiness_probe: port.map(|p| Probe {
                tcp_socket: Some(TCPSocketAction {
                    port: IntOrString::Int(p),
                    ..TCPSocketAction::default()
                }),
                period_seconds: Some(1),
                ..Probe::default()
            }),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".to_owned(), Quantity("50m".into())),
                    ("memory".to_owned(), Quantity("64Mi".into())),
                ])),
                limits: Some(BTreeMap::from([(
                    "memory".to_owned(),
                    Quantity("256Mi".into()),
                )])),
                ..ResourceRequirements::default()
            }),
            security_context: Some(container_security()),
            ..Container::default()
        };
        let pod = PodSpec {
            restart_policy: Some("Never".into()),
            service_account_name: self.service_account,
            automount_service_account_token: Some(false),
            security_context: Some(pod_security()),
            containers: vec![container],
            volumes: (!self.volumes.is_empty()).then_some(self.volumes),
            ..PodSpec::default()
        };
        let mut metadata = meta(&self.name, Some(AGENTS_NAMESPACE));
        metadata.labels = Some(labels.clone());
        AgentJob {
            job: Job {
                metadata,
                spec: Some(JobSpec {
                    backoff_limit: Some(0),
                    active_deadline_seconds: Some(300),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(labels),
                            ..ObjectMeta::default()
                        }),
                        spec: Some(pod),
                    },
                    ..JobSpec::default()
                }),
                ..Job::default()
            },
            secrets: self.secrets,
            services: self.services,
        }
    }
}

/// Control-plane fetch: a warrant per task from the control plane (TTL
/// `ttl`), authenticated with the pod's projected service account token.
pub fn fetch(net: &AgentNetwork, workload: &str, tasks: u64, ttl: u64) -> AgentJob {
    let args = vec![
        "fetch".to_owned(),
        "--control-plane".to_owned(),
        net.control_plane.clone(),
        "--authorizer".to_owned(),
        net.authorizer.clone(),
        "--tasks".to_owned(),
        tasks.to_string(),
        "--ttl".to_owned(),
        ttl.to_string(),
    ];
    AgentPod::new("agent-fetch", Some(service_account_name(workload)), args)
        .workload_token()
        .build()
}

/// Environment variable: the warrant loaded at pod start from the guide's
/// Secret (`tenuo-credentials`, key `WARRANT_BASE64`, as
/// `TENUO_WARRANT_BASE64`), the holder's key from the same Secret.
pub fn env_from_secret(
    net: &AgentNetwork,
    workload: &str,
    warrant: &str,
    key: &SigningKey,
    tasks: u64,
) -> AgentJob {
    let args = vec![
        "env".to_owned(),
        "--authorizer".to_owned(),
        net.authorizer.clone(),
        "--tasks".to_owned(),
        tasks.to_string(),
    ];
    let data = BTreeMap::from([
        ("WARRANT_BASE64".to_owned(), warrant.to_owned()),
        ("AGENT_KEY".to_owned(), key.to_hex().to_string()),
    ]);
    AgentPod::new("agent-env", Some(service_account_name(workload)), args)
        .secret(CREDENTIALS_SECRET, data)
        .env_from_secret_key("TENUO_WARRANT_BASE64", CREDENTIALS_SECRET, "WARRANT_BASE64")
        .env_from_secret_key("TENUO_AGENT_KEY", CREDENTIALS_SECRET, "AGENT_KEY")
        .build()
}

/// Request header: the agent serves `requests` requests, each carrying the
/// warrant its ingress injected in `X-Tenuo-Warrant`, and signs the PoP with
/// its deployment's key (from a Secret). No service account token: the
/// agent never talks to the control plane.
pub fn header(net: &AgentNetwork, key: &SigningKey, requests: u64) -> AgentJob {
    let secret = format!("{HEADER_AGENT}-key");
    let args = vec![
        "header".to_owned(),
        "--listen".to_owned(),
        net.serve_listen.clone(),
        "--authorizer".to_owned(),
        net.authorizer.clone(),
        "--requests".to_owned(),
        requests.to_string(),
    ];
    AgentPod::new(HEADER_AGENT, None, args)
        .secret(
            &secret,
            BTreeMap::from([("AGENT_KEY".to_owned(), key.to_hex().to_string())]),
        )
        .env_from_secret_key("TENUO_AGENT_KEY", &secret, "AGENT_KEY")
        .serve(HEADER_PORT)
        .build()
}

/// One agent run's summary, as the Python agent prints it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AgentRun {
    /// Calls made to the authorizer.
    pub requests: u64,
    /// Allowed (200).
    pub allowed: u64,
    /// Denied as the agent expected (the out-of-bounds probe).
    pub denied_as_expected: u64,
    /// Anything else: an allowed call denied, an error.
    pub failures: u64,
    /// Warrants fetched from the control plane.
    #[serde(default)]
    pub warrants: u64,
    /// Details of failures.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Where agent workloads find the Services, as seen from their pods.
#[derive(Debug, Clone)]
pub struct AgentNetwork {
    /// Base URL of the authorizer (`http://host:port`).
    pub authorizer: String,
    /// Base URL of the control plane.
    pub control_plane: String,
    /// The address a serving agent binds (`host:port`).
    pub serve_listen: String,
    /// Where the ingress reaches that agent (`host:port`).
    pub serve_upstream: String,
}

/// A process's view of the cluster: everything on loopback, and a free
/// loopback port for a serving agent.
///
/// The port is free when chosen and bound by the agent only later, so
/// another process could take it in between (a small window on a test
/// machine). The agent then fails to bind, loudly, and the scenario with it;
/// handing it the bound socket instead would mean passing a descriptor to
/// the Python process.
pub(crate) fn loopback_network(
    authorizer: std::net::SocketAddr,
    control_plane: std::net::SocketAddr,
) -> anyhow::Result<AgentNetwork> {
    let serve = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    Ok(AgentNetwork {
        authorizer: format!("http://{authorizer}"),
        control_plane: format!("http://{control_plane}"),
        serve_listen: serve.to_string(),
        serve_upstream: serve.to_string(),
    })
}
