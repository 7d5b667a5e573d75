//! Gateway configuration: fixtures, route precedence, every source, type
//! coercion, errors, and a differential test against the reference gateway
//! (`tenuo` 0.3.5's `CompiledGatewayConfig`, fed the way its server feeds it).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use serde_json::Value;
use tenuo::constraints::ConstraintValue;
use tenuo_authz::constraint::ArgValue;
use tenuo_authz::gateway::{
    CompiledGateway, ConfigError, ExtractionError, ExtractionSource, GatewayConfig, GatewayOptions,
    TypeHint,
};
use tenuo_authz::pop::Args;

const FIXTURES: [&str; 6] = [
    "k8s_clusters",
    "deploy",
    "read_pods",
    "root_page",
    "all_sources",
    "body_file_path",
];

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gateway")
        .join(format!("{name}.yaml"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

fn ours(name: &str) -> CompiledGateway {
    CompiledGateway::compile(GatewayConfig::from_file(fixture_path(name)).unwrap()).unwrap()
}

fn s(x: &str) -> ArgValue {
    ArgValue::String(x.into())
}

fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    h
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

#[test]
fn every_fixture_parses_and_compiles_here_and_in_the_reference() {
    for name in FIXTURES {
        let text = fixture(name);
        let cfg = GatewayConfig::from_yaml(&text).unwrap();
        CompiledGateway::compile(cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = tenuo::GatewayConfig::from_yaml(&text).unwrap();
        tenuo::CompiledGatewayConfig::compile(r).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn fixture_settings() {
    let k8s = ours("k8s_clusters");
    assert_eq!(k8s.settings().trusted_roots.len(), 1);
    assert_eq!(k8s.settings().warrant_header.as_str(), "x-tenuo-warrant");
    assert_eq!(k8s.settings().pop_header.as_str(), "x-tenuo-pop");
    assert_eq!(k8s.settings().approval_header.as_str(), "x-tenuo-approvals");
    assert!(!k8s.settings().debug_mode);
    assert!(ours("deploy").settings().debug_mode);
    assert!(ours("read_pods").settings().trusted_roots.is_empty());
    let all = ours("all_sources");
    assert_eq!(all.settings().warrant_header.as_str(), "x-warrant");
    assert_eq!(all.settings().clock_tolerance.as_secs(), 5);
    assert_eq!(all.routes().len(), 4);
    let tr = &all.routes()[1];
    assert_eq!(tr.tool(), "transfer");
    let amount = tr.rules().iter().find(|r| r.name() == "amount").unwrap();
    assert_eq!(amount.source(), ExtractionSource::Query);
    assert_eq!(amount.type_hint(), None);
    assert!(tr.needs_body() && tr.needs_query());
    assert!(!all.routes()[2].needs_body());
}

// ---------------------------------------------------------------------------
// Route matching
// ---------------------------------------------------------------------------

#[test]
fn route_precedence_and_captures() {
    let g = ours("all_sources");
    let m = g
        .match_route(&Method::POST, "/accounts/a1/transfers/preview")
        .unwrap();
    assert_eq!(m.route().index(), 1);
    assert_eq!(m.param("account"), Some("a1"));
    let m = g
        .match_route(&Method::POST, "/accounts/a1/transfers")
        .unwrap();
    assert_eq!(m.route().index(), 0);
    // Captures are raw.
    let m = g.match_route(&Method::GET, "/files/etc/pass%20wd").unwrap();
    assert_eq!(m.param("path"), Some("etc/pass%20wd"));
    assert_eq!(
        m.params().collect::<Vec<_>>(),
        vec![("path", "etc/pass%20wd")]
    );
    let m = g
        .match_route(
            &Method::from_bytes(b"purge").unwrap(),
            "/cache/item-42.json",
        )
        .unwrap();
    assert_eq!(m.param("key"), Some("42"));
    // Near misses.
    assert!(g.match_route(&Method::GET, "/cache/item-42.json").is_none());
    assert!(g
        .match_route(&Method::DELETE, "/cache/item-.json")
        .is_none());
    assert!(g
        .match_route(&Method::POST, "/accounts/a1/transfers/")
        .is_none());
    assert!(g
        .match_route(&Method::POST, "/accounts//transfers")
        .is_none());
    assert!(g.match_route(&Method::GET, "/files/").is_none());
    assert!(g.match_route(&Method::GET, "").is_none());
    assert!(g.match_route(&Method::GET, "files/x").is_none());
}

#[test]
fn match_parts_uses_the_path_only() {
    let g = ours("deploy");
    let (parts, ()) = http::Request::post("/deploy/api?x=1")
        .body(())
        .unwrap()
        .into_parts();
    let m = g.match_parts(&parts).unwrap();
    assert_eq!(m.tool(), "deploy");
    let out = g.extract_parts(&m, &parts, b"").unwrap();
    assert_eq!(out.args, Args::from([("service".to_owned(), s("api"))]));
}

// ---------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------

fn transfer_body() -> &'static [u8] {
    br#"{"amount": 12, "transfers": [{"to": "bob", "memo": "rent"}, {"x": 1}, {"to": "eve"}],
        "meta": {"n": 18446744073709551615, "tags": ["a"]}}"#
}

#[test]
fn every_source_type() {
    let g = ours("all_sources");
    let m = g
        .match_route(&Method::POST, "/accounts/a1/transfers")
        .unwrap();
    let h = headers(&[("x-tenant-id", b"t1"), ("X-Trace", b"abc")]);
    let out = g
        .extract(&m, Some("dry_run=true&dry_run=1"), &h, transfer_body())
        .unwrap();
    assert_eq!(out.tool, "transfer");
    let a = &out.args;
    assert_eq!(a["account"], s("a1"));
    assert_eq!(a["amount"], ArgValue::Integer(12));
    assert_eq!(a["currency"], s("EUR"));
    assert_eq!(a["recipients"], ArgValue::List(vec![s("bob"), s("eve")]));
    assert_eq!(a["first_memo"], s("rent"));
    let meta = BTreeMap::from([
        ("n".to_owned(), s("18446744073709551615")),
        ("tags".to_owned(), ArgValue::List(vec![s("a")])),
    ]);
    assert_eq!(a["meta"], ArgValue::Object(meta));
    assert_eq!(a["tenant"], s("t1"));
    assert_eq!(a["trace"], s("abc"));
    assert_eq!(a["dry_run"], s("1"));
    assert_eq!(a["channel"], s("api"));
    assert_eq!(a.len(), 10);
}

#[test]
fn defaults_literals_and_objects() {
    let g = ours("all_sources");
    let m = g.match_route(&Method::GET, "/files/var/log").unwrap();
    let out = g.extract(&m, None, &HeaderMap::new(), b"").unwrap();
    assert_eq!(out.args["path"], s("var/log"));
    assert!(!out.args.contains_key("lines"));
    assert_eq!(
        out.args["mode"],
        ArgValue::Object(BTreeMap::from([
            ("follow".to_owned(), ArgValue::Bool(false)),
            ("limit".to_owned(), ArgValue::Integer(10)),
        ]))
    );
}

#[test]
fn type_coercion_is_opt_in() {
    let cfg = GatewayConfig::from_file(fixture_path("all_sources")).unwrap();
    let plain = CompiledGateway::compile(cfg.clone()).unwrap();
    let mut options = GatewayOptions::default();
    options.coerce_types = true;
    let coercing = CompiledGateway::compile_with(cfg, options).unwrap();
    let h = headers(&[("x-tenant-id", b"t")]);

    let m = plain.match_route(&Method::GET, "/files/a").unwrap();
    let out = plain.extract(&m, Some("lines=40"), &h, b"").unwrap();
    assert_eq!(out.args["lines"], s("40"));
    let m = coercing.match_route(&Method::GET, "/files/a").unwrap();
    let out = coercing.extract(&m, Some("lines=40"), &h, b"").unwrap();
    assert_eq!(out.args["lines"], ArgValue::Integer(40));
    let e = coercing
        .extract(&m, Some("lines=4.5"), &h, b"")
        .unwrap_err();
    assert_eq!(
        e,
        ExtractionError::WrongType {
            field: "lines".into(),
            expected: TypeHint::Integer,
            found: "string"
        }
    );

    let m = coercing
        .match_route(&Method::POST, "/accounts/a/transfers")
        .unwrap();
    let out = coercing
        .extract(&m, Some("dry_run=false"), &h, transfer_body())
        .unwrap();
    assert_eq!(out.args["amount"], ArgValue::Float(12.0));
    assert_eq!(out.args["dry_run"], ArgValue::Bool(false));
    let out = coercing.extract(&m, None, &h, transfer_body()).unwrap();
    assert_eq!(out.args["dry_run"], ArgValue::Bool(false));
    let e = coercing
        .extract(&m, None, &h, br#"{"amount": "lots"}"#)
        .unwrap_err();
    assert!(matches!(e, ExtractionError::WrongType { .. }), "{e}");
    let e = coercing
        .extract(&m, None, &h, br#"{"amount": 1, "transfers": {"to": 1}}"#)
        .unwrap();
    assert!(!e.args.contains_key("recipients"));
}

#[test]
fn extraction_errors() {
    let g = ours("all_sources");
    let m = g
        .match_route(&Method::POST, "/accounts/a/transfers")
        .unwrap();
    let h = headers(&[("x-tenant-id", b"t")]);
    let e = g.extract(&m, None, &h, b"").unwrap_err();
    assert_eq!(
        e,
        ExtractionError::MissingRequired {
            field: "amount".into(),
            from: ExtractionSource::Body,
            key: "amount".into()
        }
    );
    let e = g.extract(&m, None, &h, b"amount=5").unwrap_err();
    assert!(matches!(e, ExtractionError::BodyNotJson { .. }), "{e}");
    let e = g
        .extract(
            &m,
            None,
            &headers(&[("x-tenant-id", b"\xfe")]),
            b"{\"amount\":1}",
        )
        .unwrap_err();
    assert!(e.to_string().contains("tenant"), "{e}");
    let big = vec![b' '; tenuo_authz::gateway::DEFAULT_MAX_BODY_BYTES + 1];
    let e = g.extract(&m, None, &h, &big).unwrap_err();
    assert!(matches!(e, ExtractionError::BodyTooLarge { .. }), "{e}");
}

#[test]
fn config_errors_name_the_culprit() {
    let cases: [(&str, &str); 6] = [
        (
            "version: '1'\nsettings: {}\ntools: {}\nroutes: [{pattern: /a, tool: ghost}]\n",
            "routes[0]: tool 'ghost'",
        ),
        (
            "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {}}}\nroutes: [{pattern: /a, tool: t}, {pattern: /a, tool: t, method: [POST]}]\n",
            "routes[1]: pattern '/a' conflicts",
        ),
        (
            "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {}}}\nroutes: [{pattern: '/{*a}/b', tool: t}]\n",
            "routes[0]: invalid pattern",
        ),
        (
            "version: '1'\nsettings: {pop_header: ''}\ntools: {}\nroutes: []\n",
            "settings.pop_header",
        ),
        (
            "version: '1'\nsettings: {}\ntools: {}\nroutes: []\nlisten: 8080\n",
            "unknown field `listen`",
        ),
        (
            "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {a: {from: cookie, path: a}}}}\nroutes: []\n",
            "unknown variant `cookie`",
        ),
    ];
    for (yaml, want) in cases {
        let e = CompiledGateway::from_yaml(yaml).unwrap_err();
        assert!(e.to_string().contains(want), "{want:?} not in {e}");
    }
    let e = GatewayConfig::from_file("/nonexistent/gateway.yaml").unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
}

#[test]
fn hostile_yaml_does_not_panic() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    // The alias bomb sits where a value of any shape is allowed (a default).
    let bomb_in_default = format!(
        "version: '1'\nsettings: {{}}\ntools:\n  t:\n    description: d\n    constraints:\n      a:\n        from: literal\n        path: x\n        default:\n{}routes: []\n",
        bomb.lines().map(|l| format!("          {l}\n")).collect::<String>()
    );
    let inputs = [
        bomb.to_owned(),
        bomb_in_default,
        "[".repeat(20_000),
        "{".repeat(20_000),
        "version: \"\u{0}\"".to_owned(),
        "\u{feff}---\n...\n".to_owned(),
        "version: 1\nsettings: {clock_tolerance_secs: -1}\ntools: {}\nroutes: []\n".to_owned(),
    ];
    for text in &inputs {
        assert!(CompiledGateway::from_yaml(text).is_err(), "{text:.40}");
    }
}

// ---------------------------------------------------------------------------
// Differential: the reference gateway as oracle
// ---------------------------------------------------------------------------

/// One request: method, path with optional query, headers, body.
struct Req<'a> {
    method: &'a str,
    target: &'a str,
    headers: &'a [(&'a str, &'a [u8])],
    body: &'a [u8],
}

/// What a gateway makes of a request.
#[derive(Debug, PartialEq)]
enum Outcome {
    NoRoute,
    Failed,
    Call(String, Args),
}

fn from_reference_value(v: &ConstraintValue) -> ArgValue {
    match v {
        ConstraintValue::String(s) => ArgValue::String(s.clone()),
        ConstraintValue::Integer(i) => ArgValue::Integer(*i),
        ConstraintValue::Float(f) => ArgValue::Float(*f),
        ConstraintValue::Boolean(b) => ArgValue::Bool(*b),
        ConstraintValue::List(l) => ArgValue::List(l.iter().map(from_reference_value).collect()),
        ConstraintValue::Object(m) => ArgValue::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), from_reference_value(v)))
                .collect(),
        ),
        ConstraintValue::Null => ArgValue::Null,
    }
}

