//! The [`Authorizer`]: trusted issuers and revocations that can be swapped at run
//! time, the decision policy, a clock, and the verified-chain cache.
//!
//! ```
//! use tenuo_authz::{Authorizer, crypto::SigningKey, mint::Issue, pop::{sign_pop, Args},
//!     constraint::ConstraintSet, decision::TrustedIssuers};
//!
//! let control_plane = SigningKey::from_bytes(&[1; 32]);
//! let agent = SigningKey::from_bytes(&[2; 32]);
//! let authorizer = Authorizer::builder().trusted_issuers([control_plane.public_key()]).build().unwrap();
//! let now = authorizer.now();
//! let warrant = Issue::execution(agent.public_key())
//!     .tool("search", ConstraintSet::new())
//!     .sign(&control_plane, now as u64)
//!     .unwrap();
//! let args = Args::new();
//! let pop = sign_pop(&agent, warrant.id(), "search", &args, now).to_base64url();
//! let allowed = authorizer.authorize(Some(&warrant.to_base64url()), "search", &args, Some(&pop)).unwrap();
//! assert_eq!(allowed.tool, "search");
//!
//! // Rotation: the next request sees the new set.
//! authorizer.set_trusted_issuers(TrustedIssuers::new([agent.public_key()]));
//! let pop = sign_pop(&agent, warrant.id(), "search", &args, now).to_base64url();
//! assert!(authorizer.authorize(Some(&warrant.to_base64url()), "search", &args, Some(&pop)).is_err());
//! ```

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::cache::{
    prepare_awaiting_signatures, prepare_with, CacheConfig, CacheStats, ChainCache,
};
use crate::chain::{ChainSignature, PreparedChain};
use crate::crypto::{PublicKey, Signature};
use crate::decision::{self, Authorized, Call, Policy, TrustedIssuers};
use crate::deny::Denial;
use crate::pop::{Args, PopError};
use crate::replay::{replay_digest, ReplayConfig, ReplayStore};
use crate::revocation::{RevocationError, RevocationSet, SignedRevocationList};

/// A source of the current Unix time, in seconds.
pub trait Clock: Send + Sync + 'static {
    /// Now, in Unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

impl<F: Fn() -> i64 + Send + Sync + 'static> Clock for F {
    fn now(&self) -> i64 {
        self()
    }
}

/// Why an [`Authorizer`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Without a trusted issuer every request would be denied.
    #[error("no trusted issuer configured")]
    NoTrustedIssuers,
}

/// Builds an [`Authorizer`].
#[must_use]
pub struct AuthorizerBuilder {
    trusted: TrustedIssuers,
    policy: Policy,
    cache: Option<CacheConfig>,
    clock: Arc<dyn Clock>,
    replay: Option<ReplayConfig>,
}

impl AuthorizerBuilder {
    /// The root issuer keys chains may start from.
    pub fn trusted_issuers(mut self, keys: impl IntoIterator<Item = PublicKey>) -> Self {
        self.trusted = TrustedIssuers::new(keys);
        self
    }

    /// Clock tolerance, PoP windows and the signature criterion (default: the
    /// reference's tolerance and windows, and the batchable cofactored criterion).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Cache sizing (default [`CacheConfig::default`]).
    pub fn cache(mut self, config: CacheConfig) -> Self {
        self.cache = Some(config);
        self
    }

    /// Verify every chain on every request (for tests and comparisons).
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Turns on PoP replay protection (off by default): a PoP already accepted
    /// for the same warrant, tool and arguments is denied `invalid_pop` while it
    /// could still be accepted. See [`crate::replay`] for the trade-offs.
    pub fn replay_protection(mut self, config: ReplayConfig) -> Self {
        self.replay = Some(config);
        self
    }

    /// Builds; refuses an empty trust set.
    pub fn build(self) -> Result<Authorizer, BuildError> {
        if self.trusted.is_empty() {
            return Err(BuildError::NoTrustedIssuers);
        }
        Ok(self.build_unchecked())
    }

