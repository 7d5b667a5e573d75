//! Attenuation dispatch: the reference's rule for every parent/child
//! constraint pair.
//!
//! | parent \ child | accepted child types |
//! |---|---|
//! | `Wildcard` | anything (including `Unknown`) |
//! | any other | never `Wildcard` |
//! | `Pattern` | `Pattern` (prefix/suffix rules), `Exact` (glob-matched) |
//! | `Regex` | identical `Regex`, `Exact` (regex-matched) |
//! | `Exact` | equal `Exact` |
//! | `OneOf` | `OneOf` subset, `Exact` member |
//! | `NotOneOf` | `NotOneOf` superset |
//! | `Range` | narrower `Range`, numeric `Exact` inside |
//! | `Cidr` | subnet `Cidr`, `Exact` IP inside |
//! | `UrlPattern` | narrower `UrlPattern`, matching `Exact` URL |
//! | `Contains` | `Contains` superset |
//! | `Subset` | `Subset` subset |
//! | `All` | `All` (clause cover), `Exact` admitted by every clause |
//! | `Any` | `Any` (branch cover) |
//! | `Not` | `Not` (inverted) |
//! | `Cel` | whitespace-equal `Cel` |
//! | `Subpath` | `Subpath` under root, `Subset`/`Exact` of contained paths |
//! | `UrlSafe` | stricter `UrlSafe`, safe `Exact` URL |
//! | `Shlex` | `Shlex` subset, `Exact` command the parent admits |
//!
//! Everything else is incompatible.
//!
//! # Compatibility note
//! * Surprising but mirrored: `OneOf → Exact` and `Exact → Exact` use value
//!   equality, so `Range(0..=10) → Exact(5)` is fine but `OneOf([5]) →
//!   Exact(5.0)` is not; `Pattern → OneOf`, `Range → OneOf`, `Exact → OneOf`
//!   and `Pattern → Regex` are all rejected; `Subpath → Exact([])` (an
//!   empty list) is accepted.
//! * Deviation (fail closed): a check whose composite nesting makes it exceed
//!   [`ATTENUATION_BUDGET`] pair comparisons is rejected (the reference would
//!   keep going, potentially for exponential time).

use super::error::AttenuationError;
use super::value::ArgValue;
use super::widening::Widening;
use super::{composite, set, Constraint, MAX_CONSTRAINT_DEPTH};

/// Maximum number of constraint pairs examined by one attenuation check.
pub const ATTENUATION_BUDGET: usize = 1_000_000;

/// Work counter for one attenuation check.
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    pub(crate) fn check(
        &mut self,
        parent: &Constraint,
        child: &Constraint,
        level: usize,
    ) -> Result<(), AttenuationError> {
        if self.left == 0 || level > 2 * MAX_CONSTRAINT_DEPTH + 2 {
            self.left = 0;
            return Err(AttenuationError::BudgetExceeded);
        }
        self.left -= 1;
        pair(parent, child, self, level)
    }

    pub(crate) fn ensure_left(&self) -> Result<(), AttenuationError> {
        if self.left == 0 {
            Err(AttenuationError::BudgetExceeded)
        } else {
            Ok(())
        }
    }
}

/// Entry point: `child` narrows `parent`?
pub(crate) fn check(parent: &Constraint, child: &Constraint) -> Result<(), AttenuationError> {
    let mut budget = Budget {
        left: ATTENUATION_BUDGET,
    };
    budget.check(parent, child, 0)
}

fn incompatible(parent: &'static str, child: &'static str) -> AttenuationError {
    AttenuationError::IncompatibleTypes { parent, child }
}

/// Names the constraint of a type's own check, which can only fail by widening
/// and so returns a bare [`Widening`].
fn not_narrower(constraint: &'static str) -> impl Fn(Widening) -> AttenuationError {
    move |widening| AttenuationError::NotNarrower {
        constraint,
        widening,
    }
}

fn admitted(
    constraint: &'static str,
    verdict: Result<bool, super::Mismatch>,
    value: &ArgValue,
) -> Result<(), AttenuationError> {
    match verdict {
        Ok(true) => Ok(()),
        Ok(false) => Err(AttenuationError::NotNarrower {
            constraint,
            widening: Widening::ValueNotAdmitted {
                value: value.to_string(),
            },
        }),
        Err(e) => Err(AttenuationError::Evaluation(e)),
    }
}