/// The reference, fed as its HTTP server feeds it: raw path, query decoded
/// into a map (last wins), lower-cased headers whose values are visible ASCII
/// (last wins), body parsed as JSON whatever the content type (else null).
fn reference_outcome(cfg: &tenuo::CompiledGatewayConfig, req: &Req<'_>) -> Outcome {
    let (path, query) = req.target.split_once('?').unwrap_or((req.target, ""));
    let Some(m) = cfg.match_route(req.method, path) else {
        return Outcome::NoRoute;
    };
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(req.body).unwrap_or(Value::Null)
    };
    let mut ctx = tenuo::RequestContext::with_body(body);
    ctx.query_params = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect::<HashMap<_, _>>();
    for (k, v) in headers(req.headers).iter() {
        if let Ok(v) = v.to_str() {
            ctx.headers.insert(k.as_str().to_lowercase(), v.to_owned());
        }
    }
    match cfg.extract_constraints(&m, &ctx) {
        Ok(r) => Outcome::Call(
            r.tool,
            r.constraints
                .iter()
                .map(|(k, v)| (k.clone(), from_reference_value(v)))
                .collect(),
        ),
        Err(_) => Outcome::Failed,
    }
}

fn our_outcome(g: &CompiledGateway, req: &Req<'_>) -> Outcome {
    let method = Method::from_bytes(req.method.as_bytes()).unwrap();
    let (path, query) = match req.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.target, None),
    };
    let Some(m) = g.match_route(&method, path) else {
        return Outcome::NoRoute;
    };
    let body = if m.needs_body() { req.body } else { b"" };
    match g.extract(&m, query, &headers(req.headers), body) {
        Ok(e) => Outcome::Call(e.tool, e.args),
        Err(_) => Outcome::Failed,
    }
}

