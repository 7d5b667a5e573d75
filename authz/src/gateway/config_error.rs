//! [`ConfigError`]: why a gateway configuration failed to load or compile
//! (a request that cannot become a tool call is an
//! [`ExtractionError`](super::ExtractionError)).

use std::path::PathBuf;

use super::coerce::TypeHint;

/// Why a gateway configuration could not be loaded or compiled.
///
/// Each variant names the part of the configuration at fault: a route by its
/// index in `routes` (and its pattern or tool), a setting by its YAML key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not valid YAML for the schema (syntax error, unknown key,
    /// missing key, wrong shape). The inner error carries the line/column.
    #[error("invalid gateway configuration: {0}")]
    Yaml(#[from] serde_norway::Error),

    /// The configuration file could not be read.
    #[error("cannot read gateway configuration {}: {source}", path.display())]
    Read {
        /// File that was being read.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A route names a tool that `tools` does not define.
    #[error("routes[{route_index}]: tool '{tool}' is not defined in tools")]
    UndefinedTool {
        /// Index of the route in `routes`.
        route_index: usize,
        /// The undefined tool name.
        tool: String,
    },

    /// A route pattern overlaps an earlier route's pattern in a way the router
    /// cannot order (including the exact same pattern twice).
    #[error("routes[{route_index}]: pattern '{pattern}' conflicts with earlier route '{with}'")]
    RouteConflict {
        /// Index of the route in `routes`.
        route_index: usize,
        /// The route's pattern.
        pattern: String,
        /// The earlier pattern it conflicts with.
        with: String,
    },

    /// A route pattern is malformed (bad `{param}`, two params in one segment,
    /// catch-all not at the end).
    #[error("routes[{route_index}]: invalid pattern '{pattern}': {reason}")]
    InvalidPattern {
        /// Index of the route in `routes`.
        route_index: usize,
        /// The route's pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A header-name setting is not a valid HTTP header name, so no request
    /// could ever carry it.
    #[error("{field}: '{value}' is not a valid HTTP header name")]
    InvalidHeaderName {
        /// The setting, e.g. `settings.warrant_header`.
        field: &'static str,
        /// The configured value.
        value: String,
    },

    /// An entry of `settings.trusted_roots` is not a hex-encoded Ed25519
    /// public key.
    #[error("settings.trusted_roots[{index}]: {reason}")]
    InvalidTrustedRoot {
        /// Index in `trusted_roots`.
        index: usize,
        /// Why the key was refused.
        reason: String,
    },

    /// With type coercion enabled, a rule's `default` does not fit its `type`.
    #[error("{location}: default does not fit type {expected}: found {found}")]
    InvalidDefault {
        /// Where the rule is, e.g. `tools.deploy.constraints.replicas`.
        location: String,
        /// The declared type.
        expected: TypeHint,
        /// The kind of the default value.
        found: &'static str,
    },
}
