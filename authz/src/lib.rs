//! Tenuo v1 warrant authorizer.
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
