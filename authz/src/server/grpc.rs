//! Envoy's ext_authz gRPC service, `envoy.service.auth.v3.Authorization/Check`.
//!
//! [`ExtAuthz`] turns the `CheckRequest`'s HTTP attributes back into an HTTP
//! request head (and body) and decides it with the same
//! [`RequestAuthorizer`] as the HTTP gateway, so both front ends log, count and
//! decide alike:
//!
//! - allowed: status `OK`, and an `OkHttpResponse` that sets `x-tenuo-warrant-id`
//!   and `x-tenuo-tool` on the request sent upstream (overwriting any value the
//!   client sent);
//! - denied: status `UNAUTHENTICATED` (missing or undecodable warrant) or
//!   `PERMISSION_DENIED`, and a `DeniedHttpResponse` with the HTTP gateway's
//!   status (401, 400 or 403), headers and JSON body (`docs/reference.md` §2).
//!
//! A denial is always a `CheckResponse`, never a gRPC error: Envoy applies
//! `failure_mode_allow` to errors, and a denial must not fail open. A malformed
//! `CheckRequest` (no HTTP attributes) is denied the same way, as a request
//! without a warrant.

mod request;
mod response;

use std::sync::Arc;

use envoy_types::pb::envoy::service::auth::v3::authorization_server::{
    Authorization, AuthorizationServer,
};
use envoy_types::pb::envoy::service::auth::v3::{CheckRequest, CheckResponse};

use crate::deny::Denial;
use crate::engine::RequestAuthorizer;

/// Header set on allowed requests for the upstream: the leaf warrant's id.
pub const WARRANT_ID_HEADER: &str = "x-tenuo-warrant-id";
/// Header set on allowed requests for the upstream: the tool called.
pub const TOOL_HEADER: &str = "x-tenuo-tool";
/// Largest `CheckRequest` accepted off the wire when the body limit is small.
pub const MIN_DECODE_LIMIT: usize = 4 * 1024 * 1024;
/// Largest `CheckResponse` sent (a denial body is well under 4 KiB).
pub const ENCODE_LIMIT: usize = 1024 * 1024;

/// The ext_authz `Authorization` service, deciding with a shared [`RequestAuthorizer`].
#[derive(Debug, Clone)]
pub struct ExtAuthz {
    decider: Arc<RequestAuthorizer>,
    upstream_headers: bool,
}

impl ExtAuthz {
    /// A service deciding with `decider` (shared with the HTTP front end).
    pub fn new(decider: Arc<RequestAuthorizer>) -> Self {
        Self {
            decider,
            upstream_headers: true,
        }
    }

    /// Whether allowed requests carry [`WARRANT_ID_HEADER`] and [`TOOL_HEADER`]
    /// upstream (default on). When off, those headers are removed from the
    /// request instead, so a client cannot forge them.
    pub fn upstream_headers(mut self, on: bool) -> Self {
        self.upstream_headers = on;
        self
    }

    /// The tonic service, with bounded message sizes: requests up to 4 MiB, or
    /// the configured body limit plus 1 MiB of headers if that is larger;
    /// responses up to 1 MiB.
    pub fn into_service(self) -> AuthorizationServer<Self> {
        let decode = self
            .decider
            .config()
            .max_body_bytes
            .saturating_add(1024 * 1024)
            .max(MIN_DECODE_LIMIT);
        AuthorizationServer::new(self)
            .max_decoding_message_size(decode)
            .max_encoding_message_size(ENCODE_LIMIT)
    }

    /// Decides one `CheckRequest`. Never fails: every problem is a denial.
    pub async fn decide(&self, check: &CheckRequest) -> CheckResponse {
        let decider = &self.decider;
        let http = check
            .attributes
            .as_ref()
            .and_then(|a| a.request.as_ref())
            .and_then(|r| r.http.as_ref());
        let Some(http) = http else {
            // Nothing to authorize: decide an empty request (a missing warrant),
            // so the denial is logged and counted like any other.
            let (parts, ()) = http::Request::new(()).into_parts();
            let decided = decider.decide(&parts, &[]);
            let denial = decided.outcome.err().unwrap_or(Denial::MissingWarrant);
            return response::denied(
                decider,
                &denial,
                &decided.request_id,
                "CheckRequest carries no HTTP request attributes",
            )
            .await;
        };
        let parts = match request::to_parts(http, decider.config()) {
            Ok(parts) => parts,
            Err(malformed) => {
                let (parts, denial) = *malformed;
                let request_id = decider.reject(&parts, &denial);
                return response::denied(decider, &denial, &request_id, "").await;
            }
        };
        let body: &[u8] = if decider.needs_body(&parts) {
            match request::body(http, &parts, decider.config().max_body_bytes) {
                Ok(body) => body,
                Err(problem) => {
                    let denial = Denial::Request(problem);
                    let request_id = decider.reject(&parts, &denial);
                    return response::denied(decider, &denial, &request_id, "").await;
                }
            }
        } else {
            &[]
        };
        // As the HTTP front end decides: the same PoP batches, criterion and off-worker
        // chain verification, so a verdict never depends on which protocol asked.
        let decided = decider.decide_batched(&parts, body).await;
        match decided.outcome {
            Ok(context) => response::allowed(&context, self.upstream_headers),
            Err(denial) => response::denied(decider, &denial, &decided.request_id, "").await,
        }
    }
}

#[tonic::async_trait]
impl Authorization for ExtAuthz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(self.decide(request.get_ref()).await))
    }
}
