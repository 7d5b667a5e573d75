//! The reference control plane: issues warrants over HTTP to workloads it has
//! authenticated, from a policy file, with a capped TTL, signing with a key
//! from a mounted Secret; an admin can switch the signing key (rotation) and
//! revoke warrants (a signed revocation list, re-signed by the current key).
//!
//! - `POST /v1/warrants` (`Authorization: Bearer <workload token>`, body
//!   `{"holder": hex, "ttl_secs": n?}`) → `{"warrant", "warrant_id", "ttl_secs", "issuer"}`
//! - `GET /v1/revocations` → `{"revocations": base64}`
//! - `POST /admin/signing-key` `{"key_id"}`, `POST /admin/revoke` `{"warrant_id"}`
//!   (`Authorization: Bearer $ADMIN_TOKEN`)
//!
//! Workloads authenticate with a token file (`--tokens`, JSON token →
//! identity) offline, or with a Kubernetes TokenReview (`--token-review`, sent
//! to the API server with the pod's service account, see `token_review`) on a
//! cluster. An unknown token is 401, a workload the policy does not name 403.

// A binary's root resolves modules beside it: point into its own folder.
#[path = "shared/shutdown.rs"]
mod shutdown;
#[cfg(test)]
#[path = "control-plane/tests.rs"]
mod tests;
#[path = "control-plane/token_review.rs"]
mod token_review;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};
use tenuo_authz::crypto::{PublicKey, SigningKey};
use tenuo_authz::mint::Issue;
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::warrant::WarrantId;
use tenuo_e2e::Policy;
use token_review::{ReviewError, TokenReviewer};

#[derive(Parser, Debug)]
struct Args {
    /// Listen address.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// Policy file (JSON).
    #[arg(long, env = "CP_POLICY")]
    policy: PathBuf,
    /// Directory of signing keys (a mounted Secret: one hex seed per file).
    #[arg(long, env = "CP_KEYS_DIR")]
    keys_dir: PathBuf,
    /// The key (file name in keys-dir) signing at start.
    #[arg(long, env = "CP_SIGNING_KEY")]
    signing_key: String,
    /// Token file (JSON: token → workload identity).
    #[arg(long, env = "CP_TOKENS")]
    tokens: Option<PathBuf>,
    /// Authenticate workloads with a Kubernetes TokenReview instead.
    #[arg(long)]
    token_review: bool,
    /// Admin bearer token.
    #[arg(long, env = "ADMIN_TOKEN")]
    admin_token: String,
}

/// How workloads prove who they are.
enum Auth {
    /// A token file: token → identity.
    Tokens(BTreeMap<String, String>),
    /// Kubernetes TokenReview.
    TokenReview(TokenReviewer),
}

struct Cp {
    auth: Auth,
    policy: Policy,
    keys_dir: PathBuf,
    admin_token: String,
    key: Mutex<(String, SigningKey)>,
    revoked: Mutex<Vec<WarrantId>>,
    version: AtomicU64,
}

type Shared = Arc<Cp>;
type Reply = (StatusCode, Json<Value>);

fn err(status: StatusCode, message: impl std::fmt::Display) -> Reply {
    (status, Json(json!({"error": message.to_string()})))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn load_key(dir: &Path, id: &str) -> Result<SigningKey> {
    if id.contains('/') || id.contains("..") {
        anyhow::bail!("bad key id {id:?}");
    }
    let text = std::fs::read_to_string(dir.join(id)).with_context(|| format!("key {id}"))?;
    SigningKey::from_hex(text.trim()).with_context(|| format!("key {id} is not a hex seed"))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

impl Cp {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<String, Reply> {
        let token =
            bearer(headers).ok_or_else(|| err(StatusCode::UNAUTHORIZED, "no bearer token"))?;
        match &self.auth {
            Auth::Tokens(tokens) => tokens
                .get(token)
                .cloned()
                .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "unknown token")),
            Auth::TokenReview(reviewer) => reviewer.review(token).await.map_err(|e| match e {
                ReviewError::NotAuthenticated(why) => err(StatusCode::UNAUTHORIZED, why),
                ReviewError::Unavailable(e) => err(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("token review failed: {e:#}"),
                ),
            }),
        }
    }

    fn admin(&self, headers: &HeaderMap) -> Result<(), Reply> {
        match bearer(headers) {
            Some(t) if t == self.admin_token => Ok(()),
            _ => Err(err(StatusCode::UNAUTHORIZED, "admin token required")),
        }
    }

    fn revocations(&self) -> String {
        let ids = self.revoked.lock().map(|r| r.clone()).unwrap_or_default();
        let version = self.version.fetch_add(1, Ordering::SeqCst);
        let key = self.key.lock().map(|k| k.1.clone());
        match key {
            Ok(key) => SignedRevocationList::sign(&key, version, ids, now()).to_base64(),
            Err(_) => String::new(),
        }
    }
}

