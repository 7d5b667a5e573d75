//! Instruction counts of every decision path, for the CI regression gate
//! (`cargo xtask perf`, which runs this bench and compares it with
//! `authz/benches/instructions-baseline.json`).
//!
//! gungraun runs each benchmark once under Callgrind, counting only the benchmark
//! function (its `setup` is not counted). Counts repeat exactly for the same binary
//! and input, so every input here is fixed: keys from constant seeds, warrant ids
//! and the clock set to constants. The one switch, `TENUO_PERF_INJECT`, read in
//! setup, adds one SHA-256 to the named scenario (`function/id`, as the gate names it): the gate's own proof that it
//! catches a small regression (`cargo xtask perf --inject SCENARIO`).

// gungraun's macros generate modules that cannot carry docs.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use gungraun::{library_benchmark, library_benchmark_group, main, LibraryBenchmarkConfig};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::{verify_each, PublicKey, Signature, SigningKey};
use tenuo_authz::gateway::CompiledGateway;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::tower::{AuthzLayer, AuthzRequestBody, AuthzResponseBody, AuthzService};
use tenuo_authz::warrant::WarrantId;
use tenuo_authz::wire::{decode_bytes, decode_token_bytes, encode_base64url};
use tenuo_authz::{Authorizer, Warrant};
use tower::{Layer, Service};

/// The fixed "now" of every scenario: 2100-01-01, so a cached chain's expiry,
/// which the cache reads from the system clock, is always in the future.
const NOW: i64 = 4_102_444_800;

/// Decisions made before the counted one.
const WARM_UP: usize = 3;

/// The environment variable naming the scenario that gets one extra SHA-256.
const INJECT: &str = "TENUO_PERF_INJECT";

/// Bytes hashed by the injected regression: one SHA-256 of 192 bytes, about 3% of
/// a cached decision.
const INJECTED_BYTES: usize = 192;

/// One extra SHA-256 when this scenario is the injected one: the "regression" the
/// gate must catch. The flag is read in setup, so unchanged runs execute the same
/// instructions whether or not the variable is set.
#[derive(Clone, Copy)]
struct Inject(bool);

impl Inject {
    fn for_scenario(name: &str) -> Self {
        Inject(std::env::var(INJECT).is_ok_and(|v| v == name))
    }

    #[inline(never)]
    fn apply(self) {
        if self.0 {
            use sha2::Digest;
            black_box(sha2::Sha256::digest(black_box([0x5a; INJECTED_BYTES])));
        }
    }
}

