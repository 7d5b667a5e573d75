//! Why approvals could not be read, or did not suffice.

use crate::constraint::Mismatch;
use crate::crypto::PublicKey;
use crate::reason::DenyReason;

/// Why approval text or CBOR could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalDecodeError {
    /// The text is longer than [`super::MAX_APPROVALS_BYTES`] allows, before decoding.
    #[error("approvals text of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// Length of the text or bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not base64 in any accepted alphabet.
    #[error("approvals are not base64")]
    Base64,
    /// Not the CBOR of one signed approval or an array of them.
    #[error("approvals are not the CBOR of a signed approval or an array of them: {0}")]
    Cbor(&'static str),
    /// More approvals than [`super::MAX_APPROVALS`].
    #[error("{count} approvals, over the limit of {max}")]
    TooMany {
        /// How many were sent.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// A `tenuo.approval_gates` extension that could not be read or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The extension bytes are not a gate map.
    #[error("approval gate map is malformed: {0}")]
    Malformed(&'static str),
    /// A gate's constraint could not be evaluated on the argument.
    #[error("approval gate on argument `{argument}` cannot be evaluated: {mismatch}")]
    Evaluation {
        /// The argument.
        argument: String,
        /// Why the constraint failed to evaluate.
        mismatch: Mismatch,
    },
}

/// What a gated call lacked: what the 403 body reports so a client (or a
/// controller) can fetch the approvals and retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalShortfall {
    /// The call's request hash, which approvals must be signed over.
    pub request_hash: [u8; 32],
    /// Approvals needed.
    pub required: u32,
    /// Valid approvals received.
    pub received: u32,
    /// The leaf's approvers, as listed in the warrant.
    pub approvers: Vec<PublicKey>,
}

/// Why approvals denied a call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalDenial {
    /// A gate fired and the approvals presented fall short.
    #[error("tool {tool} needs {} approval(s), {} valid received", .shortfall.required, .shortfall.received)]
    Required {
        /// The tool.
        tool: String,
        /// What was needed and what came.
        shortfall: Box<ApprovalShortfall>,
    },
    /// A gate fired on a warrant that names no approvers: no one can approve.
    #[error("tool {tool} is gated but the warrant names no approvers")]
    NoApprovers {
        /// The tool.
        tool: String,
    },
    /// More approvals than twice the approvers (the reference's bound on work).
    #[error("{given} approvals presented, at most {max} accepted")]
    TooMany {
        /// How many came.
        given: usize,
        /// Twice the approvers.
        max: usize,
    },
    /// The approvals the request carried could not be decoded.
    #[error(transparent)]
    Undecodable(#[from] ApprovalDecodeError),
    /// The leaf's gate map is malformed or could not be evaluated.
    #[error(transparent)]
    Gate(#[from] GateError),
}

impl ApprovalDenial {
    /// The §2 reason: a malformed gate map is an invalid warrant, a gate whose
    /// constraint cannot be evaluated is that constraint's failure, the rest is
    /// `approval_required`.
    pub fn reason(&self) -> DenyReason {
        match self {
            Self::Gate(GateError::Malformed(_)) => DenyReason::InvalidWarrant,
            Self::Gate(GateError::Evaluation {
                mismatch: Mismatch::Unsupported { .. },
                ..
            }) => DenyReason::Unsupported,
            Self::Gate(GateError::Evaluation { .. }) => DenyReason::ConstraintViolation,
            _ => DenyReason::ApprovalRequired,
        }
    }

    /// The shortfall, when the denial is about too few approvals.
    pub fn shortfall(&self) -> Option<&ApprovalShortfall> {
        match self {
            Self::Required { shortfall, .. } => Some(shortfall),
            _ => None,
        }
    }
}
