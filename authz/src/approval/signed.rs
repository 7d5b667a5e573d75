//! One signed approval: its CBOR form (the reference's serde layout, text keys),
//! its signature, and its payload.
//!
//! The envelope carries the payload as bytes and the signature over
//! `"tenuo-warrant-v1" || "tenuo-approval-v1" || version || payload`; the
//! payload is decoded only after the signature verifies.

use std::collections::BTreeMap;

use ciborium::Value;

use crate::crypto::{PublicKey, Signature, SigningKey};
use crate::warrant::WARRANT_CONTEXT;

/// Domain separation of approval signatures (after [`WARRANT_CONTEXT`]).
pub const APPROVAL_CONTEXT: &[u8] = b"tenuo-approval-v1";
/// The only envelope and payload version.
const VERSION: u8 = 1;
/// Wire id of Ed25519 in `[algorithm, bytes]` keys and signatures.
const ED25519: u8 = 1;

/// A signed approval as it travels: the payload bytes, who signed them, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedApproval {
    /// Envelope version (1 is the only one verified).
    pub version: u8,
    /// The CBOR payload bytes that were signed.
    pub payload: Vec<u8>,
    /// The approver's key (not itself signed: the signature binds it).
    pub approver: PublicKey,
    /// The approver's signature.
    pub signature: Signature,
}

/// What an approver signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPayload {
    /// Payload version (1).
    pub version: u8,
    /// The call approved (see [`request_hash`](fn@super::request_hash)).
    pub request_hash: [u8; 32],
    /// Random bytes making every approval distinct.
    pub nonce: [u8; 16],
    /// Who approved, in the identity provider's terms (for audit only).
    pub external_id: String,
    /// Unix seconds of approval.
    pub approved_at: u64,
    /// Unix seconds from which the approval no longer counts.
    pub expires_at: u64,
    /// Signed application metadata, if any.
    pub extensions: Option<BTreeMap<String, Vec<u8>>>,
}

impl SignedApproval {
    /// Signs `payload` as `approver`.
    pub fn sign(payload: &ApprovalPayload, approver: &SigningKey) -> Self {
        let payload = payload.to_cbor_bytes();
        let signature = approver.sign(&signed_message(VERSION, &payload));
        Self {
            version: VERSION,
            payload,
            approver: approver.public_key(),
            signature,
        }
    }

    /// Decodes the envelope from its CBOR item (a map with the reference's field
    /// names; unknown or repeated fields are refused, as its decoder refuses them).
    pub fn from_cbor(value: &Value) -> Result<Self, &'static str> {
        let Value::Map(entries) = value else {
            return Err("approval is not a map");
        };
        let mut fields = Fields::new(
            entries,
            &["approval_version", "payload", "approver_key", "signature"],
        )?;
        let version = small(fields.take("approval_version")?)?;
        let payload = bytes(fields.take("payload")?)?;
        let approver = PublicKey::from_bytes(&fixed::<32>(keyed(fields.take("approver_key")?)?)?)
            .map_err(|_| "approver key is not a valid Ed25519 key")?;
        let signature = Signature::from_bytes(&fixed::<64>(keyed(fields.take("signature")?)?)?);
        Ok(Self {
            version,
            payload,
            approver,
            signature,
        })
    }

    /// The CBOR item, laid out as the reference serializes it.
    pub fn to_cbor(&self) -> Value {
        let keyed = |bytes: &[u8]| {
            Value::Array(vec![
                Value::Integer(ED25519.into()),
                Value::Bytes(bytes.to_vec()),
            ])
        };
        Value::Map(vec![
            (
                text("approval_version"),
                Value::Integer(self.version.into()),
            ),
            (text("payload"), Value::Bytes(self.payload.clone())),
            (text("approver_key"), keyed(&self.approver.to_bytes())),
            (text("signature"), keyed(&self.signature.to_bytes())),
        ])
    }

    /// The CBOR bytes of [`Self::to_cbor`].
    pub fn to_cbor_bytes(&self) -> Vec<u8> {
        encode(&self.to_cbor())
    }

    /// Checks the version and the signature (strict Ed25519), then decodes the
    /// payload. `None` when any of it fails: such an approval counts for nothing.
    /// Time and binding are the caller's to check.
    pub fn verify(&self) -> Option<ApprovalPayload> {
        if self.version != VERSION {
            return None;
        }
        self.approver
            .verify_strict(
                &signed_message(self.version, &self.payload),
                &self.signature,
            )
            .ok()?;
        let value: Value = ciborium::de::from_reader(self.payload.as_slice()).ok()?;
        let payload = ApprovalPayload::from_cbor(&value).ok()?;
        // An approval must expire after it was given; one that does not is void.
        (payload.version == VERSION && payload.expires_at > payload.approved_at).then_some(payload)
    }
}

