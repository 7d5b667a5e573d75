//! Low-level CBOR reading helpers that reproduce what the reference accepts
//! when it deserializes constraints with serde + ciborium 0.2.
//!
//! The reference decodes the signed payload bytes straight into its types, so
//! its acceptance rules are those of ciborium's serde `Deserializer` combined
//! with serde-derive. We receive an already-parsed [`ciborium::Value`] and
//! re-apply the same rules here:
//!
//! * tags are skipped transparently by every typed read (ciborium `continue`s
//!   past `Header::Tag`), except that bignum tags 2/3 over a byte string are
//!   read as integers;
//! * a sequence may be a CBOR array **or** a byte string whose bytes act as
//!   `u8` elements (ciborium's `deserialize_seq` accepts both);
//! * structs are maps only; field names may be text or byte strings; unknown
//!   and duplicate fields are errors (`deny_unknown_fields`);
//! * `f64` fields accept only CBOR floats (no integers); `Option` is `None`
//!   only for a bare `null` (an untagged null);
//! * strings are text only (byte strings are rejected).

use ciborium::value::{Integer, Value};

use super::error::ConstraintDecodeError as E;

/// One element of a sequence: a full CBOR item, or a byte from a byte string
/// that stands in for a sequence (read like serde's `u8` deserializer).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Elem<'a> {
    /// An item of a CBOR array.
    Item(&'a Value),
    /// A byte of a byte string read as a sequence.
    Byte(u8),
}

/// Skip any tags wrapping `v`.
pub(crate) fn untag(mut v: &Value) -> &Value {
    while let Value::Tag(_, inner) = v {
        v = inner;
    }
    v
}

/// Read a sequence (array or byte string).
pub(crate) fn seq<'a>(v: &'a Value, context: &'static str) -> Result<Vec<Elem<'a>>, E> {
    match untag(v) {
        Value::Array(items) => Ok(items.iter().map(Elem::Item).collect()),
        Value::Bytes(bytes) => Ok(bytes.iter().copied().map(Elem::Byte).collect()),
        _ => Err(E::UnexpectedType {
            context,
            expected: "array",
        }),
    }
}

/// Read an integer the way ciborium's `integer()` does: skip tags, accept
/// bignum tags over byte strings of at most 16 significant bytes.
pub(crate) fn integer(v: &Value, context: &'static str) -> Result<i128, E> {
    let mut cur = v;
    loop {
        match cur {
            Value::Integer(i) => return Ok(i128::from(*i)),
            Value::Tag(tag @ (2 | 3), inner) => {
                let Value::Bytes(bytes) = inner.as_ref() else {
                    return Err(E::UnexpectedType {
                        context,
                        expected: "bignum bytes",
                    });
                };
                let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
                if significant.len() > 16 {
                    return Err(E::IntegerOutOfRange { context });
                }
                let mut raw: u128 = 0;
                for b in significant {
                    raw = (raw << 8) | u128::from(b);
                }
                if *tag == 2 {
                    return i128::try_from(raw).map_err(|_| E::IntegerOutOfRange { context });
                }
                // Negative bignum: -1 - raw. ciborium limits the magnitude so
                // that the value fits the 64-bit deserializers; anything beyond
                // i128 is out of range for every caller anyway.
                let raw = i128::try_from(raw).map_err(|_| E::IntegerOutOfRange { context })?;
                return Ok(-1 - raw);
            }
            Value::Tag(_, inner) => cur = inner,
            _ => {
                return Err(E::UnexpectedType {
                    context,
                    expected: "integer",
                })
            }
        }
    }
}

/// Read an unsigned integer into the range `0..=max`.
pub(crate) fn unsigned(elem: Elem<'_>, max: u64, context: &'static str) -> Result<u64, E> {
    let raw = match elem {
        Elem::Byte(b) => i128::from(b),
        Elem::Item(v) => integer(v, context)?,
    };
    if raw < 0 {
        return Err(E::IntegerOutOfRange { context });
    }
    u64::try_from(raw)
        .ok()
        .filter(|n| *n <= max)
        .ok_or(E::IntegerOutOfRange { context })
}

/// Read a text string (tags skipped; byte strings are not accepted).
pub(crate) fn text<'a>(elem: Elem<'a>, context: &'static str) -> Result<&'a str, E> {
    match elem {
        Elem::Item(v) => match untag(v) {
            Value::Text(s) => Ok(s),
            _ => Err(E::UnexpectedType {
                context,
                expected: "text",
            }),
        },
        Elem::Byte(_) => Err(E::UnexpectedType {
            context,
            expected: "text",
        }),
    }
}

/// Read a boolean.
pub(crate) fn boolean(v: &Value, context: &'static str) -> Result<bool, E> {
    match untag(v) {
        Value::Bool(b) => Ok(*b),
        _ => Err(E::UnexpectedType {
            context,
            expected: "bool",
        }),
    }
}

/// Read a float (CBOR floats only; integers are rejected like ciborium does).
pub(crate) fn float(v: &Value, context: &'static str) -> Result<f64, E> {
    match untag(v) {
        Value::Float(f) => Ok(*f),
        _ => Err(E::UnexpectedType {
            context,
            expected: "float",
        }),
    }
}

/// Read a unit (`null`; tags skipped).
pub(crate) fn unit(elem: Elem<'_>, context: &'static str) -> Result<(), E> {
    match elem {
        Elem::Item(v) if matches!(untag(v), Value::Null) => Ok(()),
        _ => Err(E::UnexpectedType {
            context,
            expected: "null",
        }),
    }
}

