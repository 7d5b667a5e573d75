//! Adversarial inputs against the library: the work a bad PoP can cause, oversized
//! and deeply nested tokens and headers, floods of unique warrants against the
//! chain cache, and clocks at the edges of every time rule.
//!
//! Work is measured in signature verification equations
//! ([`tenuo_authz::crypto::signature_checks`]), never in wall time.

#[path = "support/clock.rs"]
mod clock;
use clock::TestClock;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tenuo_authz::cache::CacheConfig;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::{signature_checks, Signature, SigningKey};
use tenuo_authz::decision::Policy;
use tenuo_authz::engine::{AuthzConfig, CallRequest, ExtractCall, ExtractError, RequestAuthorizer};
use tenuo_authz::gateway::CompiledGateway;
use tenuo_authz::mint::{Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::{encode_base64url, encode_stack, MAX_STACK_BYTES};
use tenuo_authz::{Authorizer, AuthorizerBuilder, DenyReason, Warrant};

const T0: i64 = 1_800_000_000;

struct World {
    cp: SigningKey,
    orch: SigningKey,
    worker: SigningKey,
    clock: TestClock,
}

impl World {
    fn new() -> Self {
        Self {
            cp: SigningKey::from_bytes(&[21; 32]),
            orch: SigningKey::from_bytes(&[22; 32]),
            worker: SigningKey::from_bytes(&[23; 32]),
            clock: TestClock::at(T0),
        }
    }

    fn builder(&self) -> AuthorizerBuilder {
        Authorizer::builder()
            .trusted_issuers([self.cp.public_key()])
            .clock(self.clock.reader())
    }

    fn set_now(&self, now: i64) {
        self.clock.set(now);
    }

    /// root (cp -> orch) then child (orch -> worker), `read_file` on `/data/*`;
    /// `nonce` makes each chain unique.
    fn chain(&self, nonce: u64) -> (Vec<Warrant>, String) {
        let mut set = ConstraintSet::new();
        set.insert("path", Constraint::pattern("/data/*").unwrap());
        let root = Issue::execution(self.orch.public_key())
            .tool("read_file", set)
            .ttl_secs(3600 + nonce)
            .sign(&self.cp, T0 as u64)
            .unwrap();
        let child = Attenuate::from(&root)
            .holder(self.worker.public_key())
            .inherit_all()
            .ttl_secs(600)
            .sign(&self.orch, T0 as u64)
            .unwrap();
        let chain = vec![root, child];
        let token = encode_base64url(&encode_stack(chain.iter().map(Warrant::envelope_bytes)));
        (chain, token)
    }
}

fn args(path: &str) -> Args {
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String(path.into()));
    args
}

/// Signature checks made by `f` on this thread.
fn checks<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = signature_checks();
    let out = f();
    (signature_checks() - before, out)
}

fn reason<T: std::fmt::Debug>(r: Result<T, tenuo_authz::Denial>) -> DenyReason {
    r.expect_err("denied").reason()
}

