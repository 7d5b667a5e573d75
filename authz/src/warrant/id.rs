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

    /// Reads an id in its display form (`tnu_wrt_` + 32 hex digits) or as the
    /// bare hex.
    pub fn parse(text: &str) -> Result<Self, WarrantIdError> {
        let text = text.trim();
        let digits = text.strip_prefix(WARRANT_ID_PREFIX).unwrap_or(text);
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| WarrantIdError)?;
        Ok(Self(bytes))
    }
}

/// Text that is not a warrant id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a warrant id: expected {WARRANT_ID_PREFIX} and 32 hex digits")]
pub struct WarrantIdError;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_display_form_and_bare_hex_only() {
        let id = WarrantId([0xab; 16]);
        assert_eq!(WarrantId::parse(&id.to_string()), Ok(id));
        assert_eq!(WarrantId::parse(&id.to_hex()), Ok(id));
        for bad in [
            "",
            "tnu_wrt_",
            "tnu_wrt_abcd",
            &format!("{id}00"),
            "tnu_wrt_zz",
        ] {
            assert_eq!(WarrantId::parse(bad), Err(WarrantIdError), "{bad}");
        }
    }
}
