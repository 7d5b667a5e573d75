//! Verdicts of signature verification: why one signature was refused, and which
//! link of a chain it was.

use super::SignatureError;

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
