//! The verified-chain cache: chains whose signatures and links were checked once,
//! kept compiled until their earliest expiry.
//!
//! Keys are the SHA-256 of the token's CBOR bytes (not of its text), so a hit is
//! only ever the chain those exact bytes decode to (no substitution through a hash
//! collision), and one chain sent in either base64 alphabet or as PEM is one entry. Entries are
//! weighed by their size; the cache holds at most `max_bytes` of them and at most
//! `max_entries`. moka's TinyLFU admission keeps a flood of one-off tokens from
//! evicting the chains that are used again and again, and concurrent misses on one
//! token are verified once.
//!
//! Nothing here decides trust, revocation or time: those are checked on every
//! request against the cached chain, so a rotation or a revocation takes effect on
//! the very next request without touching the cache.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::Digest;

use crate::chain::{ChainSignature, PreparedChain};
use crate::crypto::SignatureCriterion;
use crate::wire::{decode_bytes, decode_token_bytes, DecodeError};

/// Bytes per unit of cache weight.
const WEIGHT_UNIT: u64 = 64;

/// Resident bytes per entry over `PreparedChain::approximate_size` plus the key:
/// moka's per-entry bookkeeping (hash table slot, access and expiry queues, timer
/// wheel node) and allocator slack. Measured with
/// `cargo run --release -p tenuo-authz --example cache_memory -- 100000 200`:
/// 20,000 cached single-warrant chains took 26.5 MiB of resident memory, 1,390
/// bytes each, against an estimate of 679.
const MEASURED_SIZE_FACTOR: u64 = 2;

/// Cache sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most bytes of cached chains (approximate heap size).
    pub max_bytes: u64,
    /// Most chains.
    pub max_entries: u64,
}

impl Default for CacheConfig {
    /// 16 MiB and 100,000 chains: sized for a sidecar with a 64 MiB limit.
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_entries: 100_000,
        }
    }
}

/// Counters, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that decoded and verified.
    pub misses: u64,
    /// Chains held now.
    pub entries: u64,
}

/// Expires each entry with its chain's earliest `expires_at`.
struct UntilChainExpiry;

impl moka::Expiry<[u8; 32], Arc<PreparedChain>> for UntilChainExpiry {
    fn expire_after_create(
        &self,
        _: &[u8; 32],
        chain: &Arc<PreparedChain>,
        _: Instant,
    ) -> Option<Duration> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Some(Duration::from_secs(
            chain.expires_at().saturating_sub(now).max(1),
        ))
    }
}

/// A bounded cache of prepared chains keyed by token digest.
pub struct ChainCache {
    entries: moka::sync::Cache<[u8; 32], Arc<PreparedChain>>,
    hits: AtomicU64,
    misses: AtomicU64,
    criterion: SignatureCriterion,
}

impl std::fmt::Debug for ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainCache")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ChainCache {
    /// An empty cache whose chains are verified with the default [`SignatureCriterion`].
    pub fn new(config: CacheConfig) -> Self {
        Self::with_criterion(config, SignatureCriterion::default())
    }

    /// An empty cache whose chains' signatures are judged by `criterion` on a miss.
    pub fn with_criterion(config: CacheConfig, criterion: SignatureCriterion) -> Self {
        // moka sizes its frequency sketch by capacity, so weigh in 64-byte units
        // rather than bytes: a 16 MiB budget is 262,144 units, not 16 million.
        let capacity = (config.max_bytes / WEIGHT_UNIT).max(1);
        // Every entry weighs at least capacity / max_entries units, so the weight
        // bound also bounds the count.
        let floor = u32::try_from(capacity / config.max_entries.max(1))
            .unwrap_or(u32::MAX)
            .max(1);
        let entries = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .weigher(move |_: &[u8; 32], chain: &Arc<PreparedChain>| {
                let bytes = (chain.approximate_size() as u64 + 96) * MEASURED_SIZE_FACTOR;
                let units = bytes.div_ceil(WEIGHT_UNIT);
                u32::try_from(units).unwrap_or(u32::MAX).max(floor)
            })
            .expire_after(UntilChainExpiry)
            .build();
        Self {
            entries,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            criterion,
        }
    }

    /// The cached chain for `token`, if any; a hit is counted, a miss is not (the
    /// [`Self::get_or_prepare`] that follows a miss counts it). Text that does not
    /// decode is a miss.
    pub fn get(&self, token: &str) -> Option<Arc<PreparedChain>> {
        let bytes = decode_token_bytes(token).ok()?;
        let chain = self.entries.get(&key_of(&bytes))?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(chain)
    }

    /// The prepared chain for `token` (base64 in either alphabet, or PEM): from
    /// the cache, or decoded and verified now and cached.
    pub fn get_or_prepare(&self, token: &str) -> Result<Arc<PreparedChain>, DecodeError> {
        let bytes = decode_token_bytes(token)?;
        let key = key_of(&bytes);
        if let Some(chain) = self.entries.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(chain);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        self.entries
            .try_get_with(key, || prepare_bytes(&bytes, self.criterion))
            .map_err(|e| (*e).clone())
    }

    /// Counts a miss that the caller prepares itself ([`prepare_awaiting_signatures`]),
    /// then hands back with [`Self::insert`].
    pub(crate) fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Caches a chain prepared after a miss. Its signatures must have been judged
    /// by this cache's criterion: a hit is never verified again.
    pub(crate) fn insert(&self, token: &str, chain: Arc<PreparedChain>) {
        if let Ok(bytes) = decode_token_bytes(token) {
            self.entries.insert(key_of(&bytes), chain);
        }
    }

    /// Counters and size (after applying pending evictions, so the count is exact).
    pub fn stats(&self) -> CacheStats {
        self.entries.run_pending_tasks();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.entry_count(),
        }
    }
}

/// The cache key of a token's bytes: their SHA-256, so a hit is only ever the
/// chain those exact bytes decode to.
fn key_of(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// Decodes and verifies a token without caching.
pub fn prepare(token: &str) -> Result<Arc<PreparedChain>, DecodeError> {
    prepare_with(token, SignatureCriterion::default())
}

/// [`prepare`], with the chain's signatures judged by `criterion`.
pub fn prepare_with(
    token: &str,
    criterion: SignatureCriterion,
) -> Result<Arc<PreparedChain>, DecodeError> {
    prepare_bytes(&decode_token_bytes(token)?, criterion)
}

/// Decodes a token and prepares its chain as if its signatures hold, handing
/// them back to be verified elsewhere (see [`PreparedChain::awaiting_signatures`]).
pub(crate) fn prepare_awaiting_signatures(
    token: &str,
) -> Result<(PreparedChain, Vec<ChainSignature>), DecodeError> {
    let (_, warrants) = decode_bytes(&decode_token_bytes(token)?)?;
    PreparedChain::awaiting_signatures(warrants).ok_or(DecodeError::EmptyStack)
}

fn prepare_bytes(
    bytes: &[u8],
    criterion: SignatureCriterion,
) -> Result<Arc<PreparedChain>, DecodeError> {
    let (_, warrants) = decode_bytes(bytes)?;
    PreparedChain::with_criterion(warrants, criterion)
        .map(Arc::new)
        .ok_or(DecodeError::EmptyStack)
}
