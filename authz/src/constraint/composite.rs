//! Composite constraints: `All` (wire type 12), `Any` (13), `Not` (14).
//!
//! Wire payloads: `{"constraints": [c, ...]}` for `All`/`Any` and
//! `{"constraint": c}` for `Not`.
//!
//! # Compatibility note
//! The reference evaluates with error propagation, and so do we:
//! * an empty `All` is an error (it would otherwise admit everything);
//!   an empty `Any` admits nothing;
//! * an error from an inner constraint (e.g. a `Cidr` given a non-IP) aborts
//!   `Any` even if a later branch would match, and `Not` of an erroring
//!   constraint is an error, not `true`.
//!
//! Attenuation: `All → All` needs every parent conjunct narrowed by some
//! child conjunct (both non-empty); `All → Exact` needs every conjunct to
//! admit the value; `Any → Any` needs every child branch to narrow some
//! parent branch (an empty child `Any` is accepted); `Not(p) → Not(c)` needs
//! `c → p` to be a valid attenuation (direction inverted).

use super::attenuation::Budget;
use super::error::{AttenuationError, Mismatch};
use super::value::ArgValue;
use super::widening::Widening;
use super::Constraint;

pub(crate) fn eval_all(inner: &[Constraint], v: &ArgValue, level: usize) -> Result<bool, Mismatch> {
    if inner.is_empty() {
        return Err(Mismatch::InvalidConstraint {
            reason: "All with an empty constraints array".to_owned(),
        });
    }
    for c in inner {
        if !c.eval(v, level + 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn eval_any(inner: &[Constraint], v: &ArgValue, level: usize) -> Result<bool, Mismatch> {
    for c in inner {
        if c.eval(v, level + 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn attenuate_all(
    parent: &[Constraint],
    child: &[Constraint],
    budget: &mut Budget,
    level: usize,
) -> Result<(), AttenuationError> {
    if parent.is_empty() || child.is_empty() {
        return Err(AttenuationError::NotNarrower {
            constraint: "All",
            widening: Widening::EmptyAll,
        });
    }
    for p in parent {
        let mut found = false;
        for c in child {
            if budget.check(p, c, level + 1).is_ok() {
                found = true;
                break;
            }
        }
        if !found {
            budget.ensure_left()?;
            return Err(AttenuationError::NotNarrower {
                constraint: "All",
                widening: Widening::NoConjunctNarrows {
                    conjunct: p.to_string(),
                },
            });
        }
    }
    budget.ensure_left()
}

pub(crate) fn attenuate_all_exact(
    parent: &[Constraint],
    value: &ArgValue,
) -> Result<(), AttenuationError> {
    for conjunct in parent {
        if !conjunct
            .eval(value, 1)
            .map_err(AttenuationError::Evaluation)?
        {
            return Err(AttenuationError::NotNarrower {
                constraint: "All",
                widening: Widening::ExactRejectedByConjunct {
                    conjunct: conjunct.to_string(),
                },
            });
        }
    }
    Ok(())
}

pub(crate) fn attenuate_any(
    parent: &[Constraint],
    child: &[Constraint],
    budget: &mut Budget,
    level: usize,
) -> Result<(), AttenuationError> {
    for c in child {
        let mut covered = false;
        for p in parent {
            if budget.check(p, c, level + 1).is_ok() {
                covered = true;
                break;
            }
        }
        if !covered {
            budget.ensure_left()?;
            return Err(AttenuationError::NotNarrower {
                constraint: "Any",
                widening: Widening::BranchNarrowsNothing {
                    branch: c.to_string(),
                },
            });
        }
    }
    budget.ensure_left()
}

pub(crate) fn attenuate_not(
    parent_inner: &Constraint,
    child_inner: &Constraint,
    budget: &mut Budget,
    level: usize,
) -> Result<(), AttenuationError> {
    let inner = budget.check(child_inner, parent_inner, level + 1);
    budget.ensure_left()?;
    inner.map_err(|_| AttenuationError::NotNarrower {
        constraint: "Not",
        widening: Widening::NotInnerNotWider,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(s: &str) -> Constraint {
        Constraint::exact(s)
    }

    #[test]
    fn all_attenuation_covers_each_parent_clause() {
        let parent = Constraint::All(vec![Constraint::pattern("a*").expect("ok")]);
        let child = Constraint::All(vec![ex("ab"), ex("zz")]);
        assert!(parent.check_attenuation(&child).is_ok());
        let bad = Constraint::All(vec![ex("zz")]);
        assert!(parent.check_attenuation(&bad).is_err());
        assert!(parent.check_attenuation(&Constraint::All(vec![])).is_err());
    }

    #[test]
    fn any_attenuation_and_empty_child() {
        let parent = Constraint::Any(vec![ex("a"), ex("b")]);
        assert!(parent
            .check_attenuation(&Constraint::Any(vec![ex("a")]))
            .is_ok());
        assert!(parent.check_attenuation(&Constraint::Any(vec![])).is_ok());
        assert!(parent
            .check_attenuation(&Constraint::Any(vec![ex("c")]))
            .is_err());
    }

    #[test]
    fn not_inverts_direction() {
        let parent = Constraint::Not(Box::new(ex("admin")));
        // Checked as OneOf(admin, root) → Exact(admin), which is valid.
        let wider = Constraint::Not(Box::new(Constraint::one_of(["admin", "root"])));
        assert!(parent.check_attenuation(&wider).is_ok());
        let p2 = Constraint::Not(Box::new(Constraint::one_of(["admin", "root"])));
        assert!(p2
            .check_attenuation(&Constraint::Not(Box::new(ex("admin"))))
            .is_err());
        let p3 = Constraint::Not(Box::new(ex("admin")));
        assert!(p3
            .check_attenuation(&Constraint::Not(Box::new(Constraint::one_of(["admin"]))))
            .is_ok());
    }

    #[test]
    fn all_to_exact() {
        let parent = Constraint::All(vec![
            Constraint::pattern("a*").expect("ok"),
            Constraint::not_one_of(["ab"]),
        ]);
        assert!(parent.check_attenuation(&ex("ac")).is_ok());
        assert!(parent.check_attenuation(&ex("ab")).is_err());
    }
}
