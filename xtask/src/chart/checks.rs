//! The property checks run on every render, and the pod view they share.
//!
//! Each check has an id; a values file under `tests/bad/` names the id it must
//! fail, so every check is shown able to fail (the few that values cannot
//! break are shown by the unit tests in `tests.rs`). One check compares two
//! renders rather than looking at one: `checksum-rolls`, in `rollout.rs`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::objects::{Object, Typed};
use super::{availability, figures, gateway, security};

/// Every check: its id, then what it asserts. Each id is one property, so a
/// bad values file (or unit test) per id shows each property able to fail.
pub(crate) const CHECKS: &[(&str, &str)] = &[
    ("schema", "values validate against values.schema.json"),
    ("render", "Helm renders the templates (the chart's own `fail` guards pass)"),
    ("lint", "helm lint --strict finds no warning or error"),
    ("typed", "every object parses into its Kubernetes API type, no field dropped"),
    ("run-as-non-root", "every container: runAsNonRoot true (its own or the pod's)"),
    ("uid-not-zero", "every container: runAsUser not 0 (its own or the pod's)"),
    ("read-only-root", "every container: readOnlyRootFilesystem true"),
    ("no-privilege-escalation", "every container: allowPrivilegeEscalation false"),
    ("not-privileged", "every container: privileged not true"),
    ("drop-all-capabilities", "every container drops capability ALL"),
    ("no-added-capabilities", "every container adds no capability"),
    ("seccomp", "pod seccompProfile RuntimeDefault or Localhost, no container overriding it"),
    ("sa-token", "pods and ServiceAccounts automount no service account token"),
    ("liveness-probe", "every long-running container has a liveness probe; the authorizer's is GET /health on port http"),
    ("readiness-probe", "every long-running container has a readiness probe; the authorizer's is GET /ready on port http"),
    ("resources", "every container requests cpu and memory and limits memory"),
    ("checksum", "pods running the authorizer carry a checksum/config annotation"),
    ("checksum-rolls", "a render differing only in config.gateway gives the pods another checksum/config"),
    ("gateway-config", "every gateway ConfigMap parses and compiles with the authorizer's own parser"),
    ("app-label", "gateway pods carry the guide's label app=<chart name> (kubectl logs -l, PodMonitor)"),
    ("service-ports", "Services name ports http and metrics and target ports their pods declare"),
    ("replicas", "a gateway runs two replicas or more (replicas or HPA floor)"),
    ("pdb", "a gateway has a PodDisruptionBudget selecting it that still allows a disruption"),
    ("spread", "a gateway's replicas are kept on different nodes (anti-affinity or topology spread)"),
    ("network-policy", "a gateway's pods are selected by a NetworkPolicy for ingress and egress"),
    ("hpa", "an HPA targets a Deployment that leaves replicas to it, with metrics and min <= max"),
    ("monitors", "ServiceMonitor and PodMonitor scrape port metrics at /metrics"),
    ("istio-grpc-port", "the Service port the Istio example's gRPC provider calls is HTTP/2 to Istio (appProtocol, else name), and default values render that Service"),
    ("defaults", "default values render no monitor and no debug mode"),
    ("resource-figures", "default values: a sidecar gets the guide's requests 10m/32Mi and limits 100m/64Mi exactly, a gateway at least those"),
];

/// The checks that no values file can break; `tests.rs` shows each failing
/// (its test `every_unit_tested_check_fails_on_its_case` holds one case per id).
pub(crate) const UNIT_TESTED: &[&str] = &[
    "checksum",
    "checksum-rolls",
    "app-label",
    "service-ports",
    "monitors",
    "istio-grpc-port",
];

/// One broken property.
#[derive(Debug)]
pub(crate) struct Violation {
    pub(crate) check: &'static str,
    pub(crate) object: String,
    pub(crate) message: String,
}

pub(crate) fn violation(check: &'static str, object: &str, message: String) -> Violation {
    Violation {
        check,
        object: object.to_owned(),
        message,
    }
}

/// The container name the chart gives the authorizer, in both modes.
pub(crate) const AUTHORIZER: &str = "tenuo-authorizer";

/// A pod template, from a Deployment.
pub(crate) struct Pod<'a> {
    pub(crate) id: &'a str,
    pub(crate) deployment: &'a str,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) spec: &'a PodSpec,
    /// Rendered by the chart in gateway mode (not an agent's pod).
    pub(crate) gateway: bool,
    pub(crate) replicas: Option<i32>,
}

impl Pod<'_> {
    /// Containers that run alongside the app: regular ones and native sidecars.
    pub(crate) fn long_running(&self) -> impl Iterator<Item = &Container> {
        let native = self
            .init()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"));
        self.spec.containers.iter().chain(native)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Container> {
        self.spec.containers.iter().chain(self.init())
    }

    fn init(&self) -> impl Iterator<Item = &Container> {
        self.spec.init_containers.iter().flatten()
    }
}

pub(crate) fn pods(objects: &[Typed]) -> Vec<Pod<'_>> {
    let mut pods = Vec::new();
    for t in objects {
        let Object::Deployment(d) = &t.object else {
            continue;
        };
        let Some(spec) = &d.spec else { continue };
        let Some(pod_spec) = &spec.template.spec else {
            continue;
        };
        let meta = spec.template.metadata.clone().unwrap_or_default();
        let component = d
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("app.kubernetes.io/component"));
        pods.push(Pod {
            id: &t.id,
            deployment: d.metadata.name.as_deref().unwrap_or_default(),
            labels: meta.labels.unwrap_or_default(),
            annotations: meta.annotations.unwrap_or_default(),
            spec: pod_spec,
            gateway: component.map(String::as_str) == Some("gateway"),
            replicas: spec.replicas,
        });
    }
    pods
}

/// Whether a selector's matchLabels pick these labels (the chart uses no
/// matchExpressions; a selector with neither picks nothing here).
pub(crate) fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    let Some(wanted) = selector.and_then(|s| s.match_labels.as_ref()) else {
        return false;
    };
    !wanted.is_empty() && wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Runs every property check; `defaults` adds the checks of default values.
pub(crate) fn run_all(objects: &[Typed], defaults: bool) -> Vec<Violation> {
    let pods = pods(objects);
    let mut out = Vec::new();
    security::check(objects, &pods, &mut out);
    availability::check(objects, &pods, &mut out);
    gateway::check(objects, &mut out);
    if defaults {
        availability::check_defaults(objects, &pods, &mut out);
        figures::check_defaults(&pods, &mut out);
    }
    out
}
