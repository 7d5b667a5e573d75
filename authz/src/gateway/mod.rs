//! Gateway configuration: which HTTP requests call which tool, and how the
//! tool's arguments are read from the request.
//!
//! The YAML schema and its behaviour mirror the reference Tenuo gateway
//! (`tenuo` 0.3.5), so a configuration written for it loads here and maps a
//! request to the same tool and arguments:
//!
//! ```yaml
//! version: "1"
//! settings:                      # every key optional
//!   warrant_header: X-Tenuo-Warrant
//!   pop_header: X-Tenuo-PoP
//!   approval_header: X-Tenuo-Approvals
//!   clock_tolerance_secs: 30
//!   trusted_roots: ["<64 hex chars>"]
//!   debug_mode: false
//! tools:
//!   scale:
//!     description: Scale a cluster
//!     constraints:               # argument name -> rule
//!       cluster: {from: path, path: cluster, required: true}
//!       replicas: {from: body, path: spec.replicas, type: integer}
//!       namespace: {from: query, path: ns, default: default}
//! routes:
//!   - pattern: /api/v1/clusters/{cluster}/scale
//!     method: [POST, PUT]        # empty or absent: any method
//!     tool: scale
//!     constraints: {}            # extra rules, overriding the tool's
//! ```
//!
//! Use: [`CompiledGateway::from_yaml`] (or [`GatewayConfig::from_file`] then
//! [`CompiledGateway::compile_with`]) once at startup; per request,
//! [`CompiledGateway::match_route`], then [`RouteMatch::needs_body`] to decide
//! whether to buffer the body (up to [`CompiledGateway::max_body_bytes`]), then
//! [`CompiledGateway::extract`]. A request that matches no route should be
//! denied: the reference answers 404 `no_route` and never passes it through.
//!
//! YAML crate: `serde_norway`. `serde_yaml` is deprecated; `serde_yml` is
//! itself deprecated now (a shim over another library); `serde_yaml_ng` moved
//! to a new 0.10 API. `serde_norway` is a maintained fork of `serde_yaml` 0.9,
//! the version the reference parses with, so the set of documents accepted,
//! the scalar rules (YAML 1.2 core: `yes` is a string) and the parser limits
//! (recursion and alias-expansion bounds) are the same; it is licensed
//! MIT/Apache-2.0 like this crate.
//!
//! Files: [`config`] (schema), [`compile`] (checks, precompiling, route
//! matching), [`route`] (compiled routes and matches), [`method`] (method
//! masks), [`body_path`] (JSON dot paths), [`coerce`] (declared types),
//! [`extract`] (request → tool call), [`config_error`] and [`extract_error`].

pub mod body_path;
pub mod coerce;
pub mod compile;
pub mod config;
pub mod config_error;
pub mod extract;
pub mod extract_error;
pub mod method;
pub mod route;

pub use body_path::BodyPath;
pub use coerce::TypeHint;
pub use compile::{CompiledGateway, CompiledSettings, GatewayOptions, DEFAULT_MAX_BODY_BYTES};
pub use config::{
    ExtractionRule, ExtractionSource, GatewayConfig, GatewaySettings, RouteConfig, ToolConfig,
};
pub use config_error::ConfigError;
pub use extract::Extracted;
pub use extract_error::ExtractionError;
pub use method::MethodMask;
pub use route::{CompiledRoute, CompiledRule, RouteMatch};
