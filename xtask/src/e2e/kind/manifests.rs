//! The objects the kind backend applies besides the chart, as k8s-openapi
//! types: namespaces and service accounts of the agents, the control plane
//! (RBAC for TokenReview, policy, keys Secret, Deployment, NodePort Service),
//! and a NodePort Service in front of the authorizer's pods.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EnvVar, Namespace, PodSpec, PodTemplateSpec,
    Secret, SecretVolumeSource, Service, ServiceAccount, ServicePort, ServiceSpec, Volume,
    VolumeMount,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;
use tenuo_e2e::{ControlPlaneSpec, NAMESPACE, RELEASE};

use super::target::AGENTS;

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/part-of".to_owned(),
            "tenuo-e2e".to_owned(),
        )])),
        ..ObjectMeta::default()
    }
}

fn typed<T: k8s_openapi::Resource + serde::Serialize>(object: &T) -> Result<Value> {
    let mut v = serde_json::to_value(object)?;
    v["apiVersion"] = T::API_VERSION.into();
    v["kind"] = T::KIND.into();
    Ok(v)
}

pub(crate) fn namespaces() -> Vec<Value> {
    let mut out = Vec::new();
    for ns in [NAMESPACE, AGENTS] {
        out.extend(typed(&Namespace {
            metadata: meta(ns, None),
            ..Namespace::default()
        }));
    }
    for sa in ["reader", "rotator", "batch"] {
        out.extend(typed(&ServiceAccount {
            metadata: meta(sa, Some(AGENTS)),
            ..ServiceAccount::default()
        }));
    }
    out
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

fn node_port(
    name: &str,
    selector: BTreeMap<String, String>,
    port: i32,
    node_port: u16,
) -> Result<Value> {
    typed(&Service {
        metadata: meta(name, Some(NAMESPACE)),
        spec: Some(ServiceSpec {
            type_: Some("NodePort".into()),
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port,
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
    node_port("tenuo-authorizer-e2e", selector, 9090, port)
}

pub(crate) fn control_plane(spec: &ControlPlaneSpec, image: &str, port: u16) -> Result<Vec<Value>> {
    let name = "control-plane";
    let labels = BTreeMap::from([("app".to_owned(), name.to_owned())]);
    let policy = serde_json::to_string_pretty(&spec.policy)?;
    let container = Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: Some("Never".into()),
        command: Some(vec!["/usr/local/bin/control-plane".into()]),
        args: Some(
            [
                "--listen=0.0.0.0:8080",
                "--policy=/etc/cp/policy/policy.json",
                "--keys-dir=/etc/cp/keys",
                "--token-review",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("--signing-key={}", spec.initial_key)])
            .collect(),
        ),
        env: Some(vec![EnvVar {
            name: "ADMIN_TOKEN".into(),
            value: Some(spec.admin_token.clone()),
            ..EnvVar::default()
        }]),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "keys".into(),
                mount_path: "/etc/cp/keys".into(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: "policy".into(),
                mount_path: "/etc/cp/policy".into(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
        ]),
        ..Container::default()
    };
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
        typed(&Deployment {
            metadata: meta(name, Some(NAMESPACE)),
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                selector: LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels.clone()),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(PodSpec {
                        service_account_name: Some(name.into()),
                        containers: vec![container],
                        volumes: Some(vec![
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
                        ]),
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        })?,
        node_port(name, labels, 8080, port)?,
    ])
}
