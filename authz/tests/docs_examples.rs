//! The deployment examples in `docs/examples/` parse, and say what the server
//! really serves: the port, the gRPC service, the probes, the environment;
//! and each is complete: every ConfigMap and Secret its pods use is defined in
//! the same file, so `kubectl apply -f` on it alone gives a pod that starts.

use std::collections::BTreeMap;

use serde_json::Value;

fn examples_dir() -> String {
    format!("{}/../docs/examples", env!("CARGO_MANIFEST_DIR"))
}

fn documents(name: &str) -> Vec<Value> {
    let path = format!("{}/{name}", examples_dir());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_documents(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_documents(text: &str) -> Result<Vec<Value>, serde_norway::Error> {
    text.split("\n---")
        .filter(|doc| !doc.trim().is_empty())
        .map(serde_norway::from_str::<Value>)
        .collect()
}

/// The first document of `kind`.
fn of_kind<'d>(docs: &'d [Value], kind: &str) -> &'d Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn find<'v>(value: &'v Value, key: &str) -> Vec<&'v Value> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    found.push(v);
                }
                found.extend(find(v, key));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| found.extend(find(v, key))),
        _ => {}
    }
    found
}

#[test]
fn envoy_config_calls_the_grpc_check_on_port_9090_and_fails_closed() {
    let envoy = &documents("envoy-ext-authz.yaml")[0];
    let types: Vec<&str> = find(envoy, "@type")
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        types.contains(&"type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz")
    );
    let ext_authz = find(envoy, "grpc_service")[0];
    assert_eq!(ext_authz["envoy_grpc"]["cluster_name"], "tenuo_authorizer");
    assert_eq!(find(envoy, "failure_mode_allow"), vec![&Value::Bool(false)]);
    let ports: Vec<&Value> = find(envoy, "port_value");
    assert!(ports.contains(&&Value::from(9090)));
    assert!(
        !find(envoy, "http2_protocol_options").is_empty(),
        "gRPC needs HTTP/2 to the authorizer"
    );
    let max = find(envoy, "max_request_bytes")[0].as_u64().unwrap();
    assert!(
        max <= 1024 * 1024,
        "Envoy must not send bodies larger than the authorizer reads"
    );
}

#[test]
fn istio_provider_and_policy_point_at_the_authorizer() {
    let docs = documents("istio-ext-authz.yaml");
    let provider = &find(&docs[0], "envoyExtAuthzGrpc")[0];
    assert_eq!(provider["port"], 9090);
    assert_eq!(provider["failOpen"], false);
    assert_eq!(docs[1]["kind"], "AuthorizationPolicy");
    assert_eq!(docs[1]["spec"]["action"], "CUSTOM");
    assert_eq!(
        docs[1]["spec"]["provider"]["name"],
        find(&docs[0], "name")[0].as_str().unwrap()
    );
}

