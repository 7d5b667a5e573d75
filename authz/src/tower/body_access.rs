//! Whether the middleware may read the request body: the type parameter of
//! [`AuthzLayer`](super::AuthzLayer) and [`AuthzService`](super::AuthzService).
//!
//! The mode is a type, not a flag, so that header-only middleware has the shape of
//! tower-http's auth middleware: the inner service receives the request body as it
//! came, with no wrapper type and no bounds on it.

use crate::engine::{CallRequest, ExtractCall, ExtractError};
use crate::pop::Args;

/// The extractor may ask for the body ([`ExtractCall::needs_body`]), as a gateway
/// configuration with body arguments does. The inner service then receives an
/// [`AuthzRequestBody`](super::AuthzRequestBody): the original body, or the
/// buffered one replayed. Built by [`AuthzLayer::new`](super::AuthzLayer::new).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadsBody;

/// The extractor sees only the request head, so the body is never read and the
/// inner service receives the request's own body type. Built by
/// [`AuthzLayer::headers_only`](super::AuthzLayer::headers_only).
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadersOnly;

/// An extractor of the request head: its signature cannot see the body, so it
/// never asks for it.
pub(crate) struct FromHead<F>(pub(crate) F);

impl<F> ExtractCall for FromHead<F>
where
    F: Fn(&http::request::Parts) -> Result<(String, Args), ExtractError> + Send + Sync + 'static,
{
    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        (self.0)(request.parts)
    }
}
