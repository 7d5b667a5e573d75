//! Typed reads from decoded CBOR values, tolerant where the reference decoder is.
//!
//! The reference decodes payloads with serde, which looks through CBOR tags and
//! accepts a byte string wherever a list of bytes is expected. Payloads are signed
//! by the issuer and never re-encoded, so accepting those same forms keeps our
//! decisions equal to the reference's on every payload it accepts.

use ciborium::Value;

/// Looks through any tags around a value.
pub(crate) fn untag(mut value: &Value) -> &Value {
    while let Value::Tag(_, inner) = value {
        value = inner;
    }
    value
}

/// An unsigned integer that fits `T`.
pub(crate) fn uint<T: TryFrom<u64>>(value: &Value) -> Option<T> {
    match untag(value) {
        Value::Integer(i) => u64::try_from(*i).ok().and_then(|u| T::try_from(u).ok()),
        _ => None,
    }
}

/// A text string.
pub(crate) fn text(value: &Value) -> Option<&str> {
    match untag(value) {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

/// Bytes given either as a byte string or as an array of integers 0..=255.
pub(crate) fn byte_list(value: &Value) -> Option<Vec<u8>> {
    match untag(value) {
        Value::Bytes(b) => Some(b.clone()),
        Value::Array(items) => items.iter().map(uint::<u8>).collect(),
        _ => None,
    }
}

/// Whether a value is CBOR null or undefined (serde's `None`).
pub(crate) fn is_absent(value: &Value) -> bool {
    matches!(untag(value), Value::Null)
}

/// The elements of an array.
pub(crate) fn array(value: &Value) -> Option<&[Value]> {
    match untag(value) {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

/// The entries of a map.
pub(crate) fn map(value: &Value) -> Option<&[(Value, Value)]> {
    match untag(value) {
        Value::Map(entries) => Some(entries),
        _ => None,
    }
}

/// Serializes a value with ciborium, which writes the shortest heads, as the
/// reference's serde encoder does.
pub(crate) fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail for values built by this crate.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// Decodes bytes already checked by [`super::check_well_formed`]: directly where
/// the fast decoder covers the input, otherwise with ciborium, to the same value.
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Value, super::DecodeError> {
    match super::decode_value_fast(bytes) {
        Some(value) => Ok(value),
        None => ciborium::de::from_reader(bytes).map_err(|_| super::DecodeError::Malformed(0)),
    }
}
