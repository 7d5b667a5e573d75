//! The deny vocabulary: one reason per failure family, shared by HTTP bodies,
//! headers, logs, metrics and the CLI (`docs/reference.md` §2).

use crate::approval::link::ApprovalLinkError;
use crate::approval::{ApprovalDenial, ApprovalShortfall};
use crate::constraint::{ArgValueJsonError, AttenuationError, ConstraintViolation, ViolationKind};
use crate::pop::PopError;
use crate::replay::ReplayError;
use crate::warrant::{WarrantId, WarrantType};
use crate::wire::DecodeError;

pub use crate::reason::DenyReason;

/// A broken delegation link or chain shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The same warrant id appears twice.
    #[error("warrant {0} appears twice in the chain")]
    Duplicate(WarrantId),
    /// The first warrant of a multi-warrant chain is not a root.
    #[error("first warrant is not a root (depth {depth}, parent hash present: {has_parent})")]
    NotARoot {
        /// Its depth.
        depth: u32,
        /// Whether it names a parent.
        has_parent: bool,
    },
    /// A child was not issued by its parent's holder.
    #[error("link {index}: issuer is not the parent's holder")]
    IssuerNotParentHolder {
        /// Index of the child.
        index: usize,
    },
    /// A child does not name its parent by hash.
    #[error("link {index}: parent hash missing or does not match")]
    ParentHash {
        /// Index of the child.
        index: usize,
    },
    /// Depth is not the parent's plus one, or exceeds a max_depth.
    #[error("link {index}: depth {depth} breaks the depth rules (max_depth {max_depth})")]
    Depth {
        /// Index of the child.
        index: usize,
        /// The child's depth.
        depth: u32,
        /// The bound it broke.
        max_depth: u32,
    },
    /// A child was issued before its parent or outlives it.
    #[error("link {index}: lifetime is not within the parent's")]
    Lifetime {
        /// Index of the child.
        index: usize,
    },
    /// Execution warrants cannot issue issuer warrants.
    #[error("link {index}: {parent} warrant cannot delegate a {child} warrant")]
    TypeTransition {
        /// Index of the child.
        index: usize,
        /// Parent type.
        parent: WarrantType,
        /// Child type.
        child: WarrantType,
    },
    /// A child grants a tool its parent does not.
    #[error("link {index}: tool {tool} is not granted by the parent")]
    ToolWidened {
        /// Index of the child.
        index: usize,
        /// The tool.
        tool: String,
    },
    /// A child's constraints are wider than its parent's.
    // Not `source`: the message already carries the cause, and a `source` would
    // have error reporters print it twice.
    #[error("link {index}: tool {tool}: {error}")]
    ConstraintWidened {
        /// Index of the child.
        index: usize,
        /// The tool.
        tool: String,
        /// Which constraint widened and how (boxed: inline, it would be the
        /// largest cause and grow every [`Denial`]).
        error: Box<AttenuationError>,
    },
    /// A child's clearance is above its parent's.
    #[error("link {index}: clearance rises above the parent's")]
    ClearanceRaised {
        /// Index of the child.
        index: usize,
    },
    /// A child weakens its parent's approval gates, approvers or threshold.
    #[error("link {index}: {error}")]
    ApprovalsWeakened {
        /// Index of the child.
        index: usize,
        /// How.
        error: ApprovalLinkError,
    },
    /// An issuer warrant granted execution to its own holder or issuer.
    #[error("link {index}: issuer warrant cannot grant execution to its own holder or issuer")]
    SelfIssuance {
        /// Index of the child.
        index: usize,
    },
}

/// A time rule broken by a warrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// `now >= expires_at`.
    #[error("warrant {id} expired at {expires_at}")]
    Expired {
        /// Which warrant.
        id: WarrantId,
        /// When.
        expires_at: u64,
    },
    /// `issued_at > now + tolerance`.
    #[error("warrant {id} is not valid until {issued_at}")]
    NotYetValid {
        /// Which warrant.
        id: WarrantId,
        /// Its issue time.
        issued_at: u64,
    },
}

/// Why an HTTP request could not be mapped to a tool call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// No configured route matches the method and path.
    #[error("no route matches {method} {path}")]
    NoRoute {
        /// The method.
        method: String,
        /// The path.
        path: String,
    },
    /// A gateway route matched, but its arguments could not be read from the request.
    #[cfg(feature = "tower")]
    #[error(transparent)]
    Route(#[from] crate::gateway::ExtractionError),
    /// An argument's JSON value has no argument form.
    #[error("argument {argument}: {source}")]
    ArgumentValue {
        /// The argument.
        argument: String,
        /// Why its value has no argument form.
        source: ArgValueJsonError,
    },
    /// The `POST /v1/check` body is not the JSON object that API takes.
    #[error("request body: {detail}")]
    CheckBody {
        /// The JSON parser's account of the problem.
        detail: String,
    },
    /// Envoy's check request carries no body although the request has one (Envoy
    /// forwards bodies only with `with_request_body`).
    #[error("Envoy did not send the request body (configure with_request_body)")]
    BodyNotForwarded,
    /// Envoy's check request carries part of the body only (Envoy sends at most
    /// `with_request_body.max_request_bytes`): the arguments are unknown.
    #[error("Envoy sent a partial body (raise with_request_body.max_request_bytes)")]
    BodyTruncated,
    /// More headers than a check request may carry.
    #[error("{count} headers, more than {max}")]
    TooManyHeaders {
        /// How many the request had.
        count: usize,
        /// The most accepted.
        max: usize,
    },
    /// An extractor of the application's own could not read an argument.
    #[error("argument {argument}: {problem}")]
    Argument {
        /// The argument.
        argument: String,
        /// What went wrong.
        problem: String,
    },
    /// The body is larger than allowed.
    #[error("request body over {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read.
    #[error("request body could not be read")]
    BodyUnreadable,
}

