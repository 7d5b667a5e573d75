//! Decisions end to end, from token text to allow, in one run so ratios hold:
//! cached vs cold at depth 1, 4 and 8; raw `verify_strict` as the yardstick; and
//! `vs_tenuo`, the same warrants and calls through the reference authorizer.
//!
//! `cargo bench -p tenuo-authz --bench decision`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::collections::HashMap;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::encode_base64url;
use tenuo_authz::{Authorizer, Warrant};

struct Setup {
    token: String,
    pop: String,
    args: Args,
    chain: Vec<Warrant>,
    root: SigningKey,
    now: i64,
}

/// A chain of `depth` warrants, each narrowing `path`.
fn setup(depth: usize) -> Setup {
    let root = SigningKey::from_bytes(&[1; 32]);
    let keys: Vec<SigningKey> = (0..depth)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 10; 32]))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let mut chain = vec![Issue::execution(keys[0].public_key())
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(&root, now as u64)
        .unwrap()];
    for i in 1..depth {
        let mut narrower = ConstraintSet::new();
        narrower.insert("path", Constraint::pattern("/data/reports/*").unwrap());
        let child = Attenuate::from(&chain[i - 1])
            .holder(keys[i].public_key())
            .tool("read_file", narrower)
            .sign(&keys[i - 1], now as u64)
            .unwrap();
        chain.push(child);
    }
    let mut args = Args::new();
    args.insert(
        "path".into(),
        ArgValue::String("/data/reports/q3.csv".into()),
    );
    let pop = sign_pop(
        &keys[depth - 1],
        chain[depth - 1].id(),
        "read_file",
        &args,
        now,
    )
    .to_base64url();
    Setup {
        token: encode_base64url(&encode_chain(&chain)),
        pop,
        args,
        chain,
        root,
        now,
    }
}

fn cached_vs_cold(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    for depth in [1usize, 3, 4, 8] {
        let s = setup(depth);
        let cached = Authorizer::builder()
            .trusted_issuers([s.root.public_key()])
            .build()
            .unwrap();
        let cold = Authorizer::builder()
            .trusted_issuers([s.root.public_key()])
            .without_cache()
            .build()
            .unwrap();
        cached
            .authorize(Some(&s.token), "read_file", &s.args, Some(&s.pop))
            .unwrap();
        group.bench_function(BenchmarkId::new("cached", depth), |b| {
            b.iter(|| {
                cached
                    .authorize(
                        Some(black_box(&s.token)),
                        "read_file",
                        &s.args,
                        Some(&s.pop),
                    )
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("cold", depth), |b| {
            b.iter(|| {
                cold.authorize(
                    Some(black_box(&s.token)),
                    "read_file",
                    &s.args,
                    Some(&s.pop),
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

fn yardstick(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let message = vec![0x42u8; 200];
    let signature = key.sign(&message);
    let public = key.public_key();
    c.bench_function("verify_strict", |b| {
        b.iter(|| {
            public
                .verify_strict(black_box(&message), &signature)
                .unwrap()
        })
    });
}

fn vs_tenuo(c: &mut Criterion) {
    let s = setup(3);
    let ours = Authorizer::builder()
        .trusted_issuers([s.root.public_key()])
        .build()
        .unwrap();
    let ours_cold = Authorizer::builder()
        .trusted_issuers([s.root.public_key()])
        .without_cache()
        .build()
        .unwrap();
    let theirs_root = tenuo::PublicKey::from_bytes(&s.root.public_key().to_bytes()).unwrap();
    let theirs = tenuo::Authorizer::new().with_trusted_root(theirs_root);
    let mut their_args = HashMap::new();
    their_args.insert(
        "path".to_string(),
        tenuo::ConstraintValue::String("/data/reports/q3.csv".into()),
    );
    let sig_bytes = tenuo_authz::crypto::Signature::parse(&s.pop)
        .unwrap()
        .to_bytes();
    let their_pop = tenuo::Signature::from_bytes(&sig_bytes).unwrap();
    let stack_bytes = encode_chain(&s.chain);
    // The reference's gateway decodes the header and checks the chain on every request.
    let reference_decide = || {
        let text = black_box(&s.token);
        let bytes = base64_decode(text);
        let stack = tenuo::wire::decode_stack(&bytes).unwrap();
        theirs
            .check_chain(&stack.0, "read_file", &their_args, Some(&their_pop), &[])
            .unwrap();
    };
    reference_decide();
    assert_eq!(base64_decode(&s.token), stack_bytes);
    ours.authorize(Some(&s.token), "read_file", &s.args, Some(&s.pop))
        .unwrap();
    let _ = s.now;
    let mut group = c.benchmark_group("vs_tenuo_depth3");
    group.bench_function("tenuo_0.3.5", |b| b.iter(reference_decide));
    group.bench_function("ours_repeated", |b| {
        b.iter(|| {
            ours.authorize(
                Some(black_box(&s.token)),
                "read_file",
                &s.args,
                Some(&s.pop),
            )
            .unwrap()
        })
    });
    group.bench_function("ours_cold", |b| {
        b.iter(|| {
            ours_cold
                .authorize(
                    Some(black_box(&s.token)),
                    "read_file",
                    &s.args,
                    Some(&s.pop),
                )
                .unwrap()
        })
    });
    group.finish();
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

criterion_group!(benches, yardstick, cached_vs_cold, vs_tenuo);
criterion_main!(benches);
