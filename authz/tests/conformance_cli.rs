//! The conformance suite through the `tenuo verify` binary: every case of
//! `conformance.rs` (whose decisions agree with the reference's) is decided again
//! by the real command line, from the token's text on stdin, `--issuer`, `--tool`,
//! `--args-json`, `--pop`, `--approval`, `--revoked` and `--at`, and must give the case's
//! expected outcome and reason. What the library decides, the CLI decides; only
//! CEL is refused by both (`unsupported`), as everywhere.
//!
//! Every other case sends its token as padded standard base64 instead of
//! unpadded base64url, so the whole suite runs in both alphabets. The suite's
//! inputs are bytes and the CLI reads text: `conformance/as_text.rs` says how the
//! two byte inputs that mean something else as text are decided, and which
//! cases JSON cannot spell.

#[path = "conformance/all.rs"]
mod all;
#[path = "conformance/approvals.rs"]
mod approvals;
#[path = "conformance/as_text.rs"]
mod as_text;
#[path = "conformance/calls.rs"]
mod calls;
#[path = "conformance/chains.rs"]
mod chains;
#[path = "conformance/common.rs"]
mod common;
#[path = "conformance/coverage.rs"]
mod coverage;
#[allow(dead_code)] // the runner here is the binary, not `harness::run`
#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/numbers.rs"]
mod numbers;
#[path = "conformance/shlex.rs"]
mod shlex;

use std::io::Write;

use base64::Engine;
use std::process::{Command, Stdio};

use tenuo_authz::DenyReason;

use common::{pk, STRANGER};
use harness::Case;

/// The CLI's verdict on one case: `None` allows, `Some(reason)` denies. The
/// token goes in as unpadded base64url, or as padded standard base64 (what the
/// Python SDK sends for stacks) when `standard`.
fn decide_with_cli(case: &Case, standard: bool) -> Result<Option<DenyReason>, String> {
    let input = &case.input;
    let args_json = serde_json::Value::Object(
        input
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
    .to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenuo"));
    command.args(["verify", "--json", "--tool", &input.tool]);
    command.args(["--args-json", &args_json, "--at", &input.now.to_string()]);
    // `--issuer` is required: a case that trusts no key trusts only a stranger,
    // which decides the same (the root is not trusted).
    let trusted = if input.trusted.is_empty() {
        vec![STRANGER]
    } else {
        input.trusted.clone()
    };
    for seed in trusted {
        command.args(["--issuer", &pk(seed).to_hex()]);
    }
    for id in &input.revoked {
        command.args(["--revoked", &id.to_string()]);
    }
    for approval in &input.approvals {
        command.args(["--approval", &tenuo_authz::wire::encode_base64url(approval)]);
    }
    if let Some(pop) = input.pop {
        command.args(["--pop", &hex::encode(pop)]);
    }
    let stdin = if case.withheld {
        String::new()
    } else if standard {
        base64::engine::general_purpose::STANDARD.encode(&input.stack)
    } else {
        tenuo_authz::wire::encode_base64url(&input.stack)
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(stdin.as_bytes())
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "exit {:?}, no JSON ({e}): {}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    match (verdict["decision"].as_str(), verdict["reason"].as_str()) {
        (Some("allow"), None) => Ok(None),
        (Some("deny"), Some(reason)) => DenyReason::parse(reason)
            .map(Some)
            .ok_or_else(|| format!("unknown reason {reason}")),
        _ => Err(format!("malformed verdict {verdict}")),
    }
}

#[test]
fn tenuo_verify_decides_every_conformance_case() {
    let (cases, unspellable) = as_text::cases();
    let lanes: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(2)).collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                scope.spawn(move || {
                    lane.iter()
                        .enumerate()
                        .filter_map(|(i, case)| match decide_with_cli(case, i % 2 == 1) {
                            Ok(got) if got == as_text::expected(case) => None,
                            Ok(got) => Some(format!(
                                "{} / {}: CLI {:?}, expected {:?}",
                                case.category,
                                case.what,
                                got,
                                as_text::expected(case)
                            )),
                            Err(why) => Some(format!("{} / {}: {why}", case.category, case.what)),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("lane panicked"))
            .collect()
    });
    eprintln!(
        "tenuo verify decided {} conformance cases; left out, no JSON spelling: {unspellable:?}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
