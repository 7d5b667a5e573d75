//! Service errors of the PoP batch verifier (a verdict about a signature is
//! [`SignatureInvalid`](crate::crypto::SignatureInvalid)).

/// The batching service could not give a verdict. This is never a denial: a caller that
/// gets it has no answer about the signature, and should fail closed or retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchServiceError {
    /// The worker is gone (dropped, or its runtime shut down). Every later call on any
    /// handle of this service gets this error too; no call ever gets a stale verdict.
    #[error("signature batch worker is not running")]
    Closed,
    /// The request was queued but the worker stopped, or the verification task failed,
    /// before deciding it. Other requests, earlier or later, are not affected.
    #[error("signature batch worker dropped the request without a verdict")]
    Abandoned,
    /// `call` was made without a successful `poll_ready` first.
    #[error("signature batch service called before it was ready")]
    NotReady,
}
