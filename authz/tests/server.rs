//! The real `tenuo-authorizer` binary on loopback: every deny reason with its
//! status, body, log line and metric; debug mode; `/v1/check`; reloads, rotation
//! under load; startup errors; graceful shutdown; warrants from the Python SDK.

#[path = "support/server_process.rs"]
mod support;

#[path = "support/python.rs"]
mod python;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{now, start_failure, start_gateway, write_temp, ServerProcess, GATEWAY};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::wire::encode_base64url;
use tenuo_authz::Warrant;

struct Keys {
    cp: SigningKey,
    agent: SigningKey,
}

fn keys() -> Keys {
    Keys {
        cp: SigningKey::from_bytes(&[11; 32]),
        agent: SigningKey::from_bytes(&[12; 32]),
    }
}

fn data_warrant(k: &Keys, issued: u64, ttl: u64) -> Warrant {
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    Issue::execution(k.agent.public_key())
        .tool("read_file", set)
        .ttl_secs(ttl)
        .sign(&k.cp, issued)
        .unwrap()
}

fn path_args(path: &str) -> Args {
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String(path.into()));
    args
}

fn pop_for(holder: &SigningKey, w: &Warrant, tool: &str, args: &Args) -> String {
    sign_pop(holder, w.id(), tool, args, now() as i64).to_base64url()
}

fn server(k: &Keys, extra: &[(&str, &str)]) -> ServerProcess {
    start_gateway(&k.cp.public_key(), extra)
}

fn read(s: &ServerProcess, path: &str, warrant: Option<&str>, pop: Option<&str>) -> support::Reply {
    let mut headers = vec![("x-request-id", "test-req")];
    if let Some(w) = warrant {
        headers.push(("x-tenuo-warrant", w));
    }
    if let Some(p) = pop {
        headers.push(("x-tenuo-pop", p));
    }
    s.request("GET", &format!("/files/read?path={path}"), &headers, "")
}

/// Seeds of the approvers of [`gated_warrant`].
const APPROVERS: [u8; 2] = [14, 15];

/// `read_file` on `/data/*`, every call gated: two approvals of two needed.
fn gated_warrant(k: &Keys) -> Warrant {
    use tenuo_authz::approval::{GateMap, ToolGate};
    let mut gates = GateMap::default();
    gates.0.insert("read_file".into(), ToolGate { args: None });
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    Issue::execution(k.agent.public_key())
        .tool("read_file", set)
        .required_approvers(APPROVERS.map(|s| SigningKey::from_bytes(&[s; 32]).public_key()))
        .approval_gates(gates)
        .sign(&k.cp, now())
        .unwrap()
}

