//! [`AuthzLayer`]: applies [`AuthzService`] to a service.

use std::sync::Arc;

use tower_layer::Layer;

use super::service::AuthzService;
use crate::engine::{AuthzConfig, ExtractCall, Observer, RequestAuthorizer};
use crate::Authorizer;

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
