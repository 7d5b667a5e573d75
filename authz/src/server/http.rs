//! The HTTP routes: health, readiness, `POST /v1/check`, and the gateway fallback
//! that decides any other request (Envoy ext_authz HTTP service, nginx
//! `auth_request`, or a proxy of its own).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::approval::{decode_approvals, ApprovalDenial, SignedApproval};
use crate::constraint::ArgValue;
use crate::deny::{Denial, ExtractError};
use crate::engine::{AuthzContext, RequestAuthorizer};
use crate::pop::Args;

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) decider: Arc<RequestAuthorizer>,
    pub(crate) ready: Arc<AtomicBool>,
    pub(crate) path_prefix: Option<Arc<str>>,
}

/// The decision routes of the main listener (the gRPC service is merged in by
/// the caller): `POST /v1/check` and the gateway fallback.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/check", post(check))
        .fallback(gateway)
        .with_state(state)
}

/// `GET /health` and `GET /ready` on the main listener. The caller keeps them
/// outside load shedding: a probe must still answer while every request slot
/// is taken, or an overloaded pod is restarted instead of relieved.
pub(crate) fn probes(state: AppState) -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/ready", get(ready))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not ready" })),
        )
            .into_response()
    }
}

/// Body of `POST /v1/check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    warrant: Option<String>,
    pop: Option<String>,
    tool: String,
    #[serde(default)]
    args: serde_json::Map<String, serde_json::Value>,
    /// Signed approvals: an array of strings, each the base64 (either alphabet)
    /// of the CBOR of one approval or of an array of them, as `X-Tenuo-Approvals`
    /// carries them.
    #[serde(default)]
    approvals: Vec<String>,
}

/// Every approval of the request, or why one does not decode.
fn decode_all(texts: &[String]) -> Result<Vec<SignedApproval>, Denial> {
    let mut approvals = Vec::new();
    for text in texts {
        approvals.extend(decode_approvals(text.trim()).map_err(ApprovalDenial::Undecodable)?);
    }
    Ok(approvals)
}

async fn check(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let limit = state.decider.config().max_body_bytes;
    let Some(bytes) = read_limited(body, limit).await else {
        return reject(
            &state,
            &parts,
            Denial::Request(ExtractError::BodyTooLarge { limit }),
        );
    };
    let request: CheckRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(error) => {
            let problem = ExtractError::CheckBody {
                detail: error.to_string(),
            };
            return reject(&state, &parts, Denial::Request(problem));
        }
    };
    let mut args = Args::new();
    for (name, value) in &request.args {
        match ArgValue::from_json(value) {
            Ok(value) => {
                args.insert(name.clone(), value);
            }
            Err(error) => {
                let problem = ExtractError::ArgumentValue {
                    argument: name.clone(),
                    source: error,
                };
                return reject(&state, &parts, Denial::Request(problem));
            }
        }
    }
    let authorizer = state.decider.authorizer();
    let has_warrant = request
        .warrant
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    let outcome = match decode_all(&request.approvals) {
        // A missing warrant is the answer before anything the call carries.
        Err(denial) if has_warrant => Err(denial),
        decoded => authorizer.authorize_with_approvals(
            request.warrant.as_deref(),
            &request.tool,
            &args,
            request.pop.as_deref(),
            &decoded.unwrap_or_default(),
        ),
    };
    let request_id = state.decider.request_id_of(&parts);
    let outcome = outcome.map(|allowed| AuthzContext::from_allowed(allowed, request_id.clone()));
    state
        .decider
        .record(Some(&request.tool), outcome.as_ref(), started, &request_id);
    match outcome {
        Ok(context) => Json(serde_json::json!({
            "authorized": true,
            "warrant_id": context.warrant_id.to_string(),
            "tool": context.tool,
            "ttl_remaining_secs": context.ttl_remaining_secs,
            "depth": context.depth,
            "request_id": context.request_id,
        }))
        .into_response(),
        Err(denial) => state
            .decider
            .deny_response(&denial, &request_id)
            .map(Body::new)
            .into_response(),
    }
}

/// Reads a body of at most `limit` bytes. A body that declares more (its
/// `Content-Length`) is refused before a byte is read, so a client cannot hold a
/// request open for a body it would never be allowed to send.
async fn read_limited(body: Body, limit: usize) -> Option<Bytes> {
    if http_body::Body::size_hint(&body).lower() > limit as u64 {
        return None;
    }
    http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes())
}

fn reject(state: &AppState, parts: &axum::http::request::Parts, denial: Denial) -> Response {
    let request_id = state.decider.reject(parts, &denial);
    state
        .decider
        .deny_response(&denial, &request_id)
        .map(Body::new)
        .into_response()
}

/// Any other request: the gateway decision. Allowed requests get 200 and the
/// verified facts as headers (Envoy can forward them upstream).
async fn gateway(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    original_request(&mut parts, state.path_prefix.as_deref());
    let bytes = if state.decider.needs_body(&parts) {
        let limit = state.decider.config().max_body_bytes;
        match read_limited(body, limit).await {
            Some(bytes) => bytes,
            None => {
                return reject(
                    &state,
                    &parts,
                    Denial::Request(ExtractError::BodyTooLarge { limit }),
                )
            }
        }
    } else {
        Bytes::new()
    };
    let decided = state.decider.decide_batched(&parts, &bytes).await;
    match decided.outcome {
        Ok(context) => {
            let mut response = StatusCode::OK.into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&context.warrant_id.to_string()) {
                headers.insert("x-tenuo-warrant-id", value);
            }
            if let Ok(value) = HeaderValue::from_str(&context.tool) {
                headers.insert("x-tenuo-tool", value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(denial) => state
            .decider
            .deny_response(&denial, &decided.request_id)
            .map(Body::new)
            .into_response(),
    }
}

/// Recovers the request being authorized: nginx `auth_request` sends it in
/// `X-Original-URI`/`X-Original-Method`; Envoy's HTTP ext_authz prefixes the path.
fn original_request(parts: &mut axum::http::request::Parts, prefix: Option<&str>) {
    if let Some(uri) = parts
        .headers
        .get("x-original-uri")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Uri>().ok())
    {
        parts.uri = uri;
    } else if let Some(prefix) = prefix {
        if let Some(stripped) = parts
            .uri
            .path_and_query()
            .and_then(|pq| pq.as_str().strip_prefix(prefix))
        {
            let rebuilt = if stripped.starts_with('/') {
                stripped.to_owned()
            } else {
                format!("/{stripped}")
            };
            if let Ok(uri) = rebuilt.parse::<Uri>() {
                parts.uri = uri;
            }
        }
    }
    if let Some(method) = parts
        .headers
        .get("x-original-method")
        .and_then(|v| axum::http::Method::from_bytes(v.as_bytes()).ok())
    {
        parts.method = method;
    }
}
