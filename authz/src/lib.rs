//! An authorizer for [Tenuo](https://tenuo.ai) v1 warrants: signed, task-scoped
//! capability tokens that AI agents present with each tool call, and that only
//! narrow when delegated.
//!
//! A decision verifies the warrant chain (signatures, delegation links, lifetimes,
//! revocation) against trusted root keys, the holder's proof of possession (a
//! signature over the call) and the tool's argument constraints, and answers
//! allow, or deny with one of the stable reasons of [`DenyReason`]. Warrants
//! minted by the Tenuo SDKs verify here unchanged, and the other way round.
//!
//! # Three ways to use it
//!
//! **In code**, with an [`Authorizer`]: the token and PoP as the headers carry
//! them, the tool and its arguments as the call names them. Chains seen before
//! come from a verified-chain cache, so a repeated warrant costs one PoP check.
//!
//! ```
//! use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
//! use tenuo_authz::{crypto::SigningKey, mint::Issue, pop::{sign_pop, Args}};
//! use tenuo_authz::{Authorizer, DenyReason};
//!
//! let control_plane = SigningKey::generate()?;
//! let agent = SigningKey::generate()?;
//! let authorizer = Authorizer::builder()
//!     .trusted_issuers([control_plane.public_key()])
//!     .build()?;
//!
//! // The control plane issues a warrant: read_file, under /data only.
//! let mut only_data = ConstraintSet::new();
//! only_data.insert("path", Constraint::pattern("/data/*")?);
//! let warrant = Issue::execution(agent.public_key())
//!     .tool("read_file", only_data)
//!     .ttl_secs(300)
//!     .sign(&control_plane, authorizer.now() as u64)?;
//! let token = warrant.to_base64url();
//!
//! // The agent signs each call it makes with the warrant.
//! let mut args = Args::new();
//! args.insert("path".into(), ArgValue::String("/data/q3.csv".into()));
//! let pop = sign_pop(&agent, warrant.id(), "read_file", &args, authorizer.now()).to_base64url();
//! assert!(authorizer.authorize(Some(&token), "read_file", &args, Some(&pop)).is_ok());
//!
//! args.insert("path".into(), ArgValue::String("/etc/passwd".into()));
//! let pop = sign_pop(&agent, warrant.id(), "read_file", &args, authorizer.now()).to_base64url();
//! let denied = authorizer.authorize(Some(&token), "read_file", &args, Some(&pop)).unwrap_err();
//! assert_eq!(denied.reason(), DenyReason::ConstraintViolation);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **In a Rust service**, as tower middleware (feature `tower`, on by default):
//! one [`AuthzLayer`](tower::AuthzLayer) in front of the service. Denials are
//! answered by the layer (401, 400 or 403 with a JSON body); allowed requests
//! reach the service with an [`AuthzContext`](tower::AuthzContext) in their
//! extensions. Which tool a request calls, and with which arguments, comes from a
//! gateway config ([`gateway::CompiledGateway`]) or any closure.
//!
//! ```
//! # #[cfg(feature = "tower")] {
//! use std::sync::Arc;
//! use tenuo_authz::{crypto::SigningKey, gateway::CompiledGateway, tower::AuthzLayer, Authorizer};
//! use tower::ServiceBuilder;
//!
//! let control_plane = SigningKey::generate().unwrap();
//! let authorizer = Arc::new(
//!     Authorizer::builder().trusted_issuers([control_plane.public_key()]).build().unwrap(),
//! );
//! let routes = CompiledGateway::from_yaml(r#"
//! version: "1"
//! settings: {}
//! tools:
//!   read_file:
//!     description: Read a file
//!     constraints:
//!       path: { from: query, path: "path", required: true }
//! routes:
//!   - { pattern: "/files/read", method: ["GET"], tool: read_file }
//! "#).unwrap();
//! let service = ServiceBuilder::new()
//!     .layer(AuthzLayer::new(authorizer, routes))
//!     .service_fn(|_request: http::Request<tenuo_authz::tower::AuthzRequestBody<String>>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("read")))
//!     });
//! # let _ = service;
//! # }
//! ```
//!
//! **As a server** (feature `server`): `tenuo-authorizer serve`, a sidecar or a
//! gateway behind Envoy (ext_authz over HTTP or gRPC), Istio or nginx
//! (`auth_request`), with metrics, JSON logs and watched configuration files
//! (`docs/reference.md`). The same server runs in-process:
//!
//! ```
//! # #[cfg(feature = "server")] {
//! use tenuo_authz::{crypto::SigningKey, server::{spawn, ServerConfig}};
//!
//! # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # runtime.block_on(async {
//! let control_plane = SigningKey::generate().unwrap();
//! let mut config = ServerConfig::default();
//! config.listen = "127.0.0.1:0".parse().unwrap();
//! config.metrics_listen = "127.0.0.1:0".parse().unwrap();
//! config.trusted_issuers = vec![control_plane.public_key()];
//! let server = spawn(config).await.unwrap();
//! assert_ne!(server.addr.port(), 0);
//! server.shutdown().await;
//! # });
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tower` | yes | [`tower`] middleware, the HTTP decision [`engine`], the [`gateway`] config, the PoP [`batch`] service |
//! | `server` | no | `server`: the `tenuo-authorizer` binary and its library (HTTP, Envoy ext_authz gRPC, metrics) |
//! | `cli` | no | the `tenuo` binary (keys, issue, attenuate, sign a PoP, inspect, verify) |
//!
//! # Layers
//!
//! From the bottom: the vocabulary and crypto ([`reason`], [`crypto`], [`wire`],
//! [`warrant`], [`constraint`], [`pop`], [`policy`]); the decision ([`chain`],
//! [`decision`], [`approval`], [`deny`], [`replay`], [`revocation`], [`cache`],
//! [`Authorizer`]); the front ends ([`engine`], [`tower`], `server`, the CLI).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod approval;
mod authorizer;
#[cfg(feature = "tower")]
pub mod batch;
pub mod cache;
pub mod chain;
pub mod constraint;
pub mod crypto;
pub mod decision;
pub mod deny;
#[cfg(feature = "tower")]
pub mod engine;
#[cfg(feature = "tower")]
pub mod gateway;
mod heap;
pub mod mint;
pub mod name_map;
pub mod policy;
pub mod pop;
pub mod reason;
pub mod replay;
pub mod revocation;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "tower")]
pub mod tower;
pub mod warrant;
pub mod wire;

pub use authorizer::{parse_pop, Authorizer, AuthorizerBuilder, BuildError, Clock, SystemClock};
pub use deny::{Denial, DenyReason};
pub use warrant::Warrant;
