//! The Tenuo v1 wire format: envelopes, payloads, stacks and their text forms.
//!
//! ```text
//! warrant  = [1, payload: bstr, [1, signature: bstr .size 64]]     ; canonical CBOR
//! stack    = [warrant, warrant, ...]                               ; root first
//! message  = "tenuo-warrant-v1" || 0x01 || payload                  ; what the issuer signs
//! ```
//!
//! Envelopes and stacks are parsed by hand against that exact grammar, so there is
//! one byte string per warrant and caches may key on bytes. The payload is decoded
//! from the bytes that were signed, never re-encoded.
//!
//! Limits are checked before any decoding: [`MAX_WARRANT_BYTES`] per warrant,
//! [`MAX_STACK_BYTES`] per stack, and [`MAX_CBOR_NESTING`] levels of raw CBOR.

mod envelope;
mod limits;
mod payload;
mod scan;
mod text;
pub(crate) mod value;
mod value_fast;
mod warrant_codec;

pub use envelope::{decode_stack, decode_warrant, encode_envelope, encode_stack};
pub use limits::*;
pub use payload::{decode_payload, encode_payload};
pub use text::{
    decode_bytes, decode_token, decode_token_bytes, encode_base64url, encode_pem_chain,
    encode_pem_warrant, TokenKind,
};

// Public only for the differential test and the `cbor_value` fuzz target.
#[doc(hidden)]
pub use value_fast::{decode_value_fast, same_value};

pub(crate) use envelope::ED25519_ALG;
pub(crate) use scan::check_well_formed;

/// Why bytes or text could not be decoded into warrants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Input is larger than the limit for its kind.
    #[error("{what} is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        /// `warrant` or `stack`.
        what: &'static str,
        /// Bytes supplied.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// CBOR nests deeper than the limit.
    #[error("CBOR nesting deeper than {0} levels")]
    TooDeep(usize),
    /// The input ended inside an item.
    #[error("input truncated")]
    Truncated,
    /// Bytes remain after the item.
    #[error("{0} trailing bytes after the item")]
    TrailingBytes(usize),
    /// The CBOR is not well formed (reserved or invalid header bytes).
    #[error("malformed CBOR at byte {0}")]
    Malformed(usize),
    /// The envelope is well-formed CBOR but not the canonical v1 shape.
    #[error("not a canonical v1 envelope: {0}")]
    Envelope(&'static str),
    /// The envelope or payload version is not 1.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// `envelope` or `payload`.
        what: &'static str,
        /// The version found.
        version: u64,
    },
    /// An empty stack.
    #[error("warrant stack is empty")]
    EmptyStack,
    /// A payload field is missing, duplicated, unknown or of the wrong type.
    #[error("payload field {key}: {problem}")]
    Field {
        /// The integer key (or the field name for nested items).
        key: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    // `Key` and `Constraint` show their `error` in the message, so it is not a
    // `source` too: a reporter that walks sources would print it twice.
    /// A key or signature inside the payload is unusable.
    #[error("payload field {key}: {error}")]
    Key {
        /// Which field.
        key: &'static str,
        /// Why.
        error: crate::crypto::KeyError,
    },
    /// A constraint could not be decoded.
    #[error("tool {tool}: {error}")]
    Constraint {
        /// The tool (or `constraint_bounds`).
        tool: String,
        /// Why.
        error: crate::constraint::ConstraintDecodeError,
    },
    /// A structural rule of the v1 format is broken (limits, type consistency).
    #[error("invalid warrant structure: {0}")]
    Structure(StructureError),
    /// Text is neither base64url nor a PEM block of a warrant or chain.
    #[error("token text: {0}")]
    Text(&'static str),
}

/// What is wrong with one payload field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// A required field is absent.
    #[error("missing")]
    Missing,
    /// The key appears twice.
    #[error("duplicate")]
    Duplicate,
    /// The key is not defined by v1.
    #[error("unknown key")]
    Unknown,
    /// The value has the wrong CBOR type or is out of range.
    #[error("wrong type or out of range")]
    WrongType,
}

/// A structural rule broken by a decoded payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructureError {
    /// `expires_at` is not after `issued_at`.
    #[error("expires_at must be after issued_at")]
    ExpiryNotAfterIssue,
    /// An execution warrant carries issuer-only fields.
    #[error("execution warrant carries issuable_tools or max_issue_depth")]
    ExecutionWithIssuerFields,
    /// An issuer warrant carries tools or no issuable tools.
    #[error("issuer warrant must have issuable tools and no tools")]
    IssuerShape,
    /// `max_issue_depth` exceeds `max_depth`.
    #[error("max_issue_depth {0} exceeds max_depth {1}")]
    IssueDepthOverMax(u32, u32),
    /// Too many tools.
    #[error("{0} tools, over the limit of {MAX_TOOLS}")]
    TooManyTools(usize),
    /// Too many constraints for one tool.
    #[error("{0} constraints on one tool, over the limit of {MAX_CONSTRAINTS_PER_TOOL}")]
    TooManyConstraints(usize),
    /// Too many extensions.
    #[error("{0} extensions, over the limit of {MAX_EXTENSION_KEYS}")]
    TooManyExtensions(usize),
    /// An extension value is too large.
    #[error("extension value of {0} bytes, over the limit of {MAX_EXTENSION_VALUE_BYTES}")]
    ExtensionTooLarge(usize),
    /// `min_approvals` is zero or more than the distinct approvers.
    #[error("min_approvals {min} is not within 1..={approvers}")]
    ApprovalThreshold {
        /// The threshold.
        min: u32,
        /// Distinct approvers.
        approvers: u32,
    },
}
