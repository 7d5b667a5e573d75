//! Instruction counts of the decision paths, for ratios that hold on a busy machine.
//!
//! Wall-clock benches (`cargo bench --bench decision`) need a quiet machine. Under
//! `valgrind --tool=callgrind` this example's counts are the same run after run,
//! whatever else the machine does, so the ratios the fast-path targets are stated
//! in (a cached decision against one `verify_strict`, a cold chain against one
//! `verify_strict` per warrant) can be read off exactly:
//!
//! ```text
//! cargo build --release -p tenuo-authz --example decision_cost
//! for mode in verify_strict cached:3 cold:8 reference:3; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/decision_cost $mode 200 2>&1 | grep refs
//! done
//! ```
//!
//! Each run does its setup, then `N` operations; run it with `N` and `2N` and
//! subtract to drop the setup: `(refs(2N) - refs(N)) / N` instructions per operation.

#[path = "../benches/support/decision_setup.rs"]
mod decision_setup;

use std::hint::black_box;

use tenuo_authz::crypto::SigningKey;
use tenuo_authz::Authorizer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "cached:3".to_owned());
    let count: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(100);
    let (kind, depth) = match mode.split_once(':') {
        Some((kind, depth)) => (kind.to_owned(), depth.parse::<usize>()?),
        None => (mode.clone(), 1),
    };
    match kind.as_str() {
        "verify_strict" | "verify_strict_ours" => {
            let key = SigningKey::from_bytes(&[7; 32]);
            let message = vec![0x42u8; 200];
            let signature = key.sign(&message);
            let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key().to_bytes())?;
            let dalek_signature = ed25519_dalek::Signature::from_bytes(&signature.to_bytes());
            for _ in 0..count {
                if kind == "verify_strict" {
                    dalek_key.verify_strict(black_box(&message), &dalek_signature)?;
                } else {
                    key.public_key()
                        .verify_strict(black_box(&message), &signature)?;
                }
            }
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
            for _ in 0..count {
                authorizer.authorize(
                    Some(black_box(&s.token)),
                    "read_file",
                    &s.args,
                    Some(&s.pop),
                )?;
            }
        }
        "reference" => {
            // The reference crate (a dev-dependency) deciding the same call.
            let s = decision_setup::setup(depth);
            let reference = decision_setup::ReferenceDecider::new(&s);
            reference.decide(&s.token);
            for _ in 0..count {
                reference.decide(black_box(&s.token));
            }
        }
        other => {
            return Err(format!(
                "unknown mode {other}: verify_strict, verify_strict_ours, cached:D, cold:D \
                 or reference:D"
            )
            .into())
        }
    }
    println!("{mode}: {count} operations");
    Ok(())
}
