//! Tenuo v1 warrant authorizer.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod chain;
pub mod constraint;
pub mod crypto;
pub mod decision;
pub mod deny;
pub mod mint;
pub mod pop;
pub mod warrant;
pub mod wire;

pub use deny::{Denial, DenyReason};
pub use warrant::Warrant;
