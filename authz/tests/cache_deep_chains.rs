//! A long chain answered from the verified-chain cache is still judged link by link
//! on every request: a revoked link anywhere in it, a root issuer no longer trusted
//! and a link out of its time deny on the very next request, with the reason (and
//! the warrant it names) an uncached authorizer gives. The cache keys the token's
//! text, so a token re-encoded in the other base64 alphabet or as PEM is another
//! entry that decides the same. A property test holds the cached decision to the
//! uncached one under random revocations, trust sets and clocks.

#[path = "support/clock.rs"]
mod clock;
use clock::TestClock;

use base64::Engine;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::decision::{Authorized, TrustedIssuers};
use tenuo_authz::deny::{Denial, TimeError};
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::wire::{encode_base64url, encode_pem_chain};
use tenuo_authz::{Authorizer, DenyReason, Warrant};

const T0: i64 = 1_800_000_000;
const DEPTH: usize = 8;

/// A depth-8 chain and two authorizers on one clock: one with the cache, one without.
struct World {
    root: SigningKey,
    holders: Vec<SigningKey>,
    chain: Vec<Warrant>,
    clock: TestClock,
    cached: Authorizer,
    uncached: Authorizer,
    revocation_version: u64,
}

/// Link `i` (root 0) is issued `issued[i]` seconds after `T0` and lives `ttl[i]`
/// (cut to its parent's expiry, as delegation does; a link issued before its
/// parent is a broken link, which the chain is denied for once its time is right).
fn world(issued: [u64; DEPTH], ttl: [u64; DEPTH]) -> World {
    let root = SigningKey::from_bytes(&[1; 32]);
    let holders: Vec<SigningKey> = (0..DEPTH)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 10; 32]))
        .collect();
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let mut chain = vec![Issue::execution(holders[0].public_key())
        .tool("read", set)
        .ttl_secs(ttl[0])
        .sign(&root, T0 as u64 + issued[0])
        .unwrap()];
    for i in 1..DEPTH {
        let mut narrower = ConstraintSet::new();
        narrower.insert("path", Constraint::pattern("/data/reports/*").unwrap());
        let child = Attenuate::from(&chain[i - 1])
            .holder(holders[i].public_key())
            .tool("read", narrower)
            .ttl_secs(ttl[i])
            .sign(&holders[i - 1], T0 as u64 + issued[i])
            .unwrap();
        chain.push(child);
    }
    let clock = TestClock::at(T0);
    let build = |cache: bool| {
        let builder = Authorizer::builder()
            .trusted_issuers([root.public_key()])
            .clock(clock.reader());
        if cache {
            builder
        } else {
            builder.without_cache()
        }
        .build()
        .unwrap()
    };
    World {
        cached: build(true),
        uncached: build(false),
        root,
        holders,
        chain,
        clock,
        revocation_version: 0,
    }
}

/// A chain within its time from `T0` to `T0 + 600`.
fn plain_world() -> World {
    world([0; DEPTH], [600; DEPTH])
}

impl World {
    fn token(&self) -> String {
        encode_base64url(&encode_chain(&self.chain))
    }

    /// The cached decision for `token`, asserted to equal the uncached one and to
    /// have been answered from the cache when `expect_hit`.
    fn decide(&self, token: &str, expect_hit: bool) -> Result<Authorized, Denial> {
        let mut args = Args::new();
        args.insert("path".into(), ArgValue::String("/data/reports/q3".into()));
        let now = self.clock.now();
        let leaf = self.chain[DEPTH - 1].id();
        let pop = sign_pop(&self.holders[DEPTH - 1], leaf, "read", &args, now).to_base64url();
        let hits = self.cached.cache_stats().unwrap().hits;
        let cached = self
            .cached
            .authorize(Some(token), "read", &args, Some(&pop));
        let uncached = self
            .uncached
            .authorize(Some(token), "read", &args, Some(&pop));
        assert_eq!(cached, uncached, "cached and uncached decisions differ");
        if expect_hit {
            assert_eq!(
                self.cached.cache_stats().unwrap().hits,
                hits + 1,
                "not answered from the cache"
            );
        }
        cached
    }

    /// Installs, in both authorizers, a list revoking `ids` (newer than the last).
    fn revoke(&mut self, ids: &[usize]) {
        self.revocation_version += 1;
        let ids = ids.iter().map(|&i| *self.chain[i].id());
        let list = SignedRevocationList::sign(&self.root, self.revocation_version, ids, T0 as u64);
        self.cached.install_revocation_list(&list).unwrap();
        self.uncached.install_revocation_list(&list).unwrap();
    }

    fn trust(&self, keys: TrustedIssuers) {
        self.cached.set_trusted_issuers(keys.clone());
        self.uncached.set_trusted_issuers(keys);
    }
}

fn reason(decision: &Result<Authorized, Denial>) -> Option<DenyReason> {
    decision.as_ref().err().map(Denial::reason)
}