#[test]
fn sidecar_pod_matches_the_guide_and_the_server() {
    let docs = documents("sidecar-pod.yaml");
    let pod = of_kind(&docs, "Pod");
    let authorizer = &pod["spec"]["containers"][0];
    assert_eq!(authorizer["args"][0], "serve");
    assert_eq!(authorizer["ports"][0]["containerPort"], 9090);
    assert_eq!(authorizer["ports"][1]["name"], "metrics");
    assert_eq!(authorizer["readinessProbe"]["httpGet"]["path"], "/ready");
    assert_eq!(authorizer["livenessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(authorizer["resources"]["limits"]["memory"], "64Mi");
    assert_eq!(
        authorizer["securityContext"]["readOnlyRootFilesystem"],
        true
    );
    let env: Vec<&str> = authorizer["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(env.contains(&"TRUSTED_ISSUERS"));
    let key = authorizer["env"][0]["value"].as_str().unwrap();
    tenuo_authz::crypto::PublicKey::from_hex(key).unwrap();
}

/// The sidecar's gateway config is the key of the ConfigMap it mounts, at the
/// path `TENUO_GATEWAY_CONFIG` names, and the authorizer's parser accepts it.
#[test]
fn sidecar_gateway_config_is_mounted_from_its_configmap_and_compiles() {
    let docs = documents("sidecar-pod.yaml");
    let pod = of_kind(&docs, "Pod");
    let authorizer = &pod["spec"]["containers"][0];
    let env = |name: &str| {
        authorizer["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let config_path = env("TENUO_GATEWAY_CONFIG");
    let (dir, key) = config_path.rsplit_once('/').unwrap();
    let mount = authorizer["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == dir)
        .unwrap_or_else(|| panic!("nothing mounted at {dir}"));
    let volume = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let name = volume["configMap"]["name"].as_str().unwrap();
    let config_map = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("ConfigMap {name} is not in the file"));
    let yaml = config_map["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap {name} has no key {key}"));
    tenuo_authz::gateway::CompiledGateway::from_yaml(yaml).unwrap();
}

/// A ConfigMap or Secret a pod uses, and the key it reads, if one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    kind: &'static str,
    name: String,
    key: Option<String>,
}

/// The pod specs of a document: a Pod's, or a workload's pod template's.
fn pod_specs(doc: &Value) -> Vec<&Value> {
    let spec = &doc["spec"];
    let found = match doc["kind"].as_str().unwrap_or_default() {
        "Pod" => spec,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &spec["template"]["spec"]
        }
        "CronJob" => &spec["jobTemplate"]["spec"]["template"]["spec"],
        _ => &Value::Null,
    };
    found.is_object().then_some(found).into_iter().collect()
}

/// Everything a pod spec takes from ConfigMaps and Secrets. An `optional: true`
/// reference is left out: the pod starts without it.
fn references(spec: &Value) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut push = |kind, source: &Value, name_key: &str, items: bool| {
        if source["optional"] == true {
            return;
        }
        let Some(name) = source[name_key].as_str() else {
            return;
        };
        let keys: Vec<Option<String>> = if items {
            match source["items"].as_array() {
                Some(list) => list
                    .iter()
                    .map(|i| i["key"].as_str().map(str::to_owned))
                    .collect(),
                None => vec![None],
            }
        } else {
            vec![source["key"].as_str().map(str::to_owned)]
        };
        for key in keys {
            out.push(Reference {
                kind,
                name: name.to_owned(),
                key,
            });
        }
    };
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    for volume in list(&spec["volumes"]) {
        push("ConfigMap", &volume["configMap"], "name", true);
        push("Secret", &volume["secret"], "secretName", true);
        for source in list(&volume["projected"]["sources"]) {
            push("ConfigMap", &source["configMap"], "name", true);
            push("Secret", &source["secret"], "name", true);
        }
    }
    let containers = list(&spec["containers"])
        .into_iter()
        .chain(list(&spec["initContainers"]));
    for container in containers {
        for env in list(&container["env"]) {
            push(
                "ConfigMap",
                &env["valueFrom"]["configMapKeyRef"],
                "name",
                false,
            );
            push("Secret", &env["valueFrom"]["secretKeyRef"], "name", false);
        }
        for from in list(&container["envFrom"]) {
            push("ConfigMap", &from["configMapRef"], "name", false);
            push("Secret", &from["secretRef"], "name", false);
        }
    }
    for secret in list(&spec["imagePullSecrets"]) {
        push("Secret", &secret, "name", false);
    }
    out
}

/// `(pods seen, references no document of the file defines)`.
fn undefined(docs: &[Value]) -> (usize, Vec<Reference>) {
    let mut defined: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for doc in docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        if kind != "ConfigMap" && kind != "Secret" {
            continue;
        }
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        let keys = defined.entry((kind, name)).or_default();
        for field in ["data", "stringData", "binaryData"] {
            if let Some(map) = doc[field].as_object() {
                keys.extend(map.keys().map(String::as_str));
            }
        }
    }
    let specs: Vec<&Value> = docs.iter().flat_map(pod_specs).collect();
    let missing = specs
        .iter()
        .flat_map(|spec| references(spec))
        .filter(|r| match defined.get(&(r.kind, r.name.as_str())) {
            None => true,
            Some(keys) => r.key.as_deref().is_some_and(|k| !keys.contains(&k)),
        })
        .collect();
    (specs.len(), missing)
}

#[test]
fn every_configmap_and_secret_an_example_pod_uses_is_in_its_file() {
    let mut pods = 0;
    let mut missing = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    names.sort();
    for name in &names {
        let (seen, undefined) = undefined(&documents(name));
        pods += seen;
        missing.extend(undefined.into_iter().map(|r| format!("{name}: {r:?}")));
    }
    assert!(
        pods > 0,
        "no example pod found in {names:?}: the check saw nothing"
    );
    assert_eq!(missing, Vec::<String>::new());
}

#[test]
fn a_pod_using_an_undefined_configmap_secret_or_key_is_reported() {
    let pod = r#"
kind: Deployment
spec:
  template:
    spec:
      volumes:
        - {name: a, configMap: {name: gateway}}
        - {name: b, secret: {secretName: trust, items: [{key: issuers, path: i}]}}
        - {name: c, configMap: {name: maybe, optional: true}}
      containers:
        - name: x
          env:
            - {name: K, valueFrom: {secretKeyRef: {name: trust, key: other}}}
          envFrom:
            - configMapRef: {name: settings}
"#;
    let defined = "\n---\nkind: Secret\nmetadata: {name: trust}\nstringData: {issuers: abc}\n";
    let (pods, missing) = undefined(&parse_documents(&format!("{pod}{defined}")).unwrap());
    assert_eq!(pods, 1);
    let names: Vec<(&str, &str, Option<&str>)> = missing
        .iter()
        .map(|r| (r.kind, r.name.as_str(), r.key.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("ConfigMap", "gateway", None),
            ("Secret", "trust", Some("other")),
            ("ConfigMap", "settings", None),
        ]
    );
}

#[test]
fn nginx_example_sends_the_headers_the_gateway_reads() {
    let path = format!(
        "{}/../docs/examples/nginx-auth-request.conf",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("X-Original-URI $request_uri"));
    assert!(text.contains("X-Original-Method $request_method"));
    assert!(text.contains("127.0.0.1:9090"));
    // The authorizer's status behind a 403 (tenuo_authz::server auth_request mode)
    // goes back to the client; `cargo xtask nginx` runs it in a real nginx.
    assert!(text.contains("auth_request_set $tenuo_status $upstream_http_x_tenuo_status"));
    assert!(text.contains("error_page 403 = @tenuo_denied"));
    assert!(text.contains("TENUO_AUTH_REQUEST=true"));
}
