//! The rendered Service, read as kube-proxy and the kubelet would: its
//! selector must match the Deployment's pod template labels (else it routes
//! to no pod), and each port's `targetPort` is resolved through the
//! container's named ports to the address the process binds (`LISTEN_ADDR`
//! or `METRICS_ADDR`, `docs/reference.md` §5). The readiness probe's port is resolved
//! the same way.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Which of a replica's two listeners (its `started` line's `listen` or
/// `metrics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listener {
    /// `LISTEN_ADDR`: decisions, probes.
    Http,
    /// `METRICS_ADDR`: Prometheus text.
    Metrics,
}

/// The Service's ports, resolved to listeners.
#[derive(Clone, Debug)]
pub(crate) struct Routes {
    /// The Service's name.
    pub(crate) name: String,
    /// The Service's `http` port number.
    pub(crate) http_port: u16,
    /// Where the `http` port's `targetPort` lands in a replica.
    pub(crate) http: Listener,
    /// Where the `metrics` port's `targetPort` lands.
    pub(crate) metrics: Listener,
    /// Where the readiness probe's port lands.
    pub(crate) ready: Listener,
}

/// The listener addresses the authorizer binds when its variables are unset.
const DEFAULTS: [(&str, Listener, &str); 2] = [
    ("LISTEN_ADDR", Listener::Http, "0.0.0.0:9090"),
    ("METRICS_ADDR", Listener::Metrics, "0.0.0.0:9091"),
];

/// Checks the Service against the Deployment and resolves its ports.
pub(crate) fn resolve(objects: &[Value], deployment: &Value, container: &Value) -> Result<Routes> {
    let template = labels(&deployment["spec"]["template"]["metadata"]["labels"]);
    let matches = labels(&deployment["spec"]["selector"]["matchLabels"]);
    if let Some(missing) = not_in(&matches, &template) {
        bail!(
            "the Deployment's selector wants {missing} but its pod template's labels are {template:?}"
        );
    }
    let services: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Service").collect();
    let service = match services.as_slice() {
        [one] => *one,
        [] => bail!("the chart rendered no Service"),
        many => bail!("the chart rendered {} Services; expected one", many.len()),
    };
    let name = service["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let selector = labels(&service["spec"]["selector"]);
    if selector.is_empty() {
        bail!("Service {name} has no selector: it would route to no replica");
    }
    if let Some(missing) = not_in(&selector, &template) {
        bail!(
            "Service {name} selects {missing}, which the pod template's labels {template:?} \
             lack: it would route to no replica"
        );
    }
    let port = |port_name: &str| -> Result<(u16, Listener)> {
        let p = service["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == port_name)
            .with_context(|| format!("Service {name} has no port named {port_name}"))?;
        let number = p["port"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .with_context(|| format!("Service {name} port {port_name}: no port number"))?;
        // An absent targetPort means the same number as the port.
        let target = match &p["targetPort"] {
            Value::Null => Value::from(number),
            t => t.clone(),
        };
        let what = format!("Service {name} port {port_name} (targetPort {target})");
        Ok((number, listener(container, &target, &what)?))
    };
    let (http_port, http) = port("http")?;
    let (_, metrics) = port("metrics")?;
    let probe = &container["readinessProbe"]["httpGet"]["port"];
    let ready = listener(
        container,
        probe,
        &format!("the readiness probe (port {probe})"),
    )?;
    Ok(Routes {
        name,
        http_port,
        http,
        metrics,
        ready,
    })
}

/// A `targetPort` or probe port (a container port's name or number) → the
/// listener bound to that container port.
fn listener(container: &Value, target: &Value, what: &str) -> Result<Listener> {
    let ports = container["ports"].as_array().into_iter().flatten();
    let container_port = match target {
        Value::String(port_name) => ports
            .clone()
            .find(|p| p["name"] == port_name.as_str())
            .and_then(|p| p["containerPort"].as_u64())
            .with_context(|| format!("{what}: the container has no port named {port_name}"))?,
        Value::Number(n) => n
            .as_u64()
            .filter(|n| {
                ports
                    .clone()
                    .any(|p| p["containerPort"].as_u64() == Some(*n))
            })
            .with_context(|| format!("{what}: the container declares no port {n}"))?,
        other => bail!("{what}: a port is a name or a number, not {other}"),
    };
    let env = env(container);
    for (var, listener, default) in DEFAULTS {
        let value = env.get(var).map_or(default, String::as_str);
        let bound: SocketAddr = value
            .parse()
            .with_context(|| format!("{var}={value} is not an address"))?;
        if u64::from(bound.port()) == container_port {
            return Ok(listener);
        }
    }
    bail!(
        "{what}: container port {container_port}, but neither LISTEN_ADDR nor METRICS_ADDR binds it"
    )
}

fn env(container: &Value) -> BTreeMap<String, String> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_owned(),
                e["value"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The first `key=value` of `want` that `have` lacks.
fn not_in(want: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> Option<String> {
    want.iter()
        .find(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}={v}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Value {
        json!({"kind": "Deployment", "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "a"}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "a", "app": "tenuo-authorizer"}}}}})
    }

    fn container() -> Value {
        json!({"name": "tenuo-authorizer",
               "env": [{"name": "LISTEN_ADDR", "value": "0.0.0.0:9090"},
                       {"name": "METRICS_ADDR", "value": "0.0.0.0:9091"}],
               "ports": [{"name": "http", "containerPort": 9090},
                         {"name": "metrics", "containerPort": 9091}],
               "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}}})
    }

    fn service(selector: Value, http_target: Value) -> Value {
        json!({"kind": "Service", "metadata": {"name": "svc"}, "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 8080, "targetPort": http_target},
                      {"name": "metrics", "port": 9091, "targetPort": "metrics"}]}})
    }

    #[test]
    fn named_ports_resolve_to_the_listeners() {
        let objects = [service(json!({"app": "tenuo-authorizer"}), json!("http"))];
        let r = resolve(&objects, &deployment(), &container()).unwrap();
        assert_eq!(r.http_port, 8080);
        assert_eq!(
            (r.http, r.metrics, r.ready),
            (Listener::Http, Listener::Metrics, Listener::Http)
        );
        // By number, and crossed over: the resolution follows the numbers.
        let objects = [service(json!({"app": "tenuo-authorizer"}), json!(9091))];
        let r = resolve(&objects, &deployment(), &container()).unwrap();
        assert_eq!(r.http, Listener::Metrics);
    }

    #[test]
    fn a_selector_the_pods_do_not_match_is_refused() {
        let objects = [service(json!({"app": "other"}), json!("http"))];
        let e = resolve(&objects, &deployment(), &container()).unwrap_err();
        assert!(e.to_string().contains("app=other"), "{e}");
        let objects = [service(json!({}), json!("http"))];
        assert!(resolve(&objects, &deployment(), &container()).is_err());
    }

    #[test]
    fn a_target_port_nothing_binds_is_refused() {
        for target in [json!("grpc"), json!(9999)] {
            let objects = [service(json!({"app": "tenuo-authorizer"}), target.clone())];
            let e = resolve(&objects, &deployment(), &container()).unwrap_err();
            assert!(e.to_string().contains("targetPort"), "{target}: {e}");
        }
        let mut c = container();
        c["env"][0]["value"] = json!("0.0.0.0:7000");
        let objects = [service(json!({"app": "tenuo-authorizer"}), json!("http"))];
        let e = resolve(&objects, &deployment(), &c).unwrap_err();
        assert!(e.to_string().contains("neither LISTEN_ADDR"), "{e}");
    }
}
