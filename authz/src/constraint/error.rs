//! Error types of the constraint module: decoding, building, matching,
//! attenuation and per-argument violations.
//!
//! Every error is typed; `String` fields carry human detail only, callers
//! branch on the variant.

use std::fmt;

use super::widening::Widening;

/// Why a CBOR value could not be decoded into a constraint, a constraint set
/// or an argument value.
///
/// Decoding mirrors the reference's serde/ciborium acceptance rules exactly,
/// so each variant corresponds to an input the reference also rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConstraintDecodeError {
    /// A CBOR item had the wrong major type (e.g. a map where text was needed).
    #[error("{context}: expected {expected}")]
    UnexpectedType {
        /// Which part of the structure was being decoded.
        context: &'static str,
        /// What CBOR shape was required there.
        expected: &'static str,
    },
    /// A constraint array did not have exactly two elements.
    #[error("constraint must be a two-element array [type_id, value]")]
    InvalidLength,
    /// An integer did not fit the target type.
    #[error("{context}: integer out of range")]
    IntegerOutOfRange {
        /// Which part of the structure was being decoded.
        context: &'static str,
    },
    /// A map carried a key the reference does not know (it denies unknown fields).
    #[error("{context}: unknown field `{field}`")]
    UnknownField {
        /// Which structure was being decoded.
        context: &'static str,
        /// The offending key (lossy UTF-8).
        field: String,
    },
    /// A map carried the same field twice.
    #[error("{context}: duplicate field `{field}`")]
    DuplicateField {
        /// Which structure was being decoded.
        context: &'static str,
        /// The repeated field.
        field: &'static str,
    },
    /// A required field was absent.
    #[error("{context}: missing field `{field}`")]
    MissingField {
        /// Which structure was being decoded.
        context: &'static str,
        /// The absent field.
        field: &'static str,
    },
    /// A `Range` bound was NaN or infinite.
    #[error("range bound must be finite")]
    NonFiniteBound,
    /// A `Cidr` payload did not parse as a network.
    #[error("invalid CIDR `{cidr}`")]
    InvalidCidr {
        /// The rejected text.
        cidr: String,
    },
    /// A `UrlPattern` payload did not parse.
    #[error("invalid URL pattern `{pattern}`: {reason}")]
    InvalidUrlPattern {
        /// The rejected text.
        pattern: String,
        /// Parser detail.
        reason: String,
    },
    /// An argument value had no representation (a tag, a non-UTF-8 byte
    /// string, an integer below `i64::MIN`, a non-text map key, ...).
    #[error("value not representable: {reason}")]
    UnrepresentableValue {
        /// Which rule rejected it.
        reason: &'static str,
    },
    /// `All`/`Any`/`Not` nesting exceeded [`super::MAX_CONSTRAINT_DEPTH`], or an
    /// argument value nested deeper than [`super::MAX_VALUE_DEPTH`].
    #[error("nesting depth {depth} exceeds maximum {max}")]
    DepthExceeded {
        /// Depth found (or reached when decoding stopped).
        depth: usize,
        /// Maximum allowed.
        max: usize,
    },
}

/// Why a constraint constructor rejected its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConstraintBuildError {
    /// The glob pattern is not valid (`***`, misplaced `**`, unclosed `[`).
    #[error("invalid glob pattern `{pattern}`: {reason}")]
    InvalidPattern {
        /// The rejected pattern.
        pattern: String,
        /// Why.
        reason: &'static str,
    },
    /// The regular expression does not compile within the size limits.
    #[error("invalid regex `{pattern}`: {reason}")]
    InvalidRegex {
        /// The rejected expression.
        pattern: String,
        /// Compiler detail.
        reason: String,
    },
    /// The CIDR text does not parse.
    #[error("invalid CIDR `{cidr}`")]
    InvalidCidr {
        /// The rejected text.
        cidr: String,
    },
    /// The URL pattern does not parse or uses a bare wildcard host.
    #[error("invalid URL pattern `{pattern}`: {reason}")]
    InvalidUrlPattern {
        /// The rejected text.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// A range bound is NaN or infinite.
    #[error("range bound must be finite")]
    NonFiniteBound,
    /// A `Subpath` root is not absolute.
    #[error("subpath root `{root}` must be absolute")]
    RelativeRoot {
        /// The rejected root.
        root: String,
    },
    /// A `UrlSafe` domain pattern is malformed.
    #[error("invalid domain pattern `{pattern}`")]
    InvalidDomainPattern {
        /// The rejected pattern.
        pattern: String,
    },
    /// The composite would nest deeper than [`super::MAX_CONSTRAINT_DEPTH`].
    #[error("constraint depth {depth} exceeds maximum {max}")]
    DepthExceeded {
        /// Resulting depth.
        depth: usize,
        /// Maximum allowed.
        max: usize,
    },
}

