//! [`AuthzLayer`]: applies [`AuthzService`] to a service.

use std::marker::PhantomData;
use std::sync::Arc;

use tower_layer::Layer;

use super::body_access::{FromHead, HeadersOnly, ReadsBody};
use super::service::AuthzService;
use crate::engine::{AuthzConfig, ExtractCall, ExtractError, Observer, RequestAuthorizer};
use crate::pop::Args;
use crate::Authorizer;

/// Applies [`AuthzService`] to a service. `M` is [`ReadsBody`] or [`HeadersOnly`]:
/// whether the request body may be read to find the call.
pub struct AuthzLayer<M = ReadsBody> {
    pub(crate) shared: Arc<RequestAuthorizer>,
    // `fn() -> M`: the mode is a marker, so the layer is Send + Sync whatever `M` is.
    mode: PhantomData<fn() -> M>,
}

impl<M> Clone for AuthzLayer<M> {
    fn clone(&self) -> Self {
        Self::with_shared(Arc::clone(&self.shared))
    }
}

impl AuthzLayer<HeadersOnly> {
    /// Authorizes with `authorizer`, mapping each request head to a call with
    /// `extractor`. The body is never read: the inner service receives the request
    /// exactly as it came, whatever its body type.
    pub fn headers_only<F>(authorizer: Arc<Authorizer>, extractor: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Result<(String, Args), ExtractError>
            + Send
            + Sync
            + 'static,
    {
        Self::with_shared(Arc::new(RequestAuthorizer::new(
            authorizer,
            Arc::new(FromHead(extractor)),
            Arc::new(()),
            AuthzConfig::default(),
        )))
    }
}

impl AuthzLayer {
    /// Authorizes with `authorizer`, mapping requests to calls with `extractor`,
    /// which may ask for the body ([`ExtractCall::needs_body`]).
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
        Self::with_shared(Arc::new(RequestAuthorizer::new(
            authorizer, extractor, observer, config,
        )))
    }

    /// A layer around an existing [`RequestAuthorizer`] (shared with other front
    /// ends, such as a gRPC service, so they decide alike).
    pub fn from_request_authorizer(shared: Arc<RequestAuthorizer>) -> Self {
        Self::with_shared(shared)
    }
}

impl<M> AuthzLayer<M> {
    fn with_shared(shared: Arc<RequestAuthorizer>) -> Self {
        Self {
            shared,
            mode: PhantomData,
        }
    }

    /// Replaces the settings.
    pub fn config(self, config: AuthzConfig) -> Self {
        Self::with_shared(Arc::new(self.shared.with_config(config)))
    }

    /// Sets an observer of every decision (metrics).
    pub fn observer(self, observer: impl Observer) -> Self {
        Self::with_shared(Arc::new(self.shared.with_observer(Arc::new(observer))))
    }
}

impl<M> std::fmt::Debug for AuthzLayer<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzLayer")
            .field("config", self.shared.config())
            .finish_non_exhaustive()
    }
}

impl<S, M> Layer<S> for AuthzLayer<M> {
    type Service = AuthzService<S, M>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthzService::from_parts(inner, Arc::clone(&self.shared))
    }
}

/// The constructors tower-http's middleware have, here because they build the layer.
impl<S> AuthzService<S> {
    /// Authorizes requests for `inner` with `authorizer`, mapping them to calls with
    /// `extractor` (default settings, no observer).
    pub fn new(inner: S, authorizer: Arc<Authorizer>, extractor: impl ExtractCall) -> Self {
        AuthzLayer::new(authorizer, extractor).layer(inner)
    }

    /// The layer that builds this service, as tower-http's middleware offer it:
    /// `AuthzService::<S>::layer(authorizer, extractor)`, the same as [`AuthzLayer::new`].
    pub fn layer(authorizer: Arc<Authorizer>, extractor: impl ExtractCall) -> AuthzLayer {
        AuthzLayer::new(authorizer, extractor)
    }
}

impl<S> AuthzService<S, HeadersOnly> {
    /// Authorizes requests for `inner`, mapping each request head to a call with
    /// `extractor`; the body is never read (see [`AuthzLayer::headers_only`]).
    pub fn headers_only<F>(inner: S, authorizer: Arc<Authorizer>, extractor: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Result<(String, Args), ExtractError>
            + Send
            + Sync
            + 'static,
    {
        AuthzLayer::headers_only(authorizer, extractor).layer(inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CallRequest, ExtractError};
    use crate::pop::Args;

    fn no_call(_: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        Err(ExtractError::BodyUnreadable)
    }

    #[test]
    fn the_service_is_built_and_unwrapped_as_tower_http_middleware_are() {
        let authorizer = Arc::new(Authorizer::builder().build_unchecked());
        let mut service = AuthzService::new(7_u32, Arc::clone(&authorizer), no_call);
        assert_eq!(*service.get_ref(), 7);
        *service.get_mut() += 1;
        assert_eq!(service.into_inner(), 8);
        let layered = AuthzService::<&str>::layer(authorizer, no_call).layer("inner");
        assert_eq!(layered.into_inner(), "inner");
    }
}
