//! The checks that no values file can break, shown failing on hand-made
//! objects; and the typed round trip that catches fields Kubernetes lacks.

use serde_json::{json, Value};

use super::checks::{run_all, UNIT_TESTED};
use super::objects::{first_difference, parse, Typed};
use super::render::RawObject;

fn typed(objects: Vec<Value>) -> Vec<Typed> {
    objects
        .into_iter()
        .map(|object| {
            parse(&RawObject {
                source: "test".into(),
                object,
            })
            .expect("valid object")
        })
        .collect()
}

fn failed(objects: Vec<Value>) -> Vec<&'static str> {
    let mut ids: Vec<_> = run_all(&typed(objects), false)
        .into_iter()
        .map(|v| v.check)
        .collect();
    ids.dedup();
    ids
}

const LABELS: &str = "tenuo-authorizer";

/// A gateway Deployment that passes every check, given `service()`.
fn deployment() -> Value {
    let secure = json!({
        "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]}
    });
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "gw", "labels": {"app.kubernetes.io/component": "gateway"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": LABELS}},
            "template": {
                "metadata": {"labels": {"app": LABELS}, "annotations": {"checksum/config": "a".repeat(64)}},
                "spec": {
                    "automountServiceAccountToken": false,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": LABELS}}}
                    ]}},
                    "containers": [{
                        "name": "tenuo-authorizer", "image": "tenuo/authorizer:0.1.0",
                        "ports": [{"name": "http", "containerPort": 9090}, {"name": "metrics", "containerPort": 9091}],
                        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                        "securityContext": secure
                    }]
                }
            }
        }
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "gw"},
        "spec": {"selector": {"app": LABELS}, "ports": [
            {"name": "http", "port": 9090, "targetPort": "http"},
            {"name": "metrics", "port": 9091, "targetPort": "metrics"}
        ]}
    })
}

fn others() -> Vec<Value> {
    let selector = json!({"matchLabels": {"app": LABELS}});
    vec![
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "gw"},
               "spec": {"minAvailable": 1, "selector": selector}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "gw"},
               "spec": {"podSelector": selector, "policyTypes": ["Ingress", "Egress"]}}),
    ]
}

fn set(mut objects: Vec<Value>, extra: Vec<Value>) -> Vec<Value> {
    objects.extend(extra);
    objects.extend(others());
    objects
}

#[test]
fn the_reference_objects_pass() {
    assert_eq!(
        failed(set(vec![deployment(), service()], vec![])),
        Vec::<&str>::new()
    );
}

#[test]
fn checksum_fails_without_the_annotation() {
    let mut d = deployment();
    d["spec"]["template"]["metadata"]["annotations"] = json!({});
    assert_eq!(failed(set(vec![d, service()], vec![])), ["checksum"]);
}

#[test]
fn service_ports_fail_on_a_missing_or_dangling_port() {
    let mut s = service();
    s["spec"]["ports"][1]["name"] = json!("prom");
    assert_eq!(
        failed(set(vec![deployment(), s], vec![])),
        ["service-ports"]
    );
    let mut s = service();
    s["spec"]["ports"][0]["targetPort"] = json!("grpc");
    assert_eq!(
        failed(set(vec![deployment(), s], vec![])),
        ["service-ports"]
    );
}

#[test]
fn monitors_fail_on_another_port_or_path() {
    let monitor = json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "gw"},
        "spec": {"selector": {"matchLabels": {"app": LABELS}}, "endpoints": [{"port": "http", "path": "/metrics"}]}
    });
    assert_eq!(
        failed(set(vec![deployment(), service()], vec![monitor])),
        ["monitors"]
    );
}

#[test]
fn every_unit_tested_check_has_a_test_above() {
    assert_eq!(UNIT_TESTED, ["checksum", "service-ports", "monitors"]);
}

#[test]
fn typed_parse_names_a_field_kubernetes_lacks() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] =
        json!(true);
    let err = parse(&RawObject {
        source: "t".into(),
        object: d,
    })
    .err()
    .expect("rejected");
    assert!(
        err.contains("containers[0].securityContext.readOnlyRootFileSystem"),
        "{err}"
    );

    let monitor = json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {},
                         "spec": {"selector": {}, "podMetricsEndpoints": [{"port": "metrics", "path": "/m", "honor": 1}]}});
    assert!(parse(&RawObject {
        source: "t".into(),
        object: monitor
    })
    .is_err());

    let v1 =
        json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {}});
    assert!(parse(&RawObject {
        source: "t".into(),
        object: v1
    })
    .is_err());
}

#[test]
fn first_difference_finds_nulls_and_numbers() {
    assert_eq!(
        first_difference(&json!({"a": null}), &json!({}), String::new()).as_deref(),
        Some("a")
    );
    assert_eq!(
        first_difference(
            &json!({"a": [1, 2]}),
            &json!({"a": [1.0, 2]}),
            String::new()
        ),
        None
    );
    assert_eq!(
        first_difference(&json!({"a": [1]}), &json!({"a": [2]}), String::new()).as_deref(),
        Some("a[0]")
    );
}
