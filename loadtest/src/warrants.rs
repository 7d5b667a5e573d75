//! Warrants minted by the harness: a root key, holder keys for every link,
//! pools of distinct chains (their count sets the cache hit rate), fresh
//! chains for cold requests, and PoPs re-signed as the 30 s windows roll.

use std::sync::{Arc, Mutex};

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::encode_base64url;
use tenuo_authz::Warrant;

use crate::call::unix_now;
use crate::error::LoadError;

/// Tool every minted warrant grants.
pub(crate) const TOOL: &str = "read_file";
/// Lifetime of minted warrants: far beyond any run.
const TTL_SECS: u64 = 3 * 3600;
/// Deepest chain the harness mints.
pub(crate) const MAX_DEPTH: usize = 16;
/// PoP window (`docs/reference.md` §1).
const POP_WINDOW_SECS: i64 = 30;

/// A chain ready to send: its token and the key that signs its PoPs.
#[derive(Clone)]
pub struct Chain {
    /// base64url of the stack (root first).
    pub token: Arc<str>,
    /// The warrants, root first.
    pub warrants: Vec<Warrant>,
    /// Holder of the leaf.
    pub holder: SigningKey,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("depth", &self.warrants.len())
            .finish_non_exhaustive()
    }
}

impl Chain {
    fn new(warrants: Vec<Warrant>, holder: SigningKey) -> Self {
        Self {
            token: encode_base64url(&encode_chain(&warrants)).into(),
            warrants,
            holder,
        }
    }

    /// The leaf warrant.
    pub fn leaf(&self) -> &Warrant {
        // Chains are built with at least one warrant.
        &self.warrants[self.warrants.len() - 1]
    }
}

/// `path` constrained to `/data/*` (root) or `/data/reports/*` (links).
fn paths(glob: &str) -> Result<ConstraintSet, LoadError> {
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern(glob)?);
    Ok(set)
}

/// The arguments of an allowed call.
pub(crate) fn allowed_args() -> Args {
    args("/data/reports/q3.csv")
}

/// `{path: value}`.
pub(crate) fn args(path: &str) -> Args {
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String(path.into()));
    args
}

/// Mints warrants under one trusted root.
pub struct Minter {
    root: SigningKey,
    holders: Vec<SigningKey>,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").finish_non_exhaustive()
    }
}

impl Minter {
    /// Mints under `root`, with fresh holder keys.
    pub fn new(root: SigningKey) -> Result<Self, LoadError> {
        let holders = (0..MAX_DEPTH)
            .map(|_| SigningKey::generate())
            .collect::<Result<_, _>>()?;
        Ok(Self { root, holders })
    }

    /// The trusted root key.
    pub fn root(&self) -> &SigningKey {
        &self.root
    }

    /// A new chain of `depth` warrants (1 = a root warrant alone), issued
    /// `age_secs` ago with `ttl` seconds to live, signed by `root`.
    pub fn chain_with(
        &self,
        root: &SigningKey,
        depth: usize,
        age_secs: u64,
        ttl: u64,
    ) -> Result<Chain, LoadError> {
        let depth = depth.clamp(1, MAX_DEPTH);
        let now = (unix_now() as u64).saturating_sub(age_secs);
        let mut warrants = vec![Issue::execution(self.holders[0].public_key())
            .tool(TOOL, paths("/data/*")?)
            .ttl_secs(ttl)
            .max_depth(MAX_DEPTH as u32)
            .sign(root, now)?];
        for i in 1..depth {
            let child = Attenuate::from(&warrants[i - 1])
                .holder(self.holders[i].public_key())
                .tool(TOOL, paths("/data/reports/*")?)
                .sign(&self.holders[i - 1], now)?;
            warrants.push(child);
        }
        Ok(Chain::new(warrants, self.holders[depth - 1].clone()))
    }

    /// A new valid chain of `depth`.
    pub fn chain(&self, depth: usize) -> Result<Chain, LoadError> {
        self.chain_with(&self.root, depth, 0, TTL_SECS)
    }

    /// `count` distinct chains of `depth`.
    pub fn pool(&self, depth: usize, count: usize) -> Result<Vec<Chain>, LoadError> {
        (0..count.max(1)).map(|_| self.chain(depth)).collect()
    }