#[test]
fn a_revoked_link_anywhere_in_a_cached_chain_denies_on_the_next_request() {
    let mut w = plain_world();
    let token = w.token();
    w.decide(&token, false).unwrap();
    for link in 0..DEPTH {
        w.revoke(&[link]);
        let denied = w.decide(&token, true);
        assert_eq!(
            denied,
            Err(Denial::Revoked(*w.chain[link].id())),
            "link {link}"
        );
        w.revoke(&[]);
        w.decide(&token, true).unwrap();
    }
    // Several revoked: the first in the chain is named, as uncached.
    w.revoke(&[6, 3, 5]);
    assert_eq!(
        w.decide(&token, true),
        Err(Denial::Revoked(*w.chain[3].id()))
    );
}

#[test]
fn a_root_issuer_rotated_out_denies_a_cached_chain_on_the_next_request() {
    let w = plain_world();
    let token = w.token();
    w.decide(&token, false).unwrap();
    w.trust(TrustedIssuers::new([w.holders[0].public_key()]));
    assert_eq!(
        reason(&w.decide(&token, true)),
        Some(DenyReason::UntrustedIssuer)
    );
    w.trust(TrustedIssuers::new([w.root.public_key()]));
    w.decide(&token, true).unwrap();
}

#[test]
fn a_middle_link_expiring_first_denies_a_cached_chain_from_its_expiry_on() {
    // Links 3 to 7 expire at T0 + 300 (a child never outlives its parent); the
    // first of them in the chain is the one named.
    let mut ttl = [600; DEPTH];
    for t in ttl.iter_mut().skip(3) {
        *t = 300;
    }
    let w = world([0; DEPTH], ttl);
    let token = w.token();
    w.decide(&token, false).unwrap();
    w.clock.set(T0 + 299);
    let allowed = w.decide(&token, true).unwrap();
    assert_eq!(allowed.expires_at, T0 as u64 + 300);
    w.clock.set(T0 + 300);
    let expired = TimeError::Expired {
        id: *w.chain[3].id(),
        expires_at: T0 as u64 + 300,
    };
    assert_eq!(w.decide(&token, true), Err(Denial::Expired(expired)));
}

#[test]
fn a_middle_link_issued_in_the_future_denies_a_cached_chain_until_its_time() {
    // Links 4 to 7 are issued at T0 + 1000 (a child is never issued before its parent).
    let mut issued = [0; DEPTH];
    for i in issued.iter_mut().skip(4) {
        *i = 1000;
    }
    let w = world(issued, [3600; DEPTH]);
    let token = w.token();
    let early = TimeError::NotYetValid {
        id: *w.chain[4].id(),
        issued_at: T0 as u64 + 1000,
    };
    assert_eq!(w.decide(&token, false), Err(Denial::Expired(early)));
    // Within the clock tolerance (30 s) of the latest issue, and after it.
    w.clock.set(T0 + 1000 - 31);
    assert_eq!(w.decide(&token, true), Err(Denial::Expired(early)));
    w.clock.set(T0 + 1000 - 30);
    w.decide(&token, true).unwrap();
    w.clock.set(T0 + 1000);
    w.decide(&token, true).unwrap();
}

#[test]
fn a_token_respelled_in_the_other_base64_alphabet_or_as_pem_decides_the_same() {
    use base64::engine::general_purpose::STANDARD;
    let mut w = plain_world();
    let bytes = encode_chain(&w.chain);
    let url = encode_base64url(&bytes);
    let standard = STANDARD.encode(&bytes);
    let pem = encode_pem_chain(&w.chain);
    assert_ne!(url, standard);
    let first = w.decide(&url, false).unwrap();
    // Other texts, so other entries, each verified from its own bytes on its miss...
    assert_eq!(w.decide(&standard, false).unwrap(), first);
    assert_eq!(w.decide(&pem, false).unwrap(), first);
    let stats = w.cached.cache_stats().unwrap();
    assert_eq!((stats.misses, stats.entries), (3, 3));
    // ...and answered from the cache after, with the same decisions.
    assert_eq!(w.decide(&standard, true).unwrap(), first);
    assert_eq!(w.decide(&pem, true).unwrap(), first);
    // Surrounding whitespace is not part of the key.
    assert_eq!(w.decide(&format!(" {standard}\n"), true).unwrap(), first);
    w.revoke(&[5]);
    for token in [&url, &standard, &pem] {
        assert_eq!(
            w.decide(token, true),
            Err(Denial::Revoked(*w.chain[5].id()))
        );
    }
    w.clock.set(T0 + 600);
    w.revoke(&[]);
    for token in [&url, &standard, &pem] {
        assert_eq!(
            reason(&w.decide(token, true)),
            Some(DenyReason::WarrantExpired)
        );
    }
}