#[test]
fn every_deny_reason_has_its_status_body_log_line_and_metric() {
    let k = keys();
    let revoked = data_warrant(&k, now(), 300);
    let srl = SignedRevocationList::sign(&k.cp, 1, [*revoked.id()], now());
    let srl_file = write_temp("revoked.srl", &srl.to_base64());
    let s = server(&k, &[("TENUO_REVOCATION_FILE", srl_file.to_str().unwrap())]);
    let good = data_warrant(&k, now(), 300);
    let token = good.to_base64url();
    let ok_pop = pop_for(&k.agent, &good, "read_file", &path_args("/data/a"));

    let allowed = read(&s, "/data/a", Some(&token), Some(&ok_pop));
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(allowed
        .header("x-tenuo-warrant-id")
        .is_some_and(|id| id.starts_with("tnu_wrt_")));

    let stranger = SigningKey::from_bytes(&[13; 32]);
    let untrusted = data_warrant(
        &Keys {
            cp: stranger.clone(),
            agent: k.agent.clone(),
        },
        now(),
        300,
    );
    let expired = data_warrant(&k, now() - 600, 300);
    let mut tampered = encode_chain(std::slice::from_ref(&good));
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let unrelated = Issue::execution(stranger.public_key())
        .tool("read_file", ConstraintSet::new())
        .sign(&stranger, now())
        .unwrap();
    let broken_chain = encode_base64url(&encode_chain(&[good.clone(), unrelated]));
    let mut cel = ConstraintSet::new();
    cel.insert("path", Constraint::cel("path != ''"));
    let unsupported = Issue::execution(k.agent.public_key())
        .tool("read_file", cel)
        .sign(&k.cp, now())
        .unwrap();
    let pop_of = |w: &Warrant, path: &str| pop_for(&k.agent, w, "read_file", &path_args(path));
    let gated = gated_warrant(&k);

    let cases: Vec<(&str, u16, support::Reply)> = vec![
        ("missing_warrant", 401, read(&s, "/data/a", None, None)),
        (
            "invalid_warrant",
            400,
            read(&s, "/data/a", Some("not-a-warrant"), None),
        ),
        (
            "untrusted_issuer",
            403,
            read(
                &s,
                "/data/a",
                Some(&untrusted.to_base64url()),
                Some(&pop_of(&untrusted, "/data/a")),
            ),
        ),
        (
            "signature_invalid",
            403,
            read(
                &s,
                "/data/a",
                Some(&encode_base64url(&tampered)),
                Some(&ok_pop),
            ),
        ),
        (
            "chain_invalid",
            403,
            read(&s, "/data/a", Some(&broken_chain), Some(&ok_pop)),
        ),
        (
            "warrant_expired",
            403,
            read(
                &s,
                "/data/a",
                Some(&expired.to_base64url()),
                Some(&pop_of(&expired, "/data/a")),
            ),
        ),
        (
            "warrant_revoked",
            403,
            read(
                &s,
                "/data/a",
                Some(&revoked.to_base64url()),
                Some(&pop_of(&revoked, "/data/a")),
            ),
        ),
        (
            "tool_not_in_warrant",
            403,
            s.request(
                "POST",
                "/run",
                &[
                    ("x-request-id", "test-req"),
                    ("x-tenuo-warrant", &token),
                    ("x-tenuo-pop", &ok_pop),
                ],
                r#"{"cmd":"ls"}"#,
            ),
        ),
        (
            "constraint_violation",
            403,
            read(
                &s,
                "/etc/passwd",
                Some(&token),
                Some(&pop_of(&good, "/etc/passwd")),
            ),
        ),
        ("missing_pop", 403, read(&s, "/data/a", Some(&token), None)),
        (
            "invalid_pop",
            403,
            read(&s, "/data/b", Some(&token), Some(&ok_pop)),
        ),
        (
            "unsupported",
            403,
            read(
                &s,
                "/data/a",
                Some(&unsupported.to_base64url()),
                Some(&pop_of(&unsupported, "/data/a")),
            ),
        ),
        (
            "approval_required",
            403,
            read(
                &s,
                "/data/a",
                Some(&gated.to_base64url()),
                Some(&pop_of(&gated, "/data/a")),
            ),
        ),
    ];
    for (reason, status, reply) in &cases {
        assert_eq!(reply.status, *status, "{reason}: {}", reply.body);
        let body = reply.json();
        assert_eq!(body["authorized"], false, "{reason}");
        assert_eq!(body["reason"], *reason, "{}", reply.body);
        assert_eq!(body["request_id"], "test-req");
        assert!(
            reply.header("x-tenuo-deny-reason").is_none(),
            "debug header outside debug mode"
        );
    }
    // jq 'select(.event == "authorization_denied") | .reason'
    std::thread::sleep(Duration::from_millis(200));
    let denied: Vec<String> = s
        .log_lines(|v| v["event"] == "authorization_denied")
        .iter()
        .map(|v| v["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    for (reason, _, _) in &cases {
        assert!(
            denied.iter().any(|r| r == reason),
            "no log line for {reason}: {denied:?}"
        );
        let sample = format!("tenuo_authz_denied_total{{reason=\"{reason}\"}}");
        assert!(
            s.metric(&sample) >= 1.0,
            "{sample} missing:\n{}",
            s.metrics()
        );
    }
    let line = &s.log_lines(|v| v["reason"] == "constraint_violation")[0];
    assert_eq!(
        (line["level"].as_str(), line["tool"].as_str()),
        (Some("warn"), Some("read_file"))
    );
    assert_eq!(
        (line["constraint"].as_str(), line["actual"].as_str()),
        (Some("path"), Some("/etc/passwd"))
    );
    assert_eq!(line["expected"], "Pattern(/data/*)");
    // The §3 line names the warrant whose constraint refused the call.
    assert_eq!(line["warrant_id"], good.id().to_string());
    let all_logs = serde_json::to_string(&*s.log.lock().unwrap()).unwrap();
    assert!(
        !all_logs.contains(&token[..40]),
        "a warrant leaked into the logs"
    );
    assert!(
        s.metric("tenuo_authz_total{result=\"allow\",tool=\"read_file\"}") >= 1.0,
        "{}",
        s.metrics()
    );
    assert!(s.metrics().contains("tenuo_authz_duration_seconds_bucket"));
    assert_eq!(s.metric("tenuo_trusted_issuers"), 1.0);
}

#[test]
fn approvals_in_the_header_and_in_v1_check_open_a_gated_tool() {
    use base64::Engine;
    use tenuo_authz::approval::encode_approvals;
    use tenuo_authz::mint::sign_approval;
    let k = keys();
    let s = server(&k, &[]);
    let w = gated_warrant(&k);
    let token = w.to_base64url();
    let args = path_args("/data/a");
    let pop = pop_for(&k.agent, &w, "read_file", &args);
    let approvals: Vec<_> = APPROVERS
        .iter()
        .map(|seed| {
            let key = SigningKey::from_bytes(&[*seed; 32]);
            sign_approval(&key, &w, "read_file", &args, now(), 300).unwrap()
        })
        .collect();
    let get = |approvals: Option<&str>| {
        let mut headers = vec![
            ("x-request-id", "test-req"),
            ("x-tenuo-warrant", token.as_str()),
            ("x-tenuo-pop", pop.as_str()),
        ];
        if let Some(a) = approvals {
            headers.push(("x-tenuo-approvals", a));
        }
        s.request("GET", "/files/read?path=/data/a", &headers, "")
    };
    let both = encode_approvals(&approvals);
    assert_eq!(get(Some(&both)).status, 200);
    // One approval, in base64url without padding.
    let one = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(approvals[0].to_cbor_bytes());
    let short = get(Some(&one));
    assert_eq!(short.status, 403, "{}", short.body);
    let body = short.json();
    assert_eq!(body["reason"], "approval_required");
    assert_eq!(
        (
            body["required_approvals"].as_u64(),
            body["received_approvals"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let hash =
        tenuo_authz::approval::request_hash(w.id(), "read_file", &args, &k.agent.public_key());
    assert_eq!(body["request_hash"], hex::encode(hash));
    assert_eq!(body["required_approvers"].as_array().map(Vec::len), Some(2));
    assert_eq!(get(Some("%%%")).status, 400);

    let check = |approvals: Vec<String>| {
        let body = serde_json::json!({
            "warrant": token,
            "pop": pop,
            "tool": "read_file",
            "args": {"path": "/data/a"},
            "approvals": approvals,
        });
        s.request(
            "POST",
            "/v1/check",
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    };
    let allowed = check(vec![both.clone()]);
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let denied = check(vec![one]);
    assert_eq!(
        (denied.status, denied.json()["reason"].as_str()),
        (403, Some("approval_required"))
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(s.metric("tenuo_authz_denied_total{reason=\"approval_required\"}") >= 2.0);
}

#[test]
fn debug_mode_adds_the_deny_reason_header_and_details() {
    let k = keys();
    let s = server(&k, &[("DEBUG_MODE", "true")]);
    let w = data_warrant(&k, now(), 300);
    let pop = pop_for(&k.agent, &w, "read_file", &path_args("/etc/passwd"));
    let reply = read(&s, "/etc/passwd", Some(&w.to_base64url()), Some(&pop));
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.header("x-tenuo-deny-reason"),
        Some("constraint_violation: path=/etc/passwd not in Pattern(/data/*)")
    );
}

#[test]
fn check_endpoint_health_and_readiness() {
    let k = keys();
    let s = server(&k, &[]);
    assert_eq!(s.request("GET", "/health", &[], "").status, 200);
    assert_eq!(s.request("GET", "/ready", &[], "").status, 200);
    let w = data_warrant(&k, now(), 300);
    let args = path_args("/data/report");
    let body = serde_json::json!({
        "warrant": w.to_base64url(),
        "pop": pop_for(&k.agent, &w, "read_file", &args),
        "tool": "read_file",
        "args": {"path": "/data/report"},
    });
    let reply = s.request(
        "POST",
        "/v1/check",
        &[("content-type", "application/json")],
        &body.to_string(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["authorized"], true);
    let mut wrong = body.clone();
    wrong["args"]["path"] = "/etc".into();
    let reply = s.request("POST", "/v1/check", &[], &wrong.to_string());
    assert_eq!(
        (reply.status, reply.json()["reason"].as_str()),
        (403, Some("invalid_pop"))
    );
    let reply = s.request("POST", "/v1/check", &[], "{not json");
    assert_eq!(reply.status, 403);
}

#[test]
fn startup_errors_name_what_to_fix() {
    let (status, stderr) = start_failure(&[]);
    assert_eq!(status.code(), Some(64));
    assert!(stderr.contains("TRUSTED_ISSUERS"), "{stderr}");
    let (status, stderr) = start_failure(&[("TRUSTED_ISSUERS", "deadbeef")]);
    assert_eq!(status.code(), Some(64));
    assert!(stderr.contains("deadbeef"), "{stderr}");
    let key = keys().cp.public_key().to_hex();
    let (status, stderr) = start_failure(&[
        ("TRUSTED_ISSUERS", &key),
        ("TENUO_GATEWAY_CONFIG", "/nonexistent/gateway.yaml"),
    ]);
    assert_eq!(status.code(), Some(64));
    assert!(stderr.contains("TENUO_GATEWAY_CONFIG"), "{stderr}");
    let bad_yaml = write_temp("bad.yaml", "version: [");
    let (status, stderr) = start_failure(&[
        ("TRUSTED_ISSUERS", &key),
        ("TENUO_GATEWAY_CONFIG", bad_yaml.to_str().unwrap()),
    ]);
    assert_eq!(status.code(), Some(64), "{stderr}");
}

/// The guide's rotation, driven through the trusted issuers file: trust OLD, then
/// OLD and NEW, then NEW only, with requests running throughout.
#[test]
fn rotation_by_rewriting_the_trusted_issuers_file_under_load_fails_no_allowed_request() {
    let old = keys();
    let new = Keys {
        cp: SigningKey::from_bytes(&[21; 32]),
        agent: old.agent.clone(),
    };
    let file = write_temp("trusted-issuers", &old.cp.public_key().to_hex());
    let gateway = write_temp("gateway-rotation.yaml", GATEWAY);
    let s = ServerProcess::start(&[
        ("TRUSTED_ISSUERS_FILE", file.to_str().unwrap()),
        ("TENUO_GATEWAY_CONFIG", gateway.to_str().unwrap()),
    ]);
    let old_warrant = data_warrant(&old, now(), 300);
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let addr = s.addr;
    let load = {
        let (stop, sent, failed) = (Arc::clone(&stop), Arc::clone(&sent), Arc::clone(&failed));
        let token = old_warrant.to_base64url();
        let agent = old.agent.clone();
        let w = old_warrant.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let pop = pop_for(&agent, &w, "read_file", &path_args("/data/a"));
                let reply = support::http(
                    addr,
                    "GET",
                    "/files/read?path=/data/a",
                    &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
                    "",
                );
                sent.fetch_add(1, Ordering::Relaxed);
                if reply.status != 200 {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let new_warrant = data_warrant(&new, now(), 300);
    let new_pop = || pop_for(&new.agent, &new_warrant, "read_file", &path_args("/data/a"));
    let wait_until = |what: &str, check: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(
        read(
            &s,
            "/data/a",
            Some(&new_warrant.to_base64url()),
            Some(&new_pop())
        )
        .status,
        403
    );
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            old.cp.public_key().to_hex(),
            new.cp.public_key().to_hex()
        ),
    )
    .unwrap();
    wait_until("NEW to be trusted", &|| {
        read(
            &s,
            "/data/a",
            Some(&new_warrant.to_base64url()),
            Some(&new_pop()),
        )
        .status
            == 200
    });
    // A broken file is refused and the old set stays in force.
    std::fs::write(&file, "not a key\n").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        read(
            &s,
            "/data/a",
            Some(&new_warrant.to_base64url()),
            Some(&new_pop())
        )
        .status,
        200
    );
    assert!(!s.log_lines(|v| v["event"] == "config_rejected").is_empty());
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            old.cp.public_key().to_hex(),
            new.cp.public_key().to_hex()
        ),
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(sent > 10, "only {sent} requests ran");
    assert_eq!(
        failed, 0,
        "{failed} of {sent} allowed requests failed during rotation"
    );
    // NEW only: OLD's warrants are denied, NEW's allowed.
    std::fs::write(&file, new.cp.public_key().to_hex()).unwrap();
    let old_token = old_warrant.to_base64url();
    wait_until("OLD to be distrusted", &|| {
        let pop = pop_for(&old.agent, &old_warrant, "read_file", &path_args("/data/a"));
        read(&s, "/data/a", Some(&old_token), Some(&pop)).json()["reason"] == "untrusted_issuer"
    });
    assert_eq!(
        read(
            &s,
            "/data/a",
            Some(&new_warrant.to_base64url()),
            Some(&new_pop())
        )
        .status,
        200
    );
    assert_eq!(s.metric("tenuo_trusted_issuers"), 1.0);
}

#[test]
fn sigterm_turns_readiness_off_then_exits_cleanly() {
    let k = keys();
    let mut s = server(&k, &[]);
    let before = support::try_http(s.addr, "GET", "/ready");
    assert!(
        matches!(before, Ok(200)),
        "{before:?}; server status: {:?}",
        s.status()
    );
    s.terminate();
    // Readiness turns false at once; the listener stays open for the drain delay (2 s).
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut ready = 200;
    while ready == 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        ready = match support::try_http(s.addr, "GET", "/ready") {
            Ok(status) => status,
            Err(error) => panic!("{error}; server status: {:?}", s.status()),
        };
    }
    assert_eq!(
        ready, 503,
        "readiness must go false before the listener closes"
    );
    let status = s
        .wait(Duration::from_secs(30))
        .expect("did not exit within 30 s of SIGTERM");
    assert!(status.success(), "{status}");
    assert!(!s.log_lines(|v| v["event"] == "stopped").is_empty());
}

/// Warrants and PoPs minted by the reference Python SDK (`tenuo` 0.3.3, in the
/// test environment's own virtualenv).
#[test]
fn warrants_from_the_python_sdk_are_decided_here() {
    let script = r#"
import base64, json, time
from tenuo import Warrant, SigningKey, Pattern
cp = SigningKey.generate(); agent = SigningKey.generate()
w = Warrant.mint(keypair=cp, capabilities={"read_file": {"path": Pattern("/data/*")}}, holder=agent.public_key, ttl_seconds=300)
ok = w.headers(agent, "read_file", {"path": "/data/x"})
# headers() refuses locally what the warrant does not allow, so the denied
# call is signed directly: the authorizer must catch what a client skipped.
bad_pop = w.sign(agent, "read_file", {"path": "/etc/passwd"}, int(time.time()))
bad = {"X-Tenuo-Warrant": w.to_base64(), "X-Tenuo-PoP": base64.b64encode(bad_pop).decode("ascii")}
print(json.dumps({"trusted": cp.public_key_bytes().hex(), "ok": ok, "bad": bad}))
"#;
    let minted = python::run_json(script, &[]);
    let gateway = write_temp("gateway-python.yaml", GATEWAY);
    let s = ServerProcess::start(&[
        ("TRUSTED_ISSUERS", minted["trusted"].as_str().unwrap()),
        ("TENUO_GATEWAY_CONFIG", gateway.to_str().unwrap()),
    ]);
    let headers = |h: &serde_json::Value| -> Vec<(String, String)> {
        h.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    };
    let send = |path: &str, h: &[(String, String)]| {
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        s.request("GET", &format!("/files/read?path={path}"), &h, "")
    };
    let ok = send("/data/x", &headers(&minted["ok"]));
    assert_eq!(ok.status, 200, "{}", ok.body);
    let bad = send("/etc/passwd", &headers(&minted["bad"]));
    assert_eq!(
        (bad.status, bad.json()["reason"].as_str()),
        (403, Some("constraint_violation"))
    );
}

/// Envoy's ext_authz gRPC `Check` against the binary's main port (h2c).
#[test]
fn envoy_ext_authz_grpc_check_on_the_same_port() {
    use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
    use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
    use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};

    let k = keys();
    let s = server(&k, &[]);
    let w = data_warrant(&k, now(), 300);
    let check = |path: &str, pop: &str| CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                time: None,
                http: Some(HttpRequest {
                    id: "grpc-1".into(),
                    method: "GET".into(),
                    path: format!("/files/read?path={path}"),
                    headers: [
                        ("x-tenuo-warrant".to_owned(), w.to_base64url()),
                        ("x-tenuo-pop".to_owned(), pop.to_owned()),
                    ]
                    .into(),
                    ..HttpRequest::default()
                }),
            }),
            ..AttributeContext::default()
        }),
    };
    let allowed_pop = pop_for(&k.agent, &w, "read_file", &path_args("/data/a"));
    let denied_pop = pop_for(&k.agent, &w, "read_file", &path_args("/etc/passwd"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (allowed, denied) = runtime.block_on(async {
        let mut client = AuthorizationClient::connect(format!("http://{}", s.addr))
            .await
            .unwrap();
        let allowed = client
            .check(check("/data/a", &allowed_pop))
            .await
            .unwrap()
            .into_inner();
        let denied = client
            .check(check("/etc/passwd", &denied_pop))
            .await
            .unwrap()
            .into_inner();
        (allowed, denied)
    });
    assert_eq!(allowed.status.map(|s| s.code), Some(0));
    assert_eq!(denied.status.map(|s| s.code), Some(7));
    assert!(s.metric("tenuo_authz_denied_total{reason=\"constraint_violation\"}") >= 1.0);
}

/// nginx `auth_request` (X-Original-URI/Method) and Envoy's HTTP ext_authz
/// `path_prefix` reach the same decision as a direct request.
#[test]
fn proxies_forward_the_original_request() {
    let k = keys();
    let s = server(&k, &[("TENUO_PATH_PREFIX", "/authz")]);
    let w = data_warrant(&k, now(), 300);
    let token = w.to_base64url();
    let pop = pop_for(&k.agent, &w, "read_file", &path_args("/data/a"));
    let nginx = s.request(
        "GET",
        "/_tenuo",
        &[
            ("x-original-uri", "/files/read?path=/data/a"),
            ("x-original-method", "GET"),
            ("x-tenuo-warrant", &token),
            ("x-tenuo-pop", &pop),
        ],
        "",
    );
    assert_eq!(nginx.status, 200, "{}", nginx.body);
    let envoy = s.request(
        "GET",
        "/authz/files/read?path=/data/a",
        &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
        "",
    );
    assert_eq!(envoy.status, 200, "{}", envoy.body);
    let outside = s.request(
        "GET",
        "/authz/files/read?path=/etc",
        &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
        "",
    );
    assert_eq!(outside.status, 403);
}

/// The gateway YAML's `settings` name the warrant, PoP and approval headers and
/// may turn debug mode on, as the reference reads them.
#[test]
fn the_gateway_settings_name_the_headers_and_debug_mode() {
    let k = keys();
    let yaml = GATEWAY.replace(
        "settings: {}",
        "settings: {warrant_header: X-Agent-Warrant, pop_header: X-Agent-PoP, debug_mode: true}",
    );
    let gateway = write_temp("gateway-settings.yaml", &yaml);
    let s = ServerProcess::start(&[
        ("TRUSTED_ISSUERS", k.cp.public_key().to_hex().as_str()),
        ("TENUO_GATEWAY_CONFIG", gateway.to_str().unwrap()),
    ]);
    let w = data_warrant(&k, now(), 300);
    let token = w.to_base64url();
    let pop = pop_for(&k.agent, &w, "read_file", &path_args("/data/a"));
    let custom = [
        ("x-agent-warrant", token.as_str()),
        ("x-agent-pop", pop.as_str()),
    ];
    let allowed = s.request("GET", "/files/read?path=/data/a", &custom, "");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    // The default names are not read when the settings name others.
    let defaults = [
        ("x-tenuo-warrant", token.as_str()),
        ("x-tenuo-pop", pop.as_str()),
    ];
    let missing = s.request("GET", "/files/read?path=/data/a", &defaults, "");
    assert_eq!(
        (missing.status, missing.json()["reason"].as_str()),
        (401, Some("missing_warrant"))
    );
    // debug_mode: the denial carries its reason in X-Tenuo-Deny-Reason.
    let denied = s.request("GET", "/files/read?path=/etc/passwd", &custom, "");
    assert_eq!(denied.status, 403);
    assert!(
        denied
            .header("x-tenuo-deny-reason")
            .is_some_and(|v| v.starts_with("invalid_pop")),
        "{:?}",
        denied.headers
    );
    assert!(!s.log_lines(|v| v["event"] == "debug_mode").is_empty());
}
