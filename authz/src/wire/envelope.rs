//! The signed envelope `[1, payload, [1, signature]]` and the stack of envelopes,
//! parsed against their one canonical encoding.

use super::{DecodeError, MAX_CHAIN_LENGTH, MAX_STACK_BYTES, MAX_WARRANT_BYTES};
use crate::crypto::Signature;

use crate::warrant::ENVELOPE_VERSION;
/// Algorithm id of Ed25519 in key and signature tuples.
pub(crate) const ED25519_ALG: u8 = 1;

/// One envelope split into its parts; `payload` borrows from the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawEnvelope<'a> {
    /// The whole envelope, exactly as received.
    pub(crate) bytes: &'a [u8],
    /// The payload bytes the issuer signed.
    pub(crate) payload: &'a [u8],
    /// The issuer's signature.
    pub(crate) signature: Signature,
}

/// Parses one envelope that must span all of `bytes`.
pub fn decode_warrant(bytes: &[u8]) -> Result<crate::Warrant, DecodeError> {
    if bytes.len() > MAX_WARRANT_BYTES {
        return Err(DecodeError::TooLarge {
            what: "warrant",
            size: bytes.len(),
            max: MAX_WARRANT_BYTES,
        });
    }
    let mut reader = Reader { bytes, pos: 0 };
    let raw = reader.envelope()?;
    reader.finish()?;
    warrant_from_raw(raw)
}

/// The warrant of a parsed envelope: its payload decoded, and the envelope's bytes kept.
fn warrant_from_raw(raw: RawEnvelope<'_>) -> Result<crate::Warrant, DecodeError> {
    let payload = super::decode_payload(raw.payload)?;
    let start = raw.payload.as_ptr() as usize - raw.bytes.as_ptr() as usize;
    Ok(crate::Warrant::from_parts(
        std::sync::Arc::from(raw.bytes),
        start..start + raw.payload.len(),
        raw.signature,
        payload,
    ))
}

/// Parses a stack (root first) that must span all of `bytes`.
pub fn decode_stack(bytes: &[u8]) -> Result<Vec<crate::Warrant>, DecodeError> {
    if bytes.len() > MAX_STACK_BYTES {
        return Err(DecodeError::TooLarge {
            what: "stack",
            size: bytes.len(),
            max: MAX_STACK_BYTES,
        });
    }
    let mut reader = Reader { bytes, pos: 0 };
    let count = reader.header(4, "stack must be an array")?;
    if count == 0 {
        return Err(DecodeError::EmptyStack);
    }
    if count > MAX_CHAIN_LENGTH as u64 {
        return Err(DecodeError::Envelope(
            "stack holds more warrants than the chain limit",
        ));
    }
    let mut warrants = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let raw = reader.envelope()?;
        if raw.bytes.len() > MAX_WARRANT_BYTES {
            return Err(DecodeError::TooLarge {
                what: "warrant",
                size: raw.bytes.len(),
                max: MAX_WARRANT_BYTES,
            });
        }
        warrants.push(warrant_from_raw(raw)?);
    }
    reader.finish()?;
    Ok(warrants)
}

/// Encodes an envelope around signed payload bytes.
pub fn encode_envelope(payload: &[u8], signature: &Signature) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 80);
    out.push(0x83);
    out.push(ENVELOPE_VERSION);
    write_header(&mut out, 2, payload.len() as u64);
    out.extend_from_slice(payload);
    out.extend_from_slice(&[0x82, ED25519_ALG, 0x58, 0x40]);
    out.extend_from_slice(&signature.to_bytes());
    out
}

/// Encodes a stack from already-encoded envelopes, root first.
pub fn encode_stack<'a>(envelopes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let envelopes: Vec<&[u8]> = envelopes.into_iter().collect();
    let mut out = Vec::with_capacity(9 + envelopes.iter().map(|e| e.len()).sum::<usize>());
    write_header(&mut out, 4, envelopes.len() as u64);
    for envelope in envelopes {
        out.extend_from_slice(envelope);
    }
    out
}

/// Writes a CBOR head in its shortest form, as canonical encoders do.
pub(crate) fn write_header(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

/// A cursor that accepts only canonical heads.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(len).ok_or(DecodeError::Truncated)?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    /// Reads a definite head of `major` type in its shortest form.
    fn header(&mut self, major: u8, wrong: &'static str) -> Result<u64, DecodeError> {
        let initial = self.byte()?;
        if initial >> 5 != major {
            return Err(DecodeError::Envelope(wrong));
        }
        let (value, minimum) = match initial & 0x1f {
            info @ 0..=23 => return Ok(u64::from(info)),
            24 => (u64::from(self.byte()?), 24),
            25 => (u64::from(u16::from_be_bytes(self.array()?)), 0x100),
            26 => (u64::from(u32::from_be_bytes(self.array()?)), 0x1_0000),
            27 => (u64::from_be_bytes(self.array()?), 0x1_0000_0000),
            _ => return Err(DecodeError::Envelope("indefinite or reserved length")),
        };
        if value < minimum {
            return Err(DecodeError::Envelope("length not in its shortest form"));
        }
        Ok(value)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn envelope(&mut self) -> Result<RawEnvelope<'a>, DecodeError> {
        let start = self.pos;
        if self.header(4, "warrant must be a 3-element array")? != 3 {
            return Err(DecodeError::Envelope("warrant must be a 3-element array"));
        }
        let version = self.header(0, "envelope version must be an unsigned integer")?;
        if version != u64::from(ENVELOPE_VERSION) {
            return Err(DecodeError::UnsupportedVersion {
                what: "envelope",
                version,
            });
        }
        let len = self.header(2, "payload must be a byte string")?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
        let payload = self.take(len)?;
        if self.header(4, "signature must be a 2-element array")? != 2 {
            return Err(DecodeError::Envelope("signature must be a 2-element array"));
        }
        if self.header(0, "signature algorithm must be an unsigned integer")?
            != u64::from(ED25519_ALG)
        {
            return Err(DecodeError::Envelope("signature algorithm is not Ed25519"));
        }
        if self.header(2, "signature must be a byte string")? != 64 {
            return Err(DecodeError::Envelope("signature must be 64 bytes"));
        }
        let signature = Signature::from_bytes(&self.array::<64>()?);
        Ok(RawEnvelope {
            bytes: &self.bytes[start..self.pos],
            payload,
            signature,
        })
    }

    fn finish(&self) -> Result<(), DecodeError> {
        match self.bytes.len() - self.pos {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}