#[test]
fn a_bad_pop_costs_at_most_the_accepted_windows_in_signature_checks() {
    let world = World::new();
    let authorizer = world.builder().build().unwrap();
    let windows = u64::from(Policy::default().pop_windows.max_windows);
    let (chain, token) = world.chain(0);
    let leaf = chain.last().unwrap();
    let a = args("/data/q3.csv");
    let good = sign_pop(&world.worker, leaf.id(), "read_file", &a, T0).to_base64url();
    let authorize = |pop: &str| authorizer.authorize(Some(&token), "read_file", &a, Some(pop));

    // Cold: the chain's two signatures, then the PoP.
    let (cold, allowed) = checks(|| authorize(&good));
    assert!(allowed.is_ok());
    let (warm, allowed) = checks(|| authorize(&good));
    assert!(allowed.is_ok());
    assert_eq!(warm, 1, "a cached chain with a current PoP costs one check");
    assert!(cold <= 2 + 1, "cold good request cost {cold}");

    // A well-formed signature that verifies for nothing here: every window tried once.
    let wrong = world.worker.sign(b"something else").to_base64url();
    let (bad, denied) = checks(|| authorize(&wrong));
    assert_eq!(reason(denied), DenyReason::InvalidPop);
    assert_eq!(
        bad, windows,
        "a bad PoP costs exactly one check per accepted window"
    );
    // Encodings that cannot be a signature (s not canonical) cost no more.
    let malformed = Signature::from_bytes(&[0xff; 64]).to_base64url();
    let (bad_encoding, denied) = checks(|| authorize(&malformed));
    assert_eq!(reason(denied), DenyReason::InvalidPop);
    assert!(bad_encoding <= windows);
    // Text that is not a signature at all is refused before any check.
    let (garbage, denied) = checks(|| authorize("not a signature"));
    assert_eq!(reason(denied), DenyReason::InvalidPop);
    assert_eq!(garbage, 0);

    // Cold and bad: each unique chain is verified once, then the windows.
    let (fresh, fresh_token) = world.chain(1);
    let (cold_bad, denied) =
        checks(|| authorizer.authorize(Some(&fresh_token), "read_file", &a, Some(&wrong)));
    assert_eq!(reason(denied), DenyReason::InvalidPop);
    assert!(cold_bad <= fresh.len() as u64 + windows);

    // After a flood of bad PoPs, a good request still costs one check.
    for _ in 0..50 {
        assert!(authorize(&wrong).is_err());
    }
    let (after, allowed) = checks(|| authorize(&good));
    assert!(allowed.is_ok());
    assert_eq!(after, 1);
    eprintln!(
        "signature checks: good warm {warm}, good cold {cold}, bad warm {bad} ({}x), bad cold {cold_bad} ({:.1}x of good cold)",
        bad / warm,
        cold_bad as f64 / cold as f64
    );
}

#[test]
fn untrusted_or_undecodable_chains_never_reach_the_pop() {
    let world = World::new();
    let stranger = World {
        cp: SigningKey::from_bytes(&[99; 32]),
        ..World::new()
    };
    let authorizer = world.builder().build().unwrap();
    let (chain, token) = stranger.chain(0);
    let a = args("/data/x");
    let pop = sign_pop(&world.worker, chain[1].id(), "read_file", &a, T0).to_base64url();
    let (cost, denied) = checks(|| authorizer.authorize(Some(&token), "read_file", &a, Some(&pop)));
    assert_eq!(reason(denied), DenyReason::UntrustedIssuer);
    assert!(
        cost <= chain.len() as u64,
        "only the chain's own signatures: {cost}"
    );
    let (cost, denied) = checks(|| authorizer.authorize(Some(&token), "read_file", &a, Some(&pop)));
    assert_eq!(reason(denied), DenyReason::UntrustedIssuer);
    assert_eq!(cost, 0, "cached: an untrusted chain costs nothing more");
    let (cost, denied) = checks(|| authorizer.authorize(Some("%%%"), "read_file", &a, Some(&pop)));
    assert_eq!(reason(denied), DenyReason::InvalidWarrant);
    assert_eq!(cost, 0);
}

#[test]
fn one_bad_signature_in_a_batch_at_most_doubles_its_neighbours_work() {
    use tenuo_authz::crypto::verify_each;
    let keys: Vec<SigningKey> = (0..16u8)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    let publics: Vec<_> = keys.iter().map(SigningKey::public_key).collect();
    let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(b"call")).collect();
    let items: Vec<_> = publics
        .iter()
        .zip(&sigs)
        .map(|(k, s)| (k, &b"call"[..], s))
        .collect();
    let (clean, verdicts) = checks(|| verify_each(&items));
    assert!(verdicts.iter().all(Result::is_ok));
    let forged = keys[0].sign(b"other");
    let mut poisoned = items.clone();
    poisoned.push((&publics[1], &b"call"[..], &forged));
    let (dirty, verdicts) = checks(|| verify_each(&poisoned));
    assert!(
        verdicts[..16].iter().all(Result::is_ok),
        "neighbours keep their verdict"
    );
    assert!(verdicts[16].is_err());
    let n = poisoned.len() as u64;
    assert!(
        dirty <= 2 * n,
        "{dirty} checks for {n} items (clean batch: {clean})"
    );
}

