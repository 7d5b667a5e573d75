//! The control plane's caps and refusals, through its handlers; the
//! TokenReview client against a stand-in API server on loopback.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::http::HeaderValue;
use tenuo_authz::wire::decode_token;
use tenuo_e2e::{ToolPolicy, WorkloadPolicy};

use super::*;

const READER: &str = "system:serviceaccount:agents:reader";
const STRANGER: &str = "system:serviceaccount:agents:intruder";

/// A test's directory, removed when the test ends (it holds a signing seed).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cp-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn policy() -> Policy {
    let reader = WorkloadPolicy {
        tools: BTreeMap::from([(
            "read_file".to_owned(),
            ToolPolicy {
                patterns: BTreeMap::from([("path".to_owned(), "/data/*".to_owned())]),
            },
        )]),
        max_ttl_secs: 60,
    };
    Policy {
        max_ttl_secs: 300,
        workloads: BTreeMap::from([(READER.to_owned(), reader)]),
    }
}

/// The control plane, and its keys directory (kept while the test runs).
fn control_plane(name: &str) -> (Shared, Scratch) {
    let scratch = Scratch::new(name);
    let keys_dir = scratch.0.clone();
    let key = SigningKey::generate().unwrap();
    std::fs::write(keys_dir.join("old"), key.to_hex().as_str()).unwrap();
    let cp = Arc::new(Cp {
        auth: Auth::Tokens(BTreeMap::from([
            ("tok-reader".to_owned(), READER.to_owned()),
            ("tok-stranger".to_owned(), STRANGER.to_owned()),
        ])),
        policy: policy(),
        keys_dir,
        admin_token: "admin".to_owned(),
        key: Mutex::new(("old".to_owned(), key)),
        revoked: Mutex::new(Vec::new()),
        version: AtomicU64::new(1),
    });
    (cp, scratch)
}

fn bearer_headers(token: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(t) = token {
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
        );
    }
    h
}

async fn ask(cp: &Shared, token: Option<&str>, ttl: Option<u64>) -> (StatusCode, Value) {
    let holder = SigningKey::generate().unwrap().public_key().to_hex();
    let body = json!({"holder": holder, "ttl_secs": ttl});
    let (status, Json(v)) = issue(State(cp.clone()), bearer_headers(token), Json(body)).await;
    (status, v)
}

/// The lifetime written into the warrant itself.
fn lifetime(reply: &Value) -> u64 {
    let (_, chain) = decode_token(reply["warrant"].as_str().unwrap()).unwrap();
    let p = chain.last().unwrap().payload();
    p.expires_at - p.issued_at
}

#[tokio::test]
async fn a_ttl_above_the_workloads_cap_is_cut_to_the_cap() {
    let (cp, _keys) = control_plane("cap");
    let (status, reply) = ask(&cp, Some("tok-reader"), Some(3600)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(lifetime(&reply), 60);
    assert_eq!(reply["ttl_secs"], 60);
    // Under the cap, the ask; no ask, the cap.
    let (_, reply) = ask(&cp, Some("tok-reader"), Some(30)).await;
    assert_eq!(lifetime(&reply), 30);
    let (_, reply) = ask(&cp, Some("tok-reader"), None).await;
    assert_eq!(lifetime(&reply), 60);
}

#[tokio::test]
async fn unknown_or_missing_credentials_are_401() {
    let (cp, _keys) = control_plane("401");
    for token in [Some("tok-nobody"), Some(""), None] {
        let (status, reply) = ask(&cp, token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {reply}");
        assert!(reply.get("warrant").is_none());
    }
}

#[tokio::test]
async fn a_workload_without_policy_is_403() {
    let (cp, _keys) = control_plane("403");
    let (status, reply) = ask(&cp, Some("tok-stranger"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    assert!(reply.get("warrant").is_none());
}

/// A stand-in API server: accepts the control plane's own token only, and
/// says `good` is the reader and anything else is not authenticated.
async fn api_server() -> std::net::SocketAddr {
    async fn review(headers: HeaderMap, Json(body): Json<Value>) -> Reply {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer own-sa") {
            return err(StatusCode::FORBIDDEN, "forbidden");
        }
        let status = match body["spec"]["token"].as_str() {
            Some("good") => json!({"authenticated": true, "user": {"username": READER}}),
            _ => json!({"authenticated": false, "error": "invalid bearer token"}),
        };
        (
            StatusCode::CREATED,
            Json(json!({"kind": "TokenReview", "status": status})),
        )
    }
    let app = Router::new().route("/apis/authentication.k8s.io/v1/tokenreviews", post(review));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn token_review_names_the_workload_or_refuses_the_token() {
    let addr = api_server().await;
    let dir = Scratch::new("review");
    let own = dir.0.join("token");
    std::fs::write(&own, "own-sa\n").unwrap();
    let reviewer = TokenReviewer::new(format!("http://{addr}"), None, own.clone()).unwrap();
    assert_eq!(reviewer.review("good").await.unwrap(), READER);
    assert!(matches!(
        reviewer.review("forged").await,
        Err(ReviewError::NotAuthenticated(_))
    ));
    // Its own token is read per review: a rotated token is used at once.
    std::fs::write(&own, "rotated").unwrap();
    assert!(matches!(
        reviewer.review("good").await,
        Err(ReviewError::Unavailable(_))
    ));
}
