//! The objects kind applies, checked as the cluster would see them (JSON):
//! credentials come from where the guide says, every pod runs non-root, and
//! every image and port exists.

use std::collections::BTreeSet;

use serde_json::Value;
use tenuo_e2e::agents::{self, AgentJob, AGENTS_NAMESPACE, TOKEN_DIR, TOKEN_FILE};
use tenuo_e2e::{Fixture, IngressSpec};

use super::*;
use crate::e2e::kind::target::{network, AUTHORIZER_PORT, CONTROL_PLANE_PORT, INGRESS_PORT};
use crate::e2e::kind::{E2E_IMAGE, IMAGES};

const READER: &str = "system:serviceaccount:agents:reader";
const BATCH: &str = "system:serviceaccount:agents:batch";

fn applied(job: &AgentJob) -> Vec<Value> {
    agent_job(job).expect("serializes")
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn pods(objects: &[Value]) -> Vec<&Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Job" || o["kind"] == "Deployment")
        .map(|o| &o["spec"]["template"]["spec"])
        .collect()
}

fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod[*k].as_array().into_iter().flatten())
        .collect()
}

fn env<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["name"] == name))
        .unwrap_or_else(|| panic!("no env {name}"))
}

fn fetch_job() -> AgentJob {
    agents::fetch(&network(), READER, 5, 60)
}

fn keys() -> Fixture {
    Fixture::generate().expect("keys")
}

/// Everything the kind backend applies.
fn everything() -> Vec<Value> {
    let spec = Fixture::generate().expect("fixture").control_plane();
    let mut all = namespaces().expect("namespaces");
    all.extend(service_accounts(&spec).expect("service accounts"));
    all.extend(control_plane(&spec, E2E_IMAGE, CONTROL_PLANE_PORT).expect("control plane"));
    all.push(authorizer_node_port(AUTHORIZER_PORT).expect("service"));
    all.extend(ingress_objects());
    let net = network();
    for job in [
        fetch_job(),
        agents::env_from_secret(&net, BATCH, "w", &keys().old, 5),
        agents::header(&net, &keys().old, 6),
    ] {
        all.extend(applied(&job));
    }
    all
}

fn ingress_objects() -> Vec<Value> {
    let spec = IngressSpec {
        workload: READER.into(),
        holder: keys().old.public_key(),
        ttl_secs: 60,
        upstream: network().serve_upstream,
        control_plane: "127.0.0.1:1".parse().expect("addr"),
    };
    ingress(
        &spec,
        E2E_IMAGE,
        "control-plane.tenuo-system.svc:8080",
        INGRESS_PORT,
    )
    .expect("ingress")
}