impl ApprovalPayload {
    /// A version-1 payload without extensions.
    pub fn new(
        request_hash: [u8; 32],
        nonce: [u8; 16],
        external_id: impl Into<String>,
        approved_at: u64,
        expires_at: u64,
    ) -> Self {
        Self {
            version: VERSION,
            request_hash,
            nonce,
            external_id: external_id.into(),
            approved_at,
            expires_at,
            extensions: None,
        }
    }

    /// Decodes the payload item (the reference's field names; fixed-size byte
    /// fields are arrays of integers, as its serializer writes them).
    pub fn from_cbor(value: &Value) -> Result<Self, &'static str> {
        let Value::Map(entries) = value else {
            return Err("approval payload is not a map");
        };
        let mut fields = Fields::new(
            entries,
            &[
                "version",
                "request_hash",
                "nonce",
                "external_id",
                "approved_at",
                "expires_at",
                "extensions",
            ],
        )?;
        let version = small(fields.take("version")?)?;
        let request_hash = fixed::<32>(int_array(fields.take("request_hash")?)?)?;
        let nonce = fixed::<16>(int_array(fields.take("nonce")?)?)?;
        let external_id = match fields.take("external_id")? {
            Value::Text(t) => t.clone(),
            _ => return Err("external_id is not text"),
        };
        let approved_at = unsigned(fields.take("approved_at")?)?;
        let expires_at = unsigned(fields.take("expires_at")?)?;
        let extensions = match fields.optional("extensions") {
            None | Some(Value::Null) => None,
            Some(Value::Map(entries)) => {
                let mut map = BTreeMap::new();
                for (k, v) in entries {
                    let Value::Text(k) = k else {
                        return Err("extension key is not text");
                    };
                    map.insert(k.clone(), bytes(v)?);
                }
                Some(map)
            }
            Some(_) => return Err("extensions is not a map"),
        };
        Ok(Self {
            version,
            request_hash,
            nonce,
            external_id,
            approved_at,
            expires_at,
            extensions,
        })
    }

    /// The CBOR bytes, laid out as the reference serializes its payload.
    pub fn to_cbor_bytes(&self) -> Vec<u8> {
        let ints = |b: &[u8]| Value::Array(b.iter().map(|x| Value::Integer((*x).into())).collect());
        let mut entries = vec![
            (text("version"), Value::Integer(self.version.into())),
            (text("request_hash"), ints(&self.request_hash)),
            (text("nonce"), ints(&self.nonce)),
            (text("external_id"), Value::Text(self.external_id.clone())),
            (text("approved_at"), Value::Integer(self.approved_at.into())),
            (text("expires_at"), Value::Integer(self.expires_at.into())),
        ];
        if let Some(ext) = &self.extensions {
            let map = ext.iter().map(|(k, v)| (text(k), ints(v))).collect();
            entries.push((text("extensions"), Value::Map(map)));
        }
        encode(&Value::Map(entries))
    }
}