    /// A source of never-seen chains of `depth` that share every link but the
    /// leaf, so the client signs one link per cold request while the
    /// authorizer, whose cache keys on the whole token, verifies all of them.
    pub fn cold(&self, depth: usize) -> Result<ColdSource, LoadError> {
        let depth = depth.clamp(1, MAX_DEPTH);
        let prefix = if depth > 1 {
            self.chain(depth - 1)?.warrants
        } else {
            Vec::new()
        };
        Ok(ColdSource {
            prefix,
            root: self.root.clone(),
            holders: self.holders[..depth].to_vec(),
        })
    }

    /// `[a.root, b.link1]`: a stack whose second link does not hash-link to
    /// its parent (for `chain_invalid`).
    pub fn spliced(&self) -> Result<Chain, LoadError> {
        let a = self.chain(2)?;
        let b = self.chain(2)?;
        let warrants = vec![a.warrants[0].clone(), b.warrants[1].clone()];
        Ok(Chain::new(warrants, b.holder))
    }

    /// A root warrant whose signature was tampered with (for `signature_invalid`).
    pub fn tampered(&self) -> Result<Chain, LoadError> {
        let mut chain = self.chain(1)?;
        let mut bytes = chain.leaf().envelope_bytes().to_vec();
        // The envelope ends with the 64-byte signature: flip a bit of its R half.
        let at = bytes.len() - 60;
        bytes[at] ^= 0x01;
        chain.token = encode_base64url(&bytes).into();
        Ok(chain)
    }
}

/// Fresh chains for cold requests (see [`Minter::cold`]).
pub struct ColdSource {
    prefix: Vec<Warrant>,
    root: SigningKey,
    holders: Vec<SigningKey>,
}

impl ColdSource {
    /// A chain no authorizer has seen before.
    pub fn fresh(&self) -> Result<Chain, LoadError> {
        let now = unix_now() as u64;
        let depth = self.holders.len();
        let leaf = match self.prefix.last() {
            None => Issue::execution(self.holders[0].public_key())
                .tool(TOOL, paths("/data/*")?)
                .ttl_secs(TTL_SECS)
                .max_depth(MAX_DEPTH as u32)
                .sign(&self.root, now)?,
            Some(parent) => Attenuate::from(parent)
                .holder(self.holders[depth - 1].public_key())
                .tool(TOOL, paths("/data/reports/*")?)
                .sign(&self.holders[depth - 2], now)?,
        };
        let mut warrants = self.prefix.clone();
        warrants.push(leaf);
        Ok(Chain::new(warrants, self.holders[depth - 1].clone()))
    }
}

/// The PoP of one (warrant, tool, arguments), re-signed when the window rolls.
pub(crate) struct PopSigner {
    key: SigningKey,
    chain: Chain,
    tool: String,
    args: Args,
    cached: Mutex<(i64, Option<Arc<str>>)>,
}

impl PopSigner {
    /// Signs with `key` (the holder for a valid PoP, another key for an invalid one).
    pub(crate) fn new(key: SigningKey, chain: Chain, tool: &str, args: Args) -> Self {
        Self {
            key,
            chain,
            tool: tool.to_owned(),
            args,
            cached: Mutex::new((i64::MIN, None)),
        }
    }

    /// The PoP for the current window.
    pub(crate) fn pop(&self) -> Arc<str> {
        let now = unix_now();
        let window = now.div_euclid(POP_WINDOW_SECS);
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let (true, Some(pop)) = (cached.0 == window, &cached.1) {
            return Arc::clone(pop);
        }
        let pop: Arc<str> = self.sign_at(now).into();
        *cached = (window, Some(Arc::clone(&pop)));
        pop
    }

    /// The PoP at `now`, uncached (cold requests).
    pub(crate) fn sign_at(&self, now: i64) -> String {
        sign_pop(
            &self.key,
            self.chain.leaf().id(),
            &self.tool,
            &self.args,
            now,
        )
        .to_base64url()
    }

    /// The warrant token.
    pub(crate) fn token(&self) -> &Arc<str> {
        &self.chain.token
    }
}
