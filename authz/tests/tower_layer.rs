//! The tower middleware end to end on an in-memory service: allow reaches the
//! inner service with its context; every denial is a response with the §2 body.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::tower::{
    AuthzConfig, AuthzContext, AuthzLayer, AuthzRequestBody, CallRequest, ExtractCall, ExtractError,
};
use tenuo_authz::{Authorizer, Warrant};
use tower::{Service, ServiceBuilder, ServiceExt};

/// `POST /tools/{tool}` with a JSON object body of arguments; `GET /tools/{tool}?path=..`.
struct ToolRoutes;

impl ExtractCall for ToolRoutes {
    fn needs_body(&self, parts: &http::request::Parts) -> bool {
        parts.method == http::Method::POST
    }

    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        let path = request.parts.uri.path();
        let tool = path
            .strip_prefix("/tools/")
            .ok_or_else(|| ExtractError::NoRoute {
                method: request.parts.method.to_string(),
                path: path.to_owned(),
            })?;
        let mut args = Args::new();
        if request.parts.method == http::Method::POST {
            let json: serde_json::Value =
                serde_json::from_slice(request.body).map_err(|e| ExtractError::Argument {
                    argument: "body".into(),
                    problem: e.to_string(),
                })?;
            for (k, v) in json.as_object().into_iter().flatten() {
                args.insert(
                    k.clone(),
                    ArgValue::from_json(v).map_err(|e| ExtractError::Argument {
                        argument: k.clone(),
                        problem: e.to_string(),
                    })?,
                );
            }
        } else if let Some(query) = request.parts.uri.query() {
            for pair in query.split('&') {
                if let Some((k, v)) = pair.split_once('=') {
                    args.insert(k.to_owned(), ArgValue::String(v.to_owned()));
                }
            }
        }
        Ok((tool.to_owned(), args))
    }
}

struct Fixture {
    agent: SigningKey,
    warrant: Warrant,
    authorizer: Arc<Authorizer>,
    calls: Arc<AtomicUsize>,
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
        calls: Arc::new(AtomicUsize::new(0)),
    }
}

impl Fixture {
    fn service(
        &self,
        debug: bool,
    ) -> impl Service<
        Request<Full<Bytes>>,
        Response = Response<tenuo_authz::tower::AuthzResponseBody<Full<Bytes>>>,
        Error = Infallible,
    > {
        let calls = Arc::clone(&self.calls);
        let mut config = AuthzConfig::default();
        config.debug = debug;
        config.max_body_bytes = 256;
        ServiceBuilder::new()
            .layer(AuthzLayer::new(Arc::clone(&self.authorizer), ToolRoutes).config(config))
            .service_fn(move |request: Request<AuthzRequestBody<Full<Bytes>>>| {
                let calls = Arc::clone(&calls);
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let context = request.extensions().get::<AuthzContext>().cloned();
                    let body = request
                        .into_body()
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    let text = format!(
                        "{} via {} ({} body bytes)",
                        context.map(|c| c.tool).unwrap_or_default(),
                        "inner",
                        body.len()
                    );
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
                }
            })
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
}

async fn send(
    service: impl Service<
        Request<Full<Bytes>>,
        Response = Response<tenuo_authz::tower::AuthzResponseBody<Full<Bytes>>>,
        Error = Infallible,
    >,
    request: Request<Full<Bytes>>,
) -> (StatusCode, http::HeaderMap, String) {
    let response = service.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str, warrant: Option<&str>, pop: Option<&str>) -> Request<Full<Bytes>> {
    let mut builder = Request::get(uri).header("x-request-id", "req-1");
    if let Some(w) = warrant {
        builder = builder.header("x-tenuo-warrant", w);
    }
    if let Some(p) = pop {
        builder = builder.header("x-tenuo-pop", p);
    }
    builder.body(Full::new(Bytes::new())).unwrap()
}

