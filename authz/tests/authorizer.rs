//! The Authorizer with its cache: rotation, revocation, expiry and substitution
//! take effect on the next request, hit or miss.

#[path = "support/clock.rs"]
mod clock;
use clock::TestClock;

use tenuo_authz::cache::CacheConfig;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::decision::TrustedIssuers;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::revocation::{RevocationError, SignedRevocationList};
use tenuo_authz::wire::encode_base64url;
use tenuo_authz::{Authorizer, DenyReason, Warrant};

const T0: i64 = 1_800_000_000;

struct World {
    cp: SigningKey,
    orch: SigningKey,
    worker: SigningKey,
    clock: TestClock,
    authorizer: Authorizer,
    chain: Vec<Warrant>,
}

fn world() -> World {
    let (cp, orch, worker) = (
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
        SigningKey::from_bytes(&[3; 32]),
    );
    let clock = TestClock::at(T0);
    let authorizer = Authorizer::builder()
        .trusted_issuers([cp.public_key()])
        .clock(clock.reader())
        .build()
        .unwrap();
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let root = Issue::execution(orch.public_key())
        .tool("read", set)
        .ttl_secs(600)
        .sign(&cp, T0 as u64)
        .unwrap();
    let child = Attenuate::from(&root)
        .holder(worker.public_key())
        .inherit_all()
        .ttl_secs(120)
        .sign(&orch, T0 as u64)
        .unwrap();
    World {
        cp,
        orch,
        worker,
        clock,
        authorizer,
        chain: vec![root, child],
    }
}

impl World {
    fn token(&self) -> String {
        encode_base64url(&encode_chain(&self.chain))
    }

    fn call(&self, token: &str, path: &str) -> Result<(), DenyReason> {
        let mut args = Args::new();
        args.insert("path".into(), ArgValue::String(path.into()));
        let now = self.clock.now();
        let pop = sign_pop(&self.worker, self.chain[1].id(), "read", &args, now).to_base64url();
        self.authorizer
            .authorize(Some(token), "read", &args, Some(&pop))
            .map(|_| ())
            .map_err(|d| d.reason())
    }
}

#[test]
fn repeated_tokens_are_served_from_the_cache() {
    let w = world();
    let token = w.token();
    for _ in 0..5 {
        w.call(&token, "/data/a").unwrap();
    }
    let stats = w.authorizer.cache_stats().unwrap();
    assert_eq!((stats.misses, stats.hits), (1, 4));
    assert_eq!(
        w.call(&token, "/etc/passwd"),
        Err(DenyReason::ConstraintViolation)
    );
}

#[test]
fn rotation_takes_effect_on_the_next_cached_request() {
    let w = world();
    let token = w.token();
    w.call(&token, "/data/a").unwrap();
    w.authorizer
        .set_trusted_issuers(TrustedIssuers::new([w.orch.public_key()]));
    assert_eq!(w.call(&token, "/data/a"), Err(DenyReason::UntrustedIssuer));
    w.authorizer.set_trusted_issuers(TrustedIssuers::new([
        w.orch.public_key(),
        w.cp.public_key(),
    ]));
    w.call(&token, "/data/a").unwrap();
}

#[test]
fn revocation_takes_effect_on_the_next_cached_request_and_never_rolls_back() {
    let w = world();
    let token = w.token();
    w.call(&token, "/data/a").unwrap();
    let v2 = SignedRevocationList::sign(&w.cp, 2, [*w.chain[0].id()], T0 as u64);
    w.authorizer.install_revocation_list(&v2).unwrap();
    assert_eq!(
        w.call(&token, "/data/a"),
        Err(DenyReason::WarrantRevoked),
        "revoking the root revokes the child"
    );
    let v1 = SignedRevocationList::sign(&w.cp, 1, [], T0 as u64);
    assert!(matches!(
        w.authorizer.install_revocation_list(&v1),
        Err(RevocationError::Rollback { .. })
    ));
    assert_eq!(w.call(&token, "/data/a"), Err(DenyReason::WarrantRevoked));
    let forged = SignedRevocationList::sign(&w.orch, 3, [], T0 as u64);
    assert!(matches!(
        w.authorizer.install_revocation_list(&forged),
        Err(RevocationError::UntrustedIssuer(_))
    ));
}

#[test]
fn cached_chains_expire_with_their_earliest_warrant() {
    let w = world();
    let token = w.token();
    w.call(&token, "/data/a").unwrap();
    w.clock.set(T0 + 119);
    w.call(&token, "/data/a").unwrap();
    w.clock.set(T0 + 120);
    assert_eq!(w.call(&token, "/data/a"), Err(DenyReason::WarrantExpired));
}

