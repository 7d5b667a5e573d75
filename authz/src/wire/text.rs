//! Text forms of tokens: base64url without padding (what this crate writes),
//! standard base64 with padding (what the Python SDK sends for chains), and PEM
//! armor (`TENUO WARRANT` for one warrant, `TENUO WARRANT CHAIN` for a stack).
//!
//! Text is only a carrier: every form decodes to the CBOR bytes of a warrant or a
//! stack, and those bytes, not the text, are what a verifier judges, so one chain
//! sent in two alphabets is one chain. (The verified-chain cache keys the text, so
//! that a hit decodes nothing; see [`crate::cache`].)
//!
//! The two base64 alphabets are accepted exactly as the reference authorizer
//! accepts them: unpadded base64url, else canonically padded standard base64.
//! The mixed forms (padded base64url, unpadded standard) are refused by both.

use base64::Engine;

use super::{DecodeError, MAX_STACK_BYTES};
use crate::Warrant;

const WARRANT_LABEL: &str = "TENUO WARRANT";
const CHAIN_LABEL: &str = "TENUO WARRANT CHAIN";

/// What a token's bytes turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
/// base64 (either alphabet, see the module doc) of a warrant or of a stack, a
/// `TENUO WARRANT CHAIN` block, or one or more `TENUO WARRANT` blocks (root first).
pub fn decode_token(text: &str) -> Result<(TokenKind, Vec<Warrant>), DecodeError> {
    decode_bytes(&decode_token_bytes(text)?)
}

/// The CBOR bytes a token's text carries: the warrant or stack, as
/// [`decode_bytes`] reads them. Several `TENUO WARRANT` blocks become the stack
/// of their envelopes, root first. Nothing is verified here beyond the text form
/// and the size limits, which are checked before any decoding.
pub fn decode_token_bytes(text: &str) -> Result<Vec<u8>, DecodeError> {
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
    decode_base64(text)
}

/// Decodes raw CBOR token bytes (a warrant or a stack).
pub fn decode_bytes(bytes: &[u8]) -> Result<(TokenKind, Vec<Warrant>), DecodeError> {
    match bytes {
        [] => Err(DecodeError::Truncated),
        _ if is_envelope(bytes) => Ok((TokenKind::Warrant, vec![super::decode_warrant(bytes)?])),
        _ => Ok((TokenKind::Stack, super::decode_stack(bytes)?)),
    }
}

/// Whether token bytes are one envelope rather than a stack. An envelope starts
/// `83 01`; a stack is an array whose first item is an envelope (`83`), so its
/// second byte is never `01`.
fn is_envelope(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x83, 0x01])
}

/// Unpadded base64url, else padded standard base64 (whitespace ignored).
fn decode_base64(text: &str) -> Result<Vec<u8>, DecodeError> {
    // Header tokens carry no whitespace: decode them in place rather than copy
    // them byte by byte first.
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        decode_either_alphabet(&compact)
    } else {
        decode_either_alphabet(text.as_bytes())
    }
}

fn decode_either_alphabet(text: &[u8]) -> Result<Vec<u8>, DecodeError> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    // Padding only ever appears in the standard form: go straight to it rather
    // than decode most of the text once in vain.
    let decoded = if text.last() == Some(&b'=') {
        STANDARD.decode(text)
    } else {
        URL_SAFE_NO_PAD
            .decode(text)
            .or_else(|_| STANDARD.decode(text))
    };
    decoded.map_err(|_| {
        DecodeError::Text("neither base64url without padding nor standard base64 with padding")
    })
}

fn decode_pem(text: &str) -> Result<Vec<u8>, DecodeError> {
    let mut envelopes: Vec<Vec<u8>> = Vec::new();
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
        let bytes = decode_base64(&body_and_rest[..body_end])?;
        rest = &body_and_rest[body_end + end_marker.len()..];
        blocks += 1;
        match label {
            CHAIN_LABEL if blocks == 1 && rest.trim().is_empty() => {
                return if is_envelope(&bytes) {
                    Err(DecodeError::Envelope(
                        "a TENUO WARRANT CHAIN block holds one warrant, not a stack",
                    ))
                } else {
                    Ok(bytes)
                };
            }
            WARRANT_LABEL if is_envelope(&bytes) => envelopes.push(bytes),
            WARRANT_LABEL => {
                return Err(DecodeError::Envelope(
                    "a TENUO WARRANT block holds a stack, not one warrant",
                ))
            }
            _ => return Err(DecodeError::Text("unexpected PEM label")),
        }
        if envelopes.len() > super::MAX_CHAIN_LENGTH {
            return Err(DecodeError::Envelope("more warrants than the chain limit"));
        }
    }
    if !rest.trim().is_empty() || envelopes.is_empty() {
        return Err(DecodeError::Text("text outside PEM blocks"));
    }
    if envelopes.len() == 1 {
        return Ok(envelopes.swap_remove(0));
    }
    // Each block must be one envelope: decoding the stack checks that, block by block.
    Ok(super::encode_stack(envelopes.iter().map(Vec::as_slice)))
}
