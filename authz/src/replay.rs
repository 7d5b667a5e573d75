//! Opt-in PoP replay protection: a bounded store of the PoPs already accepted,
//! each kept only as long as its window can still be accepted.
//!
//! A PoP is the holder's signature over (warrant id, tool, arguments, 30-second
//! window), and verifiers accept it for several windows (±60 s by default), so
//! without this store whoever captures a request can send it again, unchanged,
//! for up to [`ReplayStore::ttl_secs`] and get the same decision. With it, the
//! second use of the same PoP for the same warrant, tool and arguments is
//! denied `invalid_pop` ("replayed").
//!
//! Entries are keyed by a SHA-256 digest of the warrant id, the tool, the
//! canonical arguments and the signature. Only PoPs that verified are recorded
//! (the caller checks the PoP first), so unauthenticated input never fills the
//! store.
//!
//! Trade-offs, as documented in the README's security section:
//! - the store is per process: behind several replicas, a replay sent to another
//!   replica is not caught (route a workload to one replica, or accept it);
//! - a legitimate retry of an identical call inside the same window is denied:
//!   clients must vary an argument (a request id) or wait for the next window;
//! - memory is bounded by [`ReplayConfig::capacity`] (about 100 bytes an entry);
//!   when full, new PoPs are denied ([`WhenFull::Deny`], the default: fail closed)
//!   or the oldest entry is forgotten ([`WhenFull::EvictOldest`]: available, but
//!   a holder able to fill the store can then replay what was evicted).
//!
//! ```
//! use tenuo_authz::replay::{ReplayConfig, ReplayError, ReplayStore};
//! use tenuo_authz::decision::Policy;
//!
//! let store = ReplayStore::new(ReplayConfig::default(), &Policy::default());
//! let digest = [7u8; 32];
//! assert_eq!(store.check_and_record(digest, 1_000), Ok(()));
//! assert_eq!(store.check_and_record(digest, 1_010), Err(ReplayError::Replayed));
//! // Once the PoP can no longer be accepted, its entry is gone.
//! assert_eq!(store.check_and_record(digest, 1_000 + store.ttl_secs()), Ok(()));
//! ```

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::crypto::Signature;
use crate::policy::Policy;
use crate::pop::{pop_message, Args};
use crate::warrant::WarrantId;

/// Default number of PoPs remembered.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// What to do with a new PoP when the store is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenFull {
    /// Deny it (`invalid_pop`): no replay is ever let through, at the cost of
    /// availability while the store is full.
    #[default]
    Deny,
    /// Forget the oldest entry: always available, but evicted PoPs can be replayed.
    EvictOldest,
}

/// Replay protection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayConfig {
    /// Most PoPs remembered at once.
    pub capacity: usize,
    /// What happens when that is reached.
    pub when_full: WhenFull,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_REPLAY_CAPACITY,
            when_full: WhenFull::Deny,
        }
    }
}

/// Why a verified PoP is refused by the replay store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The same PoP was already accepted for this warrant, tool and arguments.
    #[error("proof-of-possession replayed: already used for this warrant, tool and arguments within its window")]
    Replayed,
    /// The store is full and configured to deny.
    #[error("proof-of-possession not accepted: the replay store is full")]
    Full,
}

/// The digest a PoP is remembered by: warrant id, tool, canonical arguments
/// (the PoP challenge's encoding) and the signature.
pub fn replay_digest(id: &WarrantId, tool: &str, args: &Args, signature: &Signature) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"tenuo-authz-replay-v1")
        .chain_update(pop_message(id, tool, args, 0))
        .chain_update(signature.to_bytes())
        .finalize()
        .into()
}

/// The PoPs accepted recently, bounded in number and in time.
#[derive(Debug)]
pub struct ReplayStore {
    config: ReplayConfig,
    ttl_secs: i64,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    seen: HashSet<[u8; 32]>,
    /// Insertion order with each entry's expiry, oldest first.
    order: VecDeque<([u8; 32], i64)>,
}

impl ReplayStore {
    /// A store for PoPs accepted under `policy`'s windows.
    pub fn new(config: ReplayConfig, policy: &Policy) -> Self {
        Self {
            config,
            ttl_secs: acceptance_span_secs(policy),
            inner: Mutex::new(Entries::default()),
        }
    }

    /// How long an entry is kept: the longest a PoP stays acceptable after it
    /// is first seen.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// The settings.
    pub fn config(&self) -> ReplayConfig {
        self.config
    }

