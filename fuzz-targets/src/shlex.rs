//! `Shlex` against the reference, for the `constraints` and `differential`
//! targets: wherever a decoded constraint set holds a `Shlex` constraint, the
//! argument it judges is also put to the reference's `shell_words::check`,
//! and a `Shlex` parent's attenuation to a child is also put to the
//! reference's `validate_attenuation`. The verdicts must be equal.
//!
//! Fuzzed arguments are unsigned at this level (a PoP covers them only in a
//! full decision), so mutations reach the tokenizer freely.

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::pop::Args;

/// The reference's reading of our constraint, from our wire bytes.
fn reference(c: &Constraint) -> Option<tenuo::constraints::Constraint> {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&c.to_cbor(), &mut bytes).ok()?;
    ciborium::de::from_reader(bytes.as_slice()).ok()
}

/// Every `Shlex` constraint of `set` judges its string argument as the
/// reference does.
pub fn compare_set(set: &ConstraintSet, args: &Args) {
    for (name, constraint) in set.iter() {
        let (Constraint::Shlex(shlex), Some(ArgValue::String(command))) =
            (constraint, args.get(name))
        else {
            continue;
        };
        let ours = shlex.admits(command);
        let theirs = tenuo::shell_words::check(&shlex.allow, command);
        assert_eq!(
            ours.is_ok(),
            theirs.allowed,
            "Shlex {:?} on {command:?}: ours {ours:?}, reference {}",
            shlex.allow,
            theirs.reason
        );
    }
}

/// For every argument whose parent constraint is `Shlex`, our attenuation
/// verdict for the child's constraint equals the reference's.
pub fn compare_link(parent: &ConstraintSet, child: &ConstraintSet) {
    for (name, p) in parent.iter() {
        let (Constraint::Shlex(_), Some(c)) = (p, child.get(name)) else {
            continue;
        };
        let (Some(rp), Some(rc)) = (reference(p), reference(c)) else {
            continue;
        };
        let ours = p.check_attenuation(c);
        let theirs = rp.validate_attenuation(&rc);
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "{p} → {c}: ours {ours:?}, reference {theirs:?}"
        );
    }
}