#[test]
fn the_fetch_agent_authenticates_with_its_projected_service_account_token() {
    let objects = applied(&fetch_job());
    let job = find(&objects, "Job", "agent-fetch");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "reader");
    // The projected token is the only credential: no automounted one.
    assert_eq!(pod["automountServiceAccountToken"], false);
    let volume = &pod["volumes"][0];
    let token = &volume["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(token["path"], "token");
    // The API server's audience: what the control plane's TokenReview accepts.
    assert!(token.get("audience").is_none(), "{token}");
    let agent = containers(pod)[0];
    let mount = &agent["volumeMounts"][0];
    assert_eq!(mount["name"], volume["name"]);
    assert_eq!(mount["mountPath"], TOKEN_DIR);
    assert_eq!(env(agent, "TENUO_WORKLOAD_TOKEN_FILE")["value"], TOKEN_FILE);
    assert!(TOKEN_FILE.starts_with(&format!("{TOKEN_DIR}/")));
    let args: Vec<&str> = agent["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args[0], "fetch");
    assert!(args.windows(2).any(|w| w == ["--ttl", "60"]), "{args:?}");
    // In-cluster Service names, never the host's NodePorts.
    assert!(args.iter().all(|a| !a.contains("127.0.0.1")), "{args:?}");
}

#[test]
fn the_env_agent_reads_the_guides_secret_key_ref() {
    let warrant = "eyJ-the-warrant";
    let objects = applied(&agents::env_from_secret(
        &network(),
        BATCH,
        warrant,
        &keys().old,
        5,
    ));
    let job = find(&objects, "Job", "agent-env");
    let agent = containers(&job["spec"]["template"]["spec"])[0];
    // The guide, verbatim: env TENUO_WARRANT_BASE64 from tenuo-credentials/WARRANT_BASE64.
    let var = env(agent, "TENUO_WARRANT_BASE64");
    assert!(var.get("value").is_none());
    let r = &var["valueFrom"]["secretKeyRef"];
    assert_eq!(r["name"], "tenuo-credentials");
    assert_eq!(r["key"], "WARRANT_BASE64");
    let secret = find(&objects, "Secret", "tenuo-credentials");
    assert_eq!(
        secret["metadata"]["namespace"],
        job["metadata"]["namespace"]
    );
    assert_eq!(secret["stringData"]["WARRANT_BASE64"], warrant);
    // The warrant is in the Secret only, never inline in the pod spec.
    assert!(!job.to_string().contains(warrant));
    assert_eq!(
        job["spec"]["template"]["spec"]["serviceAccountName"],
        "batch"
    );
}

#[test]
fn the_header_agent_is_behind_its_service_and_the_ingress_behind_a_node_port() {
    let net = network();
    let objects = applied(&agents::header(&net, &keys().old, 6));
    let job = find(&objects, "Job", agents::HEADER_AGENT);
    let service = find(&objects, "Service", agents::HEADER_AGENT);
    let labels = &job["spec"]["template"]["metadata"]["labels"];
    for (k, v) in service["spec"]["selector"].as_object().expect("selector") {
        assert_eq!(&labels[k], v, "selector {k}");
    }
    let port = service["spec"]["ports"][0]["port"].as_u64().expect("port");
    assert!(net
        .serve_upstream
        .ends_with(&format!(".svc.cluster.local:{port}")));
    assert!(net.serve_listen.ends_with(&format!(":{port}")));
    assert!(net
        .serve_upstream
        .starts_with(&format!("{}.{AGENTS_NAMESPACE}.", agents::HEADER_AGENT)));
    // No service account token: the agent never calls the control plane.
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert!(pod.get("volumes").is_none());

    let ingress = ingress_objects();
    let deployment = find(&ingress, "Deployment", "ingress");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "reader");
    assert_eq!(pod["automountServiceAccountToken"], false);
    let c = containers(pod)[0];
    assert_eq!(env(c, "TOKEN_FILE")["value"], TOKEN_FILE);
    assert_eq!(env(c, "UPSTREAM")["value"], net.serve_upstream.as_str());
    let svc = find(&ingress, "Service", "ingress");
    assert_eq!(svc["spec"]["ports"][0]["nodePort"], INGRESS_PORT);
}

#[test]
fn every_pod_runs_non_root_read_only_without_capabilities() {
    let all = everything();
    let pods = pods(&all);
    assert!(
        pods.len() >= 5,
        "control plane, ingress, three agents: {}",
        pods.len()
    );
    for pod in pods {
        let ctx = &pod["securityContext"];
        assert_eq!(ctx["runAsNonRoot"], true, "{pod}");
        assert!(ctx["runAsUser"].as_i64().is_some_and(|u| u > 0), "{pod}");
        assert_eq!(ctx["seccompProfile"]["type"], "RuntimeDefault");
        for c in containers(pod) {
            let s = &c["securityContext"];
            assert_eq!(s["allowPrivilegeEscalation"], false, "{}", c["name"]);
            assert_eq!(s["readOnlyRootFilesystem"], true, "{}", c["name"]);
            assert_eq!(s["capabilities"]["drop"][0], "ALL", "{}", c["name"]);
            assert_ne!(s["privileged"], true);
        }
    }
}

