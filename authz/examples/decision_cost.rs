//! Instruction counts of the decision paths, for ratios that hold on a busy machine.
//!
//! Wall-clock benches (`cargo bench --bench decision`) need a quiet machine. Under
//! `valgrind --tool=callgrind` this example's counts are the same run after run,
//! whatever else the machine does, so the ratios the fast-path targets are stated
//! in (a cached decision against one `verify_strict`, a cold chain against one
//! `verify_strict` per warrant, a cached depth-8 chain against a depth-1 one) can
//! be read off exactly. `cached:D` is a whole decision on a chain of `D` warrants
//! answered from the verified-chain cache; `prepare:D` is the chain
//! alone (decode, links, its signatures in one batch; `prepare_strict:D` verifies each
//! signature alone, under `SignatureCriterion::Strict`); `cold:D` is a whole decision
//! on an uncached chain, which adds the call's strictly verified PoP; `batch:N` is
//! `N` signatures by distinct keys verified together, as the server batches PoPs, and
//! `batch_one_key:N` the same by one key (a sidecar's agent):
//!
//! ```text
//! cargo build --release -p tenuo-authz --example decision_cost
//! for mode in verify_strict cached:1 cached:3 cached:8 prepare:8 cold:8 reference:3; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/decision_cost $mode 200 2>&1 | grep refs
//! done
//! ```
//!
//! Each run does its setup, then `N` operations; run it with `N` and `2N` and
//! subtract to drop the setup: `(refs(2N) - refs(N)) / N` instructions per operation.
//!
//! Wall-clock ratios in one run, without valgrind: `ratio A B K ROUNDS` times one
//! operation of mode `A` against `K` of mode `B`, alternating the two in short
//! slices so that both see the same machine (frequency, neighbours), and prints
//! the median over `ROUNDS` slices of `time(A) / (K * time(B))`:
//!
//! ```text
//! target/release/examples/decision_cost ratio cold:8 verify_strict 8 200
//! ```

#[path = "../benches/support/decision_setup.rs"]
mod decision_setup;

use std::hint::black_box;
use std::time::{Duration, Instant};

use tenuo_authz::crypto::SignatureCriterion;
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::decision::Policy;
use tenuo_authz::Authorizer;

type Op = Box<dyn FnMut() -> Result<(), Box<dyn std::error::Error>>>;

