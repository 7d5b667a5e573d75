//! [`AuthzLayer`] and its settings.

use std::sync::Arc;

use tower_layer::Layer;

use super::context::Observer;
use super::extract::ExtractCall;
use super::request::RequestAuthorizer;
use super::service::AuthzService;
use crate::Authorizer;

/// Settings of the middleware. Defaults follow `docs/reference.md` §1 and the Tenuo SDKs.
#[derive(Debug, Clone)]
pub struct AuthzConfig {
    /// Header carrying the warrant or stack (default `x-tenuo-warrant`).
    pub warrant_header: http::HeaderName,
    /// Header carrying the PoP signature (default `x-tenuo-pop`).
    pub pop_header: http::HeaderName,
    /// Header carrying signed approvals (default `x-tenuo-approvals`): base64 of
    /// the CBOR of one approval or an array of them.
    pub approval_header: http::HeaderName,
    /// Header whose value becomes the request id (default `x-request-id`); one is
    /// generated when absent.
    pub request_id_header: http::HeaderName,
    /// Add `X-Tenuo-Deny-Reason` and detailed messages to denials. Never in production.
    pub debug: bool,
    /// Largest request body read for extraction (default 1 MiB).
    pub max_body_bytes: usize,
}

impl Default for AuthzConfig {
    fn default() -> Self {
        Self {
            warrant_header: http::HeaderName::from_static("x-tenuo-warrant"),
            pop_header: http::HeaderName::from_static("x-tenuo-pop"),
            approval_header: http::HeaderName::from_static("x-tenuo-approvals"),
            request_id_header: http::HeaderName::from_static("x-request-id"),
            debug: false,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Applies [`AuthzService`] to a service.
#[derive(Clone)]
pub struct AuthzLayer {
    pub(crate) shared: Arc<RequestAuthorizer>,
}

impl AuthzLayer {
    /// Authorizes with `authorizer`, mapping requests to calls with `extractor`.
    pub fn new(authorizer: Arc<Authorizer>, extractor: impl ExtractCall) -> Self {
        Self::from_parts(
            authorizer,
            Arc::new(extractor),
            Arc::new(()),
            AuthzConfig::default(),
        )
    }

    /// From shared parts (a gateway config or observer already behind `Arc`).
    pub fn from_parts(
        authorizer: Arc<Authorizer>,
        extractor: Arc<dyn ExtractCall>,
        observer: Arc<dyn Observer>,
        config: AuthzConfig,
    ) -> Self {
        Self {
            shared: Arc::new(RequestAuthorizer::new(
                authorizer, extractor, observer, config,
            )),
        }
    }

    /// A layer around an existing [`RequestAuthorizer`] (shared with other front
    /// ends, such as a gRPC service, so they decide alike).
    pub fn from_request_authorizer(shared: Arc<RequestAuthorizer>) -> Self {
        Self { shared }
    }

    /// Replaces the settings.
    pub fn config(self, config: AuthzConfig) -> Self {
        Self {
            shared: Arc::new(self.shared.with_config(config)),
        }
    }

    /// Sets an observer of every decision (metrics).
    pub fn observer(self, observer: impl Observer) -> Self {
        Self {
            shared: Arc::new(self.shared.with_observer(Arc::new(observer))),
        }
    }
}

impl std::fmt::Debug for AuthzLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzLayer")
            .field("config", self.shared.config())
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for AuthzLayer {
    type Service = AuthzService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthzService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}
