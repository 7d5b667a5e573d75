//! What a decision is judged against besides the call itself: the decision's
//! tunables ([`Policy`]), the trusted root keys ([`TrustedIssuers`]) and the
//! revocation source ([`Revocations`]). Low in the crate, so the replay store and
//! the revocation list can name them without importing the decision.

use std::collections::{HashMap, HashSet};

use crate::crypto::PublicKey;
use crate::crypto::SignatureCriterion;
use crate::pop::PopWindows;
use crate::warrant::WarrantId;

/// Default tolerance for warrants issued slightly in the future, in seconds.
pub const DEFAULT_CLOCK_TOLERANCE_SECS: u64 = 30;

/// Tunables of a decision. The defaults equal the reference's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How far in the future `issued_at` may be. Expiry itself is exact, as in the
    /// reference: a warrant is expired from its `expires_at` second on.
    pub clock_tolerance_secs: u64,
    /// Which PoP windows are accepted.
    pub pop_windows: PopWindows,
    /// Which Ed25519 equation chain signatures (and the server's PoPs) must satisfy.
    /// The default, [`SignatureCriterion::Cofactored`], is the batchable one; it differs
    /// from the reference only on signatures with a torsion component, which only a
    /// key's holder can make. [`SignatureCriterion::Strict`] matches it on those too.
    pub signatures: SignatureCriterion,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            clock_tolerance_secs: DEFAULT_CLOCK_TOLERANCE_SECS,
            pop_windows: PopWindows::default(),
            signatures: SignatureCriterion::default(),
        }
    }
}

/// The set of root issuer keys a chain may start from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedIssuers(HashMap<[u8; 32], PublicKey>);

impl TrustedIssuers {
    /// A set of keys.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self(keys.into_iter().map(|key| (key.to_bytes(), key)).collect())
    }

    /// Whether `key` is trusted.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.0.contains_key(&key.to_bytes())
    }

    /// Whether the key with these (compressed) bytes is trusted.
    pub fn contains_bytes(&self, key: &[u8; 32]) -> bool {
        self.0.contains_key(key)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key is trusted (every chain is then denied).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.0.values()
    }
}

/// Answers whether a warrant id is revoked.
pub trait Revocations {
    /// Whether the warrant with this id is revoked.
    fn is_revoked(&self, id: &WarrantId) -> bool;

    /// True only if no id at all is revoked, so a decision may skip asking about
    /// each warrant of a chain. The default, `false`, is always correct.
    fn revokes_nothing(&self) -> bool {
        false
    }
}

/// No revocation list.
impl Revocations for () {
    fn is_revoked(&self, _: &WarrantId) -> bool {
        false
    }

    fn revokes_nothing(&self) -> bool {
        true
    }
}

impl Revocations for HashSet<WarrantId> {
    fn is_revoked(&self, id: &WarrantId) -> bool {
        self.contains(id)
    }

    fn revokes_nothing(&self) -> bool {
        self.is_empty()
    }
}
