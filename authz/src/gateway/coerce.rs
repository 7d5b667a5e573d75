//! Declared argument types ([`TypeHint`]) and the optional coercion of
//! extracted values to them.
//!
//! The reference gateway parses a rule's `type` but never applies it: path,
//! query and header values are always strings and body values keep their JSON
//! kind. That is the default here too (so extraction equals the reference's).
//! With [`super::GatewayOptions::coerce_types`] set, values are converted to
//! the declared type, or the request is refused:
//!
//! | type      | accepts                                                     |
//! |-----------|-------------------------------------------------------------|
//! | `integer` | integers; strings holding an `i64` in decimal               |
//! | `float`   | floats; integers; strings holding a finite decimal number   |
//! | `boolean` | booleans; the strings `true` and `false`                    |
//! | `string`  | strings; integers, floats and booleans (as their text)      |
//! | `list`    | lists                                                       |
//!
//! Any other `type` text is kept as [`TypeHint::Other`] and checks nothing.
//! For a path with a `*` segment and a scalar type, each list item is coerced.

use std::fmt;

use crate::constraint::ArgValue;

/// A rule's declared `type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeHint {
    /// `integer`
    Integer,
    /// `float`
    Float,
    /// `boolean`
    Boolean,
    /// `string`
    String,
    /// `list`
    List,
    /// Any other text: accepted, never enforced.
    Other(Box<str>),
}

impl TypeHint {
    /// Reads a `type` value. Never fails: unknown names become `Other`.
    pub fn parse(name: &str) -> Self {
        match name {
            "integer" => TypeHint::Integer,
            "float" => TypeHint::Float,
            "boolean" => TypeHint::Boolean,
            "string" => TypeHint::String,
            "list" => TypeHint::List,
            other => TypeHint::Other(other.into()),
        }
    }

    /// Whether this is one of the five scalar/list types (not `Other`).
    pub fn is_known(&self) -> bool {
        !matches!(self, TypeHint::Other(_))
    }
}

impl fmt::Display for TypeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TypeHint::Integer => "integer",
            TypeHint::Float => "float",
            TypeHint::Boolean => "boolean",
            TypeHint::String => "string",
            TypeHint::List => "list",
            TypeHint::Other(s) => s,
        })
    }
}

/// The kind name of a value, for error messages.
pub fn kind_of(v: &ArgValue) -> &'static str {
    match v {
        ArgValue::String(_) => "string",
        ArgValue::Integer(_) => "integer",
        ArgValue::Float(_) => "float",
        ArgValue::Bool(_) => "boolean",
        ArgValue::List(_) => "list",
        ArgValue::Object(_) => "object",
        ArgValue::Null => "null",
    }
}

/// Converts `value` to `hint`; on failure returns the kind that did not fit.
/// `per_item` coerces each item of a list instead (wildcard paths).
pub fn coerce(value: ArgValue, hint: &TypeHint, per_item: bool) -> Result<ArgValue, &'static str> {
    if per_item && !matches!(hint, TypeHint::List) {
        if let ArgValue::List(items) = value {
            return items
                .into_iter()
                .map(|v| coerce_one(v, hint))
                .collect::<Result<Vec<_>, _>>()
                .map(ArgValue::List);
        }
    }
    coerce_one(value, hint)
}

fn coerce_one(value: ArgValue, hint: &TypeHint) -> Result<ArgValue, &'static str> {
    let kind = kind_of(&value);
    match (hint, value) {
        (TypeHint::Other(_), v) => Ok(v),
        (TypeHint::Integer, v @ ArgValue::Integer(_)) => Ok(v),
        (TypeHint::Integer, ArgValue::String(s)) => {
            s.parse::<i64>().map(ArgValue::Integer).map_err(|_| kind)
        }
        (TypeHint::Float, v @ ArgValue::Float(_)) => Ok(v),
        (TypeHint::Float, ArgValue::Integer(i)) => Ok(ArgValue::Float(i as f64)),
        (TypeHint::Float, ArgValue::String(s)) => match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(ArgValue::Float(f)),
            _ => Err(kind),
        },
        (TypeHint::Boolean, v @ ArgValue::Bool(_)) => Ok(v),
        (TypeHint::Boolean, ArgValue::String(s)) => match s.as_str() {
            "true" => Ok(ArgValue::Bool(true)),
            "false" => Ok(ArgValue::Bool(false)),
            _ => Err(kind),
        },
        (TypeHint::String, v @ ArgValue::String(_)) => Ok(v),
        (TypeHint::String, ArgValue::Integer(i)) => Ok(ArgValue::String(i.to_string())),
        (TypeHint::String, ArgValue::Float(f)) => Ok(ArgValue::String(f.to_string())),
        (TypeHint::String, ArgValue::Bool(b)) => Ok(ArgValue::String(b.to_string())),
        (TypeHint::List, v @ ArgValue::List(_)) => Ok(v),
        _ => Err(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> ArgValue {
        ArgValue::String(x.into())
    }

    #[test]
    fn parse_and_display() {
        for n in ["integer", "float", "boolean", "string", "list"] {
            let h = TypeHint::parse(n);
            assert!(h.is_known());
            assert_eq!(h.to_string(), n);
        }
        assert_eq!(TypeHint::parse("int"), TypeHint::Other("int".into()));
    }

    #[test]
    fn string_sources() {
        assert_eq!(
            coerce(s("42"), &TypeHint::Integer, false),
            Ok(ArgValue::Integer(42))
        );
        assert_eq!(
            coerce(s("4.5"), &TypeHint::Float, false),
            Ok(ArgValue::Float(4.5))
        );
        assert_eq!(
            coerce(s("true"), &TypeHint::Boolean, false),
            Ok(ArgValue::Bool(true))
        );
        assert_eq!(coerce(s("x"), &TypeHint::Integer, false), Err("string"));
        assert_eq!(coerce(s(" 1"), &TypeHint::Integer, false), Err("string"));
        assert_eq!(coerce(s("inf"), &TypeHint::Float, false), Err("string"));
        assert_eq!(coerce(s("yes"), &TypeHint::Boolean, false), Err("string"));
        assert_eq!(coerce(s("x"), &TypeHint::List, false), Err("string"));
    }

    #[test]
    fn json_sources() {
        assert_eq!(
            coerce(ArgValue::Integer(2), &TypeHint::Float, false),
            Ok(ArgValue::Float(2.0))
        );
        assert_eq!(
            coerce(ArgValue::Float(2.5), &TypeHint::Integer, false),
            Err("float")
        );
        assert_eq!(
            coerce(ArgValue::Integer(7), &TypeHint::String, false),
            Ok(s("7"))
        );
        assert_eq!(
            coerce(ArgValue::Null, &TypeHint::String, false),
            Err("null")
        );
        assert_eq!(
            coerce(ArgValue::Null, &TypeHint::Other("x".into()), false),
            Ok(ArgValue::Null)
        );
    }

    #[test]
    fn per_item_for_wildcards() {
        let l = ArgValue::List(vec![s("1"), ArgValue::Integer(2)]);
        assert_eq!(
            coerce(l.clone(), &TypeHint::Integer, true),
            Ok(ArgValue::List(vec![
                ArgValue::Integer(1),
                ArgValue::Integer(2)
            ]))
        );
        assert_eq!(coerce(l.clone(), &TypeHint::Integer, false), Err("list"));
        assert_eq!(coerce(l.clone(), &TypeHint::List, true), Ok(l));
    }
}