/// Why a request was denied: a typed cause that maps to exactly one [`DenyReason`].
// Variants wrapping a typed cause are `transparent` (its message, its sources),
// so a reporter that walks sources never prints the cause twice.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// No warrant was presented.
    #[error("no warrant presented")]
    MissingWarrant,
    /// The token could not be decoded.
    #[error(transparent)]
    InvalidWarrant(#[from] DecodeError),
    /// The chain's root issuer is not trusted.
    #[error("root issuer {} is not trusted", hex::encode(**.0))]
    UntrustedIssuer(Box<[u8; 32]>),
    /// The signature of the warrant at `index` does not verify.
    #[error("signature of warrant {id} (position {index}) does not verify")]
    SignatureInvalid {
        /// Position in the chain.
        index: usize,
        /// Which warrant.
        id: WarrantId,
    },
    /// A delegation link is broken.
    #[error(transparent)]
    ChainInvalid(#[from] ChainError),
    /// Expired or not yet valid.
    #[error(transparent)]
    Expired(#[from] TimeError),
    /// A warrant in the chain is revoked.
    #[error("warrant {0} is revoked")]
    Revoked(WarrantId),
    /// The tool is not granted by the leaf.
    #[error("tool {tool} is not granted by warrant {id}")]
    ToolNotInWarrant {
        /// The tool asked for.
        tool: String,
        /// The leaf.
        id: WarrantId,
    },
    /// An argument is out of bounds.
    #[error("{violation}")]
    Constraint {
        /// Which argument, what was expected and what came.
        violation: ConstraintViolation,
        /// The leaf warrant whose constraint refused it (for the denial log line).
        id: WarrantId,
    },
    /// The PoP is missing or invalid.
    #[error(transparent)]
    Pop(#[from] PopError),
    /// The PoP verified but was already used (replay protection is on).
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// Approvals: a gated call without enough of them, approvals that could not
    /// be read, or a gate map that is malformed.
    #[error(transparent)]
    Approval(#[from] ApprovalDenial),
    /// The request does not map to a tool call: no route (the tool is not
    /// granted), or an argument that cannot be read (a constraint violation).
    #[error(transparent)]
    Request(#[from] ExtractError),
}

impl Denial {
    /// The §2 reason for this denial.
    pub fn reason(&self) -> DenyReason {
        match self {
            Self::MissingWarrant => DenyReason::MissingWarrant,
            Self::InvalidWarrant(_) => DenyReason::InvalidWarrant,
            Self::UntrustedIssuer(_) => DenyReason::UntrustedIssuer,
            Self::SignatureInvalid { .. } => DenyReason::SignatureInvalid,
            Self::ChainInvalid(_) => DenyReason::ChainInvalid,
            Self::Expired(_) => DenyReason::WarrantExpired,
            Self::Revoked(_) => DenyReason::WarrantRevoked,
            Self::ToolNotInWarrant { .. } => DenyReason::ToolNotInWarrant,
            Self::Constraint { violation, .. } if violation.kind == ViolationKind::Unsupported => {
                DenyReason::Unsupported
            }
            Self::Constraint { .. } => DenyReason::ConstraintViolation,
            Self::Pop(PopError::Missing) => DenyReason::MissingPop,
            Self::Pop(_) => DenyReason::InvalidPop,
            Self::Replay(_) => DenyReason::InvalidPop,
            Self::Approval(a) => a.reason(),
            Self::Request(ExtractError::NoRoute { .. }) => DenyReason::ToolNotInWarrant,
            Self::Request(_) => DenyReason::ConstraintViolation,
        }
    }

    /// What a gated call lacked, when the denial is about too few approvals.
    pub fn approval_shortfall(&self) -> Option<&ApprovalShortfall> {
        match self {
            Self::Approval(a) => a.shortfall(),
            _ => None,
        }
    }

    /// The argument violation, when the denial is about one.
    pub fn violation(&self) -> Option<&ConstraintViolation> {
        match self {
            Self::Constraint { violation, .. } => Some(violation),
            _ => None,
        }
    }

    /// `reason: detail`, the value of the debug header `X-Tenuo-Deny-Reason`,
    /// e.g. `constraint_violation: path=/etc/passwd not in Pattern(/data/*)`.
    pub fn debug_header(&self) -> String {
        match self.violation() {
            Some(v) => match &v.actual {
                Some(actual) => format!(
                    "{}: {}={} not in {}",
                    self.reason(),
                    v.argument,
                    actual,
                    v.expected
                ),
                None => format!(
                    "{}: {} {} ({})",
                    self.reason(),
                    v.argument,
                    v.kind.as_str(),
                    v.expected
                ),
            },
            None => format!("{}: {}", self.reason(), self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for reason in DenyReason::ALL {
            assert!(seen.insert(reason.as_str()));
            assert_eq!(DenyReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(DenyReason::parse("nope"), None);
    }

    #[test]
    fn header_names_argument_value_and_constraint() {
        let denial = Denial::Constraint {
            violation: ConstraintViolation {
                argument: "path".into(),
                expected: "Pattern(/data/*)".into(),
                actual: Some("/etc/passwd".into()),
                kind: ViolationKind::OutOfBounds,
            },
            id: WarrantId([7; 16]),
        };
        assert_eq!(
            denial.debug_header(),
            "constraint_violation: path=/etc/passwd not in Pattern(/data/*)"
        );
    }
}
