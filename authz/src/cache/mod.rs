//! The verified-chain cache: chains whose signatures and links were checked once,
//! kept compiled and compact, so that a repeated token costs one hash of its text
//! and one lookup.
//!
//! # The key
//!
//! An entry is found by a 128-bit SipHash-2-4 of the token's text as received
//! (surrounding whitespace trimmed), under a secret key drawn from the operating
//! system when the cache is made. A hit neither decodes base64 nor hashes the
//! decoded bytes with SHA-256 (what the key used to be): the one pass over the text
//! is the only cost that grows with the chain. Why no request is ever decided
//! against a chain other than the one its own text carries:
//!
//! * An entry is only made from the text whose digest keys it: the miss decodes
//!   and verifies that very text. A hit serves another chain only if two texts
//!   have one digest.
//! * SipHash is a pseudorandom function of its input under its key, and the key
//!   never leaves the process: it is not derived from input, and neither it nor any
//!   digest is logged, counted or shown. No one can compute a digest, so no one can
//!   search for a collision offline; online, each request tests one text, which
//!   collides with one of `N` cached texts with probability `N / 2^128` (after
//!   2^40 requests against 2^20 entries, 2^-68 in all).
//! * 128 bits rather than 64 put the birthday bound among the cached texts
//!   themselves at 2^64, beyond any number of tokens a cache will see.
//! * Should a collision happen all the same, it grants nothing: the chain served
//!   is a verified one, and a call on it still needs a PoP by *its* holder over
//!   *its* leaf id. Whoever could make that PoP could send that chain's own text.
//!   An honest request that collided would only be denied.
//!
//! One chain spelled two ways (base64url, padded standard base64, PEM) is two
//! texts, so two entries, each verified from its own bytes on its own miss: a
//! respelled token gets an attacker one more miss, as a new token would.
//!
//! The rounds are SipHash-2-4's, the ones its authors recommend, rather than the
//! faster 1-3: the difference is small next to the PoP check every hit makes
//! (the README's Performance section has the instruction counts).
//!
//! # Sizing and admission
//!
//! Entries are weighed by an estimate of their resident bytes (the chain's
//! [`PreparedChain::approximate_size`] and the cache's own slot); the cache holds
//! at most `max_bytes` of them and at most `max_entries`. A thirty-second of the
//! budget holds the holder keys chains share: an agent's key outlives many of its
//! warrants, so the cached chains naming it hold one decompressed copy (a key
//! that does not fit is the chain's own, and weighed with it). quick_cache's
//! CLOCK-PRO policy admits a new entry cold: unless it is used again it is the
//! first to go, so a flood of one-off tokens cycles through the cold entries and
//! leaves the chains in regular use in place. Concurrent misses on one token in
//! [`ChainCache::get_or_prepare`] are verified once; the others wait for that
//! result. (The server's batched path verifies a miss's signatures in the shared
//! batch and hands the chain back with `insert`: concurrent misses on one new
//! token are each verified there.)
//!
//! Entries are not expired by time. An expired chain is denied by the time check
//! every decision makes, served from the cache as cheaply as any other, and
//! evicted first once nothing uses it.
//!
//! Nothing here decides trust, revocation or time: those are checked on every
//! request against the cached chain, so a rotation or a revocation takes effect on
//! the very next request without touching the cache.

mod holders;
mod text_key;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use self::holders::SharedHolders;
use self::text_key::{DigestHashing, TextDigest, TextKey};
use crate::chain::{ChainSignature, PreparedChain};
use crate::crypto::SignatureCriterion;
use crate::wire::{decode_token, DecodeError};

/// The resident bytes of one cache slot over the chain it holds: the slot itself
/// (key, chain pointer, list links: 48 bytes), its share of the ghost slots that
/// remember recently evicted keys (up to half as many again) and of the index.
/// Checked against the `cache_memory` example.
const SLOT_BYTES: u64 = 96;

/// The part of `max_bytes` set aside for shared holder keys.
const HOLDERS_SHARE: u64 = 32;

/// A guess at an entry's weight, from which quick_cache sizes its shards and its
/// memory of evicted keys.
const TYPICAL_ENTRY_BYTES: u64 = 512;

