//! Ed25519 signatures and their text forms (base64url, standard base64, hex).

use base64::Engine;
use std::fmt;

/// A signature failed to parse or verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify for this key and message.
    #[error("signature does not verify")]
    Invalid,
    /// The signature is not 64 bytes.
    #[error("signature must be 64 bytes, got {0}")]
    InvalidLength(usize),
    /// The text is neither base64url, standard base64 nor hex.
    #[error("signature is not base64url, base64 or hex")]
    InvalidEncoding,
}

/// A 64-byte Ed25519 signature `R || s`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(ed25519_dalek::Signature);

impl Signature {
    /// Wraps 64 raw bytes. Whether they verify is decided later.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Self(ed25519_dalek::Signature::from_bytes(bytes))
    }

    /// Wraps a slice that must be exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SignatureError> {
        let arr: &[u8; 64] = bytes
            .try_into()
            .map_err(|_| SignatureError::InvalidLength(bytes.len()))?;
        Ok(Self::from_bytes(arr))
    }

    /// Parses the text forms a PoP header may carry: base64url (with or without
    /// padding), standard base64, or hex. Each form has a distinct length for 64
    /// bytes, so the parse is unambiguous.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let text = text.trim();
        let decoded = match text.len() {
            128 => hex::decode(text).map_err(|_| SignatureError::InvalidEncoding)?,
            86 => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
                .map_err(|_| SignatureError::InvalidEncoding)?,
            88 => base64::engine::general_purpose::URL_SAFE
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
                .map_err(|_| SignatureError::InvalidEncoding)?,
            _ => return Err(SignatureError::InvalidEncoding),
        };
        Self::from_slice(&decoded)
    }

    /// The 64 raw bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    /// base64url without padding, the form Tenuo's SDKs send.
    pub fn to_base64url(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0.to_bytes())
    }

    pub(crate) fn from_dalek(sig: ed25519_dalek::Signature) -> Self {
        Self(sig)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Signatures are not secret, but a full one in a log is noise; show a prefix.
        let bytes = self.0.to_bytes();
        write!(f, "Signature({}..)", hex::encode(&bytes[..8]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_form_parses_to_the_same_bytes() {
        let sig = Signature::from_bytes(&[0xfb; 64]);
        let bytes = sig.to_bytes();
        let forms = [
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            base64::engine::general_purpose::URL_SAFE.encode(bytes),
            base64::engine::general_purpose::STANDARD.encode(bytes),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
            hex::encode(bytes),
        ];
        for form in forms {
            assert_eq!(Signature::parse(&form).unwrap(), sig, "{form}");
        }
    }

    #[test]
    fn wrong_sizes_and_alphabets_are_rejected() {
        assert_eq!(Signature::parse(""), Err(SignatureError::InvalidEncoding));
        assert_eq!(
            Signature::parse(&"g".repeat(128)),
            Err(SignatureError::InvalidEncoding)
        );
        assert_eq!(
            Signature::parse(&"!".repeat(86)),
            Err(SignatureError::InvalidEncoding)
        );
        assert_eq!(
            Signature::from_slice(&[0; 63]),
            Err(SignatureError::InvalidLength(63))
        );
    }
}
