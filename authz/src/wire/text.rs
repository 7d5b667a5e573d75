//! Text forms of tokens: base64url without padding, and PEM armor
//! (`TENUO WARRANT` for one warrant, `TENUO WARRANT CHAIN` for a stack).

use base64::Engine;

use super::{DecodeError, MAX_STACK_BYTES};
use crate::Warrant;

const WARRANT_LABEL: &str = "TENUO WARRANT";
const CHAIN_LABEL: &str = "TENUO WARRANT CHAIN";

/// What a token's bytes turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A single envelope.
    Warrant,
    /// A CBOR array of envelopes.
    Stack,
}

/// base64url without padding.
pub fn encode_base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// PEM armor around one warrant.
pub fn encode_pem_warrant(warrant: &Warrant) -> String {
    armor(WARRANT_LABEL, warrant.envelope_bytes())
}

/// PEM armor around a stack (root first).
pub fn encode_pem_chain(chain: &[Warrant]) -> String {
    armor(
        CHAIN_LABEL,
        &super::encode_stack(chain.iter().map(Warrant::envelope_bytes)),
    )
}

fn armor(label: &str, bytes: &[u8]) -> String {
    let body = encode_base64url(bytes);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes a token in any accepted text form into the chain it carries, root first:
/// base64url of a warrant or of a stack, a `TENUO WARRANT CHAIN` block, or one or
/// more `TENUO WARRANT` blocks (root first).
pub fn decode_token(text: &str) -> Result<(TokenKind, Vec<Warrant>), DecodeError> {
    let text = text.trim();
    // base64 inflates by 4/3: refuse text whose bytes could not fit in a stack,
    // before allocating anything for it.
    if text.len() > MAX_STACK_BYTES * 4 / 3 + 4096 {
        return Err(DecodeError::TooLarge {
            what: "stack",
            size: text.len() * 3 / 4,
            max: MAX_STACK_BYTES,
        });
    }
    if text.starts_with("-----BEGIN") {
        return decode_pem(text);
    }
    decode_bytes(&decode_base64url(text)?)
}

/// Decodes raw CBOR token bytes (a warrant or a stack).
pub fn decode_bytes(bytes: &[u8]) -> Result<(TokenKind, Vec<Warrant>), DecodeError> {
    // An envelope starts `83 01`; a stack is an array whose first item is an
    // envelope (`83`), so its second byte is never `01`.
    match bytes {
        [0x83, 0x01, ..] => Ok((TokenKind::Warrant, vec![super::decode_warrant(bytes)?])),
        [] => Err(DecodeError::Truncated),
        _ => Ok((TokenKind::Stack, super::decode_stack(bytes)?)),
    }
}

fn decode_base64url(text: &str) -> Result<Vec<u8>, DecodeError> {
    let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // Header tokens carry no whitespace: decode them in place rather than copy
    // them byte by byte first (a quarter of the instructions of decoding a depth-8 token).
    let decoded = if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        engine.decode(compact)
    } else {
        engine.decode(text)
    };
    decoded.map_err(|_| DecodeError::Text("not base64url without padding"))
}

fn decode_pem(text: &str) -> Result<(TokenKind, Vec<Warrant>), DecodeError> {
    let mut warrants = Vec::new();
    let mut rest = text;
    let mut blocks = 0usize;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or(DecodeError::Text("unterminated PEM header"))?;
        let label = &after[..label_end];
        let body_and_rest = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_and_rest
            .find(&end_marker)
            .ok_or(DecodeError::Text("PEM block has no END line"))?;
        let bytes = decode_base64url(&body_and_rest[..body_end])?;
        rest = &body_and_rest[body_end + end_marker.len()..];
        blocks += 1;
        match label {
            CHAIN_LABEL if blocks == 1 && rest.trim().is_empty() => {
                return Ok((TokenKind::Stack, super::decode_stack(&bytes)?));
            }
            WARRANT_LABEL => warrants.push(super::decode_warrant(&bytes)?),
            _ => return Err(DecodeError::Text("unexpected PEM label")),
        }
        if warrants.len() > super::MAX_CHAIN_LENGTH {
            return Err(DecodeError::Envelope("more warrants than the chain limit"));
        }
    }
    if !rest.trim().is_empty() || warrants.is_empty() {
        return Err(DecodeError::Text("text outside PEM blocks"));
    }
    let kind = if warrants.len() == 1 {
        TokenKind::Warrant
    } else {
        TokenKind::Stack
    };
    Ok((kind, warrants))
}
