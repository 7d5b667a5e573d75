//! Checking and precompiling a [`GatewayConfig`] into a [`CompiledGateway`],
//! and matching requests to its routes.
//!
//! Route precedence is the reference's, since both use the `matchit` router:
//! per segment, a literal beats a `{param}` with a literal prefix/suffix,
//! which beats a bare `{param}`, which beats a `{*catch_all}`. Patterns the
//! router cannot order (e.g. `/a/{x}` and `/a/{y}`, or the same pattern
//! twice, even with different methods) are refused at compile time. The
//! method is checked only after the path has picked a route: a path match
//! with the wrong method is no match (there is no fallback to another route).

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderName, Method};

use super::body_path::{json_to_arg, BodyPath};
use super::coerce::{coerce, TypeHint};
use super::config::{ExtractionRule, ExtractionSource, GatewayConfig, GatewaySettings};
use super::config_error::ConfigError;
use super::method::MethodMask;
use super::route::{CompiledRoute, CompiledRule, Lookup, RouteMatch};
use crate::crypto::PublicKey;

/// Default body limit: 2 MiB, the limit the reference gateway's HTTP
/// framework (axum's `DefaultBodyLimit`) applies to the bodies it reads.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Options that are not part of the YAML (so reference configs stay valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayOptions {
    /// Largest body extraction accepts, in bytes.
    pub max_body_bytes: usize,
    /// Enforce and coerce to each rule's `type` (see [`super::coerce`]).
    /// Off by default, as in the reference.
    pub coerce_types: bool,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            coerce_types: false,
        }
    }
}

/// The `settings`, checked and in the types the server uses.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompiledSettings {
    /// Header carrying the warrant or warrant chain (base64).
    pub warrant_header: HeaderName,
    /// Header carrying the PoP signature.
    pub pop_header: HeaderName,
    /// Header carrying signed approvals.
    pub approval_header: HeaderName,
    /// Tolerance for future-dated issuance.
    pub clock_tolerance: Duration,
    /// Trusted root keys, decoded.
    pub trusted_roots: Vec<PublicKey>,
    /// Whether denials carry their reason in a response header.
    pub debug_mode: bool,
}

impl CompiledSettings {
    /// Checks the raw settings: header names must be valid HTTP header names
    /// and trusted roots valid hex Ed25519 keys.
    pub fn compile(raw: &GatewaySettings) -> Result<Self, ConfigError> {
        let header = |field: &'static str, value: &str| {
            HeaderName::from_bytes(value.as_bytes()).map_err(|_| ConfigError::InvalidHeaderName {
                field,
                value: value.to_owned(),
            })
        };
        let trusted_roots = raw
            .trusted_roots
            .iter()
            .enumerate()
            .map(|(index, hex)| {
                PublicKey::from_hex(hex).map_err(|e| ConfigError::InvalidTrustedRoot {
                    index,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            warrant_header: header("settings.warrant_header", &raw.warrant_header)?,
            pop_header: header("settings.pop_header", &raw.pop_header)?,
            approval_header: header("settings.approval_header", &raw.approval_header)?,
            clock_tolerance: Duration::from_secs(raw.clock_tolerance_secs),
            trusted_roots,
            debug_mode: raw.debug_mode,
        })
    }
}

/// A checked, precompiled gateway configuration. Immutable and `Sync`: share
/// it behind an `Arc`.
#[derive(Debug)]
pub struct CompiledGateway {
    settings: CompiledSettings,
    router: matchit::Router<usize>,
    routes: Vec<CompiledRoute>,
    options: GatewayOptions,
}

impl CompiledGateway {
    /// Parses and compiles YAML with default options.
    pub fn from_yaml(yaml: &str) -> Result<Self, ConfigError> {
        Self::compile(GatewayConfig::from_yaml(yaml)?)
    }

    /// Compiles with default options.
    pub fn compile(config: GatewayConfig) -> Result<Self, ConfigError> {
        Self::compile_with(config, GatewayOptions::default())
    }