#[test]
fn oversized_and_deeply_nested_tokens_are_refused_before_any_check() {
    let world = World::new();
    let authorizer = world.builder().build().unwrap();
    let a = args("/data/x");
    let nested_array = |depth: usize| {
        let mut bytes = vec![0x81u8; depth];
        bytes.push(0x00);
        bytes
    };
    let mut indefinite = vec![0x9fu8; 100_000];
    indefinite.extend(std::iter::repeat_n(0xffu8, 100_000));
    let many_pem =
        "-----BEGIN TENUO WARRANT-----\ngwE\n-----END TENUO WARRANT-----\n".repeat(5_000);
    let tokens: Vec<String> = vec![
        "A".repeat(MAX_STACK_BYTES * 2),
        encode_base64url(&vec![0x83; MAX_STACK_BYTES + 1]),
        encode_base64url(&nested_array(100_000)),
        encode_base64url(&nested_array(200)),
        encode_base64url(&indefinite),
        many_pem,
        format!(
            "-----BEGIN TENUO WARRANT CHAIN-----\n{}",
            "A".repeat(100_000)
        ),
        "\u{0}".repeat(10_000),
    ];
    for token in &tokens {
        let (cost, denied) = checks(|| authorizer.authorize(Some(token), "read_file", &a, None));
        assert_eq!(
            reason(denied),
            DenyReason::InvalidWarrant,
            "{}",
            &token[..40.min(token.len())]
        );
        assert_eq!(cost, 0);
    }
    let (_, token) = world.chain(0);
    let huge_pop = "A".repeat(1 << 20);
    let (cost, denied) =
        checks(|| authorizer.authorize(Some(&token), "read_file", &a, Some(&huge_pop)));
    assert_eq!(reason(denied), DenyReason::InvalidPop);
    assert!(cost <= 2, "only the chain was verified: {cost}");
}

#[test]
fn oversized_and_nested_http_requests_are_denied_by_the_front_end() {
    let world = World::new();
    let authorizer = Arc::new(world.builder().build().unwrap());
    let gateway =
        CompiledGateway::from_yaml(include_str!("fixtures/gateway/all_sources.yaml")).unwrap();
    let decider = RequestAuthorizer::new(
        authorizer,
        Arc::new(gateway),
        Arc::new(()),
        AuthzConfig::default(),
    );
    let (_, token) = world.chain(0);
    let nested_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let bodies = [
        nested_json,
        deep_object,
        "x".repeat(2 << 20),
        String::from("{\"amount\": 1e999999}"),
    ];
    for body in &bodies {
        let (parts, ()) = http::Request::builder()
            .method("POST")
            .uri("/accounts/acc-1/transfers")
            .header("x-tenuo-warrant", &token)
            .header("x-tenuo-pop", "A".repeat(86))
            .header("content-type", "application/json")
            .body(())
            .unwrap()
            .into_parts();
        let decided = decider.decide(&parts, body.as_bytes());
        let denial = decided.outcome.expect_err("denied");
        assert!(
            matches!(
                denial.reason(),
                DenyReason::ConstraintViolation
                    | DenyReason::ToolNotInWarrant
                    | DenyReason::InvalidPop
            ),
            "{denial:?}"
        );
    }
    let long_path = format!("/files/{}", "a/".repeat(30_000));
    let (parts, ()) = http::Request::builder()
        .uri(long_path.as_str())
        .header("x-tenuo-warrant", &token)
        .body(())
        .unwrap()
        .into_parts();
    assert!(decider.decide(&parts, &[]).outcome.is_err());
}

