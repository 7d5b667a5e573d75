//! The `tenuo-authorizer` server: a sidecar or a cluster gateway.
//!
//! One listener (default `0.0.0.0:9090`) serves HTTP/1.1 and h2c: the gateway
//! contract (any request is matched against the gateway routes and answered allow
//! or deny, as Envoy's ext_authz HTTP service and nginx `auth_request` expect),
//! `POST /v1/check`, `GET /health` and `GET /ready`, and Envoy's ext_authz gRPC
//! `envoy.service.auth.v3.Authorization/Check`; or the same on a Unix socket
//! ([`unix_socket`]). Metrics are on their own listener (default
//! `0.0.0.0:9091`, `/metrics`), which also answers the reference authorizer's
//! health routes `/health`, `/healthz`, `/ready` and `/status`.
//!
//! Under load it sheds rather than queues: past `max_concurrency` requests in
//! flight, new ones get 503 with `Retry-After`. Heads, bodies and request time are
//! bounded. On shutdown readiness turns false first, then in-flight requests
//! finish within the grace period.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tenuo_authz::server::ServerError> {
//! use tenuo_authz::{crypto::SigningKey, server::{spawn, ServerConfig}};
//! let key = SigningKey::generate().unwrap();
//! let mut config = ServerConfig::default();
//! config.listen = "127.0.0.1:0".parse().unwrap();
//! config.metrics_listen = "127.0.0.1:0".parse().unwrap();
//! config.trusted_issuers = vec![key.public_key()];
//! let server = spawn(config).await?;
//! println!("deciding on http://{}", server.addr);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod auth_request;
mod config;
pub mod grpc;
mod health;
mod http;
pub mod logging;
mod metrics;
pub mod reference_cli;
mod reload;
pub mod revocation_floor;
mod serve;
mod settings_source;
mod shedding;
pub mod unix_socket;

pub use config::{
    parse_keys_file, resolve_trusted_keys, split_keys, ConfigError, Env, ProcessEnv, ServeArgs,
    ServerConfig,
};
pub use metrics::{GatewayTools, Metrics, MAX_TOOL_LABELS, MAX_TOOL_LABEL_BYTES};
pub use reference_cli::GlobalArgs;
pub use reload::ReloadableGateway;
pub use serve::{run, spawn, RunningServer, ServerError};
