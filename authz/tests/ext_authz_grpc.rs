//! Envoy ext_authz over gRPC: the `Check` service decides like the HTTP gateway,
//! in process and over the wire, and every denial is a `CheckResponse`.
#![cfg(feature = "server")]

use std::collections::HashMap;
use std::sync::Arc;

use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::authorization_server::Authorization;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{
    AttributeContext, CheckRequest, CheckResponse, DeniedHttpResponse, OkHttpResponse,
};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::engine::{AuthzConfig, CallRequest, ExtractCall, ExtractError, RequestAuthorizer};
use tenuo_authz::gateway::CompiledGateway;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::server::grpc::ExtAuthz;
use tenuo_authz::{Authorizer, Warrant};

/// `GET /tools/{tool}?path=..`: the tool from the path, arguments from the query.
fn query_routes(request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
    let path = request.parts.uri.path();
    let tool = path
        .strip_prefix("/tools/")
        .ok_or_else(|| ExtractError::NoRoute {
            method: request.parts.method.to_string(),
            path: path.to_owned(),
        })?;
    let mut args = Args::new();
    for pair in request.parts.uri.query().unwrap_or_default().split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            args.insert(k.to_owned(), ArgValue::String(v.to_owned()));
        }
    }
    Ok((tool.to_owned(), args))
}

const GATEWAY: &str = include_str!("fixtures/gateway/body_file_path.yaml");

struct Fixture {
    agent: SigningKey,
    warrant: Warrant,
    authorizer: Arc<Authorizer>,
}

fn fixture() -> Fixture {
    let cp = SigningKey::from_bytes(&[1; 32]);
    let agent = SigningKey::from_bytes(&[2; 32]);
    let authorizer = Arc::new(
        Authorizer::builder()
            .trusted_issuers([cp.public_key()])
            .build()
            .unwrap(),
    );
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let warrant = Issue::execution(agent.public_key())
        .tool("read_file", set)
        .sign(&cp, authorizer.now() as u64)
        .unwrap();
    Fixture {
        agent,
        warrant,
        authorizer,
    }
}

impl Fixture {
    fn service(&self, extractor: Arc<dyn ExtractCall>, debug: bool) -> ExtAuthz {
        let mut config = AuthzConfig::default();
        config.debug = debug;
        config.max_body_bytes = 256;
        let decider = RequestAuthorizer::new(
            Arc::clone(&self.authorizer),
            extractor,
            Arc::new(()),
            config,
        );
        ExtAuthz::new(Arc::new(decider))
    }

    fn query_service(&self, debug: bool) -> ExtAuthz {
        self.service(Arc::new(query_routes), debug)
    }

    fn pop(&self, tool: &str, path: &str) -> String {
        let mut args = Args::new();
        args.insert("path".into(), ArgValue::String(path.into()));
        sign_pop(
            &self.agent,
            self.warrant.id(),
            tool,
            &args,
            self.authorizer.now(),
        )
        .to_base64url()
    }

    /// A `GET` carrying the warrant and a PoP for `path`.
    fn get(&self, path: &str) -> HttpRequest {
        let mut http = http_request("GET", &format!("/tools/read_file?path={path}"));
        http.headers
            .insert("x-tenuo-warrant".into(), self.warrant.to_base64url());
        http.headers
            .insert("x-tenuo-pop".into(), self.pop("read_file", path));
        http
    }
}

fn http_request(method: &str, path: &str) -> HttpRequest {
    HttpRequest {
        id: "req-1".into(),
        method: method.into(),
        path: path.into(),
        host: "files.internal".into(),
        headers: HashMap::from([(":authority".into(), "files.internal".into())]),
        ..HttpRequest::default()
    }
}

fn check(http: HttpRequest) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                time: None,
                http: Some(http),
            }),
            ..AttributeContext::default()
        }),
    }
}

async fn call(service: &ExtAuthz, request: CheckRequest) -> CheckResponse {
    service
        .check(tonic::Request::new(request))
        .await
        .expect("a denial is a response, never a gRPC error")
        .into_inner()
}

fn ok(response: &CheckResponse) -> &OkHttpResponse {
    assert_eq!(response.status.as_ref().unwrap().code, 0, "{response:?}");
    match &response.http_response {
        Some(HttpResponse::OkResponse(ok)) => ok,
        other => panic!("not an OK response: {other:?}"),
    }
}

