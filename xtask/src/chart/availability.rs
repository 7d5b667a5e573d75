//! Availability and wiring checks: Services, replicas, disruption budgets,
//! spreading, network policy, autoscaling, monitors and the guide's label.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::checks::{selects, violation, Pod, Violation};
use super::objects::{Object, Typed};

const HOSTNAME: &str = "kubernetes.io/hostname";

pub(crate) fn check(objects: &[Typed], pods: &[Pod<'_>], out: &mut Vec<Violation>) {
    let hpas: Vec<&HorizontalPodAutoscaler> = objects
        .iter()
        .filter_map(|t| {
            if let Object::Hpa(h) = &t.object {
                Some(h)
            } else {
                None
            }
        })
        .collect();
    for t in objects {
        match &t.object {
            Object::Service(_) => service(t, pods, out),
            Object::Hpa(h) => hpa(&t.id, h, pods, out),
            Object::Monitor(m) => {
                let eps = if m.kind == "PodMonitor" {
                    &m.spec.pod_metrics_endpoints
                } else {
                    &m.spec.endpoints
                };
                let eps = eps.as_deref().unwrap_or_default();
                if eps.is_empty()
                    || eps
                        .iter()
                        .any(|e| e.port != "metrics" || e.path != "/metrics")
                {
                    let msg = "endpoints must scrape port metrics at /metrics".into();
                    out.push(violation("monitors", &t.id, msg));
                }
            }
            _ => {}
        }
    }
    for pod in pods.iter().filter(|p| p.gateway) {
        app_label(pod, out);
        let isolated = objects.iter().any(|t| match &t.object {
            Object::NetworkPolicy(np) => np.spec.as_ref().is_some_and(|s| {
                let types = s.policy_types.as_deref().unwrap_or_default();
                selects(s.pod_selector.as_ref(), &pod.labels)
                    && ["Ingress", "Egress"]
                        .iter()
                        .all(|k| types.iter().any(|t| t == k))
            }),
            _ => false,
        });
        if !isolated {
            let msg = "no NetworkPolicy restricts ingress and egress".into();
            out.push(violation("network-policy", pod.id, msg));
        }
        let target = |h: &&&HorizontalPodAutoscaler| {
            h.spec
                .as_ref()
                .is_some_and(|s| s.scale_target_ref.name == pod.deployment)
        };
        let min = match hpas.iter().find(target) {
            Some(h) => h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1),
            None => pod.replicas.unwrap_or(1),
        };
        if min < 2 {
            let msg = format!("{min} replica(s): one node drain denies every request");
            out.push(violation("replicas", pod.id, msg));
            continue; // a budget or spread means nothing for one replica
        }
        pdb(objects, pod, min, out);
        spread(pod, out);
    }
}

/// The guide finds the authorizer by `app=tenuo-authorizer` (`kubectl logs
/// -l`, its PodMonitor): the chart's name, as in `app.kubernetes.io/name`.
fn app_label(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let name = pod.labels.get("app.kubernetes.io/name");
    let app = pod.labels.get("app");
    if app.is_none() || app != name {
        let msg = format!("label app is {app:?}, not the chart's name {name:?}");
        out.push(violation("app-label", pod.id, msg));
    }
}