fn pair(
    parent: &Constraint,
    child: &Constraint,
    budget: &mut Budget,
    level: usize,
) -> Result<(), AttenuationError> {
    use Constraint as C;
    match (parent, child) {
        (C::Wildcard, _) => Ok(()),
        (_, C::Wildcard) => Err(AttenuationError::WildcardExpansion {
            parent: parent.type_name(),
        }),

        (C::Pattern(p), C::Pattern(c)) => p.attenuate(c).map_err(not_narrower("Pattern")),
        (C::Pattern(p), C::Exact(v)) => admitted("Pattern", p.eval(v), v),

        (C::Regex(p), C::Regex(c)) => p.attenuate(c).map_err(not_narrower("Regex")),
        (C::Regex(p), C::Exact(v)) => admitted("Regex", p.eval(v), v),

        (C::Exact(p), C::Exact(c)) => {
            if p == c {
                Ok(())
            } else {
                Err(AttenuationError::NotNarrower {
                    constraint: "Exact",
                    widening: Widening::ExactDiffers {
                        parent: p.to_string(),
                        child: c.to_string(),
                    },
                })
            }
        }

        (C::OneOf(p), C::OneOf(c)) => set::require_subset(p, c).map_err(not_narrower("OneOf")),
        (C::OneOf(p), C::Exact(v)) => admitted("OneOf", Ok(p.contains(v)), v),
        (C::NotOneOf(p), C::NotOneOf(c)) => {
            set::require_superset(p, c).map_err(not_narrower("NotOneOf"))
        }

        (C::Range(p), C::Range(c)) => p.attenuate(c).map_err(not_narrower("Range")),
        (C::Range(p), C::Exact(v)) => match v.as_number() {
            Some(n) => admitted("Range", Ok(p.contains(n)), v),
            None => Err(incompatible("Range", "Exact (non-numeric)")),
        },

        (C::Cidr(p), C::Cidr(c)) => p.attenuate(c).map_err(not_narrower("Cidr")),
        (C::Cidr(p), C::Exact(v)) => match v.as_str() {
            Some(ip) => admitted("Cidr", p.contains_ip(ip), v),
            None => Err(incompatible("Cidr", "Exact (non-string)")),
        },

        (C::UrlPattern(p), C::UrlPattern(c)) => p.attenuate(c).map_err(not_narrower("UrlPattern")),
        (C::UrlPattern(p), C::Exact(v)) => match v.as_str() {
            Some(u) => admitted("UrlPattern", p.matches_url(u), v),
            None => Err(incompatible("UrlPattern", "Exact (non-string)")),
        },

        (C::Contains(p), C::Contains(c)) => {
            set::require_superset(p, c).map_err(not_narrower("Contains"))
        }
        (C::Subset(p), C::Subset(c)) => set::require_subset(p, c).map_err(not_narrower("Subset")),

        (C::All(p), C::All(c)) => composite::attenuate_all(p, c, budget, level),
        (C::All(p), C::Exact(v)) => composite::attenuate_all_exact(p, v),
        (C::Any(p), C::Any(c)) => composite::attenuate_any(p, c, budget, level),
        (C::Not(p), C::Not(c)) => composite::attenuate_not(p, c, budget, level),

        (C::Cel(p), C::Cel(c)) => p.attenuate(c),

        (C::Subpath(p), C::Subpath(c)) => p.attenuate(c).map_err(not_narrower("Subpath")),
        (C::Subpath(p), C::Subset(items)) => p.attenuate_paths(items, "Subset (non-string)"),
        (C::Subpath(p), C::Exact(v)) => match v {
            ArgValue::String(path) => admitted("Subpath", Ok(p.contains_path(path)), v),
            ArgValue::List(items) => p.attenuate_paths(items, "Exact (non-string list item)"),
            _ => Err(incompatible("Subpath", "Exact (non-string)")),
        },

        (C::UrlSafe(p), C::UrlSafe(c)) => p.attenuate(c),
        (C::UrlSafe(p), C::Exact(v)) => match v.as_str() {
            Some(u) => admitted("UrlSafe", p.rejection_reason(u).map(|r| r.is_none()), v),
            None => Err(incompatible("UrlSafe", "Exact (non-string)")),
        },

        (C::Shlex(p), C::Shlex(c)) => p.attenuate(c).map_err(not_narrower("Shlex")),
        (C::Shlex(p), C::Exact(v)) => match v.as_str() {
            Some(command) => admitted("Shlex", Ok(p.admits(command).is_ok()), v),
            None => Err(incompatible("Shlex", "Exact (non-string)")),
        },

        _ => Err(incompatible(parent.type_name(), child.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_rules() {
        let unknown = Constraint::Unknown {
            type_id: 99,
            payload: ciborium::Value::Null,
        };
        assert!(Constraint::Wildcard.check_attenuation(&unknown).is_ok());
        assert!(Constraint::exact(1)
            .check_attenuation(&Constraint::Wildcard)
            .is_err());
        assert!(unknown.check_attenuation(&unknown).is_err());
    }

    #[test]
    fn cross_type_rules() {
        let range = Constraint::range(Some(0.0), Some(10.0)).expect("ok");
        assert!(range.check_attenuation(&Constraint::exact(5)).is_ok());
        assert!(range.check_attenuation(&Constraint::exact(11)).is_err());
        assert!(range.check_attenuation(&Constraint::exact("5")).is_err());
        assert!(range.check_attenuation(&Constraint::one_of([5])).is_err());
        let one_of = Constraint::one_of([5]);
        assert!(one_of.check_attenuation(&Constraint::exact(5.0)).is_err());
        assert!(one_of
            .check_attenuation(&Constraint::not_one_of([1]))
            .is_err());
        let sub = Constraint::subpath("/data").expect("ok");
        assert!(sub
            .check_attenuation(&Constraint::Exact(ArgValue::List(vec![])))
            .is_ok());
        assert!(sub
            .check_attenuation(&Constraint::subset(["/data/a", "/data/b"]))
            .is_ok());
        assert!(sub
            .check_attenuation(&Constraint::subset(["/etc"]))
            .is_err());
    }

    #[test]
    fn budget_stops_pathological_nesting() {
        // 10-wide, 7-deep All on both sides: 10^7 pairs without a budget.
        let mut c = Constraint::exact("x");
        for _ in 0..7 {
            c = Constraint::All(vec![c; 10]);
        }
        let mut other = Constraint::exact("y");
        for _ in 0..7 {
            other = Constraint::All(vec![other; 10]);
        }
        assert!(matches!(
            c.check_attenuation(&other),
            Err(AttenuationError::BudgetExceeded)
        ));
    }
}
