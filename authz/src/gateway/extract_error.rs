//! [`ExtractionError`]: why a matched request could not be turned into a tool
//! call (a configuration that fails to load is a
//! [`ConfigError`](super::ConfigError)).

use super::coerce::TypeHint;
use super::config::ExtractionSource;

/// Why a matched request could not be turned into a tool call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractionError {
    /// The body is larger than the configured limit.
    #[error("request body is {len} bytes, over the {max}-byte limit")]
    BodyTooLarge {
        /// Body length in bytes.
        len: usize,
        /// Configured maximum.
        max: usize,
    },

    /// A required field was not found in the request (and a required field's
    /// `default` is never used, as in the reference).
    #[error("missing required field '{field}' (from {from} '{key}')")]
    MissingRequired {
        /// The argument name.
        field: String,
        /// Where it was looked for.
        from: ExtractionSource,
        /// Parameter name, header name or body path that was looked up.
        key: String,
    },

    /// A required body field could not be read because the body is not JSON
    /// (or nests deeper than the JSON parser's limit).
    #[error(
        "missing required field '{field}': body path '{key}' cannot be read, the body is not JSON"
    )]
    BodyNotJson {
        /// The argument name.
        field: String,
        /// The body path.
        key: String,
    },

    /// With type coercion enabled, a value does not fit the rule's `type`.
    #[error("field '{field}': expected {expected}, found {found}")]
    WrongType {
        /// The argument name.
        field: String,
        /// The declared type.
        expected: TypeHint,
        /// What the request supplied.
        found: &'static str,
    },
}
