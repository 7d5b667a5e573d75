//! Argument values ([`ArgValue`]): what a tool call supplies and what `Exact`,
//! `OneOf`, `NotOneOf`, `Contains` and `Subset` carry on the wire.
//!
//! Wire shape (the reference's `ConstraintValue`, an untagged serde enum):
//! text, integer, float, bool, array, map with text keys, or `null`.
//!
//! Decoding follows serde's untagged-enum rules over ciborium, in variant
//! order String, Integer, Float, Boolean, List, Object, Null:
//! * a UTF-8 byte string decodes as a `String` (re-encoded as text);
//! * an unsigned integer above `i64::MAX` decodes as a `Float`;
//! * an integer below `i64::MIN`, any tag, a non-UTF-8 byte string or a map
//!   with a non-string key makes the whole value undecodable;
//! * duplicate map keys: the last one wins.

use std::collections::BTreeMap;
use std::fmt;

use ciborium::value::{Integer, Value};

use super::codec::Elem;
use super::error::ConstraintDecodeError;

/// Maximum nesting of lists/objects accepted when converting values.
///
/// ciborium (which the reference decodes with) stops at 256 nested CBOR
/// containers for the whole payload, so nothing the reference accepts is
/// deeper than this.
pub const MAX_VALUE_DEPTH: usize = 256;

/// A tool-call argument value, or a value inside a constraint.
///
/// Equality is structural with `f64` semantics: `Integer(1) != Float(1.0)`,
/// `Float(NaN) != Float(NaN)`, `Float(0.0) == Float(-0.0)`, exactly as the
/// reference's derived `PartialEq`.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// UTF-8 text.
    String(String),
    /// Signed 64-bit integer.
    Integer(i64),
    /// 64-bit float (may be NaN/inf when decoded from CBOR).
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Ordered list.
    List(Vec<ArgValue>),
    /// Map with text keys, sorted by key.
    Object(BTreeMap<String, ArgValue>),
    /// Null.
    Null,
}

/// Why a JSON value has no [`ArgValue`] form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgValueJsonError {
    /// A number that is neither an integer nor a finite float (only reachable
    /// through a `serde_json` built with `arbitrary_precision`).
    #[error("unsupported number")]
    UnsupportedNumber,
    /// Lists/objects nested deeper than [`MAX_VALUE_DEPTH`].
    #[error("value nested deeper than {MAX_VALUE_DEPTH}")]
    TooDeep,
}

impl ArgValue {
    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ArgValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The numeric value as `f64` for integers and floats (integers above
    /// 2^53 lose precision, as in the reference).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            ArgValue::Integer(i) => Some(*i as f64),
            ArgValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[ArgValue]> {
        match self {
            ArgValue::List(l) => Some(l),
            _ => None,
        }
    }

    /// Converts a JSON argument keeping the kind it was written with, as the
    /// reference authorizer reads request bodies: an integer that fits `i64` is an
    /// `Integer`; a larger unsigned integer becomes its decimal text (no precision
    /// is lost); any other number is a `Float`, so `10.0`, `1e1` and `-0.0` stay
    /// floats and a PoP signed over the float `10.0` is not one over the integer
    /// `10`. JSON text holds no NaN or infinity, and `serde_json` refuses numbers
    /// beyond `f64`'s range, so every float here is finite.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, ArgValueJsonError> {
        Self::from_json_at(v, 0)
    }

