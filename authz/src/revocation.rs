//! Signed revocation lists (SRLs) in the reference format, and the revocation
//! state an authorizer consults on every request.
//!
//! ```text
//! srl       = {"payload": payload, "signature": [1, bstr .size 64]}
//! payload   = {"revoked_ids": [text], "version": uint, "issued_at": text (RFC 3339), "issuer": [1, bstr .size 32]}
//! signed    = "tenuo-warrant-v1" || "tenuo-srl-v1" || CBOR(payload, fields in the order above)
//! ```
//!
//! Revoked ids are the display form `tnu_wrt_<32 hex>`. Revoking a warrant denies
//! every chain that contains it, so revoking a parent revokes its descendants.
//! A list replaces the installed one only if its version is higher, or equal with
//! the same ids (a re-signed copy): an older list can never roll revocations back.

use std::collections::HashSet;

use base64::Engine;
use ciborium::Value;

use crate::crypto::{PublicKey, Signature, SigningKey};
use crate::policy::Revocations;
use crate::warrant::{WarrantId, WARRANT_CONTEXT, WARRANT_ID_PREFIX};
use crate::wire::value::{array, byte_list, map, text, uint};

/// Domain separation prefix of SRL signatures (after [`WARRANT_CONTEXT`]).
pub const SRL_CONTEXT: &[u8] = b"tenuo-srl-v1";
/// Largest encoded SRL accepted.
pub const MAX_SRL_BYTES: usize = 4 * 1024 * 1024;

/// Why a revocation list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// Not the SRL shape (CBOR, fields, types), or too large.
    #[error("malformed revocation list: {0}")]
    Malformed(&'static str),
    /// Its issuer is not one this authorizer accepts lists from.
    #[error("revocation list issuer {0} is not trusted")]
    UntrustedIssuer(Box<PublicKey>),
    /// The signature does not verify.
    #[error("revocation list signature does not verify")]
    BadSignature,
    /// Older than the installed list.
    #[error("revocation list version {attempted} is older than the installed version {current}")]
    Rollback {
        /// Installed version.
        current: u64,
        /// Offered version.
        attempted: u64,
    },
    /// Same version as the installed list, different contents.
    #[error("revocation list version {0} reuses the installed version with different ids")]
    ContentChanged(u64),
}

/// A decoded revocation list (signature not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRevocationList {
    revoked_ids: Vec<String>,
    version: u64,
    issued_at: String,
    issuer: PublicKey,
    signature: Signature,
}

impl SignedRevocationList {
    /// Signs a list. `issued_at` is Unix seconds, written as RFC 3339 UTC.
    pub fn sign(
        key: &SigningKey,
        version: u64,
        revoked: impl IntoIterator<Item = WarrantId>,
        issued_at: u64,
    ) -> Self {
        let mut revoked_ids: Vec<String> = revoked.into_iter().map(|id| id.to_string()).collect();
        revoked_ids.sort();
        revoked_ids.dedup();
        let issued_at = rfc3339(issued_at);
        let issuer = key.public_key();
        let signature = key.sign(&signed_message(&revoked_ids, version, &issued_at, &issuer));
        Self {
            revoked_ids,
            version,
            issued_at,
            issuer,
            signature,
        }
    }

    /// Decodes CBOR bytes.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, RevocationError> {
        if bytes.len() > MAX_SRL_BYTES {
            return Err(RevocationError::Malformed("larger than the limit"));
        }
        crate::wire::check_well_formed(bytes, 8)
            .map_err(|_| RevocationError::Malformed("not well-formed CBOR"))?;
        let value = crate::wire::value::from_bytes(bytes)
            .map_err(|_| RevocationError::Malformed("not CBOR"))?;
        let outer = fields(&value, &["payload", "signature"])?;
        let payload = fields(outer[0], &["revoked_ids", "version", "issued_at", "issuer"])?;
        let revoked_ids = array(payload[0])
            .and_then(|ids| {
                ids.iter()
                    .map(|id| text(id).map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or(RevocationError::Malformed(
                "revoked_ids must be a list of text",
            ))?;
        let version = uint(payload[1]).ok_or(RevocationError::Malformed(
            "version must be an unsigned integer",
        ))?;
        let issued_at = text(payload[2])
            .ok_or(RevocationError::Malformed("issued_at must be text"))?
            .to_owned();
        let issuer = tagged_bytes(payload[3], 32)
            .and_then(|b| PublicKey::from_slice(&b).ok())
            .ok_or(RevocationError::Malformed("issuer must be an Ed25519 key"))?;
        let signature = tagged_bytes(outer[1], 64)
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or(RevocationError::Malformed(
                "signature must be an Ed25519 signature",
            ))?;
        Ok(Self {
            revoked_ids,
            version,
            issued_at,
            issuer,
            signature,
        })
    }

    /// Decodes standard base64 of the CBOR (the reference's text form).
    pub fn from_base64(text: &str) -> Result<Self, RevocationError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| RevocationError::Malformed("not base64"))?;
        Self::from_cbor(&bytes)
    }

