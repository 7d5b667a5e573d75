//! The conformance suite through the HTTP decision engine the server runs: every
//! case of `conformance.rs` (whose decisions agree with the reference's) becomes an
//! HTTP request (token text in `X-Tenuo-Warrant`, `X-Tenuo-PoP`,
//! `X-Tenuo-Approvals`, the arguments as a JSON body) answered by `AuthzLayer` over
//! an `Authorizer` at the case's instant, with the case's trusted roots and a
//! signed revocation list of its revoked ids; the answer must be the case's
//! expected outcome and reason. The server binary wraps this same engine
//! (`RequestAuthorizer`) but reads the wall clock, so the suite's fixed instants
//! are decided here, in process.
//!
//! As in `conformance_cli.rs`, every other token is sent in padded standard
//! base64, and `conformance/as_text.rs` decides the byte inputs that mean
//! something else as text and names the cases JSON cannot spell.

#[path = "conformance/all.rs"]
mod all;
#[path = "conformance/approvals.rs"]
mod approvals;
#[path = "conformance/as_text.rs"]
mod as_text;
#[path = "conformance/calls.rs"]
mod calls;
#[path = "conformance/chains.rs"]
mod chains;
#[path = "conformance/common.rs"]
mod common;
#[path = "conformance/coverage.rs"]
mod coverage;
#[allow(dead_code)] // the runner here is the tower stack, not `harness::run`
#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/numbers.rs"]
mod numbers;
#[path = "conformance/shlex.rs"]
mod shlex;

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tenuo_authz::batch::{BatchConfig, PopBatch};
use tenuo_authz::constraint::ArgValue;
use tenuo_authz::engine::RequestAuthorizer;
use tenuo_authz::pop::Args;
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::tower::{AuthzConfig, AuthzLayer, CallRequest, ExtractCall, ExtractError};
use tenuo_authz::{Authorizer, DenyReason};
use tower::{ServiceBuilder, ServiceExt};

use common::{ok, pk};
use harness::Case;

/// Tool in `X-Tool`, arguments as the JSON object body.
struct JsonCall;

impl ExtractCall for JsonCall {
    fn needs_body(&self, _: &http::request::Parts) -> bool {
        true
    }

    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        let tool = request
            .parts
            .headers
            .get("x-tool")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let json: serde_json::Value = serde_json::from_slice(request.body).unwrap_or_default();
        let args = json
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), ArgValue::from_json(v).unwrap_or(ArgValue::Null)))
            .collect();
        Ok((tool, args))
    }
}

/// An authorizer at the case's instant, with its trusted roots and revocations.
fn authorizer_for(case: &Case) -> Result<Authorizer, String> {
    let input = &case.input;
    let now = input.now;
    let authorizer = Authorizer::builder()
        .trusted_issuers(input.trusted.iter().map(|seed| pk(*seed)))
        .clock(move || now)
        .build_unchecked();
    if !input.revoked.is_empty() {
        // Signed by a trusted key, as the server requires of a list it installs.
        let signer = input
            .trusted
            .first()
            .ok_or("revocations without a trusted key")?;
        let list = SignedRevocationList::sign(
            &ok(*signer),
            1,
            input.revoked.iter().copied(),
            now.max(0) as u64,
        );
        authorizer
            .install_revocation_list(&list)
            .map_err(|e| e.to_string())?;
    }
    Ok(authorizer)
}

/// The case as an HTTP request; `standard` sends the token in padded standard base64.
fn request_for(case: &Case, standard: bool) -> Result<Request<Full<Bytes>>, String> {
    let input = &case.input;
    let body = serde_json::Value::Object(
        input
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
    .to_string();
    let mut request = Request::post("/call").header("x-tool", &input.tool);
    if !case.withheld {
        let token = if standard {
            base64::engine::general_purpose::STANDARD.encode(&input.stack)
        } else {
            tenuo_authz::wire::encode_base64url(&input.stack)
        };
        request = request.header("x-tenuo-warrant", token);
    }
    if let Some(pop) = input.pop {
        request = request.header("x-tenuo-pop", hex::encode(pop));
    }
    if !input.approvals.is_empty() {
        // The header's array form: a CBOR array head, then each approval's CBOR.
        let mut array = vec![0x80 | input.approvals.len() as u8];
        array.extend(input.approvals.iter().flatten());
        let text = base64::engine::general_purpose::STANDARD.encode(array);
        request = request.header("x-tenuo-approvals", text);
    }
    request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())
}

/// The engine's verdict on one case, through `AuthzLayer`.
async fn decide(case: &Case, standard: bool) -> Result<Option<DenyReason>, String> {
    let request = request_for(case, standard)?;
    let service = ServiceBuilder::new()
        .layer(AuthzLayer::new(Arc::new(authorizer_for(case)?), JsonCall))
        .service_fn(|_| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) });
    let response = service
        .oneshot(request)
        .await
        .map_err(|e| -> String { match e {} })?;
    if response.status().is_success() {
        return Ok(None);
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    json["reason"]
        .as_str()
        .and_then(DenyReason::parse)
        .map(Some)
        .ok_or_else(|| format!("no reason in {json}"))
}

/// The engine's verdicts on one case as the server decides it
/// (`decide_batched`, signatures in the shared batches): the first request
/// brings a chain the cache has not seen, the second finds it cached.
async fn decide_batched(
    case: &Case,
    standard: bool,
    batch: &PopBatch,
) -> Result<[Option<DenyReason>; 2], String> {
    let engine = RequestAuthorizer::new(
        Arc::new(authorizer_for(case)?),
        Arc::new(JsonCall),
        Arc::new(()),
        AuthzConfig::default(),
    )
    .with_pop_batch(batch.clone());
    let (parts, body) = request_for(case, standard)?.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| -> String { match e {} })?
        .to_bytes();
    let mut verdicts = [None, None];
    for verdict in &mut verdicts {
        let decided = engine.decide_batched(&parts, &body).await;
        *verdict = decided.outcome.err().map(|denial| denial.reason());
    }
    Ok(verdicts)
}

#[test]
fn the_http_engine_decides_every_conformance_case() {
    let (cases, unspellable) = as_text::cases();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let failures: Vec<String> = runtime.block_on(async {
        let batch = PopBatch::spawn_on(BatchConfig::default(), &tokio::runtime::Handle::current());
        let mut failures = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let expected = as_text::expected(case);
            let mut verdicts = vec![("tower", decide(case, i % 2 == 1).await)];
            match decide_batched(case, i % 2 == 1, &batch).await {
                Ok([new, cached]) => {
                    verdicts.push(("batched, new chain", Ok(new)));
                    verdicts.push(("batched, cached chain", Ok(cached)));
                }
                Err(why) => verdicts.push(("batched", Err(why))),
            }
            for (path, verdict) in verdicts {
                match verdict {
                    Ok(got) if got == expected => {}
                    Ok(got) => failures.push(format!(
                        "{} / {}: engine ({path}) {got:?}, expected {expected:?}",
                        case.category, case.what,
                    )),
                    Err(why) => {
                        failures.push(format!("{} / {} ({path}): {why}", case.category, case.what))
                    }
                }
            }
        }
        failures
    });
    eprintln!(
        "the HTTP engine decided {} conformance cases; left out, no JSON spelling: {unspellable:?}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
