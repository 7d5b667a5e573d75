//! Workload authentication by Kubernetes TokenReview, sent straight to the API
//! server over HTTPS with the pod's own service account token and the cluster
//! CA (the in-cluster credentials every pod is given), so the control plane
//! needs no kubectl, no kubeconfig and no writable HOME in its non-root,
//! read-only container.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Where Kubernetes mounts a pod's service account credentials.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Why a token was not accepted.
#[derive(Debug)]
pub(crate) enum ReviewError {
    /// The API server says the token is not valid: the caller's fault (401).
    NotAuthenticated(String),
    /// The review itself failed (network, RBAC, a bad reply): ours (503).
    Unavailable(anyhow::Error),
}

/// A TokenReview client.
pub(crate) struct TokenReviewer {
    client: reqwest::Client,
    url: String,
    /// Read on every review: bound service account tokens are rotated by the
    /// kubelet, so a copy taken at start would expire.
    own_token: PathBuf,
}

impl TokenReviewer {
    /// From the pod's environment: `KUBERNETES_SERVICE_HOST`/`_PORT`, and the
    /// token and `ca.crt` of the mounted service account.
    pub(crate) fn in_cluster() -> Result<Self> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST")
            .context("KUBERNETES_SERVICE_HOST is not set: --token-review runs in a pod")?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        let host = if host.contains(':') {
            format!("[{host}]") // IPv6
        } else {
            host
        };
        let dir = Path::new(SERVICE_ACCOUNT_DIR);
        let ca = std::fs::read(dir.join("ca.crt"))
            .with_context(|| format!("reading {}/ca.crt", dir.display()))?;
        Self::new(
            format!("https://{host}:{port}"),
            Some(&ca),
            dir.join("token"),
        )
    }

    /// Against `base` (the API server's URL), trusting only `ca_pem` when
    /// given, authenticating with the token in `own_token`.
    pub(crate) fn new(base: String, ca_pem: Option<&[u8]>, own_token: PathBuf) -> Result<Self> {
        // Never through an HTTP(S)_PROXY: the API server is in the cluster.
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10));
        if let Some(pem) = ca_pem {
            let ca = reqwest::Certificate::from_pem(pem).context("the cluster CA")?;
            builder = builder.tls_certs_only([ca]);
        }
        Ok(Self {
            client: builder.build().context("the TokenReview client")?,
            url: format!(
                "{}/apis/authentication.k8s.io/v1/tokenreviews",
                base.trim_end_matches('/')
            ),
            own_token,
        })
    }

    /// The workload identity (`system:serviceaccount:<ns>:<name>`) of `token`.
    pub(crate) async fn review(&self, token: &str) -> Result<String, ReviewError> {
        let reply = self.send(token).await.map_err(ReviewError::Unavailable)?;
        let status = &reply["status"];
        if status["authenticated"] != true {
            let why = status["error"].as_str().unwrap_or("not authenticated");
            return Err(ReviewError::NotAuthenticated(why.to_owned()));
        }
        status["user"]["username"]
            .as_str()
            .map(str::to_owned)
            .context("the TokenReview names no user")
            .map_err(ReviewError::Unavailable)
    }

    async fn send(&self, token: &str) -> Result<Value> {
        // A small file on a tmpfs: reading it blocks for microseconds.
        let own = std::fs::read_to_string(&self.own_token)
            .with_context(|| format!("reading {}", self.own_token.display()))?;
        let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                            "spec": {"token": token}});
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(own.trim())
            .json(&review)
            .send()
            .await
            .with_context(|| format!("POST {}", self.url))?;
        let status = response.status();
        let text = response.text().await.context("the TokenReview reply")?;
        if !status.is_success() {
            bail!("the API server answered {status}: {text}");
        }
        serde_json::from_str(&text).context("the TokenReview reply is not JSON")
    }
}
