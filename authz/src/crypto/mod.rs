//! Ed25519 keys and signatures, and signature verification: one at a time, or
//! a chain's signatures in one batch equation.
//!
//! Public keys of small order are refused when parsed, so a [`PublicKey`] value is
//! always usable. [`PublicKey::verify_strict`] checks one signature with
//! `verify_strict`'s semantics. The functions below ([`verify_one`],
//! [`verify_all`], ...) apply a [`SignatureCriterion`]: the cofactored one by
//! default, which a batch can decide, or `verify_strict`'s.
//!
//! # Criterion
//!
//! Every verdict here, batched or not, is the one [`verify_one`] gives for that signature
//! alone. An item is accepted when
//!
//! 1. `s` is canonical (`s < L`),
//! 2. `R` is canonically encoded and decompresses to a curve point,
//! 3. neither `R` nor the key `A` has small order (a [`PublicKey`] never does), and
//! 4. the **cofactored** equation `[8]([s]B - [k]A - R) = 0` holds, with
//!    `k = SHA-512(R || A || M) mod L` exactly as in Ed25519.
//!
//! A batch checks `[8] Σ z_i ([s_i]B - [k_i]A_i - R_i) = 0` with fresh random 128-bit
//! weights `z_i` from the operating system's CSPRNG, in one multiscalar multiplication.
//! If every item passes check 4 the batch passes, whatever the weights; if one does not,
//! the batch fails except with probability at most 2^-128. When it fails, each item is
//! decided by itself with check 4. So a verdict never depends on the item's batch
//! neighbours: an invalid neighbour costs time, never a verdict.
//!
//! # Compatibility note
//!
//! Tenuo v1 requires `verify_strict`, whose equation is cofactorless: `R = [s]B - [k]A`
//! exactly. This module agrees with it on every input (small-order keys and `R`,
//! non-canonical `R` and `s`, wrong messages) except one class: a signature whose `R`, or
//! whose key, has a nonzero small-order (torsion) component while its prime-order part
//! is a valid signature. `verify_strict` rejects most of those; this module accepts them.
//!
//! Only the holder of the key can make such a signature, since it needs a valid
//! signature's prime-order part. It grants nothing the holder could not sign anyway: it is
//! one more way for a signer to produce another valid signature for the same message, as
//! choosing another nonce already is. An honest signer never produces one. But a warrant
//! signed that way by its issuer is accepted here and refused by the reference
//! implementation. The test `tests/batch_equivalence.rs` pins this divergence on crafted
//! vectors (`divergence: "torsion_component"` in `tests/vectors/ed25519_edge_cases.json`).
//!
//! Rejecting these as well would need a torsion check of each `R`: a full scalar
//! multiplication per item, which costs more than the batch saves. A torsion test on a
//! random combination cannot replace it: the torsion group has order 8, so a random
//! combination detects a torsion component of order 2 with probability 1/2 only, and two
//! such components in one batch cancel for any odd weights, which would make a verdict
//! depend on the neighbours. The cofactored criterion is the one a batch can decide
//! soundly and independently per item.
//!
//! Deployments that need the reference's verdicts bit for bit choose
//! [`SignatureCriterion::Strict`] (`Policy::signatures`, or the server's
//! `TENUO_STRICT_SIGNATURES=true`): chain signatures are then verified one by one with
//! `verify_strict`'s equation, and the server verifies PoPs inline rather than in batches.
//!
//! # Examples
//!
//! ```
//! use tenuo_authz::crypto::{verify_all, verify_one, SignatureInvalid};
//! use tenuo_authz::crypto::SigningKey;
//!
//! let root = SigningKey::from_bytes(&[1; 32]);
//! let child = SigningKey::from_bytes(&[2; 32]);
//! let (a, b) = (root.public_key(), child.public_key());
//! let (sig_a, sig_b) = (root.sign(b"link 0"), child.sign(b"link 1"));
//!
//! assert_eq!(verify_one(&a, b"link 0", &sig_a), Ok(()));
//! assert_eq!(verify_all(&[(&a, b"link 0", &sig_a), (&b, b"link 1", &sig_b)]), Ok(()));
//!
//! let err = verify_all(&[(&a, b"link 0", &sig_a), (&b, b"tampered", &sig_b)]).unwrap_err();
//! assert_eq!((err.index, err.reason), (1, SignatureInvalid::Equation));
//! ```
//!
//! `crate::batch::PopBatch` (feature `tower`) gathers PoP signatures from concurrent
//! requests into such batches.

mod criterion;
pub(crate) mod equation;
mod keys;
pub(crate) mod recent_keys;
mod signature;
mod verdict;
mod verify;
mod work;

pub use criterion::SignatureCriterion;
pub use keys::{KeyError, PublicKey, SigningKey};
pub use signature::{Signature, SignatureError};
pub use verdict::{ChainSignatureError, SignatureInvalid};
#[cfg(feature = "tower")]
pub(crate) use verify::{decide, Request as VerifyRequest};
pub use verify::{verify_all, verify_all_with, verify_each, verify_one, verify_one_of, Item};
pub(crate) use work::count as count_checks;
pub use work::signature_checks;
