//! `Regex` (wire type 5): regular-expression matching with the `regex` crate,
//! as the reference does.
//!
//! The expression is **not** anchored: `is_match` finds a match anywhere, so
//! `prod` admits `"my-prod-db"`; authors anchor with `^...$` themselves.
//! The compile limits are the `regex` crate defaults (which is what the
//! reference gets from `Regex::new`), stated explicitly here so that a crate
//! upgrade cannot silently change which expressions compile.
//!
//! # Compatibility note
//! As with `Pattern`, the reference accepts an invalid expression at decode
//! time and errors (denies) only when it is evaluated; we compile once when
//! decoding and keep the error for evaluation.

use regex::RegexBuilder;

use super::error::{ConstraintBuildError, Mismatch};
use super::value::ArgValue;
use super::widening::Widening;

/// Compiled program size limit (the `regex` crate default, 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 10 * (1 << 20);
/// Lazy DFA cache limit (the `regex` crate default, 2 MiB).
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 * (1 << 20);
/// Syntax nesting limit (the `regex` crate default).
pub const REGEX_NEST_LIMIT: u32 = 250;

/// A `Regex` constraint: source text plus compiled program (or its error).
#[derive(Debug, Clone)]
pub struct RegexConstraint {
    source: String,
    compiled: Result<regex::Regex, String>,
}

impl PartialEq for RegexConstraint {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

fn compile(source: &str) -> Result<regex::Regex, String> {
    RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

impl RegexConstraint {
    /// Build, rejecting expressions that do not compile.
    pub fn new(pattern: &str) -> Result<Self, ConstraintBuildError> {
        let r = Self::from_wire(pattern.to_owned());
        match &r.compiled {
            Ok(_) => Ok(r),
            Err(reason) => Err(ConstraintBuildError::InvalidRegex {
                pattern: pattern.to_owned(),
                reason: reason.clone(),
            }),
        }
    }

    /// Build from a decoded payload; never fails.
    pub(crate) fn from_wire(source: String) -> Self {
        let compiled = compile(&source);
        RegexConstraint { source, compiled }
    }

    /// The expression text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> Result<bool, Mismatch> {
        let re = self
            .compiled
            .as_ref()
            .map_err(|reason| Mismatch::InvalidConstraint {
                reason: format!("invalid regex: {reason}"),
            })?;
        Ok(match value {
            ArgValue::String(s) => re.is_match(s),
            _ => false,
        })
    }

    /// Regex → Regex: only an identical expression is accepted.
    pub(crate) fn attenuate(&self, child: &RegexConstraint) -> Result<(), Widening> {
        if self.source == child.source {
            Ok(())
        } else {
            Err(Widening::RegexDiffers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanchored_by_default() {
        let r = RegexConstraint::from_wire("prod".into());
        assert_eq!(r.eval(&"my-prod-db".into()), Ok(true));
        let anchored = RegexConstraint::from_wire("^prod$".into());
        assert_eq!(anchored.eval(&"my-prod-db".into()), Ok(false));
        assert_eq!(anchored.eval(&ArgValue::Integer(1)), Ok(false));
    }

    #[test]
    fn invalid_regex_is_build_error_and_eval_error() {
        assert!(RegexConstraint::new("(").is_err());
        let r = RegexConstraint::from_wire("(".into());
        assert!(r.eval(&"x".into()).is_err());
    }

    #[test]
    fn attenuation_requires_identity() {
        let a = RegexConstraint::from_wire("^a".into());
        assert!(a
            .attenuate(&RegexConstraint::from_wire("^a".into()))
            .is_ok());
        assert!(a
            .attenuate(&RegexConstraint::from_wire("^ab".into()))
            .is_err());
    }
}
