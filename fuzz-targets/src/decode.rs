//! Target `decode`: the warrant and stack decoders, from bytes and from text
//! (base64url and PEM), then chain preparation and checks on what decoded.
//!
//! Input: one selector byte, then the token (bytes or UTF-8 text).
//! Invariants: no panic; whatever decodes re-encodes to the same bytes (one byte
//! string per warrant and per stack); a decoded chain is prepared and checked
//! without panicking, and is never allowed without a trusted root.

use tenuo_authz::chain::PreparedChain;
use tenuo_authz::crypto::PublicKey;
use tenuo_authz::decision::{check_chain_at, Policy, TrustedIssuers};
use tenuo_authz::wire::{decode_bytes, decode_stack, decode_token, decode_warrant, encode_stack};
use tenuo_authz::Warrant;

use crate::input::Reader;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Reader::new(data);
    let selector = input.u8();
    let token = input.rest();
    let chain = match selector % 4 {
        0 => decode_warrant(token).ok().map(|w| {
            assert_eq!(w.envelope_bytes(), token, "warrant re-encodes to its bytes");
            vec![w]
        }),
        1 => decode_stack(token).ok().inspect(|ws| {
            let again = encode_stack(ws.iter().map(Warrant::envelope_bytes));
            assert_eq!(again, token, "stack re-encodes to its bytes");
        }),
        2 => decode_bytes(token).ok().map(|(_, ws)| ws),
        _ => std::str::from_utf8(token)
            .ok()
            .and_then(|text| decode_token(text).ok())
            .map(|(_, ws)| ws),
    };
    let Some(chain) = chain else { return };
    for warrant in &chain {
        let _ = warrant.payload().validate_structure();
        let _ = warrant.verify_signature();
        let _ = warrant.payload_hash();
    }
    let Some(prepared) = PreparedChain::new(chain) else {
        return;
    };
    let _ = prepared.approximate_size();
    let _ = prepared.expires_at();
    let nobody = TrustedIssuers::default();
    let now = prepared.expires_at().saturating_sub(1).min(i64::MAX as u64) as i64;
    assert!(
        check_chain_at(&prepared, &nobody, &(), &Policy::default(), now).is_err(),
        "a chain passed with no trusted issuer"
    );
    // The root issuer parsed when the chain decoded, so its bytes parse again.
    if let Ok(root) = PublicKey::from_bytes(prepared.root_issuer()) {
        let root = TrustedIssuers::new([root]);
        let _ = check_chain_at(&prepared, &root, &(), &Policy::default(), now);
    }
}
