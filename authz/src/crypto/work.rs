//! A per-thread count of Ed25519 verification equations evaluated, so tests and
//! operators can bound the work one input causes in signature checks (the
//! dominant cost of a decision) without measuring time.
//!
//! Each single verification counts 1; a batch of `n` signatures checked in one
//! multiscalar multiplication counts `n`. Work done on other threads (the
//! server's batch workers) is counted there.
//!
//! ```
//! use tenuo_authz::crypto::{signature_checks, SigningKey};
//! let key = SigningKey::from_bytes(&[1; 32]);
//! let sig = key.sign(b"m");
//! let before = signature_checks();
//! assert!(key.public_key().verify_strict(b"m", &sig).is_ok());
//! assert_eq!(signature_checks() - before, 1);
//! ```

use std::cell::Cell;

thread_local! {
    static CHECKS: Cell<u64> = const { Cell::new(0) };
}

/// Verification equations evaluated on this thread so far.
pub fn signature_checks() -> u64 {
    CHECKS.with(Cell::get)
}

/// Counts `n` more equations on this thread.
pub(crate) fn count(n: usize) {
    CHECKS.with(|c| c.set(c.get().saturating_add(n as u64)));
}
