//! Verdicts and service errors of the batch verifier.

use crate::crypto::SignatureError;

/// Why one signature was refused. Each variant is a verdict about that signature alone,
/// never about its batch neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureInvalid {
    /// The scalar `s` is not reduced modulo the group order (`s >= L`, or a high bit set).
    #[error("signature scalar is not canonical")]
    NonCanonicalScalar,
    /// The 32 bytes of `R` encode a y-coordinate that is not reduced modulo p.
    #[error("signature R is not canonically encoded")]
    NonCanonicalR,
    /// The 32 bytes of `R` are not the encoding of a curve point.
    #[error("signature R is not a curve point")]
    InvalidR,
    /// `R` has small order, which would let one signature verify under many keys.
    #[error("signature R has small order")]
    SmallOrderR,
    /// The (cofactored) verification equation does not hold for any candidate message.
    #[error("signature does not verify")]
    Equation,
    /// The request carried no candidate message to check the signature against.
    #[error("no message to verify the signature against")]
    NoMessage,
}

impl From<SignatureInvalid> for SignatureError {
    fn from(_: SignatureInvalid) -> Self {
        SignatureError::Invalid
    }
}

/// A link of a chain whose signature was refused by [`verify_all`](super::verify_all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signature {index} is invalid: {reason}")]
pub struct ChainSignatureError {
    /// Index of the first refused item, in the order given.
    pub index: usize,
    /// Why that item was refused.
    pub reason: SignatureInvalid,
}

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
