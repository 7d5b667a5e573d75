//! The HTTP decision engine, independent of any front end: it stages a request's
//! decision (headers, route and arguments, chain, PoP, approvals), verifies cold
//! chains off the async workers, batches PoP signatures, reports every decision
//! to an [`Observer`] and the log, and renders denials as responses
//! (`docs/reference.md` §2, §3). The tower layer ([`crate::tower`]) and the server
//! (`crate::server`: HTTP, gRPC) are its front ends.

mod config;
mod context;
mod deny_response;
mod extract;
mod gateway_extract;
mod request;

pub use config::AuthzConfig;
pub use context::{AuthzContext, DecisionEvent, Observer};
pub use deny_response::{
    denial_status, deny_response, deny_status, log_denial, DENY_REASON_HEADER,
    MAX_LOGGED_FIELD_BYTES,
};
pub use extract::{CallRequest, ExtractCall, ExtractError};
pub use request::{Decided, RequestAuthorizer};