/// Cache sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most bytes of cached chains (estimated resident size).
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
    /// The bytes those chains count for against `max_bytes` (the sum of their
    /// weights, estimates of their resident size).
    pub weighed_bytes: u64,
}

/// Weighs an entry by its estimated resident bytes, and at least `floor`, so that
/// the byte bound also bounds the count.
#[derive(Debug, Clone, Copy)]
struct ByResidentSize {
    floor: u64,
}

impl quick_cache::Weighter<TextDigest, Arc<PreparedChain>> for ByResidentSize {
    fn weight(&self, _: &TextDigest, chain: &Arc<PreparedChain>) -> u64 {
        (chain.approximate_size() as u64 + SLOT_BYTES).max(self.floor)
    }
}

type Entries =
    quick_cache::sync::Cache<TextDigest, Arc<PreparedChain>, ByResidentSize, DigestHashing>;

/// A bounded cache of prepared chains keyed by a keyed hash of the token text.
pub struct ChainCache {
    entries: Entries,
    key: TextKey,
    holders: SharedHolders,
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
        let holders_budget = config.max_bytes / HOLDERS_SHARE;
        let capacity = (config.max_bytes - holders_budget).max(1);
        let max_entries = config.max_entries.max(1);
        let floor = capacity.div_ceil(max_entries);
        let estimated = max_entries.min(capacity / TYPICAL_ENTRY_BYTES).max(1);
        let entries = Entries::with(
            usize::try_from(estimated).unwrap_or(usize::MAX),
            capacity,
            ByResidentSize { floor },
            DigestHashing,
            Default::default(),
        );
        Self {
            entries,
            key: TextKey::random(),
            holders: SharedHolders::with_budget(holders_budget),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            criterion,
        }
    }

    /// The cached chain for `token`, if any; a hit is counted, a miss is not (the
    /// [`Self::get_or_prepare`] that follows a miss counts it). Never decodes.
    pub fn get(&self, token: &str) -> Option<Arc<PreparedChain>> {
        let chain = self.entries.get(&self.key.digest(token))?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(chain)
    }

    /// The prepared chain for `token` (base64 in either alphabet, or PEM): from
    /// the cache, or decoded and verified now and cached.
    pub fn get_or_prepare(&self, token: &str) -> Result<Arc<PreparedChain>, DecodeError> {
        let digest = self.key.digest(token);
        if let Some(chain) = self.entries.get(&digest) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(chain);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        self.entries.get_or_insert_with(&digest, || {
            let (_, warrants) = decode_token(token)?;
            PreparedChain::with_shared_holder(warrants, self.criterion, |key| {
                self.holders.share(key)
            })
            .map(Arc::new)
            .ok_or(DecodeError::EmptyStack)
        })
    }

    /// Counts a miss that the caller prepares itself ([`prepare_awaiting_signatures`]),
    /// then hands back with [`Self::insert`].
    pub(crate) fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Caches a chain prepared after a miss, its holder key shared with other
    /// chains' when it is sound, and returns it. Its signatures must have been
    /// judged by this cache's criterion: a hit is never verified again.
    pub(crate) fn insert(&self, token: &str, mut chain: PreparedChain) -> Arc<PreparedChain> {
        chain.share_holder(|key| self.holders.share(key));
        let chain = Arc::new(chain);
        self.entries
            .insert(self.key.digest(token), Arc::clone(&chain));
        chain
    }

    /// Counters.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.len() as u64,
            weighed_bytes: self.entries.weight(),
        }
    }
}

/// Decodes a token and prepares its chain as if its signatures hold, handing
/// them back to be verified elsewhere (see [`PreparedChain::awaiting_signatures`]).
pub(crate) fn prepare_awaiting_signatures(
    token: &str,
) -> Result<(PreparedChain, Vec<ChainSignature>), DecodeError> {
    let (_, warrants) = decode_token(token)?;
    PreparedChain::awaiting_signatures(warrants).ok_or(DecodeError::EmptyStack)
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
    let (_, warrants) = decode_token(token)?;
    PreparedChain::with_criterion(warrants, criterion)
        .map(Arc::new)
        .ok_or(DecodeError::EmptyStack)
}
