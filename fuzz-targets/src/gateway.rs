//! Targets `gateway_config` and `extract`: the Tenuo gateway YAML compiler, and
//! a whole HTTP request decided by the tower front end against the gateway
//! fixtures (headers, route, extraction from path, query, headers and body,
//! warrant and PoP headers).
//!
//! `gateway_config` input: YAML text. `extract` input: a fixture index byte, then
//! length-prefixed method, URI, headers (`name: value` lines) and the rest as body.
//! Invariants: no panic; a request is never allowed (nothing here is signed by
//! the trusted key); a denial always maps to a §2 reason.

use std::sync::{Arc, OnceLock};

use tenuo_authz::crypto::SigningKey;
use tenuo_authz::engine::{AuthzConfig, RequestAuthorizer};
use tenuo_authz::gateway::CompiledGateway;
use tenuo_authz::Authorizer;

use crate::input::Reader;

/// The gateway configurations of the test fixtures, compiled in.
pub const FIXTURES: [&str; 5] = [
    include_str!("../../authz/tests/fixtures/gateway/all_sources.yaml"),
    include_str!("../../authz/tests/fixtures/gateway/deploy.yaml"),
    include_str!("../../authz/tests/fixtures/gateway/k8s_clusters.yaml"),
    include_str!("../../authz/tests/fixtures/gateway/read_pods.yaml"),
    include_str!("../../authz/tests/fixtures/gateway/root_page.yaml"),
];

/// Runs one `gateway_config` input.
pub fn run_config(data: &[u8]) {
    let Ok(yaml) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(gateway) = CompiledGateway::from_yaml(yaml) {
        let _ = gateway.routes().len();
        let _ = gateway.max_body_bytes();
    }
}

fn deciders() -> &'static [RequestAuthorizer] {
    static DECIDERS: OnceLock<Vec<RequestAuthorizer>> = OnceLock::new();
    DECIDERS.get_or_init(|| {
        let trusted = SigningKey::from_bytes(&[0xEE; 32]).public_key();
        let authorizer = Arc::new(
            Authorizer::builder()
                .trusted_issuers([trusted])
                .clock(|| 1_800_000_000)
                .build_unchecked(),
        );
        FIXTURES
            .iter()
            .filter_map(|yaml| CompiledGateway::from_yaml(yaml).ok())
            .map(|gateway| {
                RequestAuthorizer::new(
                    Arc::clone(&authorizer),
                    Arc::new(gateway),
                    Arc::new(()),
                    AuthzConfig::default(),
                )
            })
            .collect()
    })
}

/// Runs one `extract` input.
pub fn run_extract(data: &[u8]) {
    let mut input = Reader::new(data);
    let deciders = deciders();
    let Some(decider) = deciders.get(usize::from(input.u8()) % deciders.len().max(1)) else {
        return;
    };
    let method = input.field16();
    let uri = input.field16();
    let headers = input.field16();
    let body = input.rest();
    let mut builder = http::Request::builder()
        .method(http::Method::from_bytes(method).unwrap_or(http::Method::GET))
        .uri(http::Uri::try_from(uri).unwrap_or_else(|_| http::Uri::from_static("/")));
    for line in headers.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) {
            builder = builder.header(name, value);
        }
    }
    let Ok(request) = builder.body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let body = if decider.needs_body(&parts) {
        body
    } else {
        &[]
    };
    let decided = decider.decide(&parts, body);
    match decided.outcome {
        Ok(context) => panic!("an unsigned request was allowed: {context:?}"),
        Err(denial) => {
            let _ = denial.reason().as_str();
            let _ = denial.debug_header();
        }
    }
}