    /// Number of PoPs remembered.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a verified PoP seen at `now`; refuses it if it was seen before
    /// (and has not expired), or if the store is full and set to deny.
    pub fn check_and_record(&self, digest: [u8; 32], now: i64) -> Result<(), ReplayError> {
        let mut entries = self.lock();
        entries.expire(now);
        if entries.seen.contains(&digest) {
            return Err(ReplayError::Replayed);
        }
        if entries.seen.len() >= self.config.capacity {
            match self.config.when_full {
                WhenFull::Deny => return Err(ReplayError::Full),
                WhenFull::EvictOldest => {
                    while entries.seen.len() >= self.config.capacity {
                        let Some((old, _)) = entries.order.pop_front() else {
                            break;
                        };
                        entries.seen.remove(&old);
                    }
                }
            }
        }
        if self.config.capacity == 0 {
            return Ok(());
        }
        entries.seen.insert(digest);
        entries
            .order
            .push_back((digest, now.saturating_add(self.ttl_secs)));
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Entries are only inserted and removed in pairs under the lock; a
        // panic elsewhere cannot leave them inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Entries {
    /// Drops the entries whose PoP can no longer be accepted. If the clock went
    /// back, later entries may sit behind an unexpired one until it expires:
    /// they live longer, never shorter, and the capacity still bounds them.
    fn expire(&mut self, now: i64) {
        while let Some((digest, expires_at)) = self.order.front().copied() {
            if expires_at > now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&digest);
        }
    }
}

/// The longest time a PoP stays acceptable after it is first seen: a PoP for
/// window `W` is accepted while the current window is within `half` windows
/// of `W`, which spans `2 * half + 1` windows.
fn acceptance_span_secs(policy: &Policy) -> i64 {
    let windows = policy.pop_windows;
    let half = i64::from(windows.max_windows / 2);
    windows
        .window_secs
        .max(1)
        .saturating_mul(half.saturating_mul(2).saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::pop::{candidate_windows, sign_pop};

    #[test]
    fn entries_live_exactly_as_long_as_the_pop_is_acceptable() {
        let policy = Policy::default();
        let store = ReplayStore::new(ReplayConfig::default(), &policy);
        assert_eq!(store.ttl_secs(), 150);
        // The span is what the verifier accepts: the PoP's window first appears
        // among the candidates `ttl` seconds before it last does, at most.
        let window = 990;
        let accepted: Vec<i64> = (0..400)
            .map(|t| 700 + t)
            .filter(|now| {
                candidate_windows(*now, policy.pop_windows)
                    .unwrap()
                    .contains(&window)
            })
            .collect();
        let span = accepted.last().unwrap() - accepted.first().unwrap() + 1;
        assert_eq!(span, store.ttl_secs());
    }

    #[test]
    fn replays_are_refused_until_expiry() {
        let store = ReplayStore::new(ReplayConfig::default(), &Policy::default());
        assert_eq!(store.check_and_record([1; 32], 100), Ok(()));
        assert_eq!(store.check_and_record([2; 32], 100), Ok(()));
        assert_eq!(
            store.check_and_record([1; 32], 249),
            Err(ReplayError::Replayed)
        );
        assert_eq!(store.check_and_record([1; 32], 250), Ok(()));
        assert_eq!(
            store.len(),
            1,
            "both old entries expired, the new one stays"
        );
    }

    #[test]
    fn capacity_bounds_memory_and_full_denies_or_evicts() {
        let deny = ReplayStore::new(
            ReplayConfig {
                capacity: 3,
                when_full: WhenFull::Deny,
            },
            &Policy::default(),
        );
        for i in 0..3 {
            assert_eq!(deny.check_and_record([i; 32], 0), Ok(()));
        }
        assert_eq!(deny.check_and_record([9; 32], 1), Err(ReplayError::Full));
        assert_eq!(
            deny.check_and_record([0; 32], 1),
            Err(ReplayError::Replayed)
        );
        assert_eq!(deny.len(), 3);

        let evict = ReplayStore::new(
            ReplayConfig {
                capacity: 3,
                when_full: WhenFull::EvictOldest,
            },
            &Policy::default(),
        );
        for i in 0..10 {
            assert_eq!(evict.check_and_record([i; 32], 0), Ok(()));
            assert!(evict.len() <= 3);
        }
        assert_eq!(
            evict.check_and_record([9; 32], 0),
            Err(ReplayError::Replayed)
        );
        assert_eq!(evict.check_and_record([0; 32], 0), Ok(()), "evicted");
    }

    #[test]
    fn digest_binds_warrant_tool_args_and_signature() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let id = WarrantId([4; 16]);
        let mut args = Args::new();
        args.insert(
            "path".into(),
            crate::constraint::ArgValue::String("/a".into()),
        );
        let sig = sign_pop(&key, &id, "read", &args, 1000);
        let base = replay_digest(&id, "read", &args, &sig);
        assert_eq!(base, replay_digest(&id, "read", &args, &sig));
        assert_ne!(
            base,
            replay_digest(&WarrantId([5; 16]), "read", &args, &sig)
        );
        assert_ne!(base, replay_digest(&id, "write", &args, &sig));
        assert_ne!(base, replay_digest(&id, "read", &Args::new(), &sig));
        let later = sign_pop(&key, &id, "read", &args, 1030);
        assert_ne!(base, replay_digest(&id, "read", &args, &later));
    }
}