    /// Encodes as CBOR.
    pub fn to_cbor(&self) -> Vec<u8> {
        let outer = Value::Map(vec![
            (
                Value::Text("payload".into()),
                payload_value(
                    &self.revoked_ids,
                    self.version,
                    &self.issued_at,
                    &self.issuer,
                ),
            ),
            (
                Value::Text("signature".into()),
                tuple(self.signature.to_bytes().to_vec()),
            ),
        ]);
        crate::wire::value::to_bytes(&outer)
    }

    /// Encodes as standard base64 of the CBOR.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_cbor())
    }

    /// The list's version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The revoked ids as the list carries them (sorted when we signed it).
    pub fn revoked_ids(&self) -> &[String] {
        &self.revoked_ids
    }

    /// Who signed it.
    pub fn issuer(&self) -> &PublicKey {
        &self.issuer
    }

    /// Checks the signature with the list's own issuer key.
    pub fn verify(&self) -> Result<(), RevocationError> {
        let message = signed_message(
            &self.revoked_ids,
            self.version,
            &self.issued_at,
            &self.issuer,
        );
        self.issuer
            .verify_strict(&message, &self.signature)
            .map_err(|_| RevocationError::BadSignature)
    }
}

/// The revoked ids in force, with the version they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    version: Option<u64>,
    revoked: HashSet<WarrantId>,
    /// Ids in the list that are not in the `tnu_wrt_<hex>` form; they revoke
    /// nothing, as in the reference, but are kept so a re-signed copy compares equal.
    other: Vec<String>,
}

impl RevocationSet {
    /// The set a verified list describes.
    fn from_list(list: &SignedRevocationList) -> Self {
        let mut revoked = HashSet::new();
        let mut other = Vec::new();
        for id in &list.revoked_ids {
            match parse_id(id) {
                Some(parsed) => {
                    revoked.insert(parsed);
                }
                None => other.push(id.clone()),
            }
        }
        other.sort();
        Self {
            version: Some(list.version),
            revoked,
            other,
        }
    }

    /// The version installed, if any.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// How many warrants are revoked.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// Verifies `list` (signature, and issuer in `trusted`) and returns the set that
    /// should replace `self`, refusing rollbacks.
    pub fn successor(
        &self,
        list: &SignedRevocationList,
        trusted: &crate::policy::TrustedIssuers,
    ) -> Result<Self, RevocationError> {
        if !trusted.contains(list.issuer()) {
            return Err(RevocationError::UntrustedIssuer(Box::new(*list.issuer())));
        }
        list.verify()?;
        let next = Self::from_list(list);
        match self.version {
            Some(current) if list.version < current => Err(RevocationError::Rollback {
                current,
                attempted: list.version,
            }),
            Some(current)
                if list.version == current
                    && (next.revoked != self.revoked || next.other != self.other) =>
            {
                Err(RevocationError::ContentChanged(current))
            }
            _ => Ok(next),
        }
    }
}

impl Revocations for RevocationSet {
    fn is_revoked(&self, id: &WarrantId) -> bool {
        self.revoked.contains(id)
    }

    fn revokes_nothing(&self) -> bool {
        self.revoked.is_empty()
    }
}

fn parse_id(text: &str) -> Option<WarrantId> {
    let hex_part = text.strip_prefix(WARRANT_ID_PREFIX)?;
    // Lower-case only: the reference compares the display string exactly.
    if hex_part.len() != 32 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let bytes = hex::decode(hex_part).ok()?;
    Some(WarrantId(bytes.try_into().ok()?))
}

fn fields<'v>(value: &'v Value, names: &[&str]) -> Result<Vec<&'v Value>, RevocationError> {
    let entries = map(value).ok_or(RevocationError::Malformed("expected a map"))?;
    if entries.len() != names.len() {
        return Err(RevocationError::Malformed("unexpected or missing fields"));
    }
    names
        .iter()
        .map(|name| {
            let mut found = entries.iter().filter(|(k, _)| text(k) == Some(name));
            match (found.next(), found.next()) {
                (Some((_, v)), None) => Ok(v),
                _ => Err(RevocationError::Malformed(
                    "unexpected, duplicate or missing fields",
                )),
            }
        })
        .collect()
}

