//! Constraint wire codec: `[type_id, payload]` ⇄ [`Constraint`].
//!
//! Payload shapes by type id (maps have text keys, written in this order):
//!
//! | id | type | payload |
//! |---|---|---|
//! | 1 | Exact | `{"value": v}` |
//! | 2 | Pattern | `{"pattern": text}` |
//! | 3 | Range | `{"min": f\|null, "max": f\|null, "min_inclusive": bool, "max_inclusive": bool}` |
//! | 4 | OneOf | `{"values": [v]}` |
//! | 5 | Regex | `{"pattern": text}` |
//! | 7 | NotOneOf | `{"excluded": [v]}` |
//! | 8 | Cidr | `text` |
//! | 9 | UrlPattern | `text` |
//! | 10 | Contains | `{"required": [v]}` |
//! | 11 | Subset | `{"allowed": [v]}` |
//! | 12 | All | `{"constraints": [c]}` |
//! | 13 | Any | `{"constraints": [c]}` |
//! | 14 | Not | `{"constraint": c}` |
//! | 15 | Cel | `{"expression": text, "parent_expression"?: text}` |
//! | 16 | Wildcard | `null` |
//! | 17 | Subpath | `{"root": text, "case_sensitive": bool, "allow_equal": bool}` |
//! | 18 | UrlSafe | 9 keys, see `url_safe.rs` |
//! | 128 | Shlex | `{"allow": [text]}` |
//! | other (incl. 6) | Unknown | any item, kept verbatim |
//!
//! Input acceptance follows the reference's serde rules (see `codec.rs`);
//! output is what the reference's `Serialize` produces.

use ciborium::Value;

use super::cidr::Cidr;
use super::codec::{self, Elem};
use super::error::ConstraintDecodeError as E;
use super::extension::Cel;
use super::pattern::Pattern;
use super::range::Range;
use super::regex::RegexConstraint;
use super::shlex::Shlex;
use super::subpath::Subpath;
use super::url_pattern::UrlPattern;
use super::url_safe::{default_schemes, UrlSafe};
use super::value::ArgValue;
use super::{type_id as id, Constraint, MAX_CONSTRAINT_DEPTH};

pub(crate) fn decode(v: &Value, level: usize) -> Result<Constraint, E> {
    decode_elem(Elem::Item(v), level)
}

fn values(v: &Value, context: &'static str) -> Result<Vec<ArgValue>, E> {
    codec::seq(v, context)?
        .into_iter()
        .map(ArgValue::from_elem)
        .collect()
}

fn one_field<'a>(
    payload: Elem<'a>,
    context: &'static str,
    name: &'static str,
) -> Result<&'a Value, E> {
    let [slot] = codec::fields(payload, context, [name])?;
    codec::required(slot, context, name)
}

fn flag(slot: Option<&Value>, context: &'static str, default: bool) -> Result<bool, E> {
    slot.map_or(Ok(default), |v| codec::boolean(v, context))
}

fn finite_bound(slot: Option<&Value>) -> Result<Option<f64>, E> {
    let bound = match slot {
        None => None,
        Some(v) => codec::option(v, |x| codec::float(x, "Range bound"))?,
    };
    if bound.is_some_and(|b| !b.is_finite()) {
        return Err(E::NonFiniteBound);
    }
    Ok(bound)
}

