//! Target `approvals_header`: the `X-Tenuo-Approvals` decoder (base64 in either
//! alphabet, CBOR of one signed approval or an array) and approval verification.
//!
//! Input: the header value (any bytes; non-UTF-8 is what a non-text header becomes).
//! Invariants: no panic; what decodes re-encodes to text that decodes to the same
//! approvals; an approval that verifies names a payload that re-encodes to bytes
//! that decode to the same payload; more than the cap is never returned.

use tenuo_authz::approval::{decode_approvals, encode_approvals, MAX_APPROVALS};

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(approvals) = decode_approvals(&text) else {
        return;
    };
    assert!(
        approvals.len() <= MAX_APPROVALS,
        "{} approvals",
        approvals.len()
    );
    if approvals.is_empty() {
        return;
    }
    let again =
        decode_approvals(&encode_approvals(&approvals)).expect("re-encoded approvals decode");
    assert_eq!(again, approvals, "round trip of {text}");
    for approval in &approvals {
        // Verification never panics on hostile keys, signatures or payload bytes.
        let _ = approval.verify();
    }
}