/// Read an optional value: only an untagged `null` means `None`.
pub(crate) fn option<'a, T>(
    v: &'a Value,
    read: impl FnOnce(&'a Value) -> Result<T, E>,
) -> Result<Option<T>, E> {
    match v {
        Value::Null => Ok(None),
        other => read(other).map(Some),
    }
}

/// Read a sequence of text strings.
pub(crate) fn text_list(v: &Value, context: &'static str) -> Result<Vec<String>, E> {
    seq(v, context)?
        .into_iter()
        .map(|e| text(e, context).map(str::to_owned))
        .collect()
}

/// Read a struct: a map whose keys are the names in `fields` (text or bytes),
/// each at most once. Returns the value found for each field, by position.
pub(crate) fn fields<'a, const N: usize>(
    elem: Elem<'a>,
    context: &'static str,
    names: [&'static str; N],
) -> Result<[Option<&'a Value>; N], E> {
    let Elem::Item(v) = elem else {
        return Err(E::UnexpectedType {
            context,
            expected: "map",
        });
    };
    let Value::Map(entries) = untag(v) else {
        return Err(E::UnexpectedType {
            context,
            expected: "map",
        });
    };
    let mut out: [Option<&'a Value>; N] = [None; N];
    for (key, value) in entries {
        let key_bytes: &[u8] = match untag(key) {
            Value::Text(s) => s.as_bytes(),
            Value::Bytes(b) => b,
            _ => {
                return Err(E::UnexpectedType {
                    context,
                    expected: "text or bytes field name",
                })
            }
        };
        let Some(index) = names.iter().position(|n| n.as_bytes() == key_bytes) else {
            return Err(E::UnknownField {
                context,
                field: String::from_utf8_lossy(key_bytes).into_owned(),
            });
        };
        let (Some(slot), Some(name)) = (out.get_mut(index), names.get(index)) else {
            return Err(E::UnknownField {
                context,
                field: String::from_utf8_lossy(key_bytes).into_owned(),
            });
        };
        if slot.is_some() {
            return Err(E::DuplicateField {
                context,
                field: name,
            });
        }
        *slot = Some(value);
    }
    Ok(out)
}

/// The value of a required field.
pub(crate) fn required<'a>(
    slot: Option<&'a Value>,
    context: &'static str,
    field: &'static str,
) -> Result<&'a Value, E> {
    slot.ok_or(E::MissingField { context, field })
}

/// Build a text-keyed CBOR map from `(name, value)` pairs, in order.
pub(crate) fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_owned()), v))
            .collect(),
    )
}

/// CBOR for an unsigned integer.
pub(crate) fn uint(n: u64) -> Value {
    Value::Integer(Integer::from(n))
}

/// CBOR for an optional float (`null` when absent).
pub(crate) fn opt_float(f: Option<f64>) -> Value {
    f.map_or(Value::Null, Value::Float)
}

/// CBOR for a list of strings.
pub(crate) fn text_array(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::Text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_skipped_for_typed_reads() {
        let v = Value::Tag(99, Box::new(Value::Text("x".into())));
        assert_eq!(text(Elem::Item(&v), "t").ok(), Some("x"));
        let b = Value::Tag(1, Box::new(Value::Bool(true)));
        assert_eq!(boolean(&b, "t").ok(), Some(true));
    }

    #[test]
    fn bignum_reads_as_integer() {
        let v = Value::Tag(2, Box::new(Value::Bytes(vec![0, 0, 1, 0])));
        assert_eq!(integer(&v, "t").ok(), Some(256));
        let n = Value::Tag(3, Box::new(Value::Bytes(vec![4])));
        assert_eq!(integer(&n, "t").ok(), Some(-5));
    }

    #[test]
    fn byte_string_is_a_sequence_of_u8() {
        let v = Value::Bytes(vec![3, 7]);
        let elems = seq(&v, "t").unwrap_or_default();
        assert_eq!(elems.len(), 2);
        assert_eq!(unsigned(elems[1], 255, "t").ok(), Some(7));
    }

    #[test]
    fn struct_fields_reject_unknown_and_duplicate() {
        let ok = map(vec![("a", Value::Bool(true))]);
        assert!(fields(Elem::Item(&ok), "s", ["a", "b"]).is_ok());
        let unknown = map(vec![("c", Value::Bool(true))]);
        assert!(matches!(
            fields(Elem::Item(&unknown), "s", ["a"]),
            Err(E::UnknownField { .. })
        ));
        let dup = map(vec![("a", Value::Null), ("a", Value::Null)]);
        assert!(matches!(
            fields(Elem::Item(&dup), "s", ["a"]),
            Err(E::DuplicateField { .. })
        ));
        let bytes_key = Value::Map(vec![(Value::Bytes(b"a".to_vec()), Value::Null)]);
        assert!(fields(Elem::Item(&bytes_key), "s", ["a"]).is_ok());
    }

    #[test]
    fn float_rejects_integers_and_option_needs_bare_null() {
        assert!(float(&Value::Integer(1.into()), "f").is_err());
        assert_eq!(option(&Value::Null, |v| float(v, "f")).ok(), Some(None));
        let tagged_null = Value::Tag(1, Box::new(Value::Null));
        assert!(option(&tagged_null, |v| float(v, "f")).is_err());
    }
}
