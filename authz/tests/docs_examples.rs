//! The deployment examples in `docs/examples/` parse, and say what the server
//! really serves: the port, the gRPC service, the probes, the environment.

use serde_json::Value;

fn documents(name: &str) -> Vec<Value> {
    let path = format!("{}/../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.split("\n---")
        .filter(|doc| !doc.trim().is_empty())
        .map(|doc| serde_norway::from_str::<Value>(doc).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
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
    let pod = &documents("sidecar-pod.yaml")[0];
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
