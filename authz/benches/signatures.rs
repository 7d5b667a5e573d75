//! Signature verification: `verify_strict` (the yardstick) against the batch verifier,
//! per signature at batch sizes 1 to 128, a chain of 8, and the cost of the torsion
//! checks an exact-`verify_strict` batch would need.
//!
//! `cargo bench -p tenuo-authz --bench signatures` (add `-- --quick` for a fast pass).
//!
//! On a shared machine criterion's sequential groups drift with the load. Set
//! `SIGNATURES_INTERLEAVED=1` to first print a table measured the other way: every
//! contender timed once per round, round after round, reporting the minimum and median
//! per signature and the ratio to `verify_strict`, so load affects all of them alike.
// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use tenuo_authz::crypto::{verify_all, verify_each, verify_one};
use tenuo_authz::crypto::{PublicKey, Signature, SigningKey};

const SIZES: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

/// `n` honest signatures by distinct keys over distinct 100-byte messages.
fn signed(n: usize) -> Vec<(PublicKey, Vec<u8>, Signature)> {
    (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            let key = SigningKey::from_bytes(&seed);
            let message = format!("{i:0>100}").into_bytes();
            let signature = key.sign(&message);
            (key.public_key(), message, signature)
        })
        .collect()
}

fn single(c: &mut Criterion) {
    let items = signed(1);
    let (key, message, signature) = &items[0];
    let mut group = c.benchmark_group("single");
    group.bench_function("verify_strict", |b| {
        b.iter(|| black_box(key.verify_strict(black_box(message), black_box(signature))))
    });
    group.bench_function("batch_verify_one", |b| {
        b.iter(|| black_box(verify_one(key, black_box(message), black_box(signature))))
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    for n in SIZES {
        let items = signed(n);
        let refs: Vec<_> = items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("verify_each", n), &refs, |b, refs| {
            b.iter(|| black_box(verify_each(black_box(refs))))
        });
        // dalek's own batch (cofactorless, Merlin-derived weights), for reference.
        let messages: Vec<&[u8]> = items.iter().map(|(_, m, _)| m.as_slice()).collect();
        let signatures: Vec<ed25519_dalek::Signature> = items
            .iter()
            .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.to_bytes()))
            .collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> = items
            .iter()
            .filter_map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(&k.to_bytes()).ok())
            .collect();
        group.bench_with_input(BenchmarkId::new("dalek_verify_batch", n), &n, |b, _| {
            b.iter(|| black_box(ed25519_dalek::verify_batch(&messages, &signatures, &keys)))
        });
    }
    group.finish();
}

fn chain(c: &mut Criterion) {
    let items = signed(8);
    let refs: Vec<_> = items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
    let mut group = c.benchmark_group("chain8");
    group.bench_function("verify_all", |b| {
        b.iter(|| black_box(verify_all(black_box(&refs))))
    });
    group.bench_function("sequential_verify_strict", |b| {
        b.iter(|| {
            black_box(
                refs.iter()
                    .all(|(k, m, s)| k.verify_strict(black_box(m), black_box(s)).is_ok()),
            )
        })
    });
    group.finish();
}

/// What rejecting torsion in R exactly would add per signature.
fn torsion(c: &mut Criterion) {
    let items = signed(1);
    let r_bytes: [u8; 32] = items[0].2.to_bytes()[..32].try_into().unwrap_or([0; 32]);
    let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
        return;
    };
    // [L]R = [L - 1]R + R, in variable time.
    let l_minus_one = -Scalar::ONE;
    let mut group = c.benchmark_group("torsion_check_per_item");
    group.bench_function("is_torsion_free_consttime", |b| {
        b.iter(|| black_box(black_box(r).is_torsion_free()))
    });
    group.bench_function("vartime_l_times_r", |b| {
        b.iter(|| {
            let lr = EdwardsPoint::vartime_multiscalar_mul([l_minus_one], [black_box(r)]) + r;
            black_box(lr.is_identity())
        })
    });
    group.finish();
}

criterion_group!(benches, single, batch, chain, torsion);

/// Times each contender once per round for `rounds` rounds; returns (min, median) in µs
/// per signature for each.
fn interleaved(
    rounds: usize,
    contenders: &mut [(&str, usize, &mut dyn FnMut())],
) -> Vec<(f64, f64)> {
    let mut samples = vec![Vec::with_capacity(rounds); contenders.len()];
    for _ in 0..rounds {
        for ((_, per, run), out) in contenders.iter_mut().zip(&mut samples) {
            let started = std::time::Instant::now();
            run();
            out.push(started.elapsed().as_secs_f64() * 1e6 / *per as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            (v[0], v[v.len() / 2])
        })
        .collect()
}

/// A named contender and the number of signatures one run verifies.
type Row = (String, usize, Box<dyn FnMut()>);

fn interleaved_report() {
    let one = signed(1);
    let (key, message, signature) = &one[0];
    println!("interleaved: µs per signature, min / median, and ratio of medians to verify_strict");
    let mut strict = || {
        black_box(
            key.verify_strict(black_box(message), black_box(signature))
                .is_ok(),
        );
    };
    let mut ours_one = || {
        black_box(verify_one(key, black_box(message), black_box(signature)).is_ok());
    };
    let mut rows: Vec<Row> = Vec::new();
    for n in SIZES {
        let items = signed(n);
        let messages: Vec<Vec<u8>> = items.iter().map(|(_, m, _)| m.clone()).collect();
        let signatures: Vec<ed25519_dalek::Signature> = items
            .iter()
            .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.to_bytes()))
            .collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> = items
            .iter()
            .filter_map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(&k.to_bytes()).ok())
            .collect();
        rows.push((
            format!("verify_each/{n}"),
            n,
            Box::new(move || {
                let refs: Vec<_> = items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
                black_box(verify_each(&refs));
            }),
        ));
        rows.push((
            format!("dalek_verify_batch/{n}"),
            n,
            Box::new(move || {
                let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
                black_box(ed25519_dalek::verify_batch(&refs, &signatures, &keys).is_ok());
            }),
        ));
    }
    let chain = signed(8);
    rows.push((
        "chain8/verify_all".into(),
        8,
        Box::new(move || {
            let refs: Vec<_> = chain.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
            black_box(verify_all(&refs).is_ok());
        }),
    ));
    let r =
        CompressedEdwardsY(signature.to_bytes()[..32].try_into().unwrap_or([0; 32])).decompress();
    let l_minus_one = -Scalar::ONE;
    rows.push((
        "torsion/vartime_l_times_r".into(),
        1,
        Box::new(move || {
            if let Some(r) = r {
                let lr = EdwardsPoint::vartime_multiscalar_mul([l_minus_one], [black_box(r)]) + r;
                black_box(lr.is_identity());
            }
        }),
    ));
    for (name, per, run) in &mut rows {
        let rounds = (2000 / *per).clamp(30, 400);
        let mut contenders: [(&str, usize, &mut dyn FnMut()); 3] = [
            ("verify_strict", 1, &mut strict),
            ("verify_one", 1, &mut ours_one),
            (name.as_str(), *per, run.as_mut()),
        ];
        let stats = interleaved(rounds, &mut contenders);
        let base = stats[0].1;
        println!(
            "{name:<28} {:>7.1} / {:>7.1}   ratio {:.2}   (verify_strict {:.1} / {:.1}, verify_one ratio {:.2})",
            stats[2].0,
            stats[2].1,
            stats[2].1 / base,
            stats[0].0,
            stats[0].1,
            stats[1].1 / base,
        );
    }
}

fn main() {
    if std::env::var_os("SIGNATURES_INTERLEAVED").is_some() {
        interleaved_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
