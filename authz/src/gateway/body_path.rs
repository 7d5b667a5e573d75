//! JSON body dot paths ([`BodyPath`]) and the JSON → [`ArgValue`] conversion
//! used for extracted values.
//!
//! Path syntax, split on `.` with no escaping:
//! * a segment that parses as an unsigned integer (`0`, `007`, `+1`) indexes
//!   an array, and finds nothing in an object;
//! * `*` maps the rest of the path over every array item, collecting the items
//!   that yield a value into a list (nothing at all if no item does, or if the
//!   value is not an array);
//! * anything else (also the empty segment) is an object key.
//!
//! Number conversion keeps the JSON's own kind ([`ArgValue::from_json`]):
//! integers that fit `i64` stay integers, larger unsigned integers become their
//! decimal text (so no precision is lost), everything else is a float (`150.0`
//! stays a float), as the reference gateway reads them.

use serde_json::Value;

use crate::constraint::ArgValue;

/// Deepest JSON nesting walked. `serde_json` already refuses to parse bodies
/// nested deeper than 128, so this only guards values built elsewhere.
pub const MAX_JSON_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Field(Box<str>),
    Index(usize),
    Wildcard,
}

/// A precompiled dot path into a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPath {
    segments: Box<[Segment]>,
    has_wildcard: bool,
}

impl BodyPath {
    /// Compiles a dot path. Every string is a valid path.
    pub fn compile(path: &str) -> Self {
        let segments: Box<[Segment]> = path
            .split('.')
            .map(|s| {
                if s == "*" {
                    Segment::Wildcard
                } else if let Ok(i) = s.parse::<usize>() {
                    Segment::Index(i)
                } else {
                    Segment::Field(s.into())
                }
            })
            .collect();
        let has_wildcard = segments.contains(&Segment::Wildcard);
        Self {
            segments,
            has_wildcard,
        }
    }

    /// Whether the path contains a `*` segment (and so may yield a list).
    pub fn has_wildcard(&self) -> bool {
        self.has_wildcard
    }

    /// The value at this path in `body`, converted, if any.
    pub fn extract(&self, body: &Value) -> Option<ArgValue> {
        walk(body, &self.segments, 0)
    }
}

fn walk(value: &Value, segments: &[Segment], depth: usize) -> Option<ArgValue> {
    if depth > MAX_JSON_DEPTH {
        return None;
    }
    let Some((first, rest)) = segments.split_first() else {
        return Some(json_to_arg(value));
    };
    match first {
        Segment::Field(name) => walk(value.as_object()?.get(&**name)?, rest, depth + 1),
        Segment::Index(i) => walk(value.as_array()?.get(*i)?, rest, depth + 1),
        Segment::Wildcard => {
            let items: Vec<ArgValue> = value
                .as_array()?
                .iter()
                .filter_map(|item| walk(item, rest, depth + 1))
                .collect();
            if items.is_empty() {
                None
            } else {
                Some(ArgValue::List(items))
            }
        }
    }
}

/// Converts a JSON value with [`ArgValue::from_json`]'s rules (numbers keep the
/// kind they were written with). Values nested deeper than
/// [`crate::constraint::MAX_VALUE_DEPTH`] become `Null`; `serde_json` refuses to
/// parse bodies that deep, so only values built elsewhere could reach it.
pub fn json_to_arg(value: &Value) -> ArgValue {
    ArgValue::from_json(value).unwrap_or(ArgValue::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn get(body: &Value, path: &str) -> Option<ArgValue> {
        BodyPath::compile(path).extract(body)
    }

    #[test]
    fn fields_indices_wildcards() {
        let body = json!({
            "spec": {"replicas": 5, "image": "nginx"},
            "items": [{"id": "a", "cost": 1.5}, {"id": "b"}, {"x": 1}],
        });
        assert_eq!(get(&body, "spec.replicas"), Some(ArgValue::Integer(5)));
        assert_eq!(get(&body, "items.1.id"), Some(ArgValue::String("b".into())));
        assert_eq!(
            get(&body, "items.+1.id"),
            Some(ArgValue::String("b".into()))
        );
        assert_eq!(
            get(&body, "items.*.id"),
            Some(ArgValue::List(vec![
                ArgValue::String("a".into()),
                ArgValue::String("b".into())
            ]))
        );
        assert_eq!(get(&body, "items.*.nope"), None);
        assert_eq!(get(&body, "spec.*"), None);
        assert_eq!(get(&body, "items.9"), None);
        assert_eq!(get(&body, "spec.0"), None);
        assert_eq!(get(&body, "missing"), None);
        assert_eq!(get(&Value::Null, "a"), None);
    }

    #[test]
    fn numeric_keys_only_index_arrays() {
        let body = json!({"m": {"0": "zero"}});
        assert_eq!(get(&body, "m.0"), None);
    }

    #[test]
    fn numbers_keep_their_kind() {
        let body = json!({"f": 150.0, "big": u64::MAX, "neg": -3, "e": 1e3});
        assert_eq!(get(&body, "f"), Some(ArgValue::Float(150.0)));
        assert_eq!(
            get(&body, "big"),
            Some(ArgValue::String(u64::MAX.to_string()))
        );
        assert_eq!(get(&body, "neg"), Some(ArgValue::Integer(-3)));
        assert_eq!(get(&body, "e"), Some(ArgValue::Float(1000.0)));
    }

    #[test]
    fn whole_objects_and_nulls() {
        let body = json!({"meta": {"owner": "x", "n": null}});
        let mut m = BTreeMap::new();
        m.insert("n".to_owned(), ArgValue::Null);
        m.insert("owner".to_owned(), ArgValue::String("x".into()));
        assert_eq!(get(&body, "meta"), Some(ArgValue::Object(m)));
        assert_eq!(get(&body, "meta.n"), Some(ArgValue::Null));
    }

    #[test]
    fn long_paths_on_shallow_bodies_stop_early() {
        let path = vec!["a"; 10_000].join(".");
        assert_eq!(get(&json!({"a": {"a": 1}}), &path), None);
    }
}