fn both(yaml: &str) -> (CompiledGateway, tenuo::CompiledGatewayConfig) {
    let ours = CompiledGateway::from_yaml(yaml).unwrap();
    let reference =
        tenuo::CompiledGatewayConfig::compile(tenuo::GatewayConfig::from_yaml(yaml).unwrap())
            .unwrap();
    (ours, reference)
}

fn assert_same(yaml: &str, reqs: &[Req<'_>]) {
    let (o, r) = both(yaml);
    for req in reqs {
        let (a, b) = (our_outcome(&o, req), reference_outcome(&r, req));
        assert_eq!(a, b, "{} {}", req.method, req.target);
    }
}

const TENANT: &[(&str, &[u8])] = &[("x-tenant-id", b"t1")];
const NO_HEADERS: &[(&str, &[u8])] = &[];

#[test]
fn differential_fixture_requests() {
    let all = fixture("all_sources");
    let body = transfer_body();
    let reqs = [
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body,
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers?dry_run=yes&x=1",
            headers: &[("X-Tenant-Id", b"t"), ("x-trace", b"1"), ("x-trace", b"2")],
            body,
        },
        Req {
            method: "POST",
            target: "/accounts/a%2F1/transfers",
            headers: TENANT,
            body: br#"{"amount": 1.5, "currency": null}"#,
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body: b"",
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body: b"<xml/>",
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: NO_HEADERS,
            body,
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: &[("x-tenant-id", b"ok"), ("x-tenant-id", b"\xff")],
            body,
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body: br#"{"amount": 9007199254740993, "transfers": []}"#,
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body: br#"{"amount": -1e400}"#,
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body: br#"{"amount": 1, "amount": 2, "transfers": [{"to": null}]}"#,
        },
        Req {
            method: "GET",
            target: "/accounts/a1/transfers",
            headers: TENANT,
            body,
        },
        Req {
            method: "PUT",
            target: "/accounts/a1/transfers/preview?amount=3&amount=4%20",
            headers: TENANT,
            body: b"",
        },
        Req {
            method: "put",
            target: "/accounts/a1/transfers/preview?amount",
            headers: TENANT,
            body: b"",
        },
        Req {
            method: "POST",
            target: "/accounts/a1/transfers/preview",
            headers: TENANT,
            body,
        },
        Req {
            method: "GET",
            target: "/files/a/b/c?lines=10&lines=x+y",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "OPTIONS",
            target: "/files/%2e%2e/etc",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "GET",
            target: "/files",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "PURGE",
            target: "/cache/item-k.json?size=xl",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "purge",
            target: "/cache/item-k.v2.json",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "GET",
            target: "/cache/item-k.json",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "DELETE",
            target: "/cache/item-.json",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "GET",
            target: "/nothing",
            headers: NO_HEADERS,
            body: b"",
        },
    ];
    assert_same(&all, &reqs);

    let k8s_reqs = [
        Req {
            method: "POST",
            target: "/api/v1/clusters/staging-web/scale",
            headers: NO_HEADERS,
            body: br#"{"spec": {"replicas": 5}, "metadata": {"estimatedCost": 150.0}}"#,
        },
        Req {
            method: "put",
            target: "/api/v1/clusters/prod/restart?dry=1",
            headers: NO_HEADERS,
            body: b"{}",
        },
        Req {
            method: "GET",
            target: "/api/v1/clusters/prod/scale",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "POST",
            target: "/api/v1/clusters/prod",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "POST",
            target: "/api/v1/clusters/prod/scale/",
            headers: NO_HEADERS,
            body: b"",
        },
    ];
    assert_same(&fixture("k8s_clusters"), &k8s_reqs);

    let page_reqs = [
        Req {
            method: "GET",
            target: "/health",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "GET",
            target: "/",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "GET",
            target: "/a/b",
            headers: NO_HEADERS,
            body: b"",
        },
        Req {
            method: "HEAD",
            target: "/a",
            headers: NO_HEADERS,
            body: b"",
        },
    ];
    assert_same(&fixture("root_page"), &page_reqs);
    assert_same(
        &fixture("deploy"),
        &[Req {
            method: "POST",
            target: "/deploy/api",
            headers: NO_HEADERS,
            body: b"",
        }],
    );
    assert_same(
        &fixture("read_pods"),
        &[
            Req {
                method: "GET",
                target: "/api/c1/pods",
                headers: NO_HEADERS,
                body: b"",
            },
            Req {
                method: "GET",
                target: "/api/c1/pods/x",
                headers: NO_HEADERS,
                body: b"",
            },
        ],
    );
}