    /// Builds even with no trusted issuer, for callers that fill the set later
    /// (the server loads keys from a watched file); every chain is denied meanwhile.
    pub fn build_unchecked(self) -> Authorizer {
        Authorizer {
            trusted: ArcSwap::from_pointee(self.trusted),
            revocations: ArcSwap::from_pointee(RevocationSet::default()),
            policy: self.policy,
            cache: self
                .cache
                .map(|config| ChainCache::with_criterion(config, self.policy.signatures)),
            clock: self.clock,
            replay: self
                .replay
                .map(|config| ReplayStore::new(config, &self.policy)),
        }
    }
}

/// Verifies warrant chains and decides tool calls. Share it behind an `Arc`; every
/// method takes `&self`.
pub struct Authorizer {
    trusted: ArcSwap<TrustedIssuers>,
    revocations: ArcSwap<RevocationSet>,
    policy: Policy,
    cache: Option<ChainCache>,
    clock: Arc<dyn Clock>,
    replay: Option<ReplayStore>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("trusted_issuers", &self.trusted.load().len())
            .field("policy", &self.policy)
            .field("cache", &self.cache)
            .field("replay", &self.replay.as_ref().map(ReplayStore::config))
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Starts a builder with the reference's policy, a default cache and the system clock.
    pub fn builder() -> AuthorizerBuilder {
        AuthorizerBuilder {
            trusted: TrustedIssuers::default(),
            policy: Policy::default(),
            cache: Some(CacheConfig::default()),
            clock: Arc::new(SystemClock),
            replay: None,
        }
    }

    /// Now, by the authorizer's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The decision policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The trusted issuers in force.
    pub fn trusted_issuers(&self) -> Arc<TrustedIssuers> {
        self.trusted.load_full()
    }

    /// Replaces the trusted issuers; the next request uses the new set.
    pub fn set_trusted_issuers(&self, trusted: TrustedIssuers) {
        self.trusted.store(Arc::new(trusted));
    }

    /// The revocations in force.
    pub fn revocations(&self) -> Arc<RevocationSet> {
        self.revocations.load_full()
    }

    /// Installs a signed revocation list from a trusted issuer, unless it is older
    /// than the one in force. The next request sees it.
    pub fn install_revocation_list(
        &self,
        list: &SignedRevocationList,
    ) -> Result<(), RevocationError> {
        let trusted = self.trusted.load();
        let mut outcome = Ok(());
        self.revocations
            .rcu(|current| match current.successor(list, &trusted) {
                Ok(next) => {
                    outcome = Ok(());
                    Arc::new(next)
                }
                Err(error) => {
                    outcome = Err(error);
                    Arc::clone(current)
                }
            });
        outcome
    }

