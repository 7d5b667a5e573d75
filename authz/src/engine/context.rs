//! What the middleware leaves for the inner service ([`AuthzContext`]) and tells
//! an [`Observer`] (metrics) about every decision.

use std::time::Duration;

use crate::crypto::PublicKey;
use crate::decision::Authorized;
use crate::deny::Denial;
use crate::warrant::WarrantId;

/// The verified facts of an allowed request, in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzContext {
    /// The leaf warrant.
    pub warrant_id: WarrantId,
    /// The tool called.
    pub tool: String,
    /// The leaf's holder.
    pub holder: PublicKey,
    /// Seconds until the chain's earliest expiry.
    pub ttl_remaining_secs: u64,
    /// The leaf's depth in its chain.
    pub depth: u32,
    /// The request id used in logs.
    pub request_id: String,
}

impl AuthzContext {
    /// The context of an allowed decision.
    pub fn from_allowed(allowed: Authorized, request_id: String) -> Self {
        Self {
            warrant_id: allowed.warrant_id,
            tool: allowed.tool,
            holder: allowed.holder,
            ttl_remaining_secs: allowed.ttl_remaining_secs,
            depth: allowed.depth,
            request_id,
        }
    }
}

/// One decision, as an observer sees it.
#[derive(Debug)]
pub struct DecisionEvent<'a> {
    /// The tool, if the request could be mapped to one.
    pub tool: Option<&'a str>,
    /// The outcome.
    pub outcome: Result<&'a AuthzContext, &'a Denial>,
    /// Time spent deciding (not running the inner service).
    pub elapsed: Duration,
}

/// Receives every decision (for metrics). Must be cheap: it runs on the request path.
pub trait Observer: Send + Sync + 'static {
    /// Called once per request, after the decision.
    fn on_decision(&self, event: &DecisionEvent<'_>);
}

/// No observation.
impl Observer for () {
    fn on_decision(&self, _: &DecisionEvent<'_>) {}
}
