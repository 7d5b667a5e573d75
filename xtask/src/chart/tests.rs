//! The checks that no values file can break, shown failing on hand-made
//! objects; the typed round trip that catches fields Kubernetes lacks; and
//! the pieces the value-driven checks stand on (quantities, the checksum
//! comparison, the gateway parser).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Container;
use serde_json::{json, Value};

use super::checks::{run_all, UNIT_TESTED};
use super::figures::{against_guide, millis, QuantityError};
use super::objects::{first_difference, parse, Typed};
use super::render::RawObject;
use super::{gateway, istio, rollout};

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
            "selector": {"matchLabels": {"app.kubernetes.io/name": LABELS}},
            "template": {
                "metadata": {
                    "labels": {"app": LABELS, "app.kubernetes.io/name": LABELS},
                    "annotations": {"checksum/config": "a".repeat(64)}
                },
                "spec": {
                    "automountServiceAccountToken": false,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app.kubernetes.io/name": LABELS}}}
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
        "spec": {"selector": {"app.kubernetes.io/name": LABELS}, "ports": [
            {"name": "http", "port": 9090, "targetPort": "http"},
            {"name": "metrics", "port": 9091, "targetPort": "metrics"}
        ]}
    })
}

fn others() -> Vec<Value> {
    let selector = json!({"matchLabels": {"app.kubernetes.io/name": LABELS}});
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

/// One failing case per check in `UNIT_TESTED` (some have several), and
/// the checks each case fails.
fn unit_cases() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut cases = Vec::new();

    let mut d = deployment();
    d["spec"]["template"]["metadata"]["annotations"] = json!({});
    cases.push(("checksum", failed(set(vec![d, service()], vec![]))));

    let sums = BTreeMap::from([("gw".to_owned(), "a".repeat(64))]);
    let rolls = |before, after| {
        rollout::compare(before, after)
            .into_iter()
            .map(|v| v.check)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    cases.push(("checksum-rolls", rolls(&sums, &sums)));
    let elsewhere = BTreeMap::from([("other".to_owned(), "b".repeat(64))]);
    cases.push(("checksum-rolls", rolls(&sums, &elsewhere)));

    let mut d = deployment();
    d["spec"]["template"]["metadata"]["labels"]
        .as_object_mut()
        .map(|l| l.remove("app"));
    cases.push(("app-label", failed(set(vec![d, service()], vec![]))));
    let mut d = deployment();
    d["spec"]["template"]["metadata"]["labels"]["app"] = json!("my-gateway");
    cases.push(("app-label", failed(set(vec![d, service()], vec![]))));

    let mut s = service();
    s["spec"]["ports"][1]["name"] = json!("prom");
    cases.push(("service-ports", failed(set(vec![deployment(), s], vec![]))));
    let mut s = service();
    s["spec"]["ports"][0]["targetPort"] = json!("grpc");
    cases.push(("service-ports", failed(set(vec![deployment(), s], vec![]))));

    let monitor = json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "gw"},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": LABELS}}, "endpoints": [{"port": "http", "path": "/metrics"}]}
    });
    cases.push((
        "monitors",
        failed(set(vec![deployment(), service()], vec![monitor])),
    ));

    // The chart's Service before it declared the protocol: port `http`, no
    // appProtocol, so Istio sends the example's gRPC check over HTTP/1.1.
    cases.push((
        "istio-grpc-port",
        istio_check(istio_service(None, "http"), false),
    ));
    // appProtocol wins over the name: a `grpc` name does not rescue `http`.
    cases.push((
        "istio-grpc-port",
        istio_check(istio_service(Some("http"), "grpc"), false),
    ));
    let mut s = istio_service(Some("http2"), "http");
    s["spec"]["ports"][0]["port"] = json!(8080);
    cases.push(("istio-grpc-port", istio_check(s, false)));
    let mut s = istio_service(Some("http2"), "http");
    s["metadata"]["name"] = json!("renamed");
    cases.push(("istio-grpc-port", istio_check(s, true)));
    cases
}

fn istio_providers() -> Vec<istio::Provider> {
    vec![istio::Provider {
        name: "tenuo".into(),
        service: "gw.tenuo-system.svc.cluster.local".into(),
        port: 9090,
    }]
}

/// `service()` in namespace tenuo-system, its first port with this protocol.
fn istio_service(app_protocol: Option<&str>, name: &str) -> Value {
    let mut s = service();
    s["metadata"]["namespace"] = json!("tenuo-system");
    s["spec"]["ports"][0]["name"] = json!(name);
    if let Some(app) = app_protocol {
        s["spec"]["ports"][0]["appProtocol"] = json!(app);
    }
    s
}

fn istio_check(service: Value, must_match: bool) -> Vec<&'static str> {
    let mut out = Vec::new();
    istio::check(
        &typed(vec![service]),
        &istio_providers(),
        must_match,
        &mut out,
    );
    out.into_iter().map(|v| v.check).collect()
}