async fn issue(State(cp): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Reply {
    let identity = match cp.authenticate(&headers).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(workload) = cp.policy.workloads.get(&identity) else {
        return err(StatusCode::FORBIDDEN, format!("no policy for {identity}"));
    };
    let holder = match body["holder"].as_str().map(PublicKey::from_hex) {
        Some(Ok(k)) => k,
        _ => return err(StatusCode::BAD_REQUEST, "holder: a hex public key"),
    };
    let ttl = cp.policy.ttl_for(workload, body["ttl_secs"].as_u64());
    let mut issue = Issue::execution(holder).ttl_secs(ttl);
    for (tool, tp) in &workload.tools {
        match tp.constraints() {
            Ok(set) => issue = issue.tool(tool.clone(), set),
            Err(e) => return err(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        }
    }
    let Ok(key) = cp.key.lock().map(|k| k.1.clone()) else {
        return err(StatusCode::INTERNAL_SERVER_ERROR, "key lock");
    };
    match issue.sign(&key, now()) {
        Ok(w) => (
            StatusCode::OK,
            Json(
                json!({"warrant": w.to_base64url(), "warrant_id": w.id().to_string(),
                        "ttl_secs": ttl, "issuer": key.public_key().to_hex(),
                        "workload": identity}),
            ),
        ),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn switch_key(
    State(cp): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    if let Err(r) = cp.admin(&headers) {
        return r;
    }
    let id = body["key_id"].as_str().unwrap_or_default().to_owned();
    match load_key(&cp.keys_dir, &id) {
        Ok(key) => {
            let issuer = key.public_key().to_hex();
            if let Ok(mut k) = cp.key.lock() {
                *k = (id.clone(), key);
            }
            println!(
                "{}",
                json!({"event": "signing_key_switched", "key_id": id, "issuer": issuer})
            );
            (
                StatusCode::OK,
                Json(json!({"key_id": id, "issuer": issuer})),
            )
        }
        Err(e) => err(StatusCode::BAD_REQUEST, format!("{e:#}")),
    }
}

async fn revoke(State(cp): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Reply {
    if let Err(r) = cp.admin(&headers) {
        return r;
    }
    let Some(id) = parse_id(body["warrant_id"].as_str().unwrap_or_default()) else {
        return err(StatusCode::BAD_REQUEST, "warrant_id");
    };
    if let Ok(mut r) = cp.revoked.lock() {
        r.push(id);
    }
    (
        StatusCode::OK,
        Json(json!({"revocations": cp.revocations()})),
    )
}

/// `tnu_wrt_` + 32 hex digits.
fn parse_id(text: &str) -> Option<WarrantId> {
    let hex = text.strip_prefix(tenuo_authz::warrant::WARRANT_ID_PREFIX)?;
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(WarrantId(bytes))
}

async fn revocations(State(cp): State<Shared>) -> Reply {
    (
        StatusCode::OK,
        Json(json!({"revocations": cp.revocations()})),
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cp = Arc::new(control_plane(&args)?);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let issuer = cp
        .key
        .lock()
        .map(|k| k.1.public_key().to_hex())
        .unwrap_or_default();
    println!(
        "{}",
        json!({"event": "started", "listen": addr.to_string(), "issuer": issuer})
    );
    // In-flight requests finish; new connections are refused.
    axum::serve(listener, router(cp))
        .with_graceful_shutdown(shutdown::terminated()?)
        .await?;
    Ok(())
}

fn control_plane(args: &Args) -> Result<Cp> {
    let policy: Policy = serde_json::from_slice(&std::fs::read(&args.policy)?)
        .with_context(|| format!("policy {}", args.policy.display()))?;
    let auth = match (&args.tokens, args.token_review) {
        (Some(path), false) => {
            Auth::Tokens(serde_json::from_slice(&std::fs::read(path)?).context("token file")?)
        }
        (None, true) => Auth::TokenReview(TokenReviewer::in_cluster()?),
        _ => anyhow::bail!("give one of --tokens FILE or --token-review"),
    };
    let key = load_key(&args.keys_dir, &args.signing_key)?;
    Ok(Cp {
        auth,
        policy,
        keys_dir: args.keys_dir.clone(),
        admin_token: args.admin_token.clone(),
        key: Mutex::new((args.signing_key.clone(), key)),
        revoked: Mutex::new(Vec::new()),
        version: AtomicU64::new(1),
    })
}

fn router(cp: Shared) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/warrants", post(issue))
        .route("/v1/revocations", get(revocations))
        .route("/admin/signing-key", post(switch_key))
        .route("/admin/revoke", post(revoke))
        .with_state(cp)
}