fn signed_message(version: u8, payload: &[u8]) -> Vec<u8> {
    let mut m =
        Vec::with_capacity(WARRANT_CONTEXT.len() + APPROVAL_CONTEXT.len() + 1 + payload.len());
    m.extend_from_slice(WARRANT_CONTEXT);
    m.extend_from_slice(APPROVAL_CONTEXT);
    m.push(version);
    m.extend_from_slice(payload);
    m
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a Value into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// A struct's fields by name: each known name at most once, nothing unknown.
struct Fields<'v>(BTreeMap<&'v str, &'v Value>);

impl<'v> Fields<'v> {
    fn new(entries: &'v [(Value, Value)], known: &[&str]) -> Result<Self, &'static str> {
        let mut fields = BTreeMap::new();
        for (k, v) in entries {
            let Value::Text(name) = k else {
                return Err("field name is not text");
            };
            if !known.contains(&name.as_str()) {
                return Err("unknown field");
            }
            if fields.insert(name.as_str(), v).is_some() {
                return Err("duplicate field");
            }
        }
        Ok(Self(fields))
    }

    fn take(&mut self, name: &str) -> Result<&'v Value, &'static str> {
        self.0.remove(name).ok_or("missing field")
    }

    fn optional(&mut self, name: &str) -> Option<&'v Value> {
        self.0.remove(name)
    }
}

fn unsigned(v: &Value) -> Result<u64, &'static str> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| "integer out of range"),
        _ => Err("not an integer"),
    }
}

fn small(v: &Value) -> Result<u8, &'static str> {
    u8::try_from(unsigned(v)?).map_err(|_| "integer out of range")
}

/// A byte string, or an array of byte-sized integers (both read as bytes by
/// the reference's decoder for byte fields).
fn bytes(v: &Value) -> Result<Vec<u8>, &'static str> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Array(_) => int_array(v),
        _ => Err("not bytes"),
    }
}

fn int_array(v: &Value) -> Result<Vec<u8>, &'static str> {
    match v {
        Value::Array(items) => items.iter().map(small).collect(),
        _ => Err("not an array of bytes"),
    }
}

/// The bytes of a `[algorithm, bytes]` key or signature, Ed25519 only.
fn keyed(v: &Value) -> Result<Vec<u8>, &'static str> {
    match v {
        Value::Array(items) => match items.as_slice() {
            [alg, b] if small(alg)? == ED25519 => bytes(b),
            [_, _] => Err("unsupported algorithm"),
            _ => Err("key or signature is not [algorithm, bytes]"),
        },
        _ => Err("key or signature is not [algorithm, bytes]"),
    }
}

fn fixed<const N: usize>(b: Vec<u8>) -> Result<[u8; N], &'static str> {
    b.try_into().map_err(|_| "wrong length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(seed: u8) -> (SigningKey, SignedApproval) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let payload = ApprovalPayload::new([7; 32], [9; 16], "alice", 100, 400);
        let signed = SignedApproval::sign(&payload, &key);
        (key, signed)
    }

    #[test]
    fn round_trips_and_verifies() {
        let (_, signed) = approval(3);
        let back = SignedApproval::from_cbor(&signed.to_cbor()).unwrap();
        assert_eq!(back, signed);
        let payload = back.verify().unwrap();
        assert_eq!(payload.request_hash, [7; 32]);
        assert_eq!(payload.external_id, "alice");
    }

    #[test]
    fn a_tampered_payload_or_swapped_key_does_not_verify() {
        let (_, mut signed) = approval(3);
        let last = signed.payload.len() - 1;
        signed.payload[last] ^= 1;
        assert!(signed.verify().is_none());
        let (_, signed) = approval(3);
        let swapped = SignedApproval {
            approver: SigningKey::from_bytes(&[4; 32]).public_key(),
            ..signed
        };
        assert!(swapped.verify().is_none());
    }

    #[test]
    fn unknown_or_duplicate_fields_are_refused() {
        let (_, signed) = approval(3);
        let Value::Map(mut entries) = signed.to_cbor() else {
            unreachable!()
        };
        entries.push((text("extra"), Value::Null));
        assert_eq!(
            SignedApproval::from_cbor(&Value::Map(entries.clone())),
            Err("unknown field")
        );
        entries.pop();
        entries.push(entries[0].clone());
        assert_eq!(
            SignedApproval::from_cbor(&Value::Map(entries)),
            Err("duplicate field")
        );
    }

    #[test]
    fn an_approval_that_expires_when_given_is_void() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let payload = ApprovalPayload::new([1; 32], [2; 16], "bob", 100, 100);
        assert!(SignedApproval::sign(&payload, &key).verify().is_none());
    }
}