    /// Compiles with the given options.
    pub fn compile_with(
        config: GatewayConfig,
        options: GatewayOptions,
    ) -> Result<Self, ConfigError> {
        let mut router = matchit::Router::new();
        let mut routes = Vec::with_capacity(config.routes.len());
        for (index, route) in config.routes.iter().enumerate() {
            let tool = config
                .tools
                .get(&route.tool)
                .ok_or_else(|| ConfigError::UndefinedTool {
                    route_index: index,
                    tool: route.tool.clone(),
                })?;
            router
                .insert(route.pattern.as_str(), index)
                .map_err(|e| match e {
                    matchit::InsertError::Conflict { with } => ConfigError::RouteConflict {
                        route_index: index,
                        pattern: route.pattern.clone(),
                        with,
                    },
                    other => ConfigError::InvalidPattern {
                        route_index: index,
                        pattern: route.pattern.clone(),
                        reason: other.to_string(),
                    },
                })?;

            let mut merged: BTreeMap<&str, (String, &ExtractionRule)> = BTreeMap::new();
            for (name, rule) in &tool.constraints {
                let at = format!("tools.{}.constraints.{name}", route.tool);
                merged.insert(name, (at, rule));
            }
            for (name, rule) in &route.constraints {
                let at = format!("routes[{index}].constraints.{name}");
                merged.insert(name, (at, rule));
            }
            let rules = merged
                .into_iter()
                .map(|(name, (at, rule))| compile_rule(name, rule, &at, options))
                .collect::<Result<Box<[_]>, _>>()?;

            routes.push(CompiledRoute {
                index,
                pattern: route.pattern.as_str().into(),
                methods: MethodMask::from_names(&route.method),
                tool: route.tool.as_str().into(),
                needs_body: rules.iter().any(|r| r.from == ExtractionSource::Body),
                needs_query: rules.iter().any(|r| r.from == ExtractionSource::Query),
                rules,
            });
        }
        Ok(Self {
            settings: CompiledSettings::compile(&config.settings)?,
            router,
            routes,
            options,
        })
    }

    /// The checked settings.
    pub fn settings(&self) -> &CompiledSettings {
        &self.settings
    }

    /// The options this gateway was compiled with.
    pub fn options(&self) -> &GatewayOptions {
        &self.options
    }

    /// The largest body extraction accepts; callers should not buffer more.
    pub fn max_body_bytes(&self) -> usize {
        self.options.max_body_bytes
    }

    /// All routes, in configuration order.
    pub fn routes(&self) -> &[CompiledRoute] {
        &self.routes
    }

    /// Finds the route for a request. `path` is the raw (still
    /// percent-encoded) request path; anything from the first `?` on is
    /// ignored. Returns `None` when no pattern matches or the matching
    /// route does not accept `method` (the reference server answers that
    /// with 404 `no_route`; it never passes unmatched requests through).
    pub fn match_route<'g, 'p>(
        &'g self,
        method: &Method,
        path: &'p str,
    ) -> Option<RouteMatch<'g, 'p>> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let found = self.router.at(path).ok()?;
        let route = self.routes.get(*found.value)?;
        if !route.methods.matches(method) {
            return None;
        }
        Some(RouteMatch {
            route,
            params: found.params,
        })
    }

    /// [`Self::match_route`] for request parts.
    pub fn match_parts<'g, 'p>(
        &'g self,
        parts: &'p http::request::Parts,
    ) -> Option<RouteMatch<'g, 'p>> {
        self.match_route(&parts.method, parts.uri.path())
    }
}