#[test]
fn a_substituted_token_is_never_answered_from_another_tokens_entry() {
    let w = world();
    let token = w.token();
    w.call(&token, "/data/a").unwrap();
    // Flip one character of the leaf's signature region: a different token.
    let mut bytes = encode_chain(&w.chain);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let forged = encode_base64url(&bytes);
    assert_eq!(
        w.call(&forged, "/data/a"),
        Err(DenyReason::SignatureInvalid)
    );
    // Whitespace around the same token is the same token.
    w.call(&format!("  {token}\n"), "/data/a").unwrap();
    // Still denied when asked again (the unsound chain is cached with its reason).
    assert_eq!(
        w.call(&forged, "/data/a"),
        Err(DenyReason::SignatureInvalid)
    );
}

#[test]
fn a_flood_of_unique_tokens_stays_within_the_bound_and_the_hot_set_stays_hot() {
    let cp = SigningKey::from_bytes(&[1; 32]);
    let holder = SigningKey::from_bytes(&[2; 32]);
    let mut cache = CacheConfig::default();
    cache.max_bytes = 1024 * 1024;
    cache.max_entries = 50;
    let authorizer = Authorizer::builder()
        .trusted_issuers([cp.public_key()])
        .cache(cache)
        .build()
        .unwrap();
    let now = authorizer.now() as u64;
    let hot: Vec<String> = (0..10)
        .map(|i| {
            Issue::execution(holder.public_key())
                .tool(format!("hot{i}"), ConstraintSet::new())
                .sign(&cp, now)
                .unwrap()
                .to_base64url()
        })
        .collect();
    for token in &hot {
        for _ in 0..5 {
            authorizer.prepare(token).unwrap();
        }
    }
    for i in 0..400u32 {
        let w = Issue::execution(holder.public_key())
            .tool(format!("cold{i}"), ConstraintSet::new())
            .sign(&cp, now)
            .unwrap();
        authorizer.prepare(&w.to_base64url()).unwrap();
        if i % 20 == 0 {
            for token in &hot {
                authorizer.prepare(token).unwrap();
            }
        }
    }
    let stats = authorizer.cache_stats().unwrap();
    assert!(
        stats.entries <= 50,
        "{} entries cached, bound is 50",
        stats.entries
    );
    let misses_before = stats.misses;
    for token in &hot {
        authorizer.prepare(token).unwrap();
    }
    let hot_misses = authorizer.cache_stats().unwrap().misses - misses_before;
    assert!(
        hot_misses <= 2,
        "{hot_misses} of 10 hot tokens were evicted by the flood"
    );
}

#[test]
fn missing_and_malformed_inputs_have_their_own_reasons() {
    let w = world();
    let args = Args::new();
    let deny = |token: Option<&str>, pop: Option<&str>| {
        w.authorizer
            .authorize(token, "read", &args, pop)
            .unwrap_err()
            .reason()
    };
    assert_eq!(deny(None, None), DenyReason::MissingWarrant);
    assert_eq!(deny(Some("  "), None), DenyReason::MissingWarrant);
    assert_eq!(deny(Some("not a token"), None), DenyReason::InvalidWarrant);
    assert_eq!(deny(Some(&w.token()), None), DenyReason::MissingPop);
    assert_eq!(deny(Some(&w.token()), Some("zz")), DenyReason::InvalidPop);
}

#[test]
fn reference_revocation_lists_install_here() {
    let w = world();
    let theirs_key = tenuo::SigningKey::from_bytes(&[1; 32]);
    let list = tenuo::SignedRevocationList::builder()
        .revoke(w.chain[1].id().to_string())
        .version(5)
        .build(&theirs_key)
        .unwrap();
    let ours = SignedRevocationList::from_base64(&list.to_base64().unwrap()).unwrap();
    assert_eq!(ours.version(), 5);
    w.authorizer.install_revocation_list(&ours).unwrap();
    assert_eq!(
        w.call(&w.token(), "/data/a"),
        Err(DenyReason::WarrantRevoked)
    );
    // And ours verify in the reference.
    let mine = SignedRevocationList::sign(&w.cp, 6, [*w.chain[0].id()], T0 as u64);
    let decoded = tenuo::SignedRevocationList::from_base64(&mine.to_base64()).unwrap();
    decoded.verify(&theirs_key.public_key()).unwrap();
    assert!(decoded.is_revoked(&w.chain[0].id().to_string()));
}
