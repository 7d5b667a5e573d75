//! [`ConstraintSet`]: the per-tool argument rules of a warrant.
//!
//! Wire payload: `{"constraints": {name: constraint, ...}, "allow_unknown":
//! true}`; `allow_unknown` is written only when true and defaults to false
//! on input; `constraints` is required; names are text; entries are written
//! in byte order of the names (the reference's `BTreeMap`).
//!
//! Closed world, as in the reference: a set with at least one constraint and
//! `allow_unknown == false` rejects undeclared arguments; an empty set admits
//! any arguments; every declared argument must be present and satisfy its
//! constraint (a `Wildcard` makes an argument required but unconstrained).
//!
//! # Compatibility note
//! * Duplicate argument names on the wire: every value is decoded (and can
//!   fail decoding), the last one wins.
//! * When several problems exist the reported one follows the reference:
//!   an evaluation that cannot be performed (unsupported type, invalid glob
//!   or regex, empty `All`) wins over everything; otherwise unknown
//!   arguments (sorted) come first, then declared arguments in name order.

use std::collections::BTreeMap;

use ciborium::Value;

use super::codec::{self, Elem};
use super::error::{
    AttenuationError, ConstraintDecodeError as E, ConstraintViolation, Mismatch, ViolationKind,
};
use super::value::ArgValue;
use super::Constraint;
use crate::name_map::NameMap;

/// Constraints keyed by argument name, plus the `allow_unknown` opt-out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConstraintSet {
    constraints: NameMap<Constraint>,
    allow_unknown: bool,
}

