//! The objects the kind backend applies besides the chart, as k8s-openapi
//! types: namespaces and service accounts of the agents, the control plane
//! (RBAC for TokenReview, policy, keys Secret, Deployment, NodePort Service),
//! a NodePort Service in front of the authorizer's pods, the agents' Jobs
//! (built by `tenuo_e2e::agents`, shared with the local backend) and the
//! request-header pattern's ingress.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar, Namespace, PodSpec,
    PodTemplateSpec, Probe, Secret, SecretVolumeSource, Service, ServiceAccount, ServicePort,
    ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use tenuo_e2e::agents::{
    container_security, meta, pod_security, service_account_name, token_volume, AgentJob,
    AGENTS_NAMESPACE, TOKEN_FILE,
};
use tenuo_e2e::{ControlPlaneSpec, IngressSpec, NAMESPACE, RELEASE};

/// The control plane's port, in its pod and behind its Service.
pub(crate) const CONTROL_PLANE_HTTP: u16 = 8080;
/// The ingress's port, in its pod and behind its Service.
pub(crate) const INGRESS_HTTP: u16 = 8081;

pub(crate) fn typed<T: k8s_openapi::Resource + serde::Serialize>(object: &T) -> Result<Value> {
    let mut v = serde_json::to_value(object)?;
    v["apiVersion"] = T::API_VERSION.into();
    v["kind"] = T::KIND.into();
    Ok(v)
}

pub(crate) fn namespaces() -> Result<Vec<Value>> {
    [NAMESPACE, AGENTS_NAMESPACE]
        .iter()
        .map(|ns| {
            typed(&Namespace {
                metadata: meta(ns, None),
                ..Namespace::default()
            })
        })
        .collect()
}

/// A ServiceAccount per workload identity the control plane knows
/// (`system:serviceaccount:<namespace>:<name>`), so each can get a token.
pub(crate) fn service_accounts(spec: &ControlPlaneSpec) -> Result<Vec<Value>> {
    spec.workloads
        .iter()
        .map(|identity| {
            let parts: Vec<&str> = identity.split(':').collect();
            let ["system", "serviceaccount", ns, name] = parts.as_slice() else {
                anyhow::bail!("{identity} is not a service account identity");
            };
            typed(&ServiceAccount {
                metadata: meta(name, Some(ns)),
                ..ServiceAccount::default()
            })
        })
        .collect()
}

pub(crate) fn secret(
    name: &str,
    namespace: &str,
    data: &BTreeMap<String, String>,
) -> Result<Value> {
    typed(&Secret {
        metadata: meta(name, Some(namespace)),
        string_data: Some(data.clone()),
        ..Secret::default()
    })
}

/// A Service reachable from the host on 127.0.0.1:`node_port` (a port
/// e2e/kind/cluster.yaml maps, on loopback only).
pub(crate) fn node_port(
    name: &str,
    namespace: &str,
    selector: BTreeMap<String, String>,
    port: u16,
    node_port: u16,
) -> Result<Value> {
    typed(&Service {
        metadata: meta(name, Some(namespace)),
        spec: Some(ServiceSpec {
            type_: Some("NodePort".into()),
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: port.into(),
                target_port: Some(IntOrString::Int(port.into())),
                node_port: Some(node_port.into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

/// The chart's pods, reachable from the host on 127.0.0.1:`port`.
pub(crate) fn authorizer_node_port(port: u16) -> Result<Value> {
    let selector = BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), RELEASE.to_owned()),
        ("app.kubernetes.io/instance".to_owned(), RELEASE.to_owned()),
    ]);
    node_port("tenuo-authorizer-e2e", NAMESPACE, selector, 9090, port)
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    }
}

fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

fn tcp_ready(port: u16) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(port.into()),
            ..TCPSocketAction::default()
        }),
        period_seconds: Some(2),
        ..Probe::default()
    }
}

