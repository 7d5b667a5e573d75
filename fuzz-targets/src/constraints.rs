//! Target `constraints`: constraint sets decoded from their wire CBOR, matching
//! call arguments and checking attenuation.
//!
//! Input: a selector byte, then CBOR items read one after another:
//! - even selector: a constraint set, then an argument map -> `check_args`;
//! - odd selector: a parent set, a child set, then an argument map ->
//!   `check_attenuation`, and when the child narrows the parent, every
//!   argument map the child accepts the parent accepts too (soundness).
//!
//! Invariants: no panic, no runaway work, soundness of attenuation, and every
//! `Shlex` verdict (matching and attenuation) equal to the reference's
//! ([`crate::shlex`]).

use ciborium::Value;
use tenuo_authz::constraint::{ArgValue, ConstraintSet};
use tenuo_authz::pop::Args;

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let mut next = || -> Option<Value> { ciborium::de::from_reader(&mut rest).ok() };
    if selector % 2 == 0 {
        let (Some(set), Some(args)) = (next().and_then(|v| set_of(&v)), next()) else {
            return;
        };
        let args = args_of(&args);
        let _ = set.check_args(&args);
        crate::shlex::compare_set(&set, &args);
        let _ = set.to_cbor();
        let _ = format!("{set:?}");
        return;
    }
    let (Some(parent), Some(child)) = (
        next().and_then(|v| set_of(&v)),
        next().and_then(|v| set_of(&v)),
    ) else {
        return;
    };
    let args = next().map(|v| args_of(&v)).unwrap_or_default();
    crate::shlex::compare_link(&parent, &child);
    crate::shlex::compare_set(&child, &args);
    if parent.check_attenuation(&child).is_ok() && child.check_args(&args).is_ok() {
        assert!(
            parent.check_args(&args).is_ok(),
            "attenuation unsound: child {child:?} narrows parent {parent:?} but allows {args:?}"
        );
    }
}

/// A constraint set from its wire value.
pub fn set_of(v: &Value) -> Option<ConstraintSet> {
    ConstraintSet::from_cbor(v, 0).ok()
}

/// Call arguments from a CBOR map of names to values (entries that do not
/// decode are skipped).
pub fn args_of(v: &Value) -> Args {
    let Value::Map(entries) = v else {
        return Args::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_text()?.to_owned(), ArgValue::from_cbor(v).ok()?)))
        .collect()
}

/// The CBOR of call arguments, as [`args_of`] reads it (for seed generators).
pub fn args_to_cbor(args: &Args) -> Value {
    Value::Map(
        args.iter()
            .map(|(k, v)| (Value::Text(k.clone()), v.to_cbor()))
            .collect(),
    )
}