#[test]
fn a_flood_of_unique_warrants_stays_bounded_and_the_hot_set_stays_hot() {
    let world = World::new();
    let max_entries = 64;
    let mut cache = CacheConfig::default();
    cache.max_bytes = 4 * 1024 * 1024;
    cache.max_entries = max_entries;
    let authorizer = world.builder().cache(cache).build().unwrap();
    let a = args("/data/x");
    let hot: Vec<(Vec<Warrant>, String)> = (0..8).map(|i| world.chain(i)).collect();
    let hit = |(chain, token): &(Vec<Warrant>, String)| {
        let pop = sign_pop(&world.worker, chain[1].id(), "read_file", &a, T0).to_base64url();
        assert!(authorizer
            .authorize(Some(token), "read_file", &a, Some(&pop))
            .is_ok());
    };
    for _ in 0..20 {
        hot.iter().for_each(hit);
    }
    // Unique chains, each seen once (a bad PoP: the attacker cannot sign for the
    // holder), with the hot set in regular use meanwhile.
    let flood = 1_500u64;
    for i in 0..flood {
        let (_, token) = world.chain(1_000 + i);
        let _ = authorizer.authorize(Some(&token), "read_file", &a, Some(&"A".repeat(86)));
        if i % 25 == 0 {
            hot.iter().for_each(hit);
        }
        if i % 100 == 0 {
            assert!(authorizer.cache_stats().unwrap().entries <= max_entries);
        }
    }
    let before = authorizer.cache_stats().unwrap();
    assert!(before.entries <= max_entries, "{before:?}");
    for _ in 0..5 {
        hot.iter().for_each(hit);
    }
    let after = authorizer.cache_stats().unwrap();
    assert_eq!(
        after.misses, before.misses,
        "hot chains were evicted by the flood"
    );
    assert_eq!(after.hits - before.hits, 40);
    eprintln!("after {flood} unique warrants: {after:?}");
}

#[test]
fn clocks_at_the_edges_of_every_time_rule() {
    let world = World::new();
    let authorizer = world.builder().without_cache().build().unwrap();
    let (chain, token) = world.chain(0);
    let id = *chain[1].id();
    let a = args("/data/x");
    let signed_at = T0 + 145; // window [T0+120, T0+150)
    let window = signed_at - signed_at % 30;
    let pop = sign_pop(&world.worker, &id, "read_file", &a, signed_at).to_base64url();
    let decide_at = |now: i64, pop: &str| {
        world.set_now(now);
        authorizer.authorize(Some(&token), "read_file", &a, Some(pop))
    };
    // Two windows each way: [window - 60, window + 90).
    assert!(decide_at(window - 60, &pop).is_ok());
    assert_eq!(reason(decide_at(window - 61, &pop)), DenyReason::InvalidPop);
    assert!(decide_at(window + 89, &pop).is_ok());
    assert_eq!(reason(decide_at(window + 90, &pop)), DenyReason::InvalidPop);

    // Expiry is exact: the child (600 s) expires first.
    let expires = T0 + 600;
    let at = |now: i64| sign_pop(&world.worker, &id, "read_file", &a, now).to_base64url();
    assert!(decide_at(expires - 1, &at(expires - 1)).is_ok());
    assert_eq!(
        reason(decide_at(expires, &at(expires))),
        DenyReason::WarrantExpired
    );
    // issued_at may be up to 30 s ahead of our clock.
    assert!(decide_at(T0 - 30, &at(T0 - 30)).is_ok());
    assert_eq!(
        reason(decide_at(T0 - 31, &at(T0 - 31))),
        DenyReason::WarrantExpired
    );

    // Absurd clocks deny without overflowing.
    for now in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        let denied = decide_at(now, &at(now));
        assert_eq!(reason(denied), DenyReason::WarrantExpired, "now = {now}");
    }
}

/// A request body that declares `declared` bytes and never sends one.
struct StalledBody {
    declared: u64,
}

impl http_body::Body for StalledBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        // Correctness: never ready, and never wakes anyone; that is the attack.
        std::task::Poll::Pending
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.declared)
    }
}