/// The denial's gRPC code, HTTP status, headers (name → value) and JSON body.
fn denied(response: &CheckResponse) -> (i32, i32, HashMap<String, String>, serde_json::Value) {
    let Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
        status,
        headers,
        body,
    })) = &response.http_response
    else {
        panic!("not a denial: {response:?}");
    };
    let headers = headers
        .iter()
        .filter_map(|h| h.header.as_ref())
        .map(|h| (h.key.clone(), h.value.clone()))
        .collect();
    (
        response.status.as_ref().unwrap().code,
        status.as_ref().unwrap().code,
        headers,
        serde_json::from_str(body).unwrap(),
    )
}

fn upstream_headers(ok: &OkHttpResponse) -> HashMap<String, String> {
    ok.headers
        .iter()
        .filter_map(|h| h.header.as_ref())
        .map(|h| (h.key.clone(), h.value.clone()))
        .collect()
}

#[tokio::test]
async fn an_allowed_call_is_ok_and_names_the_warrant_and_tool_upstream() {
    let f = fixture();
    let response = call(&f.query_service(false), check(f.get("/data/a"))).await;
    let headers = upstream_headers(ok(&response));
    assert_eq!(headers["x-tenuo-tool"], "read_file");
    assert_eq!(headers["x-tenuo-warrant-id"], f.warrant.id().to_string());
    // Overwrite, so a client cannot forge them.
    assert!(ok(&response).headers.iter().all(|h| h.append_action == 2));

    let quiet = f.query_service(false).upstream_headers(false);
    let response = call(&quiet, check(f.get("/data/a"))).await;
    assert!(ok(&response).headers.is_empty());
    assert_eq!(
        ok(&response).headers_to_remove,
        ["x-tenuo-warrant-id", "x-tenuo-tool"]
    );
}

#[tokio::test]
async fn each_denial_has_the_gateway_status_body_and_grpc_code() {
    let f = fixture();
    let service = f.query_service(false);

    let mut missing = f.get("/data/a");
    missing.headers.remove("x-tenuo-warrant");
    let (code, status, _, body) = denied(&call(&service, check(missing)).await);
    assert_eq!((code, status), (16, 401));
    assert_eq!(body["reason"], "missing_warrant");
    assert_eq!(
        body["request_id"], "req-1",
        "the request id comes from http.id"
    );

    let mut invalid = f.get("/data/a");
    invalid
        .headers
        .insert("x-tenuo-warrant".into(), "%%%".into());
    let (code, status, _, body) = denied(&call(&service, check(invalid)).await);
    assert_eq!((code, status), (16, 400));
    assert_eq!(body["reason"], "invalid_warrant");

    let (code, status, headers, body) = denied(&call(&service, check(f.get("/etc/passwd"))).await);
    assert_eq!((code, status), (7, 403));
    assert_eq!(body["authorized"], false);
    assert_eq!(body["reason"], "constraint_violation");
    assert_eq!(headers["content-type"], "application/json");
    assert!(!headers.contains_key("x-tenuo-deny-reason"));
    assert!(!body.to_string().contains("/etc/passwd"), "{body}");

    let mut no_pop = f.get("/data/a");
    no_pop.headers.remove("x-tenuo-pop");
    let (code, status, _, body) = denied(&call(&service, check(no_pop)).await);
    assert_eq!(
        (code, status, body["reason"].as_str()),
        (7, 403, Some("missing_pop"))
    );

    let mut no_route = f.get("/data/a");
    no_route.path = "/other".into();
    let (_, status, _, body) = denied(&call(&service, check(no_route)).await);
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("tool_not_in_warrant"))
    );
}

#[tokio::test]
async fn the_debug_header_is_only_sent_in_debug_mode() {
    let f = fixture();
    let response = call(&f.query_service(true), check(f.get("/etc/passwd"))).await;
    let (_, status, headers, _) = denied(&response);
    assert_eq!(status, 403);
    assert_eq!(
        headers["x-tenuo-deny-reason"],
        "constraint_violation: path=/etc/passwd not in Pattern(/data/*)"
    );
}

