//! tower middleware: authorize every HTTP request before the inner service sees it.
//! The decision itself is the engine's ([`crate::engine`]); this module is the
//! layer, the service, its response future and its bodies.
//!
//! [`AuthzLayer`] wraps a service of `http::Request<B>`. For each request it
//! reads the warrant and PoP headers, asks an extractor which tool call the
//! request is (from the route, query, headers or JSON body), and decides the call
//! with an [`Authorizer`](crate::Authorizer). A denial is answered here, as a 403
//! (401 for a missing warrant, 400 for an undecodable one) with the JSON body of
//! `docs/reference.md` §2 — it is a response, not a service error. An allowed request
//! reaches the inner service with an [`AuthzContext`] in its extensions.
//!
//! Two constructors, by what the extractor may read:
//!
//! - [`AuthzLayer::headers_only`] takes a function of the request head. The body
//!   is never read, and the inner service receives the request exactly as it came
//!   (its own body type, no bounds on it), as with tower-http's auth middleware.
//! - [`AuthzLayer::new`] takes any [`ExtractCall`], such as a gateway
//!   configuration whose arguments may come from a JSON body. When the extractor
//!   asks for the body, it is buffered up to [`AuthzConfig::max_body_bytes`] and
//!   replayed, so the inner service receives an [`AuthzRequestBody`].
//!
//! ```
//! use std::sync::Arc;
//! use tenuo_authz::{Authorizer, crypto::SigningKey, pop::Args};
//! use tenuo_authz::tower::{AuthzLayer, ExtractError};
//! use tower::ServiceBuilder;
//!
//! let control_plane = SigningKey::from_bytes(&[1; 32]);
//! let authorizer = Arc::new(Authorizer::builder().trusted_issuers([control_plane.public_key()]).build().unwrap());
//! // Tool = the last path segment; no arguments.
//! let extract = |head: &http::request::Parts| -> Result<(String, Args), ExtractError> {
//!     let tool = head.uri.path().rsplit('/').next().unwrap_or_default().to_owned();
//!     Ok((tool, Args::new()))
//! };
//! let service = ServiceBuilder::new()
//!     .layer(AuthzLayer::headers_only(authorizer, extract))
//!     .service_fn(|_req: http::Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("tool ran")))
//!     });
//! # fn takes_string_requests<S: tower::Service<http::Request<String>>>(_: &S) {}
//! # takes_string_requests(&service);
//! ```

mod body;
mod body_access;
mod future;
mod layer;
mod service;

pub use body::{AuthzRequestBody, AuthzResponseBody};
pub use body_access::{HeadersOnly, ReadsBody};
pub use future::ResponseFuture;
pub use layer::AuthzLayer;
pub use service::AuthzService;
// What a layer user configures, implements and receives, from the engine.
pub use crate::engine::{
    AuthzConfig, AuthzContext, CallRequest, DecisionEvent, ExtractCall, ExtractError, Observer,
};
