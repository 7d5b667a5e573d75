//! tower middleware: authorize every HTTP request before the inner service sees it.
//!
//! [`AuthzLayer`] wraps a service of `http::Request<B>`. For each request it
//! reads the warrant and PoP headers, asks an [`ExtractCall`] which tool call the
//! request is (from the route, query, headers or JSON body), and decides the call
//! with an [`Authorizer`](crate::Authorizer). A denial is answered here, as a 403
//! (401 for a missing warrant, 400 for an undecodable one) with the JSON body of
//! `docs/reference.md` §2 — it is a response, not a service error. An allowed request
//! reaches the inner service with an [`AuthzContext`] in its extensions.
//!
//! ```
//! use std::sync::Arc;
//! use tenuo_authz::{Authorizer, crypto::SigningKey, pop::Args};
//! use tenuo_authz::tower::{AuthzLayer, CallRequest, ExtractError};
//! use tower::ServiceBuilder;
//!
//! let control_plane = SigningKey::from_bytes(&[1; 32]);
//! let authorizer = Arc::new(Authorizer::builder().trusted_issuers([control_plane.public_key()]).build().unwrap());
//! // Tool = the last path segment; no arguments.
//! let extract = |req: &CallRequest<'_>| -> Result<(String, Args), ExtractError> {
//!     let tool = req.parts.uri.path().rsplit('/').next().unwrap_or_default().to_owned();
//!     Ok((tool, Args::new()))
//! };
//! let service = ServiceBuilder::new()
//!     .layer(AuthzLayer::new(authorizer, extract))
//!     .service_fn(|_req: http::Request<tenuo_authz::tower::AuthzRequestBody<String>>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("tool ran")))
//!     });
//! # let _ = service;
//! ```

mod body;
mod context;
mod deny_response;
mod extract;
mod future;
mod gateway_extract;
mod layer;
mod request;
mod service;

pub use body::{AuthzRequestBody, AuthzResponseBody};
pub use context::{AuthzContext, DecisionEvent, Observer};
pub use deny_response::{
    denial_status, deny_response, deny_status, log_denial, DENY_REASON_HEADER,
    MAX_LOGGED_FIELD_BYTES,
};
pub use extract::{CallRequest, ExtractCall, ExtractError};
pub use future::ResponseFuture;
pub use layer::{AuthzConfig, AuthzLayer};
pub use request::{Decided, RequestAuthorizer};
pub use service::AuthzService;
