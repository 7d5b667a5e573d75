//! The gateway YAML schema, as plain serde types.
//!
//! These types only describe the document; [`super::CompiledGateway`] checks
//! and precompiles them. Every mapping rejects unknown keys (a misspelt key is
//! an error, not a silently ignored setting), and the required/optional keys
//! and their defaults are those of the reference gateway.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::config_error::ConfigError;

/// Default header carrying the warrant (or warrant chain), base64.
pub const DEFAULT_WARRANT_HEADER: &str = "X-Tenuo-Warrant";
/// Default header carrying the proof-of-possession signature.
pub const DEFAULT_POP_HEADER: &str = "X-Tenuo-PoP";
/// Default header carrying pre-signed approvals.
pub const DEFAULT_APPROVAL_HEADER: &str = "X-Tenuo-Approvals";
/// Default tolerance, in seconds, for warrants issued slightly in the future.
pub const DEFAULT_CLOCK_TOLERANCE_SECS: u64 = 30;

/// A whole gateway configuration document.
///
/// All four top-level keys are required (`settings: {}` and `tools: {}` are
/// fine).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// Free-form configuration version (the reference writes `"1"`).
    pub version: String,
    /// Gateway-wide settings.
    pub settings: GatewaySettings,
    /// Tools by name, each with its argument extraction rules.
    pub tools: BTreeMap<String, ToolConfig>,
    /// Routes mapping HTTP requests to tools.
    pub routes: Vec<RouteConfig>,
}

impl GatewayConfig {
    /// Parses a configuration from YAML text.
    pub fn from_yaml(yaml: &str) -> Result<Self, ConfigError> {
        Ok(serde_norway::from_str(yaml)?)
    }

    /// Reads and parses a configuration file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text)
    }
}

/// The `settings` mapping. Every key is optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GatewaySettings {
    /// Header carrying the warrant (default `X-Tenuo-Warrant`).
    #[serde(default = "default_warrant_header")]
    pub warrant_header: String,
    /// Header carrying the PoP signature (default `X-Tenuo-PoP`).
    #[serde(default = "default_pop_header")]
    pub pop_header: String,
    /// Header carrying signed approvals (default `X-Tenuo-Approvals`).
    #[serde(default = "default_approval_header")]
    pub approval_header: String,
    /// Tolerance for future-dated issuance, seconds (default 30). Expiry
    /// itself is strict.
    #[serde(default = "default_clock_tolerance")]
    pub clock_tolerance_secs: u64,
    /// Trusted root public keys, hex (default none).
    #[serde(default)]
    pub trusted_roots: Vec<String>,
    /// Debug mode: denials carry their reason in a response header. Not for
    /// production.
    #[serde(default)]
    pub debug_mode: bool,
}

fn default_warrant_header() -> String {
    DEFAULT_WARRANT_HEADER.to_owned()
}

fn default_pop_header() -> String {
    DEFAULT_POP_HEADER.to_owned()
}

fn default_approval_header() -> String {
    DEFAULT_APPROVAL_HEADER.to_owned()
}

fn default_clock_tolerance() -> u64 {
    DEFAULT_CLOCK_TOLERANCE_SECS
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            warrant_header: default_warrant_header(),
            pop_header: default_pop_header(),
            approval_header: default_approval_header(),
            clock_tolerance_secs: DEFAULT_CLOCK_TOLERANCE_SECS,
            trusted_roots: Vec::new(),
            debug_mode: false,
        }
    }
}

/// One entry of `tools`. Both keys are required.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ToolConfig {
    /// Human-readable description.
    pub description: String,
    /// Argument name → how to extract it.
    pub constraints: BTreeMap<String, ExtractionRule>,
}

