//! Turning a matched request into a tool call ([`Extracted`]).
//!
//! Request handling follows the reference gateway server:
//! * **body**: read as JSON whatever the `Content-Type`; an empty body, or one
//!   that is not JSON (or nests deeper than 128), counts as no body: body
//!   fields are then missing. Only bodies over the size limit are refused
//!   outright. Routes without body rules never look at the body.
//! * **query**: `application/x-www-form-urlencoded` decoding (`+` is a space,
//!   bad escapes kept as-is); when a name repeats, the last value wins.
//! * **headers**: names case-insensitive; values that are not visible ASCII
//!   are skipped; when a header repeats, the last usable value wins.
//! * **path**: the route's captures, raw (not percent-decoded).
//! * a value found is used as is (strings for path/query/header, the JSON's
//!   kind for body); a missing one fails the request if the rule is
//!   `required` (its `default` is then ignored), else the `default`, if any,
//!   is used, else the argument is left out.
//!
//! Rules are applied in argument-name order, so when several required fields
//! are missing the error always names the first (the reference's order is
//! unspecified).

use std::borrow::Cow;

use http::HeaderMap;
use serde_json::Value;
use url::form_urlencoded;

use super::coerce::coerce;
use super::compile::CompiledGateway;
use super::extract_error::ExtractionError;
use super::route::{CompiledRule, Lookup, RouteMatch};
use crate::constraint::ArgValue;
use crate::pop::Args;

/// The tool call a request maps to.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// The route's tool.
    pub tool: String,
    /// The extracted arguments.
    pub args: Args,
}

/// The body as seen by body rules.
enum Body {
    /// Not read: the route has no body rule.
    Unused,
    /// Empty body.
    Empty,
    /// A body that does not parse as JSON.
    NotJson,
    /// A parsed JSON body.
    Json(Value),
}