fn decode_elem(elem: Elem<'_>, level: usize) -> Result<Constraint, E> {
    if level > MAX_CONSTRAINT_DEPTH {
        return Err(E::DepthExceeded {
            depth: level,
            max: MAX_CONSTRAINT_DEPTH,
        });
    }
    let Elem::Item(v) = elem else {
        return Err(E::UnexpectedType {
            context: "constraint",
            expected: "array",
        });
    };
    let items = codec::seq(v, "constraint")?;
    let [first, payload] = items.as_slice() else {
        return Err(E::InvalidLength);
    };
    let tid = codec::unsigned(*first, u64::from(u8::MAX), "constraint type id")?;
    let tid = u8::try_from(tid).map_err(|_| E::IntegerOutOfRange {
        context: "constraint type id",
    })?;
    let payload = *payload;
    let c = match tid {
        id::EXACT => Constraint::Exact(ArgValue::from_cbor(one_field(payload, "Exact", "value")?)?),
        id::PATTERN => Constraint::Pattern(Pattern::from_wire(
            codec::text(
                Elem::Item(one_field(payload, "Pattern", "pattern")?),
                "Pattern",
            )?
            .to_owned(),
        )),
        id::RANGE => {
            let [min, max, min_inc, max_inc] = codec::fields(
                payload,
                "Range",
                ["min", "max", "min_inclusive", "max_inclusive"],
            )?;
            let min = finite_bound(min)?;
            let max = finite_bound(max)?;
            let min_inc =
                codec::boolean(codec::required(min_inc, "Range", "min_inclusive")?, "Range")?;
            let max_inc =
                codec::boolean(codec::required(max_inc, "Range", "max_inclusive")?, "Range")?;
            Constraint::Range(Range::from_parts(min, max, min_inc, max_inc))
        }
        id::ONE_OF => Constraint::OneOf(values(one_field(payload, "OneOf", "values")?, "OneOf")?),
        id::REGEX => Constraint::Regex(Box::new(RegexConstraint::from_wire(
            codec::text(Elem::Item(one_field(payload, "Regex", "pattern")?), "Regex")?.to_owned(),
        ))),
        id::NOT_ONE_OF => Constraint::NotOneOf(values(
            one_field(payload, "NotOneOf", "excluded")?,
            "NotOneOf",
        )?),
        id::CIDR => {
            let text = codec::text(payload, "Cidr")?;
            Constraint::Cidr(Cidr::new(text).map_err(|_| E::InvalidCidr {
                cidr: text.to_owned(),
            })?)
        }
        id::URL_PATTERN => {
            let text = codec::text(payload, "UrlPattern")?;
            Constraint::UrlPattern(Box::new(UrlPattern::from_wire(text).map_err(|reason| {
                E::InvalidUrlPattern {
                    pattern: text.to_owned(),
                    reason,
                }
            })?))
        }
        id::CONTAINS => Constraint::Contains(values(
            one_field(payload, "Contains", "required")?,
            "Contains",
        )?),
        id::SUBSET => {
            Constraint::Subset(values(one_field(payload, "Subset", "allowed")?, "Subset")?)
        }
        id::ALL | id::ANY => {
            let context = if tid == id::ALL { "All" } else { "Any" };
            let inner = codec::seq(one_field(payload, context, "constraints")?, context)?
                .into_iter()
                .map(|e| decode_elem(e, level + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if tid == id::ALL {
                Constraint::All(inner)
            } else {
                Constraint::Any(inner)
            }
        }
        id::NOT => Constraint::Not(Box::new(decode(
            one_field(payload, "Not", "constraint")?,
            level + 1,
        )?)),
        id::CEL => {
            let [expr, parent] =
                codec::fields(payload, "Cel", ["expression", "parent_expression"])?;
            let expression = codec::text(
                Elem::Item(codec::required(expr, "Cel", "expression")?),
                "Cel",
            )?;
            let parent_expression = match parent {
                None => None,
                Some(p) => codec::option(p, |x| codec::text(Elem::Item(x), "Cel"))?,
            };
            Constraint::Cel(Box::new(Cel {
                expression: expression.to_owned(),
                parent_expression: parent_expression.map(str::to_owned),
            }))
        }
        id::WILDCARD => {
            codec::unit(payload, "Wildcard")?;
            Constraint::Wildcard
        }
        id::SUBPATH => {
            let [root, cs, ae] = codec::fields(
                payload,
                "Subpath",
                ["root", "case_sensitive", "allow_equal"],
            )?;
            let root = codec::text(
                Elem::Item(codec::required(root, "Subpath", "root")?),
                "Subpath",
            )?;
            Constraint::Subpath(Subpath {
                root: root.to_owned(),
                case_sensitive: flag(cs, "Subpath", true)?,
                allow_equal: flag(ae, "Subpath", true)?,
            })
        }
        id::URL_SAFE => Constraint::UrlSafe(Box::new(decode_url_safe(payload)?)),
        id::SHLEX => Constraint::Shlex(Shlex {
            allow: codec::text_list(one_field(payload, "Shlex", "allow")?, "Shlex")?,
        }),
        other => Constraint::Unknown {
            type_id: other,
            payload: match payload {
                Elem::Item(v) => normalize_unknown(v)?,
                Elem::Byte(b) => codec::uint(u64::from(b)),
            },
        },
    };
    let depth = c.depth();
    if depth > MAX_CONSTRAINT_DEPTH {
        return Err(E::DepthExceeded {
            depth,
            max: MAX_CONSTRAINT_DEPTH,
        });
    }
    Ok(c)
}

/// The reference stores an unknown payload as CBOR bytes and re-reads them
/// when encoding, so its output is `decode(encode(item))` (e.g. a small
/// bignum tag becomes a plain integer). Reproduce that round trip.
fn normalize_unknown(v: &Value) -> Result<Value, E> {
    let unrepresentable = || E::UnrepresentableValue {
        reason: "unknown constraint payload does not round-trip",
    };
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(v, &mut bytes).map_err(|_| unrepresentable())?;
    ciborium::de::from_reader(bytes.as_slice()).map_err(|_| unrepresentable())
}

fn decode_url_safe(payload: Elem<'_>) -> Result<UrlSafe, E> {
    const CTX: &str = "UrlSafe";
    let [schemes, allow, deny, ports, private, loopback, metadata, reserved, tlds] = codec::fields(
        payload,
        CTX,
        [
            "schemes",
            "allow_domains",
            "deny_domains",
            "allow_ports",
            "block_private",
            "block_loopback",
            "block_metadata",
            "block_reserved",
            "block_internal_tlds",
        ],
    )?;
    let opt_list = |slot: Option<&Value>| -> Result<Option<Vec<String>>, E> {
        match slot {
            None => Ok(None),
            Some(v) => codec::option(v, |x| codec::text_list(x, CTX)),
        }
    };
    let allow_ports = match ports {
        None => None,
        Some(v) => codec::option(v, |x| {
            codec::seq(x, CTX)?
                .into_iter()
                .map(|e| {
                    codec::unsigned(e, u64::from(u16::MAX), CTX).and_then(|n| {
                        u16::try_from(n).map_err(|_| E::IntegerOutOfRange { context: CTX })
                    })
                })
                .collect::<Result<Vec<u16>, E>>()
        })?,
    };
    Ok(UrlSafe {
        schemes: match schemes {
            None => default_schemes(),
            Some(v) => codec::text_list(v, CTX)?,
        },
        allow_domains: opt_list(allow)?,
        deny_domains: opt_list(deny)?,
        allow_ports,
        block_private: flag(private, CTX, true)?,
        block_loopback: flag(loopback, CTX, true)?,
        block_metadata: flag(metadata, CTX, true)?,
        block_reserved: flag(reserved, CTX, true)?,
        block_internal_tlds: flag(tlds, CTX, false)?,
    })
}

fn value_array(vs: &[ArgValue]) -> Value {
    Value::Array(vs.iter().map(ArgValue::to_cbor).collect())
}

fn opt_text_array(v: &Option<Vec<String>>) -> Value {
    v.as_deref().map_or(Value::Null, codec::text_array)
}

pub(crate) fn encode(c: &Constraint) -> Value {
    let payload = match c {
        Constraint::Exact(v) => codec::map(vec![("value", v.to_cbor())]),
        Constraint::Pattern(p) => codec::map(vec![("pattern", Value::Text(p.as_str().to_owned()))]),
        Constraint::Range(r) => codec::map(vec![
            ("min", codec::opt_float(r.min())),
            ("max", codec::opt_float(r.max())),
            ("min_inclusive", Value::Bool(r.min_inclusive())),
            ("max_inclusive", Value::Bool(r.max_inclusive())),
        ]),
        Constraint::OneOf(vs) => codec::map(vec![("values", value_array(vs))]),
        Constraint::Regex(r) => codec::map(vec![("pattern", Value::Text(r.as_str().to_owned()))]),
        Constraint::NotOneOf(vs) => codec::map(vec![("excluded", value_array(vs))]),
        Constraint::Cidr(c) => Value::Text(c.as_str().to_owned()),
        Constraint::UrlPattern(u) => Value::Text(u.as_str().to_owned()),
        Constraint::Contains(vs) => codec::map(vec![("required", value_array(vs))]),
        Constraint::Subset(vs) => codec::map(vec![("allowed", value_array(vs))]),
        Constraint::All(cs) | Constraint::Any(cs) => codec::map(vec![(
            "constraints",
            Value::Array(cs.iter().map(encode).collect()),
        )]),
        Constraint::Not(inner) => codec::map(vec![("constraint", encode(inner))]),
        Constraint::Cel(cel) => {
            let mut entries = vec![("expression", Value::Text(cel.expression.clone()))];
            if let Some(p) = &cel.parent_expression {
                entries.push(("parent_expression", Value::Text(p.clone())));
            }
            codec::map(entries)
        }
        Constraint::Wildcard => Value::Null,
        Constraint::Subpath(s) => codec::map(vec![
            ("root", Value::Text(s.root.clone())),
            ("case_sensitive", Value::Bool(s.case_sensitive)),
            ("allow_equal", Value::Bool(s.allow_equal)),
        ]),
        Constraint::UrlSafe(u) => codec::map(vec![
            ("schemes", codec::text_array(&u.schemes)),
            ("allow_domains", opt_text_array(&u.allow_domains)),
            ("deny_domains", opt_text_array(&u.deny_domains)),
            (
                "allow_ports",
                u.allow_ports.as_ref().map_or(Value::Null, |ps| {
                    Value::Array(ps.iter().map(|p| codec::uint(u64::from(*p))).collect())
                }),
            ),
            ("block_private", Value::Bool(u.block_private)),
            ("block_loopback", Value::Bool(u.block_loopback)),
            ("block_metadata", Value::Bool(u.block_metadata)),
            ("block_reserved", Value::Bool(u.block_reserved)),
            ("block_internal_tlds", Value::Bool(u.block_internal_tlds)),
        ]),
        Constraint::Shlex(s) => codec::map(vec![("allow", codec::text_array(&s.allow))]),
        Constraint::Unknown { payload, .. } => payload.clone(),
    };
    Value::Array(vec![codec::uint(u64::from(c.type_id())), payload])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(tid: u64, payload: Value) -> Value {
        Value::Array(vec![codec::uint(tid), payload])
    }

    #[test]
    fn roundtrip_every_type() {
        let cs = vec![
            Constraint::Wildcard,
            Constraint::pattern("/data/*").expect("ok"),
            Constraint::regex("^a$").expect("ok"),
            Constraint::exact(5),
            Constraint::one_of(["a", "b"]),
            Constraint::not_one_of([1, 2]),
            Constraint::range(Some(0.5), None).expect("ok"),
            Constraint::cidr("10.0.0.0/8").expect("ok"),
            Constraint::url_pattern("https://*.x.com/api/*").expect("ok"),
            Constraint::contains(["a"]),
            Constraint::subset(["a"]),
            Constraint::all(vec![Constraint::Wildcard]).expect("ok"),
            Constraint::any(vec![]).expect("ok"),
            Constraint::not(Constraint::exact(true)).expect("ok"),
            Constraint::cel("a > 1"),
            Constraint::subpath("/data").expect("ok"),
            Constraint::url_safe(UrlSafe::new()).expect("ok"),
            Constraint::shlex(["ls"]),
            Constraint::Unknown {
                type_id: 77,
                payload: Value::Text("future".into()),
            },
        ];
        for c in cs {
            let wire = c.to_cbor();
            let back = Constraint::from_cbor(&wire, 0).expect("decodes");
            assert_eq!(back.to_cbor(), wire, "{c}");
        }
    }

    #[test]
    fn lenient_shapes_the_reference_accepts() {
        // Defaults for Subpath flags and UrlSafe fields.
        let sub = arr(17, codec::map(vec![("root", Value::Text("/d/".into()))]));
        assert!(matches!(decode(&sub, 0), Ok(Constraint::Subpath(_))));
        let us = arr(18, codec::map(vec![]));
        assert!(matches!(decode(&us, 0), Ok(Constraint::UrlSafe(_))));
        // Byte string as the constraint array: unknown type with u8 payload.
        let bytes = Value::Bytes(vec![99, 5]);
        assert!(matches!(
            decode(&bytes, 0),
            Ok(Constraint::Unknown { type_id: 99, .. })
        ));
        // Invalid glob decodes (fails only on evaluation).
        let bad_glob = arr(2, codec::map(vec![("pattern", Value::Text("[".into()))]));
        assert!(decode(&bad_glob, 0).is_ok());
    }

    #[test]
    fn rejections() {
        assert!(decode(&arr(16, Value::Bool(true)), 0).is_err());
        assert!(decode(&Value::Array(vec![codec::uint(16)]), 0).is_err());
        assert!(decode(
            &Value::Array(vec![codec::uint(16), Value::Null, Value::Null]),
            0
        )
        .is_err());
        assert!(decode(&arr(256, Value::Null), 0).is_err());
        let range_int = arr(
            3,
            codec::map(vec![
                ("min", codec::uint(1)),
                ("min_inclusive", Value::Bool(true)),
                ("max_inclusive", Value::Bool(true)),
            ]),
        );
        assert!(decode(&range_int, 0).is_err());
        let range_missing_flag = arr(3, codec::map(vec![("min_inclusive", Value::Bool(true))]));
        assert!(decode(&range_missing_flag, 0).is_err());
        assert!(decode(&arr(8, Value::Text("nope".into())), 0).is_err());
        assert!(decode(&arr(9, Value::Text("nope".into())), 0).is_err());
        let extra = arr(
            2,
            codec::map(vec![
                ("pattern", Value::Text("a".into())),
                ("x", Value::Null),
            ]),
        );
        assert!(matches!(decode(&extra, 0), Err(E::UnknownField { .. })));
    }

    #[test]
    fn depth_limit_matches_reference() {
        let mut v = arr(16, Value::Null);
        for _ in 0..MAX_CONSTRAINT_DEPTH {
            v = arr(14, codec::map(vec![("constraint", v)]));
        }
        assert!(decode(&v, 0).is_ok());
        let deeper = arr(14, codec::map(vec![("constraint", v.clone())]));
        assert!(decode(&deeper, 0).is_err());
        // An empty All at the deepest level adds one more: rejected.
        let mut w = arr(12, codec::map(vec![("constraints", Value::Array(vec![]))]));
        for _ in 0..MAX_CONSTRAINT_DEPTH {
            w = arr(14, codec::map(vec![("constraint", w)]));
        }
        assert!(decode(&w, 0).is_err());
    }
}
