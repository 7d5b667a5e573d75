//! Signing and verifying keys: generation, hex and PEM (PKCS#8 / SPKI) in and out.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use std::fmt;
use zeroize::Zeroizing;

use super::equation::Decoded;
use super::signature::{Signature, SignatureError};

/// Why a key could not be parsed or generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not valid hexadecimal.
    #[error("key is not valid hex")]
    InvalidHex,
    /// The key has the wrong number of bytes.
    #[error("key must be {expected} bytes, got {actual}")]
    InvalidLength {
        /// Bytes required.
        expected: usize,
        /// Bytes supplied.
        actual: usize,
    },
    /// The bytes are not the encoding of a curve point.
    #[error("public key is not a valid Ed25519 point")]
    InvalidPoint,
    /// The point has small order: it would let signatures verify for many messages.
    #[error("public key has small order (weak key rejected)")]
    WeakKey,
    /// The PEM text is not a PKCS#8 private key or SPKI public key for Ed25519.
    #[error("invalid PEM key: {0}")]
    InvalidPem(String),
    /// The operating system's random number generator failed.
    #[error("random number generator unavailable")]
    Rng,
}

/// An Ed25519 verifying key, never of small order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// Parses 32 bytes, refusing points that are invalid or of small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint)?;
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self(key))
    }

    /// Parses a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidLength {
            expected: 32,
            actual: bytes.len(),
        })?;
        Self::from_bytes(arr)
    }

    /// Parses 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::InvalidHex)?;
        Self::from_slice(&bytes)
    }

    /// Parses an SPKI `PUBLIC KEY` PEM document.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = ed25519_dalek::VerifyingKey::from_public_key_pem(pem.trim())
            .map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        Self::from_bytes(key.as_bytes())
    }

    /// Parses hex or SPKI PEM, whichever the text is.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if text.trim_start().starts_with("-----BEGIN") {
            Self::from_pem(text)
        } else {
            Self::from_hex(text)
        }
    }

    /// The 32-byte compressed point.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Lower-case hex of the 32 bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// SPKI `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        // Encoding a well-formed key into SPKI cannot fail; fall back to an empty
        // string rather than panic should the pkcs8 crate ever disagree.
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// The wrapped dalek key, for the batch verifier (which needs the decompressed point).
    pub(crate) fn as_dalek(&self) -> &ed25519_dalek::VerifyingKey {
        &self.0
    }

    /// Verifies `signature` over `message` with ed25519-dalek's `verify_strict`
    /// semantics (canonical `s` and `R`, neither `R` nor the key of small order,
    /// cofactorless equation), computed with one field exponentiation fewer; the
    /// equivalence is tested against ed25519-dalek on the standard edge cases.
    pub fn verify_strict(
        &self,
        message: &[u8],
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        self.verify_strict_any(signature, std::iter::once(message))
            .map(|_| ())
    }

    /// [`PublicKey::verify_strict`] against several candidate messages, most likely
    /// first: the position of the first one `signature` verifies for. The signature is
    /// decoded once for all of them, so each further candidate costs one hash and one
    /// double-scalar multiplication rather than a whole verification.
    pub fn verify_strict_any<M: AsRef<[u8]>>(
        &self,
        signature: &Signature,
        messages: impl IntoIterator<Item = M>,
    ) -> Result<usize, SignatureError> {
        let decoded = Decoded::new(self, signature).map_err(|_| SignatureError::Invalid)?;
        messages
            .into_iter()
            .position(|message| decoded.term(message.as_ref()).holds_strictly())
            .ok_or(SignatureError::Invalid)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An Ed25519 signing key. Zeroized on drop; `Debug` never prints the secret.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|_| KeyError::Rng)?;
        Ok(Self::from_bytes(&seed))
    }

    /// A key from its 32-byte secret seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// Parses 64 hex digits of secret seed.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| KeyError::InvalidHex)?);
        let seed: &[u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidLength {
                expected: 32,
                actual: bytes.len(),
            })?;
        Ok(Self::from_bytes(seed))
    }

    /// Parses a PKCS#8 `PRIVATE KEY` PEM document.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self)
            .map_err(|e| KeyError::InvalidPem(e.to_string()))
    }

    /// Parses hex or PKCS#8 PEM, whichever the text is.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if text.trim_start().starts_with("-----BEGIN") {
            Self::from_pem(text)
        } else {
            Self::from_hex(text)
        }
    }

    /// The secret seed as hex, wrapped so it is wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.to_bytes()))
    }

    /// PKCS#8 `PRIVATE KEY` PEM, wrapped so it is wiped when dropped.
    pub fn to_pem(&self) -> Zeroizing<String> {
        match self.0.to_pkcs8_pem(LineEnding::LF) {
            Ok(doc) => Zeroizing::new(doc.to_string()),
            Err(_) => Zeroizing::new(String::new()),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` as is: callers add Tenuo's domain separation first.
    pub fn sign(&self, message: &[u8]) -> Signature {
        use ed25519_dalek::Signer;
        Signature::from_dalek(self.0.sign(message))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_pem_round_trip() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let public = key.public_key();
        assert_eq!(PublicKey::from_hex(&public.to_hex()).unwrap(), public);
        assert_eq!(PublicKey::parse(&public.to_pem()).unwrap(), public);
        let again = SigningKey::parse(&key.to_pem()).unwrap();
        assert_eq!(again.public_key(), public);
        assert_eq!(
            SigningKey::parse(&key.to_hex()).unwrap().public_key(),
            public
        );
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::WeakKey));
        // The all-zero encoding is a point of order 4.
        assert_eq!(PublicKey::from_bytes(&[0u8; 32]), Err(KeyError::WeakKey));
    }

    #[test]
    fn malformed_text_is_a_typed_error() {
        assert_eq!(PublicKey::from_hex("zz"), Err(KeyError::InvalidHex));
        assert_eq!(
            PublicKey::from_hex("abcd"),
            Err(KeyError::InvalidLength {
                expected: 32,
                actual: 2
            })
        );
        assert!(matches!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"),
            Err(KeyError::InvalidPem(_))
        ));
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.to_hex().as_str()));
        assert!(shown.ends_with(".. }"));
    }
}