#[test]
fn a_body_declared_over_the_limit_is_denied_without_waiting_for_it() {
    use std::future::Future;
    use tenuo_authz::tower::{AuthzLayer, AuthzRequestBody};
    use tower::{Layer, Service};
    let world = World::new();
    let authorizer = Arc::new(world.builder().build().unwrap());
    let gateway =
        CompiledGateway::from_yaml(include_str!("fixtures/gateway/all_sources.yaml")).unwrap();
    let mut service = AuthzLayer::new(authorizer, gateway).layer(tower::service_fn(
        |_: http::Request<AuthzRequestBody<StalledBody>>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<
                bytes::Bytes,
            >::new()))
        },
    ));
    let (_, token) = world.chain(0);
    let request = |declared| {
        http::Request::post("/accounts/acc-1/transfers")
            .header("x-tenuo-warrant", &token)
            .header("content-type", "application/json")
            .body(StalledBody { declared })
            .unwrap()
    };
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    // Over the limit: answered at once, without a byte of the body.
    let mut future = std::pin::pin!(service.call(request(64 << 20)));
    let std::task::Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
        panic!("a body declared over the limit was waited for");
    };
    assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
    // Within the limit, the body is awaited (the server's timeouts end it).
    let mut future = std::pin::pin!(service.call(request(10)));
    assert!(future.as_mut().poll(&mut cx).is_pending());
}

/// Every request is a `read_file` of `/data/x`, whatever its route.
struct ReadDataX;

impl ExtractCall for ReadDataX {
    fn needs_body(&self, _: &http::request::Parts) -> bool {
        false
    }

    fn extract(&self, _: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        Ok(("read_file".to_owned(), args("/data/x")))
    }
}

/// A server front end over `world`'s trust, without a PoP batch, and a request
/// carrying chain 0 with a valid PoP.
fn front_end_and_request(world: &World) -> (RequestAuthorizer, http::request::Parts) {
    let authorizer = Arc::new(world.builder().build().unwrap());
    let decider = RequestAuthorizer::new(
        authorizer,
        Arc::new(ReadDataX),
        Arc::new(()),
        AuthzConfig::default(),
    );
    let (chain, token) = world.chain(0);
    let pop = sign_pop(
        &world.worker,
        chain[1].id(),
        "read_file",
        &args("/data/x"),
        T0,
    );
    let (parts, ()) = http::Request::builder()
        .uri("/read")
        .header("x-tenuo-warrant", &token)
        .header("x-tenuo-pop", pop.to_base64url())
        .body(())
        .unwrap()
        .into_parts();
    (decider, parts)
}

#[tokio::test(flavor = "current_thread")]
async fn servers_verify_a_chain_the_cache_misses_off_the_async_worker() {
    let world = World::new();
    let (decider, parts) = front_end_and_request(&world);

    // A miss: the chain's two signatures are verified on a blocking thread, so the
    // only worker of this runtime (this thread) checks the PoP alone, and stays free
    // for other requests meanwhile. (The counter is per thread.)
    let (cost, decided) = checks_async(decider.decide_batched(&parts, &[])).await;
    assert!(decided.outcome.is_ok());
    assert_eq!(cost, 1, "only the PoP was checked on the async worker");

    // A hit (and no PoP batch): nothing to wait for, decided in the first poll.
    let mut warm = std::pin::pin!(decider.decide_batched(&parts, &[]));
    match warm.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(decided) => assert!(decided.outcome.is_ok()),
        Poll::Pending => panic!("a cached chain waited"),
    }
    let stats = decider.authorizer().cache_stats().unwrap();
    assert_eq!((stats.hits, stats.misses), (1, 1));
}

#[test]
fn without_a_runtime_a_chain_the_cache_misses_is_verified_inline() {
    let world = World::new();
    let (decider, parts) = front_end_and_request(&world);
    let before = signature_checks();
    let mut cold = std::pin::pin!(decider.decide_batched(&parts, &[]));
    match cold.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(decided) => assert!(decided.outcome.is_ok()),
        Poll::Pending => panic!("no runtime to wait on"),
    }
    assert_eq!(
        signature_checks() - before,
        3,
        "the chain's two and the PoP"
    );
}

/// Signature checks made on this thread while `future` runs to completion.
async fn checks_async<T>(future: impl Future<Output = T>) -> (u64, T) {
    let before = signature_checks();
    let output = future.await;
    (signature_checks() - before, output)
}
