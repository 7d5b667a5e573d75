//! Ed25519 keys and signatures, with the strict verification Tenuo v1 requires.
//!
//! Every verification here uses `verify_strict` semantics: small-order public keys and
//! R points, and non-canonical `s` scalars, are rejected. Public keys of small order
//! are refused when parsed, so a [`PublicKey`] value is always usable.

mod keys;
pub(crate) mod recent_keys;
mod signature;
mod work;

pub use keys::{KeyError, PublicKey, SigningKey};
pub use signature::{Signature, SignatureError};
pub(crate) use work::count as count_checks;
pub use work::signature_checks;
