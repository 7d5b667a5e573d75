//! The deny reasons: the one stable vocabulary of response bodies, the debug
//! header, log lines, metric labels and `tenuo verify --json`
//! (`docs/reference.md` §2). At the bottom of the crate, so that every module
//! that names a reason (the approval gates among them) can import it without
//! importing the denials that carry one.

use std::fmt;

/// Why a request was denied, as a stable machine-readable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DenyReason {
    /// No warrant was presented.
    MissingWarrant,
    /// The warrant is undecodable, oversized, non-canonical or structurally invalid.
    InvalidWarrant,
    /// The root issuer is not trusted.
    UntrustedIssuer,
    /// A warrant signature does not verify.
    SignatureInvalid,
    /// A delegation link breaks an invariant.
    ChainInvalid,
    /// A warrant is past expiry or not yet valid.
    WarrantExpired,
    /// A warrant in the chain is revoked.
    WarrantRevoked,
    /// The tool is not granted.
    ToolNotInWarrant,
    /// An argument is out of bounds, missing or unknown.
    ConstraintViolation,
    /// No proof-of-possession signature.
    MissingPop,
    /// The proof-of-possession does not verify.
    InvalidPop,
    /// A construct this authorizer does not implement (fails closed).
    Unsupported,
    /// A gated call lacks enough valid approvals (or they could not be read).
    ApprovalRequired,
}

impl DenyReason {
    /// Every reason, in the order of `docs/reference.md` §2.
    pub const ALL: [DenyReason; 13] = [
        Self::MissingWarrant,
        Self::InvalidWarrant,
        Self::UntrustedIssuer,
        Self::SignatureInvalid,
        Self::ChainInvalid,
        Self::WarrantExpired,
        Self::WarrantRevoked,
        Self::ToolNotInWarrant,
        Self::ConstraintViolation,
        Self::MissingPop,
        Self::InvalidPop,
        Self::Unsupported,
        Self::ApprovalRequired,
    ];

    /// The snake_case name used on the wire, in logs and as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingWarrant => "missing_warrant",
            Self::InvalidWarrant => "invalid_warrant",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::SignatureInvalid => "signature_invalid",
            Self::ChainInvalid => "chain_invalid",
            Self::WarrantExpired => "warrant_expired",
            Self::WarrantRevoked => "warrant_revoked",
            Self::ToolNotInWarrant => "tool_not_in_warrant",
            Self::ConstraintViolation => "constraint_violation",
            Self::MissingPop => "missing_pop",
            Self::InvalidPop => "invalid_pop",
            Self::Unsupported => "unsupported",
            Self::ApprovalRequired => "approval_required",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
