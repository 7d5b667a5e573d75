//! Decisions end to end, from token text to allow, in one run so ratios hold:
//! cached vs cold at depth 1, 3, 4 and 8; ed25519-dalek's `verify_strict` as the
//! yardstick (and ours beside it); and
//! `vs_tenuo`, the same warrants and calls through the reference authorizer.
//!
//! `cargo bench -p tenuo-authz --bench decision`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::encode_chain;
use tenuo_authz::Authorizer;

#[path = "support/decision_setup.rs"]
mod decision_setup;
use decision_setup::setup;

fn cached_vs_cold(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    for depth in [1usize, 3, 4, 8] {
        let s = setup(depth);
        // A pinned clock keeps the PoP in its first candidate window however long the
        // run: past a 30 s boundary every call would also try a second window.
        let now = s.now;
        let cached = Authorizer::builder()
            .trusted_issuers([s.root.public_key()])
            .clock(move || now)
            .build()
            .unwrap();
        let cold = Authorizer::builder()
            .trusted_issuers([s.root.public_key()])
            .clock(move || now)
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
    // The yardstick the targets are stated in: ed25519-dalek's own verify_strict.
    let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&public.to_bytes()).unwrap();
    let dalek_signature = ed25519_dalek::Signature::from_bytes(&signature.to_bytes());
    c.bench_function("verify_strict", |b| {
        b.iter(|| {
            dalek_key
                .verify_strict(black_box(&message), &dalek_signature)
                .unwrap()
        })
    });
    c.bench_function("verify_strict_ours", |b| {
        b.iter(|| {
            public
                .verify_strict(black_box(&message), &signature)
                .unwrap()
        })
    });
}

/// Sleeps until a PoP window (30 s) has just begun, so that both implementations
/// finish this group (about 15 s) inside the window the PoP was signed for: the
/// reference reads the system clock, which cannot be pinned.
fn wait_for_a_fresh_pop_window() {
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 30;
    if into_window > 1 {
        std::thread::sleep(std::time::Duration::from_secs(30 - into_window));
    }
}

fn vs_tenuo(c: &mut Criterion) {
    wait_for_a_fresh_pop_window();
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
    // The reference's gateway decodes the header and checks the chain on every request.
    let reference = decision_setup::ReferenceDecider::new(&s);
    let reference_decide = || reference.decide(black_box(&s.token));
    reference_decide();
    assert_eq!(
        decision_setup::base64_decode(&s.token),
        encode_chain(&s.chain)
    );
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

criterion_group!(benches, yardstick, cached_vs_cold, vs_tenuo);
criterion_main!(benches);