fn compile_rule(
    name: &str,
    rule: &ExtractionRule,
    at: &str,
    options: GatewayOptions,
) -> Result<CompiledRule, ConfigError> {
    let lookup = match rule.from {
        ExtractionSource::Path => Lookup::Param,
        ExtractionSource::Query => Lookup::Query,
        // Full Unicode lower-casing first, as the reference does, then the
        // header-name syntax check; a name that can never occur is kept (and
        // never found) so that every reference config still loads.
        ExtractionSource::Header => {
            Lookup::Header(HeaderName::from_bytes(rule.path.to_lowercase().as_bytes()).ok())
        }
        ExtractionSource::Body => Lookup::Body(BodyPath::compile(&rule.path)),
        ExtractionSource::Literal => Lookup::Literal,
    };
    let type_hint = rule.value_type.as_deref().map(TypeHint::parse);
    let mut default = rule.default.as_ref().map(json_to_arg);
    if options.coerce_types {
        if let (Some(hint), Some(value)) = (&type_hint, default.take()) {
            let per_item = matches!(&lookup, Lookup::Body(p) if p.has_wildcard());
            default = Some(coerce(value, hint, per_item).map_err(|found| {
                ConfigError::InvalidDefault {
                    location: at.to_owned(),
                    expected: hint.clone(),
                    found,
                }
            })?);
        }
    }
    Ok(CompiledRule {
        name: name.into(),
        from: rule.from,
        key: rule.path.as_str().into(),
        lookup,
        required: rule.required,
        default,
        type_hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "version: '1'\nsettings: {}\ntools:\n  t: {description: d, constraints: {}}\n";

    fn gw(routes: &str) -> Result<CompiledGateway, ConfigError> {
        CompiledGateway::from_yaml(&format!("{BASE}routes:\n{routes}"))
    }

    #[test]
    fn precedence_static_over_param_over_catch_all() {
        let g = gw("  - {pattern: '/{*rest}', tool: t}\n  - {pattern: '/f/{id}', tool: t}\n  - {pattern: '/f/new', tool: t}\n  - {pattern: '/f/img-{n}.png', tool: t}\n").unwrap();
        let idx = |p: &str| g.match_route(&Method::GET, p).map(|m| m.route().index());
        assert_eq!(idx("/f/new"), Some(2));
        assert_eq!(idx("/f/7"), Some(1));
        assert_eq!(idx("/f/img-7.png"), Some(3));
        assert_eq!(idx("/f/a/b"), Some(0));
        assert_eq!(idx("/g"), Some(0));
        assert_eq!(idx("/"), None);
        // A bare param and a catch-all in the same place cannot be ordered.
        let e = gw("  - {pattern: '/f/{*rest}', tool: t}\n  - {pattern: '/f/{id}', tool: t}\n")
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::RouteConflict { route_index: 1, .. }),
            "{e}"
        );
    }

    #[test]
    fn conflicts_and_bad_patterns_name_the_route() {
        let e = gw(
            "  - {pattern: '/a/{x}', tool: t}\n  - {pattern: '/a/{y}', tool: t, method: [POST]}\n",
        )
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::RouteConflict { route_index: 1, .. }),
            "{e}"
        );
        let e = gw("  - {pattern: '/a/{x}{y}', tool: t}\n").unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidPattern { route_index: 0, .. }),
            "{e}"
        );
        let e = gw("  - {pattern: '/a', tool: nope}\n").unwrap_err();
        assert!(e.to_string().contains("routes[0]") && e.to_string().contains("nope"));
    }

    #[test]
    fn method_mismatch_does_not_fall_back() {
        let g = gw("  - {pattern: '/a/{x}', tool: t, method: [POST]}\n  - {pattern: '/a/b', tool: t, method: [GET]}\n").unwrap();
        assert!(g.match_route(&Method::POST, "/a/b").is_none());
        assert_eq!(
            g.match_route(&Method::POST, "/a/c").unwrap().param("x"),
            Some("c")
        );
        assert!(g.match_route(&Method::GET, "/a/c?q=1").is_none());
        assert_eq!(
            g.match_route(&Method::GET, "/a/b?x")
                .unwrap()
                .route()
                .index(),
            1
        );
    }

    #[test]
    fn settings_are_checked() {
        let bad = "version: '1'\nsettings: {warrant_header: 'a b'}\ntools: {}\nroutes: []\n";
        let e = CompiledGateway::from_yaml(bad).unwrap_err();
        assert!(e.to_string().contains("settings.warrant_header"), "{e}");
        let bad = "version: '1'\nsettings: {trusted_roots: ['zz']}\ntools: {}\nroutes: []\n";
        let e = CompiledGateway::from_yaml(bad).unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidTrustedRoot { index: 0, .. }),
            "{e}"
        );
        let ok = CompiledGateway::from_yaml("version: '1'\nsettings: {}\ntools: {}\nroutes: []\n")
            .unwrap();
        assert_eq!(ok.settings().warrant_header.as_str(), "x-tenuo-warrant");
        assert_eq!(ok.settings().clock_tolerance, Duration::from_secs(30));
        assert_eq!(ok.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn invalid_default_with_coercion() {
        let y = "version: '1'\nsettings: {}\ntools:\n  t:\n    description: d\n    constraints:\n      n: {from: query, path: n, type: integer, default: abc}\nroutes: [{pattern: /n, tool: t}]\n";
        let cfg = GatewayConfig::from_yaml(y).unwrap();
        assert!(CompiledGateway::compile(cfg.clone()).is_ok());
        let opts = GatewayOptions {
            coerce_types: true,
            ..GatewayOptions::default()
        };
        let e = CompiledGateway::compile_with(cfg, opts).unwrap_err();
        assert!(e.to_string().contains("tools.t.constraints.n"), "{e}");
    }
}
