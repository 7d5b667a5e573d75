//! [`AuthzService`]: decides each request, then calls the inner service or answers
//! the denial itself.

use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use tower_service::Service;

use super::body::{AuthzRequestBody, AuthzResponseBody};
use super::body_access::{HeadersOnly, ReadsBody};
use super::future::ResponseFuture;
use crate::deny::Denial;
use crate::engine::{ExtractError, RequestAuthorizer};

/// Authorizes requests for an inner service. Built by [`AuthzLayer`](super::AuthzLayer),
/// or directly with [`AuthzService::new`] or [`AuthzService::headers_only`]. `M`
/// says whether the body may be read ([`ReadsBody`], [`HeadersOnly`]).
pub struct AuthzService<S, M = ReadsBody> {
    inner: S,
    shared: Arc<RequestAuthorizer>,
    mode: PhantomData<fn() -> M>,
}

impl<S: Clone, M> Clone for AuthzService<S, M> {
    fn clone(&self) -> Self {
        Self::from_parts(self.inner.clone(), Arc::clone(&self.shared))
    }
}

impl<S, M> AuthzService<S, M> {
    pub(crate) fn from_parts(inner: S, shared: Arc<RequestAuthorizer>) -> Self {
        Self {
            inner,
            shared,
            mode: PhantomData,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, M> std::fmt::Debug for AuthzService<S, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzService")
            .field("config", self.shared.config())
            .finish_non_exhaustive()
    }
}

/// Header-only: the request goes on untouched (no body wrapper, no bounds on the
/// body or the inner service beyond being one).
impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthzService<S, HeadersOnly>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<AuthzResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        decide_on_head(&self.shared, &mut self.inner, parts, body)
    }
}

/// Decides on the request head alone, then calls `inner` with the context in the
/// request's extensions, or answers the denial without calling it.
fn decide_on_head<S, B, ResBody>(
    shared: &RequestAuthorizer,
    inner: &mut S,
    mut parts: http::request::Parts,
    body: B,
) -> ResponseFuture<S::Future, ResBody, S::Error>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    let decided = shared.decide(&parts, &[]);
    match decided.outcome {
        Ok(context) => {
            parts.extensions.insert(context);
            ResponseFuture::inner(inner.call(Request::from_parts(parts, body)))
        }
        Err(denial) => ResponseFuture::denied(shared.deny_response(&denial, &decided.request_id)),
    }
}

/// May read the body: when the extractor asks for it, the body is buffered (up to
/// [`AuthzConfig::max_body_bytes`](crate::engine::AuthzConfig)) before the decision
/// and replayed to the inner service.
impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthzService<S, ReadsBody>
where
    S: Service<Request<AuthzRequestBody<ReqBody>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    ResBody: Send + 'static,
{
    type Response = Response<AuthzResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let shared = Arc::clone(&self.shared);
        if !shared.needs_body(&parts) {
            let body = AuthzRequestBody::Original { body };
            return decide_on_head(&shared, &mut self.inner, parts, body);
        }
        // A body declared larger than the limit is refused before it is read, so a
        // client cannot hold the request open for a body it could never send.
        let limit = shared.config().max_body_bytes;
        if body.size_hint().lower() > limit as u64 {
            let denial = Denial::Request(ExtractError::BodyTooLarge { limit });
            let request_id = shared.reject(&parts, &denial);
            return ResponseFuture::denied(shared.deny_response(&denial, &request_id));
        }
        // The body is needed: read it (bounded) off this call, then decide. The
        // ready inner service goes with the future; a clone stays for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::boxed(Box::pin(async move {
            let (request_id, denial) = match Limited::new(body, limit).collect().await {
                Ok(collected) => {
                    let bytes = collected.to_bytes();
                    let decided = shared.decide(&parts, &bytes);
                    match decided.outcome {
                        Ok(context) => {
                            parts.extensions.insert(context);
                            let body = AuthzRequestBody::Buffered {
                                body: Full::new(bytes),
                            };
                            let response = inner.call(Request::from_parts(parts, body)).await?;
                            return Ok(response.map(|body| AuthzResponseBody::Inner { body }));
                        }
                        Err(denial) => (decided.request_id, denial),
                    }
                }
                Err(error) => {
                    let problem = if error.is::<http_body_util::LengthLimitError>() {
                        ExtractError::BodyTooLarge { limit }
                    } else {
                        ExtractError::BodyUnreadable
                    };
                    let denial = Denial::Request(problem);
                    (shared.reject(&parts, &denial), denial)
                }
            };
            let response = shared.deny_response(&denial, &request_id);
            Ok(response.map(|body| AuthzResponseBody::Denied { body }))
        }))
    }
}