impl CompiledGateway {
    /// Extracts the tool call for a matched request from its parts and body.
    pub fn extract_parts(
        &self,
        matched: &RouteMatch<'_, '_>,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<Extracted, ExtractionError> {
        self.extract(matched, parts.uri.query(), &parts.headers, body)
    }

    /// Extracts the tool call for a matched request. `query` is the raw query
    /// string (without `?`); `body` may be empty when
    /// [`RouteMatch::needs_body`] is false.
    pub fn extract(
        &self,
        matched: &RouteMatch<'_, '_>,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Extracted, ExtractionError> {
        let max = self.max_body_bytes();
        if body.len() > max {
            return Err(ExtractionError::BodyTooLarge {
                len: body.len(),
                max,
            });
        }
        let route = matched.route();
        let body = if !route.needs_body() {
            Body::Unused
        } else if body.is_empty() {
            Body::Empty
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => Body::Json(v),
                Err(_) => Body::NotJson,
            }
        };
        let query_pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = match query {
            Some(q) if route.needs_query() => form_urlencoded::parse(q.as_bytes()).collect(),
            _ => Vec::new(),
        };

        let coerce_types = self.options().coerce_types;
        let mut args = Args::new();
        for rule in route.rules() {
            let found = lookup(rule, matched, &query_pairs, headers, &body);
            let value = match found {
                Some(v) => match (&rule.type_hint, coerce_types) {
                    (Some(hint), true) => coerce(v, hint, rule.per_item()).map_err(|found| {
                        ExtractionError::WrongType {
                            field: rule.name().to_owned(),
                            expected: hint.clone(),
                            found,
                        }
                    })?,
                    _ => v,
                },
                None if rule.required => {
                    return Err(
                        if matches!(body, Body::NotJson) && matches!(rule.lookup, Lookup::Body(_)) {
                            ExtractionError::BodyNotJson {
                                field: rule.name().to_owned(),
                                key: rule.key().to_owned(),
                            }
                        } else {
                            ExtractionError::MissingRequired {
                                field: rule.name().to_owned(),
                                from: rule.source(),
                                key: rule.key().to_owned(),
                            }
                        },
                    );
                }
                None => match &rule.default {
                    Some(d) => d.clone(),
                    None => continue,
                },
            };
            args.insert(rule.name().to_owned(), value);
        }
        Ok(Extracted {
            tool: route.tool().to_owned(),
            args,
        })
    }
}

fn lookup(
    rule: &CompiledRule,
    matched: &RouteMatch<'_, '_>,
    query: &[(Cow<'_, str>, Cow<'_, str>)],
    headers: &HeaderMap,
    body: &Body,
) -> Option<ArgValue> {
    match &rule.lookup {
        Lookup::Param => matched
            .param(rule.key())
            .map(|v| ArgValue::String(v.to_owned())),
        Lookup::Query => query
            .iter()
            .rev()
            .find(|(k, _)| k == rule.key())
            .map(|(_, v)| ArgValue::String(v.clone().into_owned())),
        Lookup::Header(name) => headers
            .get_all(name.as_ref()?)
            .iter()
            .rev()
            .find_map(|v| v.to_str().ok())
            .map(|v| ArgValue::String(v.to_owned())),
        Lookup::Body(path) => match body {
            Body::Json(v) => path.extract(v),
            Body::Unused | Body::Empty | Body::NotJson => None,
        },
        Lookup::Literal => rule.default.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::{ConfigError, GatewayConfig, GatewayOptions};
    use http::{HeaderValue, Method};

    const YAML: &str = r#"
version: "1"
settings: {}
tools:
  scale:
    description: scale a cluster
    constraints:
      cluster: {from: path, path: cluster, required: true}
      replicas: {from: body, path: spec.replicas, type: integer}
      ns: {from: query, path: namespace, default: default}
      tenant: {from: header, path: X-Tenant-Id}
      kind: {from: literal, path: unused, default: k8s}
routes:
  - pattern: "/c/{cluster}/scale"
    method: [POST]
    tool: scale
  - pattern: "/c/{cluster}/peek"
    tool: scale
    constraints:
      replicas: {from: query, path: r, type: integer}
"#;

    fn gw(opts: GatewayOptions) -> Result<CompiledGateway, ConfigError> {
        CompiledGateway::compile_with(GatewayConfig::from_yaml(YAML)?, opts)
    }

    fn s(x: &str) -> ArgValue {
        ArgValue::String(x.into())
    }

    #[test]
    fn every_source() {
        let g = gw(GatewayOptions::default()).unwrap();
        let m = g.match_route(&Method::POST, "/c/prod/scale").unwrap();
        assert!(m.needs_body());
        let mut h = HeaderMap::new();
        h.append("x-tenant-id", HeaderValue::from_static("first"));
        h.append("x-tenant-id", HeaderValue::from_static("acme"));
        h.append("x-tenant-id", HeaderValue::from_bytes(b"\xff").unwrap());
        let out = g
            .extract(
                &m,
                Some("namespace=a+b&namespace=k%2Fs"),
                &h,
                br#"{"spec":{"replicas":3}}"#,
            )
            .unwrap();
        assert_eq!(out.tool, "scale");
        assert_eq!(out.args.get("cluster"), Some(&s("prod")));
        assert_eq!(out.args.get("replicas"), Some(&ArgValue::Integer(3)));
        assert_eq!(out.args.get("ns"), Some(&s("k/s")));
        assert_eq!(out.args.get("tenant"), Some(&s("acme")));
        assert_eq!(out.args.get("kind"), Some(&s("k8s")));
    }

    #[test]
    fn defaults_and_absences() {
        let g = gw(GatewayOptions::default()).unwrap();
        let m = g.match_route(&Method::POST, "/c/prod/scale").unwrap();
        let out = g.extract(&m, None, &HeaderMap::new(), b"not json").unwrap();
        assert_eq!(out.args.get("ns"), Some(&s("default")));
        assert!(!out.args.contains_key("replicas"));
        assert!(!out.args.contains_key("tenant"));
    }

    #[test]
    fn route_rules_override_tool_rules_and_skip_body() {
        let g = gw(GatewayOptions::default()).unwrap();
        let m = g.match_route(&Method::GET, "/c/x/peek").unwrap();
        assert!(!m.needs_body());
        let out = g.extract(&m, Some("r=5"), &HeaderMap::new(), b"").unwrap();
        // No coercion by default: query values stay strings.
        assert_eq!(out.args.get("replicas"), Some(&s("5")));
    }

    #[test]
    fn coercion_when_enabled() {
        let g = gw(GatewayOptions {
            coerce_types: true,
            ..GatewayOptions::default()
        })
        .unwrap();
        let m = g.match_route(&Method::GET, "/c/x/peek").unwrap();
        let out = g.extract(&m, Some("r=5"), &HeaderMap::new(), b"").unwrap();
        assert_eq!(out.args.get("replicas"), Some(&ArgValue::Integer(5)));
        let e = g
            .extract(&m, Some("r=five"), &HeaderMap::new(), b"")
            .unwrap_err();
        assert!(matches!(e, ExtractionError::WrongType { ref field, .. } if field == "replicas"));
    }

    #[test]
    fn body_limit() {
        let g = gw(GatewayOptions {
            max_body_bytes: 4,
            coerce_types: false,
        })
        .unwrap();
        let m = g.match_route(&Method::POST, "/c/prod/scale").unwrap();
        let e = g
            .extract(&m, None, &HeaderMap::new(), b"{\"a\":1}")
            .unwrap_err();
        assert_eq!(e, ExtractionError::BodyTooLarge { len: 7, max: 4 });
    }

    #[test]
    fn required_errors() {
        let y = YAML.replace("type: integer}", "type: integer, required: true}");
        let g = CompiledGateway::from_yaml(&y).unwrap();
        let m = g.match_route(&Method::POST, "/c/prod/scale").unwrap();
        let e = g
            .extract(&m, None, &HeaderMap::new(), b"<xml/>")
            .unwrap_err();
        assert!(matches!(e, ExtractionError::BodyNotJson { .. }), "{e}");
        let e = g.extract(&m, None, &HeaderMap::new(), b"{}").unwrap_err();
        assert_eq!(
            e,
            ExtractionError::MissingRequired {
                field: "replicas".into(),
                from: crate::gateway::ExtractionSource::Body,
                key: "spec.replicas".into()
            }
        );
        let deep = "[".repeat(100_000);
        let e = g
            .extract(&m, None, &HeaderMap::new(), deep.as_bytes())
            .unwrap_err();
        assert!(matches!(e, ExtractionError::BodyNotJson { .. }), "{e}");
    }
}
