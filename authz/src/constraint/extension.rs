//! Constraints this authorizer decodes and re-encodes but does not evaluate:
//! `Cel` (wire type 15) and any unknown type id.
//!
//! Wire payloads: `Cel` is `{"expression": text, "parent_expression": text}`
//! (`parent_expression` omitted when absent); an unknown type keeps its
//! payload item verbatim (the reference decodes unknown ids for forward
//! compatibility and denies at evaluation).
//!
//! Evaluation always yields [`Mismatch::Unsupported`], which denies.
//!
//! # Compatibility note
//! * The reference's default build (no `cel` feature) also cannot evaluate
//!   CEL. Its `Cel → Cel` attenuation accepts a child equal to the parent
//!   after removing all whitespace; any other child needs compilation and
//!   fails. We mirror exactly that.

use std::fmt;

use super::error::{AttenuationError, Mismatch};
use super::widening::Widening;

/// A CEL expression constraint (not evaluated here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cel {
    /// The expression.
    pub expression: String,
    /// The parent's expression, when recorded by the issuer.
    pub parent_expression: Option<String>,
}

fn strip_whitespace(s: &str) -> String {
    s.split_whitespace().collect()
}

impl Cel {
    pub(crate) fn unsupported() -> Mismatch {
        Mismatch::Unsupported {
            constraint: "Cel",
            type_id: super::type_id::CEL,
        }
    }

    pub(crate) fn attenuate(&self, child: &Cel) -> Result<(), AttenuationError> {
        let parent = strip_whitespace(&self.expression);
        let kid = strip_whitespace(&child.expression);
        if parent == kid {
            return Ok(());
        }
        if kid.starts_with(&format!("({parent})&&")) {
            // Syntactically a conjunction; the reference would now need to
            // compile the child, which its default build cannot do.
            return Err(AttenuationError::Unsupported { constraint: "Cel" });
        }
        Err(AttenuationError::NotNarrower {
            constraint: "Cel",
            widening: Widening::CelNotConjunction,
        })
    }
}

impl fmt::Display for Cel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cel({})", self.expression)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cel_attenuation_whitespace_equal_only() {
        let p = Cel {
            expression: "a < 10".into(),
            parent_expression: None,
        };
        let same = Cel {
            expression: "a<10".into(),
            parent_expression: None,
        };
        assert!(p.attenuate(&same).is_ok());
        let conj = Cel {
            expression: "(a < 10) && (b)".into(),
            parent_expression: None,
        };
        assert!(matches!(
            p.attenuate(&conj),
            Err(AttenuationError::Unsupported { .. })
        ));
    }
}