impl ConstraintSet {
    /// Empty set (admits any arguments).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add or replace the constraint for `name`; returns the previous one.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        constraint: Constraint,
    ) -> Option<Constraint> {
        self.constraints.insert(name.into(), constraint)
    }

    /// Builder form of [`ConstraintSet::insert`].
    pub fn with(mut self, name: impl Into<String>, constraint: Constraint) -> Self {
        self.insert(name, constraint);
        self
    }

    /// The constraint for `name`.
    pub fn get(&self, name: &str) -> Option<&Constraint> {
        self.constraints.get(name)
    }

    /// Iterate in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Constraint)> {
        self.constraints.iter()
    }

    /// Number of constrained arguments.
    pub fn len(&self) -> usize {
        self.constraints.len()
    }

    /// Whether no argument is constrained.
    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    /// An estimate of the resident bytes the set holds on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.constraints.heap_bytes(Constraint::heap_bytes)
    }

    /// Whether undeclared arguments are admitted.
    pub fn allow_unknown(&self) -> bool {
        self.allow_unknown
    }

    /// Set the `allow_unknown` opt-out.
    pub fn set_allow_unknown(&mut self, allow: bool) {
        self.allow_unknown = allow;
    }

    /// Decode. `depth` is the constraint nesting level at which this set's
    /// constraints sit (0 for a warrant's tool map).
    pub fn from_cbor(v: &Value, depth: usize) -> Result<Self, E> {
        const CTX: &str = "ConstraintSet";
        let [constraints, allow_unknown] =
            codec::fields(Elem::Item(v), CTX, ["constraints", "allow_unknown"])?;
        let Value::Map(entries) = codec::untag(codec::required(constraints, CTX, "constraints")?)
        else {
            return Err(E::UnexpectedType {
                context: CTX,
                expected: "map",
            });
        };
        let out = entries
            .iter()
            .map(|(key, value)| {
                let name = codec::text(Elem::Item(key), CTX)?;
                Ok((name.to_owned(), Constraint::from_cbor(value, depth)?))
            })
            .collect::<Result<NameMap<_>, E>>()?;
        let allow_unknown = match allow_unknown {
            None => false,
            Some(b) => codec::boolean(b, CTX)?,
        };
        Ok(ConstraintSet {
            constraints: out,
            allow_unknown,
        })
    }

    /// Encode as the reference does.
    pub fn to_cbor(&self) -> Value {
        let constraints = Value::Map(
            self.constraints
                .iter()
                .map(|(k, c)| (Value::Text(k.clone()), c.to_cbor()))
                .collect(),
        );
        let mut entries = vec![("constraints", constraints)];
        if self.allow_unknown {
            entries.push(("allow_unknown", Value::Bool(true)));
        }
        codec::map(entries)
    }

    /// Check a call's arguments; `Err` carries the first violation (see the
    /// module doc for which one).
    pub fn check_args(&self, args: &BTreeMap<String, ArgValue>) -> Result<(), ConstraintViolation> {
        let closed_world = !self.constraints.is_empty() && !self.allow_unknown;
        let mut first: Option<ConstraintViolation> = None;
        if closed_world {
            first = args
                .iter()
                .find(|(name, _)| !self.constraints.contains_key(*name))
                .map(|(name, value)| ConstraintViolation {
                    argument: name.clone(),
                    expected: "no such argument (closed world)".to_owned(),
                    actual: Some(value.to_plain_string()),
                    kind: ViolationKind::Unknown,
                });
        }
        for (name, constraint) in self.constraints.iter() {
            let violation = |kind, actual: Option<&ArgValue>| ConstraintViolation {
                argument: name.clone(),
                expected: constraint.to_string(),
                actual: actual.map(ArgValue::to_plain_string),
                kind,
            };
            let Some(value) = args.get(name) else {
                first.get_or_insert_with(|| violation(ViolationKind::Missing, None));
                continue;
            };
            match constraint.check(value) {
                Ok(()) => {}
                Err(Mismatch::Unsupported { .. }) => {
                    return Err(violation(ViolationKind::Unsupported, Some(value)))
                }
                Err(Mismatch::InvalidConstraint { .. }) => {
                    return Err(violation(ViolationKind::InvalidConstraint, Some(value)))
                }
                Err(Mismatch::NotSatisfied | Mismatch::InvalidValue { .. }) => {
                    first.get_or_insert_with(|| violation(ViolationKind::OutOfBounds, Some(value)));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Whether `child` narrows `self`: `allow_unknown` not newly enabled,
    /// every parent argument kept and narrowed, and (when the parent is
    /// non-empty) no new argument names.
    pub fn check_attenuation(&self, child: &ConstraintSet) -> Result<(), AttenuationError> {
        if !self.allow_unknown && child.allow_unknown {
            return Err(AttenuationError::AllowUnknownExpanded);
        }
        for (name, parent) in self.constraints.iter() {
            let Some(kid) = child.constraints.get(name) else {
                return Err(AttenuationError::MissingArgument {
                    argument: name.clone(),
                });
            };
            parent
                .check_attenuation(kid)
                .map_err(|e| AttenuationError::Argument {
                    argument: name.clone(),
                    error: Box::new(e),
                })?;
        }
        if !self.constraints.is_empty() {
            if let Some(extra) = child
                .constraints
                .keys()
                .find(|k| !self.constraints.contains_key(*k))
            {
                return Err(AttenuationError::ExtraArgument {
                    argument: extra.clone(),
                });
            }
        }
        Ok(())
    }
}

impl FromIterator<(String, Constraint)> for ConstraintSet {
    fn from_iter<T: IntoIterator<Item = (String, Constraint)>>(iter: T) -> Self {
        ConstraintSet {
            constraints: iter.into_iter().collect(),
            allow_unknown: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, ArgValue)]) -> BTreeMap<String, ArgValue> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn closed_world() {
        let set = ConstraintSet::new().with("path", Constraint::pattern("/data/*").expect("ok"));
        assert!(set.check_args(&args(&[("path", "/data/x".into())])).is_ok());
        let e = set
            .check_args(&args(&[("path", "/data/x".into()), ("z", 1.into())]))
            .expect_err("unknown");
        assert_eq!(e.kind, ViolationKind::Unknown);
        let e = set.check_args(&args(&[])).expect_err("missing");
        assert_eq!(e.kind, ViolationKind::Missing);
        let e = set
            .check_args(&args(&[("path", "/etc".into())]))
            .expect_err("oob");
        assert_eq!(e.kind, ViolationKind::OutOfBounds);
        assert_eq!(e.expected, "Pattern(/data/*)");
    }

    #[test]
    fn open_world_and_allow_unknown() {
        assert!(ConstraintSet::new()
            .check_args(&args(&[("x", 1.into())]))
            .is_ok());
        let mut set = ConstraintSet::new().with("a", Constraint::Wildcard);
        set.set_allow_unknown(true);
        assert!(set
            .check_args(&args(&[("a", 1.into()), ("b", 2.into())]))
            .is_ok());
    }

    #[test]
    fn unsupported_wins_over_earlier_violations() {
        let set = ConstraintSet::new()
            .with("a", Constraint::exact(1))
            .with("b", Constraint::cel("x"));
        let e = set
            .check_args(&args(&[("a", 2.into()), ("b", 1.into()), ("zz", 0.into())]))
            .expect_err("deny");
        assert_eq!(e.kind, ViolationKind::Unsupported);
    }

    #[test]
    fn invalid_ip_is_an_ordinary_mismatch() {
        let set = ConstraintSet::new().with("ip", Constraint::cidr("10.0.0.0/8").expect("ok"));
        let e = set
            .check_args(&args(&[("ip", "nope".into())]))
            .expect_err("deny");
        assert_eq!(e.kind, ViolationKind::OutOfBounds);
    }

    #[test]
    fn attenuation_keyset_rules() {
        let parent = ConstraintSet::new().with("a", Constraint::Wildcard);
        let same_keys = ConstraintSet::new().with("a", Constraint::exact(1));
        assert!(parent.check_attenuation(&same_keys).is_ok());
        let extra = same_keys.clone().with("b", Constraint::Wildcard);
        assert!(parent.check_attenuation(&extra).is_err());
        assert!(parent.check_attenuation(&ConstraintSet::new()).is_err());
        assert!(ConstraintSet::new().check_attenuation(&extra).is_ok());
        let mut open = ConstraintSet::new();
        open.set_allow_unknown(true);
        assert!(ConstraintSet::new().check_attenuation(&open).is_err());
    }

    #[test]
    fn cbor_roundtrip_and_flag_omission() {
        let set = ConstraintSet::new().with("a", Constraint::exact("x"));
        let v = set.to_cbor();
        let Value::Map(entries) = &v else {
            panic!("map expected")
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(ConstraintSet::from_cbor(&v, 0).expect("decodes"), set);
        let mut open = set.clone();
        open.set_allow_unknown(true);
        assert_eq!(
            ConstraintSet::from_cbor(&open.to_cbor(), 0).expect("decodes"),
            open
        );
    }
}