/// A one-replica Deployment of the e2e image.
fn deployment(
    name: &str,
    namespace: &str,
    service_account: &str,
    container: Container,
    volumes: Vec<Volume>,
    automount_token: bool,
) -> Result<Value> {
    let labels = BTreeMap::from([("app".to_owned(), name.to_owned())]);
    typed(&Deployment {
        metadata: meta(name, Some(namespace)),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(service_account.into()),
                    automount_service_account_token: Some(automount_token),
                    security_context: Some(pod_security()),
                    containers: vec![Container {
                        image_pull_policy: Some("Never".into()),
                        security_context: Some(container_security()),
                        ..container
                    }],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

/// The reference control plane: it sends workload tokens to the API server
/// in TokenReviews, with its own (automounted) service account token,
/// allowed to create TokenReviews and nothing else.
pub(crate) fn control_plane(spec: &ControlPlaneSpec, image: &str, port: u16) -> Result<Vec<Value>> {
    let name = "control-plane";
    let labels = BTreeMap::from([("app".to_owned(), name.to_owned())]);
    let policy = serde_json::to_string_pretty(&spec.policy)?;
    let container = Container {
        name: name.into(),
        image: Some(image.into()),
        command: Some(vec!["/usr/local/bin/control-plane".into()]),
        args: Some(
            [
                "--policy=/etc/cp/policy/policy.json",
                "--keys-dir=/etc/cp/keys",
                "--token-review",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([
                format!("--listen=0.0.0.0:{CONTROL_PLANE_HTTP}"),
                format!("--signing-key={}", spec.initial_key),
            ])
            .collect(),
        ),
        env: Some(vec![env("ADMIN_TOKEN", spec.admin_token.clone())]),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: CONTROL_PLANE_HTTP.into(),
            ..ContainerPort::default()
        }]),
        readiness_probe: Some(tcp_ready(CONTROL_PLANE_HTTP)),
        volume_mounts: Some(vec![
            mount("keys", "/etc/cp/keys"),
            mount("policy", "/etc/cp/policy"),
        ]),
        ..Container::default()
    };
    let volumes = vec![
        Volume {
            name: "keys".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(spec.keys_secret.clone()),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "policy".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: "control-plane-policy".into(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
    ];
    Ok(vec![
        typed(&ServiceAccount {
            metadata: meta(name, Some(NAMESPACE)),
            ..ServiceAccount::default()
        })?,
        typed(&ClusterRole {
            metadata: meta("tenuo-e2e-token-review", None),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec!["authentication.k8s.io".into()]),
                resources: Some(vec!["tokenreviews".into()]),
                verbs: vec!["create".into()],
                ..PolicyRule::default()
            }]),
            ..ClusterRole::default()
        })?,
        typed(&ClusterRoleBinding {
            metadata: meta("tenuo-e2e-token-review", None),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: "tenuo-e2e-token-review".into(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: name.into(),
                namespace: Some(NAMESPACE.into()),
                ..Subject::default()
            }]),
        })?,
        typed(&ConfigMap {
            metadata: meta("control-plane-policy", Some(NAMESPACE)),
            data: Some(BTreeMap::from([("policy.json".to_owned(), policy)])),
            ..ConfigMap::default()
        })?,
        deployment(name, NAMESPACE, name, container, volumes, true)?,
        node_port(name, NAMESPACE, labels, CONTROL_PLANE_HTTP, port)?,
    ])
}

/// An agent Job as applied: its Secrets and Services first, then the Job.
pub(crate) fn agent_job(job: &AgentJob) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for s in &job.secrets {
        out.push(typed(s)?);
    }
    for s in &job.services {
        out.push(typed(s)?);
    }
    out.push(typed(&job.job)?);
    Ok(out)
}

/// The request-header pattern's ingress: the e2e image's `ingress` binary,
/// fetching warrants as the workload's service account (its projected
/// token, no other credential), in front of `upstream`; reachable from the
/// host on 127.0.0.1:`port`.
pub(crate) fn ingress(
    spec: &IngressSpec,
    image: &str,
    control_plane: &str,
    port: u16,
) -> Result<Vec<Value>> {
    let name = "ingress";
    let (volume, token_mount) = token_volume();
    let container = Container {
        name: name.into(),
        image: Some(image.into()),
        command: Some(vec!["/usr/local/bin/ingress".into()]),
        env: Some(vec![
            env("LISTEN_ADDR", format!("0.0.0.0:{INGRESS_HTTP}")),
            env("UPSTREAM", spec.upstream.clone()),
            env("CONTROL_PLANE", control_plane),
            env("HOLDER", spec.holder.to_hex()),
            env("WARRANT_TTL", spec.ttl_secs.to_string()),
            env("TOKEN_FILE", TOKEN_FILE),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: INGRESS_HTTP.into(),
            ..ContainerPort::default()
        }]),
        readiness_probe: Some(tcp_ready(INGRESS_HTTP)),
        volume_mounts: Some(vec![token_mount]),
        ..Container::default()
    };
    let account = service_account_name(&spec.workload);
    let labels = BTreeMap::from([("app".to_owned(), name.to_owned())]);
    Ok(vec![
        deployment(
            name,
            AGENTS_NAMESPACE,
            account,
            container,
            vec![volume],
            false,
        )?,
        node_port(name, AGENTS_NAMESPACE, labels, INGRESS_HTTP, port)?,
    ])
}
