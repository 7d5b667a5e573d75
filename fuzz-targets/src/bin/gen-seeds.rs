//! Writes the seed corpora of every fuzz target into `fuzz/seeds/<target>/`,
//! derived from the conformance cases and the gateway fixtures.
//!
//! ```sh
//! TENUO_FUZZ_SEEDS_DIR=/tmp/cases cargo test -p tenuo-authz --test conformance
//! cargo run -p tenuo-fuzz-targets --bin gen-seeds -- /tmp/cases fuzz/seeds
//! ```
//!
//! Corpora are kept small (a few dozen files per target, picked evenly across
//! the conformance categories); the fuzzer grows its own working corpus.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tenuo_authz::wire::{decode_stack, encode_base64url, encode_pem_chain};
use tenuo_authz::Warrant;
use tenuo_fuzz_targets::constraints::args_to_cbor;
use tenuo_fuzz_targets::differential::Case;
use tenuo_fuzz_targets::gateway::FIXTURES;
use tenuo_fuzz_targets::input::Writer;

const PER_TARGET: usize = 40;

fn main() {
    let mut argv = std::env::args_os().skip(1);
    let (Some(cases), Some(out)) = (argv.next(), argv.next()) else {
        eprintln!("usage: gen-seeds <conformance cases dir> <fuzz/seeds dir>");
        std::process::exit(2);
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases)
        .unwrap_or_else(|e| panic!("{}: {e}", Path::new(&cases).display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let cases: Vec<Case> = files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| Case::decode(&b))
        .collect();
    let out = PathBuf::from(out);
    let picked = spread(&cases, PER_TARGET);

    write(&out, "differential", picked.iter().map(|c| c.encode()));

    let mut decode = Vec::new();
    let mut pops = Vec::new();
    let mut constraints = Vec::new();
    let mut values = Vec::new();
    for case in &picked {
        decode.push(Writer::new().u8(1).bytes(&case.stack).finish());
        values.push(case.stack.clone());
        values.push(cbor(&args_to_cbor(&case.args)));
        let Ok(chain) = decode_stack(&case.stack) else {
            continue;
        };
        values.extend(chain.last().map(|w| w.payload_bytes().to_vec()));
        if let Some(first) = chain.first() {
            decode.push(Writer::new().u8(0).bytes(first.envelope_bytes()).finish());
        }
        decode.push(
            Writer::new()
                .u8(3)
                .bytes(encode_base64url(&case.stack).as_bytes())
                .finish(),
        );
        decode.push(
            Writer::new()
                .u8(3)
                .bytes(encode_pem_chain(&chain).as_bytes())
                .finish(),
        );
        if let Some(pop) = case.pop {
            pops.push(encode_base64url(&pop).into_bytes());
            pops.push(hex::encode(pop).into_bytes());
        }
        constraints.extend(constraint_inputs(&chain, case));
    }
    write(&out, "decode", decode.into_iter().take(PER_TARGET * 2));
    write(&out, "pop_header", pops.into_iter().take(PER_TARGET));
    write(
        &out,
        "constraints",
        constraints.into_iter().take(PER_TARGET * 2),
    );
    write(&out, "cbor_value", values.into_iter().take(PER_TARGET * 2));
    write(
        &out,
        "gateway_config",
        FIXTURES.iter().map(|y| y.as_bytes().to_vec()),
    );
    let token = picked
        .iter()
        .find(|c| decode_stack(&c.stack).is_ok())
        .map(|c| encode_base64url(&c.stack))
        .unwrap_or_default();
    write(&out, "extract", extract_inputs(&token));
}

/// Up to `n` cases taken evenly across the list (cases are grouped by category).
fn spread(cases: &[Case], n: usize) -> Vec<Case> {
    let step = cases.len().div_ceil(n).max(1);
    cases.iter().step_by(step).cloned().collect()
}

fn cbor(value: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// Matching inputs for the leaf's grant, attenuation inputs for each link.
fn constraint_inputs(chain: &[Warrant], case: &Case) -> Vec<Vec<u8>> {
    let args = cbor(&args_to_cbor(&case.args));
    let mut out = Vec::new();
    if let Some(leaf) = chain.last() {
        if let Some(set) = leaf.payload().tools.get(&case.tool) {
            out.push(
                Writer::new()
                    .u8(0)
                    .bytes(&cbor(&set.to_cbor()))
                    .bytes(&args)
                    .finish(),
            );
        }
    }
    for pair in chain.windows(2) {
        let (parent, child) = (pair[0].payload(), pair[1].payload());
        if let (Some(p), Some(c)) = (parent.tools.get(&case.tool), child.tools.get(&case.tool)) {
            out.push(
                Writer::new()
                    .u8(1)
                    .bytes(&cbor(&p.to_cbor()))
                    .bytes(&cbor(&c.to_cbor()))
                    .bytes(&args)
                    .finish(),
            );
        }
    }
    out
}

/// A request per route of each fixture, with a warrant header and a PoP.
fn extract_inputs(token: &str) -> Vec<Vec<u8>> {
    let pop = "A".repeat(86);
    let headers = format!(
        "x-tenuo-warrant: {token}\nx-tenuo-pop: {pop}\nx-tenant-id: t1\nx-trace: abc\ncontent-type: application/json"
    );
    let requests: [(u8, &str, &str, &str); 9] = [
        (
            0,
            "POST",
            "/accounts/acc-1/transfers",
            r#"{"amount": 12.5, "currency": "EUR", "transfers": [{"to": "bob", "memo": "x"}], "meta": {"a": 1}}"#,
        ),
        (
            0,
            "PUT",
            "/accounts/acc-1/transfers/preview?dry_run=true",
            r#"{"amount": 1}"#,
        ),
        (0, "GET", "/files/data/reports/q3.csv?lines=10", ""),
        (0, "PURGE", "/cache/item-k1.json?size=3", ""),
        (1, "POST", "/deploy/payments", ""),
        (
            2,
            "POST",
            "/api/v1/clusters/prod/scale",
            r#"{"spec": {"replicas": 3}, "metadata": {"estimatedCost": 10.5}}"#,
        ),
        (3, "GET", "/api/staging/pods", ""),
        (4, "GET", "/index", ""),
        (4, "GET", "/%2e%2e/etc/passwd", ""),
    ];
    requests
        .iter()
        .map(|(fixture, method, uri, body)| {
            Writer::new()
                .u8(*fixture)
                .field16(method.as_bytes())
                .field16(uri.as_bytes())
                .field16(headers.as_bytes())
                .bytes(body.as_bytes())
                .finish()
        })
        .collect()
}

/// Writes inputs named by their SHA-256 (duplicates collapse), replacing the
/// target's previous seeds.
fn write(out: &Path, target: &str, inputs: impl IntoIterator<Item = Vec<u8>>) {
    let dir = out.join(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut names = BTreeSet::new();
    for input in inputs {
        let name = hex::encode(&Sha256::digest(&input)[..8]);
        if names.insert(name.clone()) {
            std::fs::write(dir.join(&name), &input)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
    }
    println!("{target:<16} {:>4} seeds", names.len());
}
