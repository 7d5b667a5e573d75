//! The text a request carries approvals in (`X-Tenuo-Approvals`, the `approvals`
//! field of `/v1/check`, `tenuo verify --approval`): base64 of the CBOR of one
//! signed approval or of an array of them.
//!
//! Both base64 alphabets are accepted, padded or not. The text is bounded before
//! it is decoded and the count after, so a hostile header costs little.

use base64::Engine;
use ciborium::Value;

use super::error::ApprovalDecodeError;
use super::signed::SignedApproval;

/// Most CBOR bytes the approvals of one request may take (the reference's cap).
pub const MAX_APPROVALS_BYTES: usize = 64 * 1024;
/// Most approvals one request may carry.
pub const MAX_APPROVALS: usize = 256;
/// Longest base64 text that can decode to [`MAX_APPROVALS_BYTES`] (padded).
const MAX_TEXT: usize = MAX_APPROVALS_BYTES.div_ceil(3) * 4;

/// Decodes approval text. Empty text carries no approvals.
pub fn decode_approvals(text: &str) -> Result<Vec<SignedApproval>, ApprovalDecodeError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.len() > MAX_TEXT {
        return Err(ApprovalDecodeError::TooLarge {
            len: text.len(),
            max: MAX_TEXT,
        });
    }
    let bytes = decode_base64(text).ok_or(ApprovalDecodeError::Base64)?;
    decode_approvals_cbor(&bytes)
}

/// Decodes the CBOR of one approval or an array of them.
pub fn decode_approvals_cbor(bytes: &[u8]) -> Result<Vec<SignedApproval>, ApprovalDecodeError> {
    if bytes.len() > MAX_APPROVALS_BYTES {
        return Err(ApprovalDecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_APPROVALS_BYTES,
        });
    }
    let value: Value =
        ciborium::de::from_reader(bytes).map_err(|_| ApprovalDecodeError::Cbor("not CBOR"))?;
    match &value {
        Value::Array(items) => {
            if items.len() > MAX_APPROVALS {
                return Err(ApprovalDecodeError::TooMany {
                    count: items.len(),
                    max: MAX_APPROVALS,
                });
            }
            items
                .iter()
                .map(SignedApproval::from_cbor)
                .collect::<Result<_, _>>()
                .map_err(ApprovalDecodeError::Cbor)
        }
        single => Ok(vec![
            SignedApproval::from_cbor(single).map_err(ApprovalDecodeError::Cbor)?
        ]),
    }
}

/// Encodes approvals as the header carries them: standard base64 (padded) of a
/// CBOR array, as the reference's SDKs send them.
pub fn encode_approvals(approvals: &[SignedApproval]) -> String {
    let array = Value::Array(approvals.iter().map(SignedApproval::to_cbor).collect());
    let mut out = Vec::new();
    let _ = ciborium::ser::into_writer(&array, &mut out);
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [URL_SAFE_NO_PAD, STANDARD, URL_SAFE, STANDARD_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::ApprovalPayload;
    use crate::crypto::SigningKey;

    fn one(seed: u8) -> SignedApproval {
        let payload = ApprovalPayload::new([seed; 32], [seed; 16], "x", 1, 2);
        SignedApproval::sign(&payload, &SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn one_or_many_in_either_alphabet() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let a = one(1);
        let single = a.to_cbor_bytes();
        for text in [STANDARD.encode(&single), URL_SAFE_NO_PAD.encode(&single)] {
            assert_eq!(decode_approvals(&text).unwrap(), vec![a.clone()]);
        }
        let both = encode_approvals(&[a.clone(), one(2)]);
        assert_eq!(decode_approvals(&both).unwrap(), vec![a, one(2)]);
        assert_eq!(decode_approvals("").unwrap(), vec![]);
    }

    #[test]
    fn garbage_and_oversize_are_refused_before_decoding() {
        assert_eq!(decode_approvals("!!!"), Err(ApprovalDecodeError::Base64));
        assert!(matches!(
            decode_approvals("AAAA"),
            Err(ApprovalDecodeError::Cbor(_))
        ));
        let huge = "A".repeat(MAX_TEXT + 4);
        assert!(matches!(
            decode_approvals(&huge),
            Err(ApprovalDecodeError::TooLarge { .. })
        ));
        let many = Value::Array(vec![Value::Null; MAX_APPROVALS + 1]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&many, &mut bytes).unwrap();
        assert!(matches!(
            decode_approvals_cbor(&bytes),
            Err(ApprovalDecodeError::TooMany { .. })
        ));
    }
}