/// Configurations both sides must accept or refuse alike (apart from the
/// settings checks documented as ours alone).
#[test]
fn differential_config_acceptance() {
    let tool = "tools: {t: {description: d, constraints: {a: {from: path, path: a}}}}";
    let cases = [
        format!("version: 1\nsettings: {{}}\n{tool}\nroutes: []\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/{{a}}', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: 'no-slash', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/{{}}', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/{{a}}/{{a}}', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/{{{{x}}}}/{{a}}', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/x', tool: t, method: POST}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/x', tool: t, method: []}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/x', tool: t, constraints: {{b: {{from: body, path: ''}}}}}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/x', tool: t}}, {{pattern: '/x/', tool: t}}]\n"),
        format!("version: '1'\nsettings: {{}}\n{tool}\nroutes: [{{pattern: '/x/{{a}}', tool: t}}, {{pattern: '/x/{{*b}}', tool: t}}]\n"),
        "version: '1'\nsettings: {}\ntools: {t: {description: d}}\nroutes: []\n".to_owned(),
        "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {a: {from: literal}}}}\nroutes: []\n".to_owned(),
        "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {a: {from: query, path: a, type: 5, default: [1, {x: .nan}], required: yes}}}}\nroutes: []\n".to_owned(),
        "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {a: {from: query, path: a, required: true}}, a: {description: d, constraints: {}}}}\nroutes: []\n".to_owned(),
        "version: '1'\nsettings: {debug_mode: 'true'}\ntools: {}\nroutes: []\n".to_owned(),
        "version: '1'\nsettings: {clock_tolerance_secs: 1.5}\ntools: {}\nroutes: []\n".to_owned(),
        "version: '1'\nsettings: {}\ntools: {}\nroutes: []\n---\nversion: '2'\n".to_owned(),
        "version: '1'\nsettings: &s {}\ntools: {}\nroutes: []\n".to_owned(),
        "version: '1'\nversion: '2'\nsettings: {}\ntools: {}\nroutes: []\n".to_owned(),
    ];
    for yaml in &cases {
        let ours = CompiledGateway::from_yaml(yaml).map(|_| ());
        let reference = tenuo::GatewayConfig::from_yaml(yaml)
            .map_err(|e| e.to_string())
            .and_then(|c| tenuo::CompiledGatewayConfig::compile(c).map_err(|e| e.to_string()))
            .map(|_| ());
        assert_eq!(
            ours.is_ok(),
            reference.is_ok(),
            "{yaml}\nours: {ours:?}\nreference: {reference:?}"
        );
    }
}