/// Drops `value` without counting it: freeing an authorizer, its cache and its
/// tables is not the cost of the decision measured before it.
fn uncounted_drop<T>(value: T) {
    std::mem::forget(value);
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn id(n: u8) -> WarrantId {
    let mut bytes = [0u8; 16];
    bytes[0] = 0x01;
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    bytes[15] = n;
    WarrantId(bytes)
}

/// A chain of `depth` execution warrants for `read_file`, each narrowing `path`,
/// the call it allows and its PoP.
struct World {
    root: SigningKey,
    holders: Vec<SigningKey>,
    chain: Vec<Warrant>,
    token: String,
    args: Args,
    pop: String,
}

fn world(depth: usize) -> World {
    let root = key(1);
    let holders: Vec<SigningKey> = (0..depth).map(|i| key(10 + i as u8)).collect();
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").expect("pattern"));
    let mut chain = vec![Issue::execution(holders[0].public_key())
        .id(id(0))
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(&root, NOW as u64)
        .expect("root warrant")];
    for i in 1..depth {
        let mut narrower = ConstraintSet::new();
        narrower.insert(
            "path",
            Constraint::pattern("/data/reports/*").expect("pattern"),
        );
        let child = Attenuate::from(&chain[i - 1])
            .id(id(i as u8))
            .holder(holders[i].public_key())
            .tool("read_file", narrower)
            .sign(&holders[i - 1], NOW as u64)
            .expect("child warrant");
        chain.push(child);
    }
    let mut args = Args::new();
    args.insert(
        "path".into(),
        ArgValue::String("/data/reports/q3.csv".into()),
    );
    let leaf = &chain[depth - 1];
    let pop = sign_pop(&holders[depth - 1], leaf.id(), "read_file", &args, NOW).to_base64url();
    World {
        root,
        holders,
        token: encode_base64url(&encode_chain(&chain)),
        chain,
        args,
        pop,
    }
}

fn authorizer(trusted: PublicKey, cached: bool) -> Authorizer {
    let builder = Authorizer::builder()
        .trusted_issuers([trusted])
        .clock(|| NOW);
    let builder = if cached {
        builder
    } else {
        builder.without_cache()
    };
    builder.build().expect("authorizer")
}

/// What one decision needs: the authorizer, the header values and the call.
struct Decision {
    authorizer: Authorizer,
    token: String,
    pop: String,
    args: Args,
    inject: Inject,
}

impl Decision {
    fn new(name: &str, world: World, authorizer: Authorizer) -> Self {
        Decision {
            authorizer,
            token: world.token,
            pop: world.pop,
            args: world.args,
            inject: Inject::for_scenario(name),
        }
    }

    /// Decides a few times outside the count: fills the cache where there is one
    /// and runs every one-time initialization, so the count is the steady state.
    fn warmed(self) -> Self {
        for _ in 0..WARM_UP {
            let _ = self.decide();
        }
        self
    }

    fn decide(&self) -> bool {
        self.inject.apply();
        self.authorizer
            .authorize(
                Some(black_box(&self.token)),
                "read_file",
                &self.args,
                Some(&self.pop),
            )
            .is_ok()
    }
}

fn cached(depth: usize) -> Decision {
    let w = world(depth);
    let a = authorizer(w.root.public_key(), true);
    Decision::new(&format!("allow/cached_{depth}"), w, a).warmed()
}

fn cold(depth: usize) -> Decision {
    let w = world(depth);
    let a = authorizer(w.root.public_key(), false);
    Decision::new(&format!("allow/cold_{depth}"), w, a)
}

#[library_benchmark]
#[bench::cached_1(setup = cached, args = (1))]
#[bench::cached_3(setup = cached, args = (3))]
#[bench::cached_8(setup = cached, args = (8))]
#[bench::cold_3(setup = cold, args = (3))]
#[bench::cold_8(setup = cold, args = (8))]
fn allow(decision: Decision) -> bool {
    let allowed = decision.decide();
    uncounted_drop(decision);
    assert!(allowed, "the scenario's call is allowed");
    black_box(allowed)
}

/// Each deny path, on a depth-3 chain the cache has seen where the path allows it.
fn denial(path: &str) -> Decision {
    let name = format!("deny/{path}");
    let mut w = world(3);
    let trusted = w.root.public_key();
    match path {
        "untrusted" => {
            let a = authorizer(key(99).public_key(), true);
            return Decision::new(&name, w, a).warmed();
        }
        "chain_signature" => {
            // The last byte is inside the leaf's signature: a different, unsound token.
            let mut bytes = encode_chain(&w.chain);
            if let Some(last) = bytes.last_mut() {
                *last ^= 0x01;
            }
            w.token = encode_base64url(&bytes);
        }
        "pop" => {
            let wrong_holder = key(98);
            w.pop =
                sign_pop(&wrong_holder, w.chain[2].id(), "read_file", &w.args, NOW).to_base64url();
        }
        "constraint" => {
            // A PoP over the violating call, so the constraint is what denies it.
            w.args
                .insert("path".into(), ArgValue::String("/etc/passwd".into()));
            w.pop =
                sign_pop(&w.holders[2], w.chain[2].id(), "read_file", &w.args, NOW).to_base64url();
        }
        "expired" => {
            let a = Authorizer::builder()
                .trusted_issuers([trusted])
                .clock(|| NOW + 7200)
                .build()
                .expect("authorizer");
            return Decision::new(&name, w, a).warmed();
        }
        "revoked" => {
            let a = authorizer(trusted, true);
            let list = SignedRevocationList::sign(&w.root, 1, [*w.chain[1].id()], NOW as u64);
            a.install_revocation_list(&list).expect("revocation list");
            return Decision::new(&name, w, a).warmed();
        }
        other => panic!("unknown deny path {other}"),
    }
    let a = authorizer(trusted, true);
    Decision::new(&name, w, a).warmed()
}

#[library_benchmark]
#[bench::untrusted(setup = denial, args = ("untrusted"))]
#[bench::chain_signature(setup = denial, args = ("chain_signature"))]
#[bench::pop(setup = denial, args = ("pop"))]
#[bench::constraint(setup = denial, args = ("constraint"))]
#[bench::expired(setup = denial, args = ("expired"))]
#[bench::revoked(setup = denial, args = ("revoked"))]
fn deny(decision: Decision) -> bool {
    let allowed = decision.decide();
    uncounted_drop(decision);
    assert!(!allowed, "the scenario's call is denied");
    black_box(allowed)
}

/// Signatures verified in batches of `n`, as the server batches PoPs: by one key
/// (a sidecar's agent) or each by its own (a gateway's many agents).
///
/// Every scenario verifies [`BATCHED`] signatures, in `BATCHED / n` batches. A
/// batch's count varies from run to run with its random weights (the
/// multiscalar multiplication skips zero digits); summing several batches
/// narrows that spread, so small batches are gated as tightly as large ones.
struct Batch {
    batches: Vec<Vec<(PublicKey, Vec<u8>, Signature)>>,
    inject: Inject,
}

const BATCHED: usize = 64;

fn batch(n: usize, one_key: bool) -> Batch {
    let items: Vec<_> = (0..BATCHED)
        .map(|i| {
            let signer = key(if one_key { 50 } else { 50 + (i % 200) as u8 });
            let message = format!("{i:0>120}").into_bytes();
            let signature = signer.sign(&message);
            (signer.public_key(), message, signature)
        })
        .collect();
    let name = format!("pop_batch/{}_{n}", if one_key { "one_key" } else { "keys" });
    Batch {
        batches: items.chunks(n).map(<[_]>::to_vec).collect(),
        inject: Inject::for_scenario(&name),
    }
}

fn batch_one_key(n: usize) -> Batch {
    batch(n, true)
}

fn batch_keys(n: usize) -> Batch {
    batch(n, false)
}

#[library_benchmark]
#[bench::one_key_8(setup = batch_one_key, args = (8))]
#[bench::one_key_64(setup = batch_one_key, args = (64))]
#[bench::keys_8(setup = batch_keys, args = (8))]
#[bench::keys_64(setup = batch_keys, args = (64))]
fn pop_batch(batch: Batch) -> bool {
    batch.inject.apply();
    let mut all_valid = true;
    for items in &batch.batches {
        let refs: Vec<_> = items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
        all_valid &= verify_each(black_box(&refs)).iter().all(Result::is_ok);
        uncounted_drop(refs);
    }
    uncounted_drop(batch);
    assert!(all_valid, "every batched signature is valid");
    black_box(all_valid)
}

/// A stack of 8 as the header carries it: base64 text in, warrants out.
fn stack_8() -> (String, Inject) {
    (world(8).token, Inject::for_scenario("decode/stack_8"))
}

#[library_benchmark]
#[bench::stack_8(setup = stack_8)]
fn decode((token, inject): (String, Inject)) -> usize {
    inject.apply();
    let bytes = decode_token_bytes(black_box(&token)).expect("base64");
    let (_, warrants) = decode_bytes(&bytes).expect("stack");
    let decoded = warrants.len();
    uncounted_drop((token, bytes, warrants));
    black_box(decoded)
}

/// One argument set against a constraint of each common kind.
fn constraint_mix() -> (
    ConstraintSet,
    std::collections::BTreeMap<String, ArgValue>,
    Inject,
) {
    let mut set = ConstraintSet::new();
    let mut args = std::collections::BTreeMap::new();
    let mut add = |name: &str, constraint: Constraint, value: ArgValue| {
        set.insert(name, constraint);
        args.insert(name.to_owned(), value);
    };
    add(
        "path",
        Constraint::pattern("/data/*/reports/*.csv").expect("pattern"),
        ArgValue::String("/data/acme/reports/q3.csv".into()),
    );
    add(
        "file",
        Constraint::subpath("/srv/data").expect("subpath"),
        ArgValue::String("/srv/data/a/b.txt".into()),
    );
    add(
        "amount",
        Constraint::range(Some(0.0), Some(1000.0)).expect("range"),
        ArgValue::Float(250.5),
    );
    add(
        "region",
        Constraint::one_of(["eu-west-1", "eu-central-1", "us-east-1"]),
        ArgValue::String("eu-central-1".into()),
    );
    add(
        "peer",
        Constraint::cidr("10.0.0.0/8").expect("cidr"),
        ArgValue::String("10.1.2.3".into()),
    );
    add(
        "url",
        Constraint::url_pattern("https://*.example.com/api/*").expect("url pattern"),
        ArgValue::String("https://eu.example.com/api/v1/items".into()),
    );
    add(
        "ticket",
        Constraint::regex("^[A-Z]{3}-[0-9]{1,6}$").expect("regex"),
        ArgValue::String("OPS-4242".into()),
    );
    add(
        "command",
        Constraint::shlex(["ls", "cat"]),
        ArgValue::String("ls -la /srv/data".into()),
    );
    // Once outside the count: the regex's lazy DFA builds its states on first use,
    // in a hash map with random keys, so a first match costs a varying amount.
    assert!(
        set.check_args(&args).is_ok(),
        "the arguments satisfy every constraint"
    );
    (set, args, Inject::for_scenario("constraints/mix"))
}

#[library_benchmark]
#[bench::mix(setup = constraint_mix)]
fn constraints(
    (set, args, inject): (
        ConstraintSet,
        std::collections::BTreeMap<String, ArgValue>,
        Inject,
    ),
) -> bool {
    inject.apply();
    let satisfied = set.check_args(black_box(&args)).is_ok();
    uncounted_drop((set, args));
    assert!(satisfied, "the arguments satisfy every constraint");
    black_box(satisfied)
}

type Inner = tower::util::ServiceFn<
    fn(
        http::Request<AuthzRequestBody<String>>,
    ) -> std::future::Ready<Result<http::Response<String>, std::convert::Infallible>>,
>;

fn ran(
    _: http::Request<AuthzRequestBody<String>>,
) -> std::future::Ready<Result<http::Response<String>, std::convert::Infallible>> {
    std::future::ready(Ok(http::Response::new(String::from("ran"))))
}

/// A gateway-configured `AuthzService` in front of a trivial service, and one
/// cached-chain request to it (route match, query extraction, decision, context).
fn tower_request() -> (AuthzService<Inner>, http::Request<String>, Inject) {
    let w = world(3);
    let authorizer = Arc::new(authorizer(w.root.public_key(), true));
    let routes = CompiledGateway::from_yaml(
        r#"
version: "1"
settings: {}
tools:
  read_file:
    description: Read a file
    constraints:
      path: { from: query, path: "path", required: true }
routes:
  - { pattern: "/files/read", method: ["GET"], tool: read_file }
"#,
    )
    .expect("gateway config");
    let mut service = AuthzLayer::new(authorizer, routes).layer(tower::service_fn(ran as _));
    let request = || {
        http::Request::get("/files/read?path=/data/reports/q3.csv")
            .header("x-tenuo-warrant", &w.token)
            .header("x-tenuo-pop", &w.pop)
            .body(String::new())
            .expect("request")
    };
    // Once outside the count, so the chain is cached.
    let status = call(&mut service, request()).status();
    assert_eq!(
        status,
        http::StatusCode::OK,
        "the warm-up request is allowed"
    );
    (
        service,
        request(),
        Inject::for_scenario("tower_service/request"),
    )
}

/// Calls the service and polls its future to completion: it never waits on I/O
/// for a header-only route, so one poll with a no-op waker answers.
fn call(
    service: &mut AuthzService<Inner>,
    request: http::Request<String>,
) -> http::Response<AuthzResponseBody<String>> {
    let mut future = std::pin::pin!(service.call(request));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Ok(response)) => response,
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => panic!("a header-only request is answered without waiting"),
    }
}

#[library_benchmark]
#[bench::request(setup = tower_request)]
fn tower_service(
    (mut service, request, inject): (AuthzService<Inner>, http::Request<String>, Inject),
) -> http::StatusCode {
    inject.apply();
    let response = call(&mut service, black_box(request));
    let status = response.status();
    uncounted_drop((service, response));
    assert_eq!(status, http::StatusCode::OK, "the request is allowed");
    black_box(status)
}

library_benchmark_group!(
    name = decisions;
    benchmarks = allow, deny
);

library_benchmark_group!(
    name = parts;
    benchmarks = pop_batch, decode, constraints, tower_service
);

main!(
    config = LibraryBenchmarkConfig::default().pass_through_envs([INJECT]);
    library_benchmark_groups = decisions, parts
);
