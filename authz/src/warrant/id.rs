//! Warrant ids: 16 bytes on the wire, `tnu_wrt_` + hex for people.

use std::fmt;

/// Prefix of the display form of an id.
pub const WARRANT_ID_PREFIX: &str = "tnu_wrt_";

/// A warrant's 16-byte id (a UUIDv7 when minted here).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WarrantId(pub [u8; 16]);

impl WarrantId {
    /// A time-ordered id: 48 bits of Unix milliseconds, version 7, then random bits.
    pub fn generate(now_millis: u64) -> Result<Self, crate::crypto::KeyError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes[6..]).map_err(|_| crate::crypto::KeyError::Rng)?;
        bytes[..6].copy_from_slice(&now_millis.to_be_bytes()[2..]);
        bytes[6] = 0x70 | (bytes[6] & 0x0f);
        bytes[8] = 0x80 | (bytes[8] & 0x3f);
        Ok(Self(bytes))
    }

    /// Lower-case hex, the form signed into PoP challenges.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for WarrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{WARRANT_ID_PREFIX}{}", self.to_hex())
    }
}

impl fmt::Debug for WarrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
