//! Compiled routes and rules ([`CompiledRoute`], [`CompiledRule`]) and the
//! result of matching a request against them ([`RouteMatch`]).

use http::HeaderName;

use super::body_path::BodyPath;
use super::coerce::TypeHint;
use super::config::ExtractionSource;
use super::method::MethodMask;
use crate::constraint::ArgValue;

/// How a compiled rule finds its value.
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    /// Path capture named by the rule's key.
    Param,
    /// Query parameter named by the rule's key.
    Query,
    /// Header; `None` when the key is not a valid header name (never found).
    Header(Option<HeaderName>),
    /// JSON body path.
    Body(BodyPath),
    /// The rule's default.
    Literal,
}

/// One argument's extraction rule, precompiled.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub(crate) name: Box<str>,
    pub(crate) from: ExtractionSource,
    pub(crate) key: Box<str>,
    pub(crate) lookup: Lookup,
    pub(crate) required: bool,
    pub(crate) default: Option<ArgValue>,
    pub(crate) type_hint: Option<TypeHint>,
}

impl CompiledRule {
    /// The argument name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the value comes from.
    pub fn source(&self) -> ExtractionSource {
        self.from
    }

    /// The parameter name, header name or body path (the rule's `path`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the request is refused when the value is missing.
    pub fn required(&self) -> bool {
        self.required
    }

    /// The value used when the field is missing and not required (already
    /// coerced when coercion is on).
    pub fn default_value(&self) -> Option<&ArgValue> {
        self.default.as_ref()
    }

    /// The declared type, if any.
    pub fn type_hint(&self) -> Option<&TypeHint> {
        self.type_hint.as_ref()
    }

    /// Whether coercion of this rule's value applies per list item.
    pub(crate) fn per_item(&self) -> bool {
        matches!(&self.lookup, Lookup::Body(p) if p.has_wildcard())
    }
}

/// A route, precompiled: method mask, tool and the merged rules (the tool's,
/// overridden by the route's own), sorted by argument name.
#[derive(Debug, Clone)]
pub struct CompiledRoute {
    pub(crate) index: usize,
    pub(crate) pattern: Box<str>,
    pub(crate) methods: MethodMask,
    pub(crate) tool: Box<str>,
    pub(crate) rules: Box<[CompiledRule]>,
    pub(crate) needs_body: bool,
    pub(crate) needs_query: bool,
}

impl CompiledRoute {
    /// Index of the route in the configuration's `routes`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The configured path pattern.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The accepted methods.
    pub fn methods(&self) -> &MethodMask {
        &self.methods
    }

    /// The tool this route calls.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The merged extraction rules, sorted by argument name.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Whether any rule reads the body. When false, extraction ignores the
    /// body, so callers need not buffer it.
    pub fn needs_body(&self) -> bool {
        self.needs_body
    }

    /// Whether any rule reads the query string.
    pub fn needs_query(&self) -> bool {
        self.needs_query
    }
}

/// A request matched to a route, with the pattern's captures borrowed from
/// the request path (raw: percent-escapes are not decoded).
#[derive(Debug)]
pub struct RouteMatch<'g, 'p> {
    pub(crate) route: &'g CompiledRoute,
    pub(crate) params: matchit::Params<'g, 'p>,
}

impl<'g, 'p> RouteMatch<'g, 'p> {
    /// The matched route.
    pub fn route(&self) -> &'g CompiledRoute {
        self.route
    }

    /// The matched route's tool.
    pub fn tool(&self) -> &'g str {
        &self.route.tool
    }

    /// Whether extraction for this route reads the body.
    pub fn needs_body(&self) -> bool {
        self.route.needs_body
    }

    /// The capture named `name`. If a pattern repeats a name, the last
    /// capture wins (as in the reference).
    pub fn param(&self, name: &str) -> Option<&'p str> {
        self.params
            .iter()
            .filter(|(k, _)| *k == name)
            .last()
            .map(|(_, v)| v)
    }

    /// All captures, in pattern order.
    pub fn params(&self) -> impl Iterator<Item = (&'g str, &'p str)> + '_ {
        self.params.iter()
    }
}