    /// Cache counters, if the cache is on.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(ChainCache::stats)
    }

    /// The prepared chain for a token, from the cache when possible.
    pub fn prepare(&self, token: &str) -> Result<Arc<PreparedChain>, Denial> {
        match &self.cache {
            Some(cache) => cache.get_or_prepare(token),
            None => prepare_with(token, self.policy.signatures),
        }
        .map_err(Denial::InvalidWarrant)
    }

    /// A chain that missed the cache, decoded and prepared as if its signatures
    /// hold; they come back to be verified elsewhere, by the policy's criterion,
    /// before the chain is used (see [`PreparedChain::with_invalid_signature`])
    /// and [remembered](Self::remember).
    pub(crate) fn prepare_awaiting_signatures(
        &self,
        token: &str,
    ) -> Result<(PreparedChain, Vec<ChainSignature>), Denial> {
        if let Some(cache) = &self.cache {
            cache.count_miss();
        }
        prepare_awaiting_signatures(token).map_err(Denial::InvalidWarrant)
    }

    /// Caches a chain from [`Self::prepare_awaiting_signatures`] once its
    /// signatures are decided, and returns it as cached.
    pub(crate) fn remember(&self, token: &str, chain: PreparedChain) -> Arc<PreparedChain> {
        match &self.cache {
            Some(cache) => cache.insert(token, chain),
            None => Arc::new(chain),
        }
    }

    /// The prepared chain for a token if the cache holds it; `None` on a miss or
    /// without a cache. Never decodes or verifies: [`Self::prepare`] does.
    pub fn cached(&self, token: &str) -> Option<Arc<PreparedChain>> {
        self.cache.as_ref()?.get(token)
    }

    /// Decides a call: `token` is the `X-Tenuo-Warrant` value (a warrant or a
    /// stack, base64url or PEM), `pop` the `X-Tenuo-PoP` value. The PoP is
    /// verified inline; see [`crate::batch`] for batching it across requests.
    pub fn authorize(
        &self,
        token: Option<&str>,
        tool: &str,
        args: &Args,
        pop: Option<&str>,
    ) -> Result<Authorized, Denial> {
        self.authorize_with_approvals(token, tool, args, pop, &[])
    }

    /// [`Self::authorize`] with the signed approvals the call presents (decoded
    /// with [`crate::approval::decode_approvals`]).
    pub fn authorize_with_approvals(
        &self,
        token: Option<&str>,
        tool: &str,
        args: &Args,
        pop: Option<&str>,
        approvals: &[crate::approval::SignedApproval],
    ) -> Result<Authorized, Denial> {
        let token = token
            .filter(|t| !t.trim().is_empty())
            .ok_or(Denial::MissingWarrant)?;
        let chain = self.prepare(token)?;
        let pop = parse_pop(pop)?;
        let call = Call {
            tool,
            args,
            pop: pop.as_ref(),
            approvals,
            now: self.now(),
        };
        self.decide(&chain, &call)
    }

    /// Decides a call against a prepared chain with the current trust and
    /// revocations: [`decision::decide`], plus the replay check when it is on.
    pub fn decide(&self, chain: &PreparedChain, call: &Call<'_>) -> Result<Authorized, Denial> {
        let grant = self.check_before_pop(chain, call)?;
        decision::verify_call_pop(chain, &self.policy, call)?;
        self.after_pop_verified(chain, call)?;
        decision::finish_after_pop(chain, grant, &self.policy, call)
    }

    /// The replay check, for callers that verified the call's PoP themselves
    /// (in a batch): call it once the PoP verified, never before, so only
    /// authenticated PoPs reach the store. A no-op unless replay protection is on.
    pub fn after_pop_verified(&self, chain: &PreparedChain, call: &Call<'_>) -> Result<(), Denial> {
        let (Some(store), Some(pop)) = (&self.replay, call.pop) else {
            return Ok(());
        };
        let digest = replay_digest(&chain.leaf().id, call.tool, call.args, pop);
        store
            .check_and_record(digest, call.now)
            .map_err(Denial::Replay)
    }

    /// The replay store, when replay protection is on.
    pub fn replay_store(&self) -> Option<&ReplayStore> {
        self.replay.as_ref()
    }

    /// The checks before the PoP (chain at `call.now`, tool), for callers that
    /// verify PoPs in batches; see [`decision::check_before_pop`].
    pub fn check_before_pop<'c>(
        &self,
        chain: &'c PreparedChain,
        call: &Call<'_>,
    ) -> Result<&'c crate::constraint::ConstraintSet, Denial> {
        decision::check_before_pop(
            chain,
            &self.trusted.load(),
            &**self.revocations.load(),
            &self.policy,
            call,
        )
    }
}

/// Parses a PoP header value. A value that is present but not a 64-byte
/// signature in base64url, base64 or hex is an invalid PoP.
pub fn parse_pop(value: Option<&str>) -> Result<Option<Signature>, Denial> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => Signature::parse(text)
            .map(Some)
            .map_err(|_| Denial::Pop(PopError::Invalid)),
    }
}