const PROP_CONFIG: &str = r#"
version: "1"
settings: {}
tools:
  t:
    description: d
    constraints:
      a: {from: path, path: a}
      b: {from: path, path: b, required: true}
      q: {from: query, path: q, default: 0}
      h: {from: header, path: X-H}
      j: {from: body, path: "x.*.y"}
      k: {from: body, path: "x.1"}
routes:
  - {pattern: "/{a}/b/{b}", tool: t, method: [GET, PURGE]}
  - {pattern: "/a/{b}", tool: t}
  - {pattern: "/a/{b}/x-{a}", tool: t}
  - {pattern: "/s/{*b}", tool: t, method: [post]}
"#;

fn segment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "", "a", "b", "s", "x-", "x-1", "%2F", "%", "{b}", "..", "é", "a?q=1", "+",
    ])
    .prop_map(str::to_owned)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(vec!["x", "y", "1"]), inner, 0..3)
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn differential_random_requests(
        segs in prop::collection::vec(segment(), 0..5),
        method in prop::sample::select(vec!["GET", "POST", "post", "PURGE", "PUT"]),
        query in "[qa=&+%2F]{0,8}",
        header in prop::option::of(prop::sample::select(vec![&b"v"[..], b"\xe9", b""])),
        body in prop::option::of(json_value()),
        raw_body in prop::sample::select(vec![&b""[..], b"{", b"null", b"[1]"]),
    ) {
        let target = format!("/{}?{query}", segs.join("/"));
        let hs: Vec<(&str, &[u8])> = header.map(|h| vec![("x-h", h)]).unwrap_or_default();
        let body_bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_else(|| raw_body.to_vec());
        let req = Req { method, target: &target, headers: &hs, body: &body_bytes };
        let (o, r) = both(PROP_CONFIG);
        prop_assert_eq!(our_outcome(&o, &req), reference_outcome(&r, &req), "{}", target);
    }
}