/// Why a value did not satisfy a constraint.
///
/// The reference distinguishes a plain "no" from evaluation errors, and the
/// distinction changes results: an error inside `Any` or `Not` propagates
/// instead of being treated as `false`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// The value is well-formed but outside what the constraint allows.
    #[error("value does not satisfy the constraint")]
    NotSatisfied,
    /// The value could not be parsed as the IP address or URL the constraint
    /// needs. The argument-set check treats it like [`Mismatch::NotSatisfied`].
    #[error("value is not a valid {expected}")]
    InvalidValue {
        /// `"IP address"` or `"URL"`.
        expected: &'static str,
    },
    /// The constraint itself cannot be evaluated (invalid glob or regex,
    /// empty `All`). This short-circuits an argument-set check.
    #[error("constraint cannot be evaluated: {reason}")]
    InvalidConstraint {
        /// Why.
        reason: String,
    },
    /// This authorizer does not evaluate the constraint type (CEL or an
    /// unknown wire type id). This short-circuits an argument-set check.
    #[error("unsupported constraint type {constraint}")]
    Unsupported {
        /// Constraint type name, e.g. `"Cel"`.
        constraint: &'static str,
        /// Wire type id.
        type_id: u8,
    },
}

impl Mismatch {
    /// `true` for the errors that abort an argument-set check instead of being
    /// recorded as an ordinary mismatch.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Mismatch::InvalidConstraint { .. } | Mismatch::Unsupported { .. }
        )
    }
}

/// Why a child constraint is not a valid narrowing of its parent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttenuationError {
    /// The reference has no rule for this parent/child type pair.
    #[error("cannot attenuate {parent} to {child}")]
    IncompatibleTypes {
        /// Parent type name.
        parent: &'static str,
        /// Child type name (sometimes qualified, e.g. `Exact (non-string)`).
        child: &'static str,
    },
    /// A non-wildcard parent cannot become `Wildcard`.
    #[error("cannot attenuate {parent} to Wildcard")]
    WildcardExpansion {
        /// Parent type name.
        parent: &'static str,
    },
    /// Same family, but the child admits something the parent does not.
    #[error("{constraint}: child is not narrower than parent: {widening}")]
    NotNarrower {
        /// Constraint type name.
        constraint: &'static str,
        /// What the child admits that the parent does not.
        widening: Widening,
    },
    /// Evaluating the parent against the child's value failed.
    #[error("attenuation check could not evaluate: {0}")]
    Evaluation(Mismatch),
    /// The parent or child configuration is invalid (e.g. bad domain pattern).
    #[error("invalid constraint configuration: {detail}")]
    InvalidConfiguration {
        /// Human detail.
        detail: String,
    },
    /// This authorizer cannot decide the pair (needs CEL evaluation).
    #[error("attenuation of {constraint} is not supported")]
    Unsupported {
        /// Constraint type name.
        constraint: &'static str,
    },
    /// The check exceeded its work budget (pathologically nested composites).
    #[error("attenuation check exceeded its work budget")]
    BudgetExceeded,
    /// A constraint-set field present in the parent is missing in the child.
    #[error("child is missing argument `{argument}`")]
    MissingArgument {
        /// Argument name.
        argument: String,
    },
    /// The child adds an argument key the (non-empty) parent does not have.
    #[error("child adds argument `{argument}` not present in parent")]
    ExtraArgument {
        /// Argument name.
        argument: String,
    },
    /// The child enables `allow_unknown` while the parent does not.
    #[error("child cannot enable allow_unknown")]
    AllowUnknownExpanded,
    /// A per-argument constraint failed attenuation.
    // The message carries `error`, so it is deliberately not a `source`: a
    // reporter that walks sources would print it twice.
    #[error("argument `{argument}`: {error}")]
    Argument {
        /// Argument name.
        argument: String,
        /// Underlying failure.
        error: Box<AttenuationError>,
    },
}

/// Category of a [`ConstraintViolation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A constrained argument was absent.
    Missing,
    /// An argument was supplied that the closed-world set does not declare.
    Unknown,
    /// The value did not satisfy its constraint (includes unparseable IPs/URLs).
    OutOfBounds,
    /// The constraint type is not evaluated by this authorizer.
    Unsupported,
    /// The constraint could not be evaluated (invalid glob/regex, empty `All`).
    InvalidConstraint,
}

impl ViolationKind {
    /// Stable machine-readable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Missing => "missing",
            ViolationKind::Unknown => "unknown",
            ViolationKind::OutOfBounds => "out_of_bounds",
            ViolationKind::Unsupported => "unsupported",
            ViolationKind::InvalidConstraint => "invalid_constraint",
        }
    }
}

/// The first reason an argument map fails a [`super::ConstraintSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintViolation {
    /// Argument name.
    pub argument: String,
    /// Display form of the constraint (or a short phrase for unknown arguments).
    pub expected: String,
    /// Display form of the supplied value, if one was supplied.
    pub actual: Option<String>,
    /// Category.
    pub kind: ViolationKind,
}

impl fmt::Display for ConstraintViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "argument `{}` {}: expected {}",
            self.argument,
            self.kind.as_str(),
            self.expected
        )?;
        if let Some(actual) = &self.actual {
            write!(f, ", got {actual}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConstraintViolation {}