/// The operation a mode names, after its setup.
fn operation(mode: &str) -> Result<Op, Box<dyn std::error::Error>> {
    let (kind, depth) = match mode.split_once(':') {
        Some((kind, depth)) => (kind.to_owned(), depth.parse::<usize>()?),
        None => (mode.to_owned(), 1),
    };
    match kind.as_str() {
        "verify_strict" | "verify_strict_ours" => {
            let key = SigningKey::from_bytes(&[7; 32]);
            let message = vec![0x42u8; 200];
            let signature = key.sign(&message);
            let public = key.public_key();
            let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&public.to_bytes())?;
            let dalek_signature = ed25519_dalek::Signature::from_bytes(&signature.to_bytes());
            Ok(if kind == "verify_strict" {
                Box::new(
                    move || Ok(dalek_key.verify_strict(black_box(&message), &dalek_signature)?),
                )
            } else {
                Box::new(move || Ok(public.verify_strict(black_box(&message), &signature)?))
            })
        }
        "cached" | "cold" => {
            let s = decision_setup::setup(depth);
            let now = s.now;
            let builder = Authorizer::builder()
                .trusted_issuers([s.root.public_key()])
                .clock(move || now);
            let authorizer = if kind == "cached" {
                builder.build()?
            } else {
                builder.without_cache().build()?
            };
            // Warm the cache (and check the call is allowed) outside the counted loop.
            authorizer.authorize(Some(&s.token), "read_file", &s.args, Some(&s.pop))?;
            Ok(Box::new(move || {
                authorizer.authorize(
                    Some(black_box(&s.token)),
                    "read_file",
                    &s.args,
                    Some(&s.pop),
                )?;
                Ok(())
            }))
        }
        "batch" | "batch_one_key" => {
            // `depth` PoP-sized signatures, verified together as the server's PoP batches
            // are: one operation is the whole batch. `batch` has a signer per signature
            // (a gateway's many agents); `batch_one_key` one signer (a sidecar's agent).
            let one_key = kind == "batch_one_key";
            let items: Vec<_> = (0..depth)
                .map(|i| {
                    let signer = if one_key { 0 } else { i as u64 };
                    let mut seed = [0u8; 32];
                    seed[..8].copy_from_slice(&(signer + 1).to_le_bytes());
                    let key = SigningKey::from_bytes(&seed);
                    let message = format!("{i:0>120}").into_bytes();
                    let signature = key.sign(&message);
                    (key.public_key(), message, signature)
                })
                .collect();
            Ok(Box::new(move || {
                let refs: Vec<_> = items.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
                let verdicts = tenuo_authz::crypto::verify_each(black_box(&refs));
                if verdicts.iter().all(Result::is_ok) {
                    Ok(())
                } else {
                    Err("a batched signature failed".into())
                }
            }))
        }
        "prepare" | "prepare_strict" => {
            // The chain alone, never cached: decode, link checks and one batch of its
            // signatures (or, strictly, each signature alone), without the call's PoP.
            let s = decision_setup::setup(depth);
            let now = s.now;
            let signatures = if kind == "prepare" {
                SignatureCriterion::Cofactored
            } else {
                SignatureCriterion::Strict
            };
            let authorizer = Authorizer::builder()
                .trusted_issuers([s.root.public_key()])
                .policy(Policy {
                    signatures,
                    ..Policy::default()
                })
                .clock(move || now)
                .without_cache()
                .build()?;
            authorizer.prepare(&s.token)?;
            Ok(Box::new(move || {
                authorizer.prepare(black_box(&s.token))?;
                Ok(())
            }))
        }
        "reference" => {
            // The reference crate (a dev-dependency) deciding the same call.
            let s = decision_setup::setup(depth);
            let reference = decision_setup::ReferenceDecider::new(&s);
            reference.decide(&s.token);
            Ok(Box::new(move || {
                reference.decide(black_box(&s.token));
                Ok(())
            }))
        }
        other => Err(format!(
            "unknown mode {other}: verify_strict, verify_strict_ours, cached:D, cold:D, \
             prepare:D, prepare_strict:D, batch:N, batch_one_key:N or reference:D"
        )
        .into()),
    }
}

/// Runs `op` `count` times and returns the time taken.
fn timed(op: &mut Op, count: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let start = Instant::now();
    for _ in 0..count {
        op()?;
    }
    Ok(start.elapsed())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("ratio") {
        let [_, a, b, k, rounds] = args.as_slice() else {
            return Err("usage: decision_cost ratio MODE_A MODE_B K ROUNDS".into());
        };
        let (k, rounds): (usize, usize) = (k.parse()?, rounds.parse()?);
        let (mut op_a, mut op_b) = (operation(a)?, operation(b)?);
        // Slices of about a millisecond each: short enough to interleave finely.
        let per_slice = |op: &mut Op| -> Result<usize, Box<dyn std::error::Error>> {
            let once = timed(op, 1)?.max(Duration::from_nanos(100));
            Ok(((1_000_000 / once.as_nanos().max(1)) as usize).clamp(1, 10_000))
        };
        let (n_a, n_b) = (per_slice(&mut op_a)?, per_slice(&mut op_b)?);
        let mut ratios = Vec::with_capacity(rounds);
        for _ in 0..rounds.max(1) {
            let t_a = timed(&mut op_a, n_a)?.as_secs_f64() / n_a as f64;
            let t_b = timed(&mut op_b, n_b)?.as_secs_f64() / n_b as f64;
            ratios.push(t_a / (k as f64 * t_b));
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        let (low, high) = (ratios[ratios.len() / 10], ratios[ratios.len() * 9 / 10]);
        println!(
            "{a} / ({k} x {b}): median {median:.3}x over {} slices (10th-90th percentile \
             {low:.3}x-{high:.3}x)",
            ratios.len()
        );
        return Ok(());
    }
    let mode = args
        .first()
        .cloned()
        .unwrap_or_else(|| "cached:3".to_owned());
    let count: usize = args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(100);
    let mut op = operation(&mode)?;
    timed(&mut op, count)?;
    println!("{mode}: {count} operations");
    Ok(())
}
