//! Target `pop_header`: the `X-Tenuo-PoP` parser (base64url, base64, hex) and
//! PoP verification against a fixed holder.
//!
//! Input: the header value (any bytes; non-UTF-8 is what a non-text header becomes).
//! Invariants: no panic; a parsed signature is 64 bytes that parse back from each
//! text form; a random signature never verifies.

use std::sync::OnceLock;

use tenuo_authz::crypto::{PublicKey, Signature, SigningKey};
use tenuo_authz::parse_pop;
use tenuo_authz::pop::{verify_pop, Args, PopWindows};
use tenuo_authz::warrant::WarrantId;

fn holder() -> &'static PublicKey {
    static HOLDER: OnceLock<PublicKey> = OnceLock::new();
    HOLDER.get_or_init(|| SigningKey::from_bytes(&[7; 32]).public_key())
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(Some(signature)) = parse_pop(Some(&text)) else {
        return;
    };
    let bytes = signature.to_bytes();
    for form in [
        signature.to_base64url(),
        hex::encode(bytes),
        hex::encode_upper(bytes),
    ] {
        assert_eq!(
            Signature::parse(&form).ok(),
            Some(signature),
            "round trip of {form}"
        );
    }
    let args = Args::new();
    let verdict = verify_pop(
        holder(),
        &WarrantId([1; 16]),
        "read_file",
        &args,
        Some(&signature),
        1_800_000_000,
        PopWindows::default(),
    );
    assert!(verdict.is_err(), "a fuzzed PoP verified");
}