#[test]
fn a_chain_with_a_broken_link_is_judged_warrant_by_warrant_at_every_time() {
    // Link 5 is issued before its parent: the chain fails its links, and until
    // then each warrant's own time decides, first in the chain first (the window
    // of a sound chain, read off its leaf, does not hold for this one).
    let issued = [100, 100, 100, 100, 100, 50, 200, 200];
    let ttl = [900, 800, 700, 600, 500, 400, 300, 200];
    let w = world(issued, ttl);
    let token = w.token();
    let mut first = true;
    for at in [
        0, 49, 69, 70, 99, 100, 169, 170, 300, 399, 400, 449, 450, 451, 500, 600, 1000,
    ] {
        w.clock.set(T0 + at);
        let decision = w.decide(&token, !first);
        first = false;
        assert!(decision.is_err(), "at T0 + {at}: {decision:?}");
    }
}

#[test]
fn a_text_differing_in_one_character_is_never_another_texts_entry() {
    let w = plain_world();
    let token = w.token();
    w.decide(&token, false).unwrap();
    // Each one-character change of the token is decided from its own bytes
    // (a miss), never answered from the entry of the text it was made from.
    let misses_of = |w: &World| w.cached.cache_stats().unwrap().misses;
    for at in (0..token.len()).step_by(97) {
        let mut text = token.clone().into_bytes();
        text[at] = if text[at] == b'A' { b'B' } else { b'A' };
        let text = String::from_utf8(text).unwrap();
        let misses = misses_of(&w);
        let decision = w.decide(&text, false);
        assert!(decision.is_err(), "a changed token at {at} was allowed");
        assert_eq!(misses_of(&w), misses + 1, "changed at {at}: not a miss");
    }
}

/// What each random step does to the world before both authorizers decide.
#[derive(Debug, Clone)]
struct Step {
    /// Seconds after `T0` on the clock.
    at: u64,
    /// Which links the revocation list in force names.
    revoked: Vec<bool>,
    /// Whether the root key is still trusted.
    root_trusted: bool,
}

/// The decision at `step`, worked out from the warrants themselves in the
/// reference's order: revocation, trust, then each warrant's time, first in the
/// chain first (the chain and the call are otherwise sound).
fn expected(w: &World, step: &Step) -> Result<(), Denial> {
    if let Some(link) = (0..DEPTH).find(|&i| step.revoked[i]) {
        return Err(Denial::Revoked(*w.chain[link].id()));
    }
    if !step.root_trusted {
        return Err(Denial::UntrustedIssuer(Box::new(
            w.root.public_key().to_bytes(),
        )));
    }
    let now = T0 as u64 + step.at;
    for warrant in &w.chain {
        let payload = warrant.payload();
        if now >= payload.expires_at {
            let expired = TimeError::Expired {
                id: payload.id,
                expires_at: payload.expires_at,
            };
            return Err(Denial::Expired(expired));
        }
        if payload.issued_at > now + 30 {
            let early = TimeError::NotYetValid {
                id: payload.id,
                issued_at: payload.issued_at,
            };
            return Err(Denial::Expired(early));
        }
    }
    Ok(())
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    (
        0u64..1300,
        proptest::collection::vec(proptest::bool::weighted(0.1), DEPTH),
        proptest::bool::weighted(0.8),
    )
        .prop_map(|(at, revoked, root_trusted)| Step {
            at,
            revoked,
            root_trusted,
        })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    // Whatever revocations, trust and clock a request meets, the cached chain is
    // decided exactly as an uncached authorizer decides it, reason and named
    // warrant included, and always from the cache after the first request.
    #[test]
    fn a_cached_deep_chain_decides_as_an_uncached_one(
        // Every issue comes before every expiry, so each delegation can be signed.
        issued in proptest::collection::vec(0u64..300, DEPTH),
        ttl in proptest::collection::vec(300u64..1000, DEPTH),
        steps in proptest::collection::vec(step(), 1..6),
    ) {
        // Issues are sorted (a child is not issued before its parent, mostly:
        // a shuffled one would only test broken links, which the test above does).
        let mut issued: [u64; DEPTH] = issued.try_into().unwrap();
        issued.sort_unstable();
        let mut w = world(issued, ttl.try_into().unwrap());
        let token = w.token();
        let mut seen = false;
        for step in steps {
            w.clock.set(T0 + step.at as i64);
            // A list is installed only while its signer is trusted: trust the
            // root, install, then set the step's trust.
            w.trust(TrustedIssuers::new([w.root.public_key()]));
            let revoked: Vec<usize> = (0..DEPTH).filter(|&i| step.revoked[i]).collect();
            w.revoke(&revoked);
            if !step.root_trusted {
                w.trust(TrustedIssuers::new([w.holders[0].public_key()]));
            }
            // `decide` asserts that both authorizers agree; the oracle says what
            // they must agree on.
            let decision = w.decide(&token, seen).map(|_| ());
            proptest::prop_assert_eq!(decision, expected(&w, &step));
            seen = true;
        }
    }
}