/// One entry of `routes`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouteConfig {
    /// Path pattern: literal segments, `{name}` captures (also with a literal
    /// prefix or suffix inside one segment), a final `{*rest}` catch-all;
    /// `{{` and `}}` are literal braces.
    pub pattern: String,
    /// Accepted methods, case-insensitive; empty or absent means any method.
    #[serde(default)]
    pub method: Vec<String>,
    /// Tool this route calls; must be defined in `tools`.
    pub tool: String,
    /// Extra rules for this route; a name also defined by the tool replaces
    /// the tool's rule.
    #[serde(default)]
    pub constraints: BTreeMap<String, ExtractionRule>,
}

/// Where an argument value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ExtractionSource {
    /// A `{name}` capture of the route pattern (raw, not percent-decoded).
    Path,
    /// A query-string parameter (form-decoded; the last occurrence wins).
    Query,
    /// A request header (case-insensitive; the last value that is visible
    /// ASCII wins).
    Header,
    /// A dot path into the JSON body: `a.b`, `items.0.id`, `items.*.id`.
    Body,
    /// The rule's `default`, whatever the request holds.
    Literal,
}

impl ExtractionSource {
    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractionSource::Path => "path",
            ExtractionSource::Query => "query",
            ExtractionSource::Header => "header",
            ExtractionSource::Body => "body",
            ExtractionSource::Literal => "literal",
        }
    }
}

impl fmt::Display for ExtractionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to extract one argument. `from` and `path` are required.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractionRule {
    /// The source.
    pub from: ExtractionSource,
    /// Parameter name, header name or body dot path (unused for `literal`,
    /// but still required by the schema).
    pub path: String,
    /// Human-readable description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether a request lacking the value is refused.
    #[serde(default)]
    pub required: bool,
    /// Value used when the field is absent and not required; the value itself
    /// for `literal`.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Declared type (`integer`, `float`, `boolean`, `string`, `list`); any
    /// text is accepted. Only enforced when type coercion is enabled.
    #[serde(rename = "type", default)]
    pub value_type: Option<String>,
    /// Allowed values, accepted for compatibility; not enforced (the
    /// reference does not enforce them either: warrants constrain values).
    #[serde(default)]
    pub allowed_values: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_document_gets_defaults() {
        let c = GatewayConfig::from_yaml("version: '1'\nsettings: {}\ntools: {}\nroutes: []\n")
            .unwrap();
        assert_eq!(c.settings, GatewaySettings::default());
        assert!(c.tools.is_empty() && c.routes.is_empty());
    }

    #[test]
    fn unknown_keys_are_rejected_everywhere() {
        let base = "version: '1'\nsettings: {}\ntools: {}\nroutes: []\n";
        assert!(GatewayConfig::from_yaml(&format!("{base}extra: 1\n")).is_err());
        assert!(GatewayConfig::from_yaml(
            "version: '1'\nsettings: {warrant_hdr: X}\ntools: {}\nroutes: []\n"
        )
        .is_err());
        assert!(GatewayConfig::from_yaml(
            "version: '1'\nsettings: {}\ntools: {t: {description: d, constraints: {a: {from: path, path: a, requird: true}}}}\nroutes: []\n"
        )
        .is_err());
    }

    #[test]
    fn missing_top_level_keys_are_rejected() {
        assert!(GatewayConfig::from_yaml("version: '1'\ntools: {}\nroutes: []\n").is_err());
        assert!(GatewayConfig::from_yaml("version: '1'\nsettings: {}\nroutes: []\n").is_err());
        assert!(GatewayConfig::from_yaml("").is_err());
    }

    #[test]
    fn source_spellings() {
        for s in ["path", "query", "header", "body", "literal"] {
            let rule: ExtractionRule =
                serde_norway::from_str(&format!("{{from: {s}, path: x}}")).unwrap();
            assert_eq!(rule.from.as_str(), s);
        }
        assert!(serde_norway::from_str::<ExtractionRule>("{from: Body, path: x}").is_err());
        assert!(serde_norway::from_str::<ExtractionRule>("{from: cookie, path: x}").is_err());
    }
}