#[tokio::test]
async fn allowed_requests_reach_the_inner_service_with_their_context() {
    let f = fixture();
    let pop = f.pop("read_file", "/data/a");
    let (status, _, body) = send(
        f.service(false),
        get(
            "/tools/read_file?path=/data/a",
            Some(&f.warrant.to_base64url()),
            Some(&pop),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "read_file via inner (0 body bytes)");
    assert_eq!(f.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn denials_are_responses_with_the_contract_body_and_never_reach_the_inner_service() {
    let f = fixture();
    let token = f.warrant.to_base64url();
    let pop = f.pop("read_file", "/etc/passwd");
    let (status, headers, body) = send(
        f.service(false),
        get(
            "/tools/read_file?path=/etc/passwd",
            Some(&token),
            Some(&pop),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["authorized"], false);
    assert_eq!(json["reason"], "constraint_violation");
    assert_eq!(json["request_id"], "req-1");
    assert!(
        headers.get("x-tenuo-deny-reason").is_none(),
        "no debug header outside debug mode"
    );
    assert!(
        !body.contains("/etc/passwd"),
        "no detail outside debug mode: {body}"
    );

    let (status, headers, _) = send(
        f.service(true),
        get(
            "/tools/read_file?path=/etc/passwd",
            Some(&token),
            Some(&pop),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        headers["x-tenuo-deny-reason"],
        "constraint_violation: path=/etc/passwd not in Pattern(/data/*)"
    );

    let cases: [(Request<Full<Bytes>>, StatusCode, &str); 5] = [
        (
            get("/tools/read_file?path=/data/a", None, None),
            StatusCode::UNAUTHORIZED,
            "missing_warrant",
        ),
        (
            get("/tools/read_file?path=/data/a", Some("%%%"), None),
            StatusCode::BAD_REQUEST,
            "invalid_warrant",
        ),
        (
            get("/tools/read_file?path=/data/a", Some(&token), None),
            StatusCode::FORBIDDEN,
            "missing_pop",
        ),
        (
            get("/tools/write_file?path=/data/a", Some(&token), Some(&pop)),
            StatusCode::FORBIDDEN,
            "tool_not_in_warrant",
        ),
        (
            get("/other", Some(&token), Some(&pop)),
            StatusCode::FORBIDDEN,
            "tool_not_in_warrant",
        ),
    ];
    for (request, expected_status, reason) in cases {
        let (status, _, body) = send(f.service(false), request).await;
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["reason"],
            reason
        );
    }
    assert_eq!(f.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn arguments_read_from_the_body_are_authorized_and_the_body_is_replayed() {
    let f = fixture();
    let token = f.warrant.to_base64url();
    let body = r#"{"path":"/data/b"}"#;
    let post = |body: &str, pop: &str| {
        Request::post("/tools/read_file")
            .header("x-tenuo-warrant", token.as_str())
            .header("x-tenuo-pop", pop)
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    };
    let (status, _, text) =
        send(f.service(false), post(body, &f.pop("read_file", "/data/b"))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        text,
        format!("read_file via inner ({} body bytes)", body.len())
    );

    let huge = format!(r#"{{"path":"/data/b","pad":"{}"}}"#, "x".repeat(400));
    let (status, _, text) = send(
        f.service(false),
        post(&huge, &f.pop("read_file", "/data/b")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("constraint_violation"), "{text}");
    assert_eq!(f.calls.load(Ordering::SeqCst), 1);
}

const GATEWAY: &str = include_str!("fixtures/gateway/body_file_path.yaml");

#[tokio::test]
async fn the_gateway_config_maps_routes_and_bodies_to_calls() {
    let f = fixture();
    let gateway = tenuo_authz::gateway::CompiledGateway::from_yaml(GATEWAY).unwrap();
    let calls = Arc::clone(&f.calls);
    let service = ServiceBuilder::new()
        .layer(AuthzLayer::new(Arc::clone(&f.authorizer), gateway))
        .service_fn(move |_request: Request<AuthzRequestBody<Full<Bytes>>>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok")))) }
        });
    let post = |uri: &str, body: &str, pop: &str| {
        Request::post(uri)
            .header("x-tenuo-warrant", f.warrant.to_base64url())
            .header("x-tenuo-pop", pop)
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    };
    let pop = f.pop("read_file", "/data/x");
    let (status, _, body) = send(
        service.clone(),
        post("/api/files/b1", r#"{"file":{"path":"/data/x"}}"#, &pop),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    let (status, _, body) = send(
        service.clone(),
        post("/api/files/b1", r#"{"file":{}}"#, &pop),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("constraint_violation"), "{body}");
    let (status, _, body) = send(service, post("/api/other", r#"{}"#, &pop)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("tool_not_in_warrant"), "{body}");
    assert_eq!(f.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn approvals_in_the_header_open_a_gated_tool_and_a_short_call_says_what_it_lacks() {
    use tenuo_authz::approval::{encode_approvals, GateMap, ToolGate};
    use tenuo_authz::mint::sign_approval;

    let base = fixture();
    let approvers = [
        SigningKey::from_bytes(&[70; 32]),
        SigningKey::from_bytes(&[71; 32]),
    ];
    let mut gates = GateMap::default();
    gates.0.insert("read_file".into(), ToolGate { args: None });
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let cp = SigningKey::from_bytes(&[1; 32]);
    let now = base.authorizer.now() as u64;
    let warrant = Issue::execution(base.agent.public_key())
        .tool("read_file", set)
        .required_approvers(approvers.iter().map(SigningKey::public_key))
        .min_approvals(2)
        .approval_gates(gates)
        .sign(&cp, now)
        .unwrap();
    let f = Fixture { warrant, ..base };
    let token = f.warrant.to_base64url();
    let pop = f.pop("read_file", "/data/a");
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String("/data/a".into()));
    let signed: Vec<_> = approvers
        .iter()
        .map(|k| sign_approval(k, &f.warrant, "read_file", &args, now, 300).unwrap())
        .collect();
    let with_approvals = |approvals: Option<&str>| {
        let mut request = get("/tools/read_file?path=/data/a", Some(&token), Some(&pop));
        if let Some(text) = approvals {
            request
                .headers_mut()
                .insert("x-tenuo-approvals", text.parse().unwrap());
        }
        request
    };

    let (status, _, body) = send(
        f.service(false),
        with_approvals(Some(&encode_approvals(&signed))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _, body) = send(
        f.service(false),
        with_approvals(Some(&encode_approvals(&signed[..1]))),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["reason"], "approval_required");
    assert_eq!(json["required_approvals"], 2);
    assert_eq!(json["received_approvals"], 1);
    let hash = tenuo_authz::approval::request_hash(
        f.warrant.id(),
        "read_file",
        &args,
        &f.agent.public_key(),
    );
    assert_eq!(json["request_hash"], hex::encode(hash));
    assert_eq!(json["required_approvers"].as_array().unwrap().len(), 2);

    let (status, _, body) = send(f.service(false), with_approvals(None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("\"received_approvals\":0"), "{body}");

    // Undecodable approvals: 400, as the reference answers them.
    let (status, _, body) = send(f.service(false), with_approvals(Some("not*base64"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("approval_required"), "{body}");
    assert_eq!(f.calls.load(Ordering::SeqCst), 1);
}

/// A request body that is no `http_body::Body` and cannot be cloned: header-only
/// middleware must hand it on as it came.
#[derive(Debug)]
struct Upload(&'static str);

/// An inner service that is not `Clone` and takes `Request<Upload>` only.
struct UploadSink {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Service<Request<Upload>> for UploadSink {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Upload>) -> Self::Future {
        let tool = request
            .extensions()
            .get::<AuthzContext>()
            .map(|c| c.tool.clone())
            .unwrap_or_default();
        self.seen
            .lock()
            .unwrap()
            .push(format!("{tool}: {}", request.body().0));
        std::future::ready(Ok(Response::new(Full::new(Bytes::from("ran")))))
    }
}

fn query_call(parts: &http::request::Parts) -> Result<(String, Args), ExtractError> {
    let tool = parts.uri.path().trim_start_matches("/tools/").to_owned();
    let mut args = Args::new();
    for (k, v) in parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
    {
        args.insert(k.to_owned(), ArgValue::String(v.to_owned()));
    }
    Ok((tool, args))
}

#[tokio::test]
async fn header_only_middleware_hands_the_request_on_as_it_came() {
    let f = fixture();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut service = ServiceBuilder::new()
        .layer(AuthzLayer::headers_only(
            Arc::clone(&f.authorizer),
            query_call,
        ))
        .service(UploadSink {
            seen: Arc::clone(&seen),
        });
    let request = |path: &str, body| {
        Request::get(format!("/tools/read_file?path={path}"))
            .header("x-tenuo-warrant", f.warrant.to_base64url())
            .header("x-tenuo-pop", f.pop("read_file", path))
            .body(Upload(body))
            .unwrap()
    };

    let allowed = service
        .ready()
        .await
        .unwrap()
        .call(request("/data/a", "original bytes"))
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);

    let denied = service
        .ready()
        .await
        .unwrap()
        .call(request("/etc/passwd", "never seen"))
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let body = denied.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["reason"], "constraint_violation", "{json}");

    assert_eq!(
        *seen.lock().unwrap(),
        ["read_file: original bytes"],
        "the allowed request reached the inner service with its own body; the denied one did not"
    );
}
