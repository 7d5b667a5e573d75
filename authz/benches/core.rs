//! Criterion benches of the core path: decode, chain verification at depth 1, 4
//! and 8 (under both signature criteria), PoP verification, and constraint
//! evaluation, with ed25519-dalek's `verify_strict` as the yardstick.
//!
//! `cargo bench -p tenuo-authz --bench core`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tenuo_authz::chain::PreparedChain;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SignatureCriterion;
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::decision::{authorize, Call, Policy, TrustedIssuers};
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, verify_pop, Args, PopWindows};
use tenuo_authz::wire::decode_stack;
use tenuo_authz::Warrant;

const NOW: u64 = 1_800_000_000;

/// A chain of `depth + 1` warrants whose leaf grants read_file on /data/reports/*.
fn chain(depth: usize) -> (Vec<Warrant>, SigningKey, SigningKey) {
    let root_key = SigningKey::from_bytes(&[1; 32]);
    let keys: Vec<SigningKey> = (0..=depth)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 10; 32]))
        .collect();
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let mut chain = vec![Issue::execution(keys[0].public_key())
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(&root_key, NOW)
        .unwrap()];
    for i in 1..=depth {
        let mut narrower = ConstraintSet::new();
        narrower.insert("path", Constraint::pattern("/data/reports/*").unwrap());
        let child = Attenuate::from(&chain[i - 1])
            .holder(keys[i].public_key())
            .tool("read_file", narrower)
            .sign(&keys[i - 1], NOW)
            .unwrap();
        chain.push(child);
    }
    let leaf_key = keys[depth].clone();
    (chain, root_key, leaf_key)
}

fn args() -> Args {
    let mut args = Args::new();
    args.insert(
        "path".into(),
        ArgValue::String("/data/reports/q3.csv".into()),
    );
    args
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for depth in [0usize, 3, 7] {
        let bytes = encode_chain(&chain(depth).0);
        group.bench_with_input(BenchmarkId::new("stack", depth + 1), &bytes, |b, bytes| {
            b.iter(|| decode_stack(black_box(bytes)).unwrap())
        });
    }
    group.finish();
}

fn verify_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("authorize_cold");
    for depth in [1usize, 4, 8] {
        let (warrants, root, leaf_key) = chain(depth - 1);
        let trusted = TrustedIssuers::new([root.public_key()]);
        let args = args();
        let pop = sign_pop(
            &leaf_key,
            warrants[depth - 1].id(),
            "read_file",
            &args,
            NOW as i64,
        );
        let call = Call {
            tool: "read_file",
            args: &args,
            pop: Some(&pop),
            approvals: &[],
            now: NOW as i64,
        };
        group.bench_function(BenchmarkId::new("depth", depth), |b| {
            b.iter(|| {
                authorize(
                    black_box(&warrants),
                    &trusted,
                    &(),
                    &Policy::default(),
                    &call,
                )
                .unwrap()
            })
        });
        let strict = Policy {
            signatures: SignatureCriterion::Strict,
            ..Policy::default()
        };
        group.bench_function(BenchmarkId::new("depth_strict", depth), |b| {
            b.iter(|| authorize(black_box(&warrants), &trusted, &(), &strict, &call).unwrap())
        });
        group.bench_function(BenchmarkId::new("prepare_only", depth), |b| {
            b.iter(|| PreparedChain::new(black_box(warrants.clone())).unwrap())
        });
    }
    group.finish();
}

fn pop(c: &mut Criterion) {
    let (warrants, _, leaf_key) = chain(0);
    let args = args();
    let sig = sign_pop(&leaf_key, warrants[0].id(), "read_file", &args, NOW as i64);
    let holder = leaf_key.public_key();
    let id = *warrants[0].id();
    // The yardstick the other figures are read against, in the same run.
    let message = b"tenuo bench message".to_vec();
    let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&holder.to_bytes()).unwrap();
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&leaf_key.sign(&message).to_bytes());
    c.bench_function("verify_strict/ed25519_dalek", |b| {
        b.iter(|| {
            dalek_key
                .verify_strict(black_box(&message), &dalek_sig)
                .unwrap()
        })
    });
    c.bench_function("pop_verify/current_window", |b| {
        b.iter(|| {
            verify_pop(
                &holder,
                &id,
                "read_file",
                black_box(&args),
                Some(&sig),
                NOW as i64,
                PopWindows::default(),
            )
            .unwrap()
        })
    });
    c.bench_function("pop_verify/invalid_all_windows", |b| {
        b.iter(|| {
            verify_pop(
                &holder,
                &id,
                "write_file",
                black_box(&args),
                Some(&sig),
                NOW as i64,
                PopWindows::default(),
            )
            .unwrap_err()
        })
    });
}

fn constraints(c: &mut Criterion) {
    let mut group = c.benchmark_group("constraint_check");
    let cases: Vec<(&str, Constraint, ArgValue)> = vec![
        (
            "exact",
            Constraint::exact(ArgValue::String("prod".into())),
            ArgValue::String("prod".into()),
        ),
        (
            "pattern",
            Constraint::pattern("/data/*/reports/*.csv").unwrap(),
            ArgValue::String("/data/x/reports/q3.csv".into()),
        ),
        (
            "regex",
            Constraint::regex("^[a-z]+-[0-9]{3}$").unwrap(),
            ArgValue::String("job-123".into()),
        ),
        (
            "range",
            Constraint::range(Some(0.0), Some(100.0)).unwrap(),
            ArgValue::Integer(42),
        ),
        (
            "one_of",
            Constraint::one_of(["a", "b", "c", "d"].map(|s| ArgValue::String(s.into()))),
            ArgValue::String("c".into()),
        ),
        (
            "cidr",
            Constraint::cidr("10.0.0.0/8").unwrap(),
            ArgValue::String("10.1.2.3".into()),
        ),
        (
            "url_pattern",
            Constraint::url_pattern("https://*.example.com/api/*").unwrap(),
            ArgValue::String("https://a.example.com/api/v1".into()),
        ),
        (
            "subpath",
            Constraint::subpath("/data").unwrap(),
            ArgValue::String("/data/a/../b/c.txt".into()),
        ),
    ];
    for (name, constraint, value) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| constraint.check(black_box(value)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, decode, verify_chain, pop, constraints);
criterion_main!(benches);