#[tokio::test]
async fn body_arguments_come_from_raw_body_or_body() {
    let f = fixture();
    let gateway = CompiledGateway::from_yaml(GATEWAY).unwrap();
    let service = f.service(Arc::new(gateway), false);
    let post = |body: &[u8], pop: &str| {
        let mut http = http_request("POST", "/api/files/b1");
        http.headers
            .insert("x-tenuo-warrant".into(), f.warrant.to_base64url());
        http.headers.insert("x-tenuo-pop".into(), pop.to_owned());
        http.size = i64::try_from(body.len()).unwrap();
        http.raw_body = body.to_vec();
        http
    };
    let pop = f.pop("read_file", "/data/x");
    let good = br#"{"file":{"path":"/data/x"}}"#;
    ok(&call(&service, check(post(good, &pop))).await);

    // The same body as a string (Envoy without pack_as_bytes).
    let mut as_text = post(b"", &pop);
    as_text.body = String::from_utf8(good.to_vec()).unwrap();
    ok(&call(&service, check(as_text)).await);

    let bad = br#"{"file":{"path":"/etc/passwd"}}"#;
    let (_, status, _, body) = denied(
        &call(
            &service,
            check(post(bad, &f.pop("read_file", "/etc/passwd"))),
        )
        .await,
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("constraint_violation"))
    );

    // Envoy not configured with with_request_body: a body we cannot see is denied.
    let mut unseen = post(b"", &pop);
    unseen.size = 27;
    let (_, status, _, body) = denied(&call(&service, check(unseen)).await);
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("constraint_violation"))
    );

    // A body with no arguments in it.
    let (_, status, _, _) = denied(&call(&service, check(post(b"", &pop))).await);
    assert_eq!(status, 403);

    let huge = format!(
        r#"{{"file":{{"path":"/data/x"}},"pad":"{}"}}"#,
        "x".repeat(400)
    );
    let (_, status, _, body) = denied(&call(&service, check(post(huge.as_bytes(), &pop))).await);
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("constraint_violation"))
    );

    let mut partial = post(good, &pop);
    partial
        .headers
        .insert("x-envoy-auth-partial-body".into(), "true".into());
    let (_, status, _, _) = denied(&call(&service, check(partial)).await);
    assert_eq!(status, 403);
}

#[tokio::test]
async fn malformed_check_requests_are_denied_not_errors() {
    let f = fixture();
    let service = f.query_service(false);
    for request in [
        CheckRequest::default(),
        CheckRequest {
            attributes: Some(AttributeContext::default()),
        },
    ] {
        let response = call(&service, request).await;
        let (code, status, _, body) = denied(&response);
        assert_eq!((code, status), (16, 401));
        assert_eq!(body["reason"], "missing_warrant");
        assert!(response.status.unwrap().message.contains("no HTTP request"));
    }
    for (method, path) in [("GET", ""), ("BAD METHOD", "/tools/read_file")] {
        let mut http = f.get("/data/a");
        http.method = method.into();
        if path.is_empty() {
            http.path = String::new();
        }
        let (code, status, _, body) = denied(&call(&service, check(http)).await);
        assert_eq!((code, status), (7, 403));
        assert_eq!(body["reason"], "tool_not_in_warrant");
    }
}

#[tokio::test]
async fn the_service_answers_over_the_wire() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tonic::transport::Server::builder()
        .add_service(f.query_service(false).into_service())
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
    let server = tokio::spawn(server);

    let mut client = AuthorizationClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let response = client.check(check(f.get("/data/a"))).await.unwrap();
    ok(response.get_ref());

    let response = client.check(check(f.get("/etc/passwd"))).await.unwrap();
    let (code, status, _, body) = denied(response.get_ref());
    assert_eq!(
        (code, status, body["reason"].as_str()),
        (7, 403, Some("constraint_violation"))
    );

    let response = client.check(CheckRequest::default()).await.unwrap();
    assert_eq!(denied(response.get_ref()).1, 401);

    // Past the decode limit: refused by the transport, never decoded.
    let mut huge = f.get("/data/a");
    huge.raw_body = vec![b'x'; 5 * 1024 * 1024];
    let error = client.check(check(huge)).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::OutOfRange, "{error:?}");
    server.abort();
}

#[tokio::test]
async fn approvals_in_the_check_request_headers_open_a_gated_tool() {
    use tenuo_authz::approval::{encode_approvals, GateMap, ToolGate};
    use tenuo_authz::mint::sign_approval;

    let base = fixture();
    let approver = SigningKey::from_bytes(&[70; 32]);
    let mut gates = GateMap::default();
    gates.0.insert("read_file".into(), ToolGate { args: None });
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let now = base.authorizer.now() as u64;
    let warrant = Issue::execution(base.agent.public_key())
        .tool("read_file", set)
        .required_approvers([approver.public_key()])
        .approval_gates(gates)
        .sign(&SigningKey::from_bytes(&[1; 32]), now)
        .unwrap();
    let f = Fixture { warrant, ..base };
    let service = f.query_service(false);

    let (code, status, _, body) = denied(&call(&service, check(f.get("/data/a"))).await);
    assert_eq!((code, status), (7, 403));
    assert_eq!(body["reason"], "approval_required");
    assert_eq!(body["required_approvals"], 1);

    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String("/data/a".into()));
    let approval = sign_approval(&approver, &f.warrant, "read_file", &args, now, 300).unwrap();
    let mut http = f.get("/data/a");
    http.headers
        .insert("x-tenuo-approvals".into(), encode_approvals(&[approval]));
    ok(&call(&service, check(http)).await);
}
