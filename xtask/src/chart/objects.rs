//! Rendered objects parsed into the Kubernetes API types (k8s-openapi), and
//! the Prometheus Operator monitors (not in k8s-openapi) into local types.
//!
//! k8s-openapi skips fields it does not know, so a parse alone would accept a
//! typo. Each object is therefore serialized back and compared with what was
//! rendered: any field that did not survive the round trip is not part of the
//! API schema (the API server would reject or drop it).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::render::RawObject;

/// A rendered object of a kind the chart may produce.
pub(crate) enum Object {
    Deployment(Box<Deployment>),
    Service(Service),
    ServiceAccount(ServiceAccount),
    Hpa(HorizontalPodAutoscaler),
    Pdb(PodDisruptionBudget),
    NetworkPolicy(NetworkPolicy),
    Monitor(Monitor),
    ConfigMap(ConfigMap),
    /// Parsed and valid, but no check looks inside (Secret).
    Other,
}

/// A parsed object and where it came from, for messages.
pub(crate) struct Typed {
    /// `Kind/name`.
    pub(crate) id: String,
    pub(crate) object: Object,
}

/// `monitoring.coreos.com/v1` ServiceMonitor or PodMonitor: the fields this
/// chart uses; anything else is an error, as with the API types.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Monitor {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) metadata: ObjectMeta,
    pub(crate) spec: MonitorSpec,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct MonitorSpec {
    pub(crate) selector: LabelSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) endpoints: Option<Vec<Endpoint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pod_metrics_endpoints: Option<Vec<Endpoint>>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Endpoint {
    pub(crate) port: String,
    pub(crate) path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scrape_timeout: Option<String>,
}

/// Parses one rendered object; the error names the offending field or kind.
pub(crate) fn parse(raw: &RawObject) -> Result<Typed, String> {
    let v = &raw.object;
    let api = v["apiVersion"].as_str().unwrap_or_default();
    let kind = v["kind"].as_str().unwrap_or_default();
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    let id = format!("{kind}/{name}");
    let at = |e: String| format!("{id} ({}): {e}", raw.source);
    let object = match (api, kind) {
        ("apps/v1", "Deployment") => Object::Deployment(Box::new(typed(v).map_err(at)?)),
        ("v1", "Service") => Object::Service(typed(v).map_err(at)?),
        ("v1", "ServiceAccount") => Object::ServiceAccount(typed(v).map_err(at)?),
        ("v1", "ConfigMap") => Object::ConfigMap(typed(v).map_err(at)?),
        ("v1", "Secret") => typed::<Secret>(v).map(|_| Object::Other).map_err(at)?,
        ("autoscaling/v2", "HorizontalPodAutoscaler") => Object::Hpa(typed(v).map_err(at)?),
        ("policy/v1", "PodDisruptionBudget") => Object::Pdb(typed(v).map_err(at)?),
        ("networking.k8s.io/v1", "NetworkPolicy") => Object::NetworkPolicy(typed(v).map_err(at)?),
        ("monitoring.coreos.com/v1", "ServiceMonitor" | "PodMonitor") => {
            Object::Monitor(typed(v).map_err(at)?)
        }
        _ => return Err(at(format!("unexpected kind {kind} in {api:?}"))),
    };
    Ok(Typed { id, object })
}

/// Deserializes `v` as `T` and fails if any field was dropped or changed.
pub(crate) fn typed<T: DeserializeOwned + Serialize>(v: &Value) -> Result<T, String> {
    let t: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&t).map_err(|e| e.to_string())?;
    match first_difference(v, &back, String::new()) {
        None => Ok(t),
        Some(path) => Err(format!("field `{path}` is not in the API schema")),
    }
}

/// The path of the first field that differs between `a` and `b`.
pub(crate) fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .find_map(|(k, va)| match b.get(k) {
                None => Some(join(k)),
                Some(vb) => first_difference(va, vb, join(k)),
            })
            .or_else(|| b.keys().find(|k| !a.contains_key(*k)).map(|k| join(k))),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, format!("{path}[{i}]"))),
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(if path.is_empty() {
            "<root>".to_owned()
        } else {
            path
        }),
    }
}