fn tagged_bytes(value: &Value, len: usize) -> Option<Vec<u8>> {
    match array(value)? {
        [alg, bytes] if uint::<u8>(alg) == Some(1) => byte_list(bytes).filter(|b| b.len() == len),
        _ => None,
    }
}

fn tuple(bytes: Vec<u8>) -> Value {
    Value::Array(vec![Value::Integer(1u8.into()), Value::Bytes(bytes)])
}

fn payload_value(ids: &[String], version: u64, issued_at: &str, issuer: &PublicKey) -> Value {
    Value::Map(vec![
        (
            Value::Text("revoked_ids".into()),
            Value::Array(ids.iter().cloned().map(Value::Text).collect()),
        ),
        (
            Value::Text("version".into()),
            Value::Integer(version.into()),
        ),
        (
            Value::Text("issued_at".into()),
            Value::Text(issued_at.to_owned()),
        ),
        (
            Value::Text("issuer".into()),
            tuple(issuer.to_bytes().to_vec()),
        ),
    ])
}

fn signed_message(ids: &[String], version: u64, issued_at: &str, issuer: &PublicKey) -> Vec<u8> {
    let mut message = Vec::with_capacity(256 + ids.len() * 48);
    message.extend_from_slice(WARRANT_CONTEXT);
    message.extend_from_slice(SRL_CONTEXT);
    message.extend_from_slice(&crate::wire::value::to_bytes(&payload_value(
        ids, version, issued_at, issuer,
    )));
    message
}

/// Unix seconds as RFC 3339 UTC (`2026-11-27T17:47:07Z`), as chrono prints a whole second.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::TrustedIssuers;

    #[test]
    fn formats_dates_like_chrono() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_802_432), "2026-11-27T18:00:32Z");
        assert_eq!(rfc3339(951_825_600), "2000-02-29T12:00:00Z");
    }

    #[test]
    fn versions_only_move_forward() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let trusted = TrustedIssuers::new([key.public_key()]);
        let a = WarrantId([1; 16]);
        let b = WarrantId([2; 16]);
        let v2 = SignedRevocationList::sign(&key, 2, [a], 100);
        let state = RevocationSet::default().successor(&v2, &trusted).unwrap();
        assert!(state.is_revoked(&a) && !state.is_revoked(&b));
        let v1 = SignedRevocationList::sign(&key, 1, [a, b], 100);
        assert_eq!(
            state.successor(&v1, &trusted),
            Err(RevocationError::Rollback {
                current: 2,
                attempted: 1
            })
        );
        let v2_changed = SignedRevocationList::sign(&key, 2, [b], 100);
        assert_eq!(
            state.successor(&v2_changed, &trusted),
            Err(RevocationError::ContentChanged(2))
        );
        let v2_resigned = SignedRevocationList::sign(&key, 2, [a], 200);
        assert!(state.successor(&v2_resigned, &trusted).is_ok());
    }

    #[test]
    fn refuses_untrusted_and_forged_lists() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let other = SigningKey::from_bytes(&[5; 32]);
        let list = SignedRevocationList::sign(&key, 1, [WarrantId([1; 16])], 100);
        let untrusted = TrustedIssuers::new([other.public_key()]);
        assert!(matches!(
            RevocationSet::default().successor(&list, &untrusted),
            Err(RevocationError::UntrustedIssuer(_))
        ));
        let mut bytes = list.to_cbor();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let forged = SignedRevocationList::from_cbor(&bytes).unwrap();
        let trusted = TrustedIssuers::new([key.public_key()]);
        assert_eq!(
            RevocationSet::default().successor(&forged, &trusted),
            Err(RevocationError::BadSignature)
        );
    }

    #[test]
    fn round_trips_through_cbor_and_base64() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let list = SignedRevocationList::sign(&key, 7, [WarrantId([9; 16])], 1_700_000_000);
        assert_eq!(
            SignedRevocationList::from_cbor(&list.to_cbor()).unwrap(),
            list
        );
        assert_eq!(
            SignedRevocationList::from_base64(&list.to_base64()).unwrap(),
            list
        );
        assert_eq!(
            SignedRevocationList::from_cbor(&[0xa0]),
            Err(RevocationError::Malformed("unexpected or missing fields"))
        );
    }
}
