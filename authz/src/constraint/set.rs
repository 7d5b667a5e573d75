//! Value-set constraints: `Exact` (wire type 1), `OneOf` (4), `NotOneOf` (7),
//! `Contains` (10) and `Subset` (11).
//!
//! Wire payloads: `{"value": v}`, `{"values": [v]}`, `{"excluded": [v]}`,
//! `{"required": [v]}`, `{"allowed": [v]}` with `v` an [`ArgValue`].
//!
//! Membership uses [`ArgValue`] equality, so `Integer(1)` is not `Float(1.0)`
//! and a NaN never equals anything.
//!
//! # Compatibility note
//! `NotOneOf` admits every value outside its list, including values of
//! other types (e.g. `Integer(1)` passes `NotOneOf(["1"])`). `Contains` and
//! `Subset` admit only lists; `Subset` admits the empty list.

use super::value::ArgValue;
use super::widening::Widening;

/// `OneOf`: the value is in the list.
pub(crate) fn one_of(values: &[ArgValue], v: &ArgValue) -> bool {
    values.contains(v)
}

/// `NotOneOf`: the value is not in the list.
pub(crate) fn not_one_of(excluded: &[ArgValue], v: &ArgValue) -> bool {
    !excluded.contains(v)
}

/// `Contains`: the value is a list holding every required item.
pub(crate) fn contains(required: &[ArgValue], v: &ArgValue) -> bool {
    v.as_list()
        .is_some_and(|list| required.iter().all(|r| list.contains(r)))
}

/// `Subset`: the value is a list whose items are all allowed.
pub(crate) fn subset(allowed: &[ArgValue], v: &ArgValue) -> bool {
    v.as_list()
        .is_some_and(|list| list.iter().all(|i| allowed.contains(i)))
}

/// Every item of `child` must be in `parent` (OneOf → OneOf, Subset → Subset).
pub(crate) fn require_subset(parent: &[ArgValue], child: &[ArgValue]) -> Result<(), Widening> {
    match child.iter().find(|c| !parent.contains(c)) {
        None => Ok(()),
        Some(extra) => Err(Widening::ExtraMember {
            value: extra.to_string(),
        }),
    }
}

/// Every item of `parent` must be kept by `child` (NotOneOf → NotOneOf,
/// Contains → Contains).
pub(crate) fn require_superset(parent: &[ArgValue], child: &[ArgValue]) -> Result<(), Widening> {
    match parent.iter().find(|p| !child.contains(p)) {
        None => Ok(()),
        Some(dropped) => Err(Widening::DroppedMember {
            value: dropped.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> ArgValue {
        v.into()
    }

    #[test]
    fn membership_is_type_strict() {
        assert!(one_of(&[ArgValue::Integer(1)], &ArgValue::Integer(1)));
        assert!(!one_of(&[ArgValue::Integer(1)], &ArgValue::Float(1.0)));
        assert!(not_one_of(&[s("1")], &ArgValue::Integer(1)));
        assert!(!one_of(
            &[ArgValue::Float(f64::NAN)],
            &ArgValue::Float(f64::NAN)
        ));
    }

    #[test]
    fn list_constraints() {
        let list = ArgValue::List(vec![s("a"), s("b")]);
        assert!(contains(&[s("a")], &list));
        assert!(!contains(&[s("c")], &list));
        assert!(!contains(&[], &s("a")));
        assert!(subset(&[s("a"), s("b"), s("c")], &list));
        assert!(subset(&[], &ArgValue::List(vec![])));
        assert!(!subset(&[s("a")], &list));
    }

    #[test]
    fn attenuation_helpers() {
        assert!(require_subset(&[s("a"), s("b")], &[s("a")]).is_ok());
        assert!(require_subset(&[s("a")], &[s("a"), s("b")]).is_err());
        assert!(require_superset(&[s("a")], &[s("a"), s("b")]).is_ok());
        assert!(require_superset(&[s("a"), s("b")], &[s("a")]).is_err());
    }
}
