//! `Range` (wire type 3): numeric bounds held as `f64`.
//!
//! Wire payload: `{"min": float|null, "max": float|null, "min_inclusive":
//! bool, "max_inclusive": bool}` (all four keys always written; `min`/`max`
//! may be omitted on input; the inclusivity flags are required; bounds must be
//! CBOR floats and finite).
//!
//! Matching: integers and floats are compared as `f64` (so integers beyond
//! 2^53 lose precision); strings, bools, lists etc. never match; NaN never
//! matches.

use std::fmt;

use super::error::ConstraintBuildError;
use super::value::ArgValue;
use super::widening::Widening;

/// A numeric range constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    min: Option<f64>,
    max: Option<f64>,
    min_inclusive: bool,
    max_inclusive: bool,
}

impl Range {
    /// Inclusive range; bounds must be finite.
    pub fn new(min: Option<f64>, max: Option<f64>) -> Result<Self, ConstraintBuildError> {
        if min.is_some_and(|m| !m.is_finite()) || max.is_some_and(|m| !m.is_finite()) {
            return Err(ConstraintBuildError::NonFiniteBound);
        }
        Ok(Range {
            min,
            max,
            min_inclusive: true,
            max_inclusive: true,
        })
    }

    /// Assemble from decoded parts; bounds were already checked finite.
    pub(crate) fn from_parts(
        min: Option<f64>,
        max: Option<f64>,
        min_inclusive: bool,
        max_inclusive: bool,
    ) -> Self {
        Range {
            min,
            max,
            min_inclusive,
            max_inclusive,
        }
    }

    /// Lower bound, if any.
    pub fn min(&self) -> Option<f64> {
        self.min
    }

    /// Upper bound, if any.
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// Whether the lower bound itself is allowed.
    pub fn min_inclusive(&self) -> bool {
        self.min_inclusive
    }

    /// Whether the upper bound itself is allowed.
    pub fn max_inclusive(&self) -> bool {
        self.max_inclusive
    }

    /// Make the lower bound exclusive.
    pub fn min_exclusive(mut self) -> Self {
        self.min_inclusive = false;
        self
    }

    /// Make the upper bound exclusive.
    pub fn max_exclusive(mut self) -> Self {
        self.max_inclusive = false;
        self
    }

    /// Whether the number lies within the bounds (NaN never does).
    pub fn contains(&self, n: f64) -> bool {
        if n.is_nan() {
            return false;
        }
        let min_ok = match self.min {
            None => true,
            Some(m) if self.min_inclusive => n >= m,
            Some(m) => n > m,
        };
        let max_ok = match self.max {
            None => true,
            Some(m) if self.max_inclusive => n <= m,
            Some(m) => n < m,
        };
        min_ok && max_ok
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> bool {
        value.as_number().is_some_and(|n| self.contains(n))
    }

    /// Range → Range, as the reference decides it.
    ///
    /// # Compatibility note
    /// Bounds are compared independently: a child whose bounds are inside the
    /// parent's but *inverted* (an empty range) is accepted, and an exclusive
    /// child bound may equal an inclusive parent bound.
    pub(crate) fn attenuate(&self, child: &Range) -> Result<(), Widening> {
        match (self.min, child.min) {
            (Some(p), Some(c)) => {
                if c < p {
                    return Err(Widening::MinBelow {
                        parent: p.to_string(),
                        child: c.to_string(),
                    });
                }
                if c == p && !self.min_inclusive && child.min_inclusive {
                    return Err(Widening::MinMadeInclusive { min: p.to_string() });
                }
            }
            (Some(p), None) => return Err(Widening::MinDropped { min: p.to_string() }),
            _ => {}
        }
        match (self.max, child.max) {
            (Some(p), Some(c)) => {
                if c > p {
                    return Err(Widening::MaxAbove {
                        parent: p.to_string(),
                        child: c.to_string(),
                    });
                }
                if c == p && !self.max_inclusive && child.max_inclusive {
                    return Err(Widening::MaxMadeInclusive { max: p.to_string() });
                }
            }
            (Some(p), None) => return Err(Widening::MaxDropped { max: p.to_string() }),
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Range(")?;
        if let Some(min) = self.min {
            if !self.min_inclusive {
                f.write_str(">")?;
            }
            write!(f, "{min}")?;
        }
        f.write_str("..")?;
        if let Some(max) = self.max {
            if self.max_inclusive {
                f.write_str("=")?;
            }
            write!(f, "{max}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: Option<f64>, max: Option<f64>) -> Range {
        Range::from_parts(min, max, true, true)
    }

    #[test]
    fn matching_mixes_int_and_float() {
        let range = r(Some(0.0), Some(100.0));
        assert!(range.eval(&ArgValue::Integer(100)));
        assert!(range.eval(&ArgValue::Float(99.5)));
        assert!(!range.eval(&ArgValue::Float(f64::NAN)));
        assert!(!range.eval(&"5".into()));
        assert!(!range.clone().max_exclusive().eval(&ArgValue::Integer(100)));
    }

    #[test]
    fn attenuation() {
        let parent = r(Some(0.0), Some(100.0));
        assert!(parent.attenuate(&r(Some(10.0), Some(50.0))).is_ok());
        assert!(parent.attenuate(&r(None, Some(50.0))).is_err());
        assert!(parent.attenuate(&r(Some(0.0), Some(101.0))).is_err());
        // Inverted child range is accepted (reference behaviour).
        assert!(parent.attenuate(&r(Some(60.0), Some(40.0))).is_ok());
        let excl = r(Some(0.0), Some(100.0)).max_exclusive();
        assert!(excl.attenuate(&r(Some(0.0), Some(100.0))).is_err());
        assert!(parent.attenuate(&excl).is_ok());
    }

    #[test]
    fn display() {
        assert_eq!(r(Some(0.0), Some(100.0)).to_string(), "Range(0..=100)");
        assert_eq!(
            r(None, Some(5.5)).max_exclusive().to_string(),
            "Range(..5.5)"
        );
        assert_eq!(
            r(Some(1.0), None).min_exclusive().to_string(),
            "Range(>1..)"
        );
    }

    #[test]
    fn non_finite_bounds_rejected() {
        assert!(Range::new(Some(f64::NAN), None).is_err());
        assert!(Range::new(None, Some(f64::INFINITY)).is_err());
    }
}