#[test]
fn istio_takes_app_protocol_then_the_name() {
    for (app, name) in [
        (Some("http2"), "http"),
        (Some("grpc"), "http"),
        (Some("kubernetes.io/h2c"), "http"),
        (Some("HTTP2"), "tcp"),
        (None, "grpc"),
        (None, "grpc-ext-authz"),
        (None, "http2"),
        (None, "http2-api"),
    ] {
        assert!(
            istio_check(istio_service(app, name), true).is_empty(),
            "appProtocol {app:?}, name {name}"
        );
    }
    for (app, name) in [
        (None, "http"),
        (None, "http-grpc"),
        (None, "web"),
        (Some("http"), "http2"),
        (Some("tcp"), "grpc"),
    ] {
        assert_eq!(
            istio_check(istio_service(app, name), false),
            ["istio-grpc-port"],
            "appProtocol {app:?}, name {name}"
        );
    }
}

#[test]
fn the_istio_example_names_the_charts_default_service() {
    let path = crate::project_root().join(istio::EXAMPLE);
    let text = std::fs::read_to_string(path).expect("the example");
    let providers = istio::providers(&text).expect("parsed");
    assert_eq!(
        providers,
        [istio::Provider {
            name: "tenuo".into(),
            service: "tenuo-authorizer.tenuo-system.svc.cluster.local".into(),
            port: 9090,
        }]
    );
    assert!(istio::providers("apiVersion: v1\nkind: ConfigMap\n").is_err());
}

#[test]
fn every_unit_tested_check_fails_on_its_case() {
    let cases = unit_cases();
    let covered: BTreeSet<&str> = cases.iter().map(|(id, _)| *id).collect();
    assert_eq!(covered, UNIT_TESTED.iter().copied().collect());
    for (id, failed) in cases {
        assert_eq!(failed, [id], "the case for {id}");
    }
}

#[test]
fn checksum_rolls_passes_when_the_sum_changes() {
    let before = BTreeMap::from([("gw".to_owned(), "a".repeat(64))]);
    let after = BTreeMap::from([("gw".to_owned(), "b".repeat(64))]);
    assert!(rollout::compare(&before, &after).is_empty());
}

#[test]
fn gateway_config_is_read_by_the_authorizers_parser() {
    let cm = |yaml: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gw"},
               "data": {gateway::KEY: yaml}})
    };
    let ok = "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {}}}\nroutes: [{pattern: /x, tool: t}]\n";
    let no_settings = "version: '1'\ntools: {t: {description: d, constraints: {}}}\nroutes: [{pattern: /x, tool: t}]\n";
    let no_description = "version: '1'\nsettings: {}\ntools: {t: {constraints: {}}}\nroutes: []\n";
    let checked = |yaml: &str| {
        let mut out = Vec::new();
        gateway::check(&typed(vec![cm(yaml)]), &mut out);
        out.into_iter().map(|v| v.check).collect::<Vec<_>>()
    };
    assert_eq!(checked(ok), Vec::<&str>::new());
    assert_eq!(checked(no_settings), ["gateway-config"]);
    assert_eq!(checked(no_description), ["gateway-config"]);
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                       "data": {"other.yaml": "not: [a, gateway"}});
    let mut out = Vec::new();
    gateway::check(&typed(vec![other]), &mut out);
    assert!(out.is_empty());
}

#[test]
fn quantities_compare_by_value() {
    assert_eq!(millis("10m"), Ok(10));
    assert_eq!(millis("0.01"), Ok(10));
    assert_eq!(millis("1"), Ok(1_000));
    assert_eq!(millis("100m"), millis("0.1"));
    assert_eq!(millis("32Mi"), Ok(32 * (1 << 20) * 1_000));
    assert_eq!(millis("1.5Gi"), Ok(3 * (1 << 29) * 1_000));
    assert_eq!(millis("1k"), Ok(1_000_000));
    assert_eq!(millis("1u"), Ok(1)); // rounded up
    assert_eq!(millis(""), Err(QuantityError::NoNumber));
    assert_eq!(millis("Mi"), Err(QuantityError::NoNumber));
    assert_eq!(millis("-1"), Err(QuantityError::NoNumber));
    assert_eq!(millis("1.2.3"), Err(QuantityError::BadNumber));
    assert_eq!(millis("1e3"), Err(QuantityError::Suffix));
    assert_eq!(millis("1MB"), Err(QuantityError::Suffix));
}

#[test]
fn resource_figures_exact_for_a_sidecar_at_least_for_a_gateway() {
    let container = |resources: Value| -> Container {
        serde_json::from_value(json!({"name": "tenuo-authorizer", "resources": resources}))
            .expect("a container")
    };
    let guide = container(json!({"requests": {"cpu": "10m", "memory": "32Mi"},
                                 "limits": {"cpu": "0.1", "memory": "64Mi"}}));
    assert!(against_guide(&guide, true).is_empty());
    assert!(against_guide(&guide, false).is_empty());

    let bigger = container(json!({"requests": {"cpu": "100m", "memory": "128Mi"},
                                  "limits": {"memory": "256Mi"}}));
    assert!(against_guide(&bigger, false).is_empty()); // no cpu limit: unbounded
    assert_eq!(against_guide(&bigger, true).len(), 4);

    let smaller = container(json!({"requests": {"cpu": "10m", "memory": "16Mi"},
                                   "limits": {"cpu": "100m", "memory": "64Mi"}}));
    assert_eq!(against_guide(&smaller, false).len(), 1);
    let extra = container(
        json!({"requests": {"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "1Gi"},
                                 "limits": {"cpu": "100m", "memory": "64Mi"}}),
    );
    assert_eq!(against_guide(&extra, true).len(), 1);
    assert_eq!(against_guide(&container(json!({})), false).len(), 2);
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