fn service(t: &Typed, pods: &[Pod<'_>], out: &mut Vec<Violation>) {
    let Object::Service(svc) = &t.object else {
        return;
    };
    let spec = svc.spec.clone().unwrap_or_default();
    let sel = spec.selector.unwrap_or_default();
    let backends: Vec<&Pod<'_>> = pods
        .iter()
        .filter(|p| !sel.is_empty() && sel.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
        .collect();
    if backends.is_empty() {
        out.push(violation(
            "service-ports",
            &t.id,
            "selects no pod rendered with it".into(),
        ));
    }
    let ports = spec.ports.unwrap_or_default();
    for name in ["http", "metrics"] {
        if !ports.iter().any(|p| p.name.as_deref() == Some(name)) {
            out.push(violation(
                "service-ports",
                &t.id,
                format!("no port named {name}"),
            ));
        }
    }
    for p in &ports {
        let declared = |pod: &&Pod<'_>| {
            pod.long_running()
                .flat_map(|c| c.ports.iter().flatten())
                .any(|cp| match &p.target_port {
                    Some(IntOrString::String(n)) => cp.name.as_deref() == Some(n),
                    Some(IntOrString::Int(n)) => cp.container_port == *n,
                    None => cp.container_port == p.port,
                })
        };
        if !backends.iter().all(declared) {
            let msg = format!("port {:?} targets a port its pods do not declare", p.name);
            out.push(violation("service-ports", &t.id, msg));
        }
    }
}

fn hpa(id: &str, h: &HorizontalPodAutoscaler, pods: &[Pod<'_>], out: &mut Vec<Violation>) {
    let Some(spec) = &h.spec else { return };
    let r = &spec.scale_target_ref;
    let target = pods
        .iter()
        .find(|p| r.kind == "Deployment" && p.deployment == r.name);
    let min = spec.min_replicas.unwrap_or(1);
    let mut bad = Vec::new();
    match target {
        None => bad.push(format!(
            "targets {} {}, not a rendered Deployment",
            r.kind, r.name
        )),
        Some(p) if p.replicas.is_some() => {
            bad.push(format!("{} sets replicas; the HPA would fight it", p.id))
        }
        Some(_) => {}
    }
    if r.api_version.as_deref() != Some("apps/v1") {
        bad.push(format!("scaleTargetRef apiVersion {:?}", r.api_version));
    }
    if min > spec.max_replicas {
        bad.push(format!(
            "minReplicas {min} > maxReplicas {}",
            spec.max_replicas
        ));
    }
    if spec.metrics.as_deref().unwrap_or_default().is_empty() {
        bad.push("no metrics".into());
    }
    out.extend(bad.into_iter().map(|m| violation("hpa", id, m)));
}

fn pdb(objects: &[Typed], pod: &Pod<'_>, min: i32, out: &mut Vec<Violation>) {
    let allows_one = |v: &IntOrString, min_available: bool| match v {
        IntOrString::Int(n) => {
            if min_available {
                *n < min
            } else {
                *n >= 1
            }
        }
        IntOrString::String(pct) => {
            if min_available {
                pct != "100%"
            } else {
                pct != "0%"
            }
        }
    };
    let ok = objects.iter().any(|t| match &t.object {
        Object::Pdb(p) => p.spec.as_ref().is_some_and(|s| {
            let room = match (&s.min_available, &s.max_unavailable) {
                (_, Some(max)) => allows_one(max, false),
                (Some(min), None) => allows_one(min, true),
                (None, None) => false,
            };
            room && selects(s.selector.as_ref(), &pod.labels)
        }),
        _ => false,
    });
    if !ok {
        let msg = format!(
            "{min} replicas but no PodDisruptionBudget that selects them and allows a drain"
        );
        out.push(violation("pdb", pod.id, msg));
    }
}

fn spread(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let anti = pod
        .spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref());
    let required = anti.and_then(|a| {
        a.required_during_scheduling_ignored_during_execution
            .as_ref()
    });
    let preferred = anti.and_then(|a| {
        a.preferred_during_scheduling_ignored_during_execution
            .as_ref()
    });
    let terms = required.into_iter().flatten().chain(
        preferred
            .into_iter()
            .flatten()
            .map(|w| &w.pod_affinity_term),
    );
    let by_affinity = terms
        .into_iter()
        .any(|t| t.topology_key == HOSTNAME && selects(t.label_selector.as_ref(), &pod.labels));
    let by_spread = pod
        .spec
        .topology_spread_constraints
        .iter()
        .flatten()
        .any(|c| c.topology_key == HOSTNAME && selects(c.label_selector.as_ref(), &pod.labels));
    if !by_affinity && !by_spread {
        let msg = "replicas may share a node: no anti-affinity or spread on kubernetes.io/hostname"
            .into();
        out.push(violation("spread", pod.id, msg));
    }
}

/// Default values: monitors need the Prometheus Operator's CRDs, so they are
/// opt-in; debug mode leaks deny details, so it is too.
pub(crate) fn check_defaults(objects: &[Typed], pods: &[Pod<'_>], out: &mut Vec<Violation>) {
    for t in objects {
        if let Object::Monitor(_) = &t.object {
            out.push(violation(
                "defaults",
                &t.id,
                "monitor rendered by default".into(),
            ));
        }
    }
    for pod in pods {
        let debug = pod
            .all()
            .flat_map(|c| c.env.iter().flatten())
            .any(|e| e.name == "DEBUG_MODE" && e.value.as_deref() == Some("true"));
        if debug {
            out.push(violation(
                "defaults",
                pod.id,
                "debug mode on by default".into(),
            ));
        }
    }
}