#[test]
fn every_image_is_built_and_loaded_and_never_pulled() {
    let built: BTreeSet<&str> = IMAGES.iter().map(|i| i.tag).collect();
    for pod in pods(&everything()) {
        for c in containers(pod) {
            let image = c["image"].as_str().expect("image");
            assert!(built.contains(image), "{image} is not built by kind.rs");
            assert_eq!(c["imagePullPolicy"], "Never", "{image}");
        }
    }
}

#[test]
fn every_node_port_is_mapped_to_loopback_in_the_cluster_config() {
    let config = std::fs::read_to_string(crate::project_root().join("e2e/kind/cluster.yaml"))
        .expect("cluster.yaml");
    let mappings: Vec<&str> = config.split("- containerPort:").skip(1).collect();
    let all = everything();
    let ports: Vec<u64> = all
        .iter()
        .filter(|o| o["kind"] == "Service" && o["spec"]["type"] == "NodePort")
        .filter_map(|o| o["spec"]["ports"][0]["nodePort"].as_u64())
        .collect();
    assert_eq!(ports.len(), 3, "authorizer, control plane, ingress");
    for port in ports {
        let m = mappings
            .iter()
            .find(|m| m.trim_start().starts_with(&port.to_string()))
            .unwrap_or_else(|| panic!("NodePort {port} is not mapped in cluster.yaml"));
        assert!(m.contains(&format!("hostPort: {port}")), "{m}");
        assert!(
            m.contains("listenAddress: 127.0.0.1"),
            "{port} must bind loopback only"
        );
    }
}

#[test]
fn every_workload_identity_and_agent_has_its_service_account() {
    let spec = Fixture::generate().expect("fixture").control_plane();
    let all = everything();
    let accounts: BTreeSet<(String, String)> = all
        .iter()
        .filter(|o| o["kind"] == "ServiceAccount")
        .map(|o| {
            let m = &o["metadata"];
            (m["namespace"].to_string(), m["name"].to_string())
        })
        .collect();
    for identity in &spec.workloads {
        let sa = identity
            .strip_prefix(&format!("system:serviceaccount:{AGENTS_NAMESPACE}:"))
            .unwrap_or_else(|| panic!("{identity} is not an agents service account"));
        let key = (format!("{AGENTS_NAMESPACE:?}"), format!("{sa:?}"));
        assert!(accounts.contains(&key), "no ServiceAccount for {identity}");
    }
    // Every pod's service account exists in its namespace.
    for o in all
        .iter()
        .filter(|o| o["kind"] == "Job" || o["kind"] == "Deployment")
    {
        let sa = &o["spec"]["template"]["spec"]["serviceAccountName"];
        if sa.is_string() {
            let key = (o["metadata"]["namespace"].to_string(), sa.to_string());
            assert!(accounts.contains(&key), "{key:?}");
        }
    }
    let bad = ControlPlaneSpec {
        workloads: vec!["reader".into()],
        ..spec
    };
    assert!(service_accounts(&bad).is_err());
}

#[test]
fn the_control_plane_may_create_token_reviews_and_nothing_else() {
    let spec = Fixture::generate().expect("fixture").control_plane();
    let objects = control_plane(&spec, E2E_IMAGE, CONTROL_PLANE_PORT).expect("objects");
    let role = find(&objects, "ClusterRole", "tenuo-e2e-token-review");
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": ["authentication.k8s.io"],
                            "resources": ["tokenreviews"], "verbs": ["create"]}])
    );
    let binding = find(&objects, "ClusterRoleBinding", "tenuo-e2e-token-review");
    let deployment = find(&objects, "Deployment", "control-plane");
    assert_eq!(
        binding["subjects"][0]["name"],
        deployment["spec"]["template"]["spec"]["serviceAccountName"]
    );
    let args = deployment["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(args.contains("--token-review"), "{args}");
}