    fn from_json_at(v: &serde_json::Value, depth: usize) -> Result<Self, ArgValueJsonError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(ArgValueJsonError::TooDeep);
        }
        Ok(match v {
            serde_json::Value::Null => ArgValue::Null,
            serde_json::Value::Bool(b) => ArgValue::Bool(*b),
            serde_json::Value::String(s) => ArgValue::String(s.clone()),
            serde_json::Value::Number(n) => number_from_json(n)?,
            serde_json::Value::Array(items) => ArgValue::List(
                items
                    .iter()
                    .map(|i| Self::from_json_at(i, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => {
                let mut out = BTreeMap::new();
                for (k, item) in map {
                    out.insert(k.clone(), Self::from_json_at(item, depth + 1)?);
                }
                ArgValue::Object(out)
            }
        })
    }

    /// JSON form (non-finite floats become `null`, as `serde_json` does).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ArgValue::String(s) => serde_json::Value::String(s.clone()),
            ArgValue::Integer(i) => serde_json::Value::from(*i),
            ArgValue::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            ArgValue::Bool(b) => serde_json::Value::Bool(*b),
            ArgValue::List(items) => {
                serde_json::Value::Array(items.iter().map(ArgValue::to_json).collect())
            }
            ArgValue::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
            ArgValue::Null => serde_json::Value::Null,
        }
    }

    /// CBOR form, identical to the reference's serde serialization of
    /// `ConstraintValue` once written with ciborium (floats are written in
    /// ciborium's shortest lossless width by the encoder).
    pub fn to_cbor(&self) -> Value {
        match self {
            ArgValue::String(s) => Value::Text(s.clone()),
            ArgValue::Integer(i) => Value::Integer(Integer::from(*i)),
            ArgValue::Float(f) => Value::Float(*f),
            ArgValue::Bool(b) => Value::Bool(*b),
            ArgValue::List(items) => Value::Array(items.iter().map(ArgValue::to_cbor).collect()),
            ArgValue::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (Value::Text(k.clone()), v.to_cbor()))
                    .collect(),
            ),
            ArgValue::Null => Value::Null,
        }
    }

    /// Decode from CBOR with the reference's untagged-enum rules (see module doc).
    pub fn from_cbor(v: &Value) -> Result<Self, ConstraintDecodeError> {
        Self::from_cbor_at(v, 0)
    }

    pub(crate) fn from_elem(e: Elem<'_>) -> Result<Self, ConstraintDecodeError> {
        match e {
            Elem::Item(v) => Self::from_cbor(v),
            Elem::Byte(b) => Ok(ArgValue::Integer(i64::from(b))),
        }
    }

    fn from_cbor_at(v: &Value, depth: usize) -> Result<Self, ConstraintDecodeError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(ConstraintDecodeError::DepthExceeded {
                depth,
                max: MAX_VALUE_DEPTH,
            });
        }
        let unrepresentable = |reason| ConstraintDecodeError::UnrepresentableValue { reason };
        Ok(match v {
            Value::Text(s) => ArgValue::String(s.clone()),
            Value::Bytes(b) => ArgValue::String(
                String::from_utf8(b.clone()).map_err(|_| unrepresentable("non-UTF-8 bytes"))?,
            ),
            Value::Integer(i) => {
                let n = i128::from(*i);
                if let Ok(small) = i64::try_from(n) {
                    ArgValue::Integer(small)
                } else if let Ok(big) = u64::try_from(n) {
                    ArgValue::Float(big as f64)
                } else {
                    return Err(unrepresentable("integer below i64::MIN"));
                }
            }
            Value::Float(f) => ArgValue::Float(*f),
            Value::Bool(b) => ArgValue::Bool(*b),
            Value::Null => ArgValue::Null,
            Value::Array(items) => ArgValue::List(
                items
                    .iter()
                    .map(|i| Self::from_cbor_at(i, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => {
                // Buffer every entry first: an unrepresentable value anywhere
                // fails the whole map, regardless of key validity order.
                let mut converted = Vec::with_capacity(entries.len());
                for (k, item) in entries {
                    converted.push((k, Self::from_cbor_at(item, depth + 1)?));
                }
                let mut out = BTreeMap::new();
                for (k, item) in converted {
                    let key = match k {
                        Value::Text(s) => s.clone(),
                        Value::Bytes(b) => String::from_utf8(b.clone())
                            .map_err(|_| unrepresentable("non-UTF-8 map key"))?,
                        Value::Tag(..) => return Err(unrepresentable("tag")),
                        _ => return Err(unrepresentable("non-string map key")),
                    };
                    out.insert(key, item);
                }
                ArgValue::Object(out)
            }
            Value::Tag(..) => return Err(unrepresentable("tag")),
            _ => return Err(unrepresentable("unsupported CBOR item")),
        })
    }
}

fn number_from_json(n: &serde_json::Number) -> Result<ArgValue, ArgValueJsonError> {
    if let Some(i) = n.as_i64() {
        return Ok(ArgValue::Integer(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(ArgValue::String(u.to_string()));
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => Ok(ArgValue::Float(f)),
        _ => Err(ArgValueJsonError::UnsupportedNumber),
    }
}

impl ArgValue {
    /// The value as a person reads it in a log or header: a top-level string
    /// unquoted (`/etc/passwd`), anything else in its [`fmt::Display`] form.
    pub fn to_plain_string(&self) -> String {
        match self {
            ArgValue::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::String(s) => write!(f, "{s:?}"),
            ArgValue::Integer(i) => write!(f, "{i}"),
            // Debug keeps the float visible as one (`10.0`, `-0.0`), so a log
            // line tells `10.0` from `10`, as the PoP does.
            ArgValue::Float(x) => write!(f, "{x:?}"),
            ArgValue::Bool(b) => write!(f, "{b}"),
            ArgValue::Null => f.write_str("null"),
            ArgValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            ArgValue::Object(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl From<&str> for ArgValue {
    fn from(s: &str) -> Self {
        ArgValue::String(s.to_owned())
    }
}

impl From<String> for ArgValue {
    fn from(s: String) -> Self {
        ArgValue::String(s)
    }
}

impl From<i64> for ArgValue {
    fn from(n: i64) -> Self {
        ArgValue::Integer(n)
    }
}

impl From<i32> for ArgValue {
    fn from(n: i32) -> Self {
        ArgValue::Integer(i64::from(n))
    }
}

impl From<f64> for ArgValue {
    fn from(n: f64) -> Self {
        ArgValue::Float(n)
    }
}

impl From<bool> for ArgValue {
    fn from(b: bool) -> Self {
        ArgValue::Bool(b)
    }
}

impl<T: Into<ArgValue>> From<Vec<T>> for ArgValue {
    fn from(v: Vec<T>) -> Self {
        ArgValue::List(v.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(text: &str) -> ArgValue {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        ArgValue::from_json(&json).unwrap()
    }

    #[test]
    fn json_numbers_keep_the_kind_they_were_written_with() {
        assert_eq!(parsed("10"), ArgValue::Integer(10));
        assert_eq!(parsed("-7"), ArgValue::Integer(-7));
        assert!(matches!(parsed("10.0"), ArgValue::Float(f) if f == 10.0));
        assert!(matches!(parsed("1e1"), ArgValue::Float(f) if f == 10.0));
        assert!(matches!(parsed("-0.0"), ArgValue::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(matches!(parsed("1000000000000.0"), ArgValue::Float(f) if f == 1e12));
        assert_eq!(parsed("9223372036854775807"), ArgValue::Integer(i64::MAX));
        assert_eq!(
            parsed("18446744073709551615"),
            ArgValue::String("18446744073709551615".into())
        );
        // Beyond u64, serde_json reads an integer literal as a float.
        assert!(matches!(parsed("100000000000000000000"), ArgValue::Float(f) if f == 1e20));
        assert!(serde_json::from_str::<serde_json::Value>("1e400").is_err());
    }

    #[test]
    fn json_roundtrip_of_structures() {
        let v = json!({"a": [1, "x", true, null], "b": {"c": 2.5}});
        let a = ArgValue::from_json(&v).unwrap_or(ArgValue::Null);
        assert_eq!(a.to_json(), v);
    }

    #[test]
    fn cbor_untagged_rules() {
        let big = Value::Integer(Integer::from(u64::MAX));
        assert_eq!(
            ArgValue::from_cbor(&big),
            Ok(ArgValue::Float(u64::MAX as f64))
        );
        assert_eq!(
            ArgValue::from_cbor(&Value::Bytes(b"hi".to_vec())),
            Ok(ArgValue::String("hi".into()))
        );
        assert!(ArgValue::from_cbor(&Value::Bytes(vec![0xff])).is_err());
        assert!(ArgValue::from_cbor(&Value::Tag(1, Box::new(Value::Null))).is_err());
        let nested_tag = Value::Array(vec![Value::Tag(0, Box::new(Value::Bool(true)))]);
        assert!(ArgValue::from_cbor(&nested_tag).is_err());
        let int_key = Value::Map(vec![(Value::Integer(1.into()), Value::Null)]);
        assert!(ArgValue::from_cbor(&int_key).is_err());
    }

    #[test]
    fn cbor_duplicate_keys_last_wins() {
        let m = Value::Map(vec![
            (Value::Text("k".into()), Value::Integer(1.into())),
            (Value::Text("k".into()), Value::Integer(2.into())),
        ]);
        let expected: BTreeMap<String, ArgValue> = [("k".to_owned(), ArgValue::Integer(2))].into();
        assert_eq!(ArgValue::from_cbor(&m), Ok(ArgValue::Object(expected)));
    }

    #[test]
    fn equality_follows_f64_and_variant_rules() {
        assert_ne!(ArgValue::Integer(1), ArgValue::Float(1.0));
        assert_ne!(ArgValue::Float(f64::NAN), ArgValue::Float(f64::NAN));
        assert_eq!(ArgValue::Float(0.0), ArgValue::Float(-0.0));
    }
}
