//! Argument constraints of Tenuo v1 warrants.
//!
//! This module owns, decision-for-decision compatible with the reference
//! `tenuo` 0.3.5 crate:
//! * the constraint types ([`Constraint`]) and argument values ([`ArgValue`]);
//! * their CBOR wire codec: a constraint is the array `[type_id, payload]`
//!   (see [`type_id`]) and re-encodes byte-identically to the reference's
//!   serde serialization;
//! * matching an argument value against a constraint ([`Constraint::check`]);
//! * the per-tool closed-world argument rules ([`ConstraintSet`]);
//! * attenuation: whether a child constraint narrows its parent
//!   ([`Constraint::check_attenuation`], [`ConstraintSet::check_attenuation`]).
//!
//! Globs and regular expressions are compiled once, when a constraint is
//! decoded or built, never per request. All decoding is fail-closed on
//! untrusted input and never panics; nesting is bounded by
//! [`MAX_CONSTRAINT_DEPTH`].

mod attenuation;
mod cidr;
mod codec;
mod composite;
mod constraint_set;
mod error;
mod extension;
mod heap_size;
mod pattern;
mod range;
mod regex;
mod set;
mod shell_lexer;
mod shlex;
mod subpath;
mod url_pattern;
mod url_safe;
mod value;
mod widening;
mod wire;

use std::fmt;

pub use self::attenuation::ATTENUATION_BUDGET;
pub use self::cidr::Cidr;
pub use self::constraint_set::ConstraintSet;
pub use self::error::{
    AttenuationError, ConstraintBuildError, ConstraintDecodeError, ConstraintViolation, Mismatch,
    ViolationKind,
};
pub use self::extension::Cel;
pub use self::pattern::{Glob, Pattern};
pub use self::range::Range;
pub use self::regex::{RegexConstraint, REGEX_DFA_SIZE_LIMIT, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT};
pub use self::shell_lexer::{split_shell_words, ShellSyntaxError, ShellToken, OPERATORS};
pub use self::shlex::{Shlex, ShlexRefusal, CONTROL_CHARACTERS};
pub use self::subpath::Subpath;
pub use self::url_pattern::UrlPattern;
pub use self::url_safe::{UrlSafe, UrlSafeRejection};
pub use self::value::{ArgValue, ArgValueJsonError, MAX_VALUE_DEPTH};
pub use self::widening::Widening;

/// Maximum nesting depth of `All`/`Any`/`Not` (a leaf has depth 0, each
/// composite adds one; an empty `All`/`Any` has depth 1), as in the reference.
pub const MAX_CONSTRAINT_DEPTH: usize = 32;

/// Wire type ids: the first element of a constraint's `[type_id, payload]`.
pub mod type_id {
    /// `Exact`.
    pub const EXACT: u8 = 1;
    /// `Pattern` (glob).
    pub const PATTERN: u8 = 2;
    /// `Range` (f64 bounds).
    pub const RANGE: u8 = 3;
    /// `OneOf`.
    pub const ONE_OF: u8 = 4;
    /// `Regex`.
    pub const REGEX: u8 = 5;
    /// Reserved by the reference for an integer range; decodes as unknown.
    pub const RESERVED_INT_RANGE: u8 = 6;
    /// `NotOneOf`.
    pub const NOT_ONE_OF: u8 = 7;
    /// `Cidr`.
    pub const CIDR: u8 = 8;
    /// `UrlPattern`.
    pub const URL_PATTERN: u8 = 9;
    /// `Contains`.
    pub const CONTAINS: u8 = 10;
    /// `Subset`.
    pub const SUBSET: u8 = 11;
    /// `All`.
    pub const ALL: u8 = 12;
    /// `Any`.
    pub const ANY: u8 = 13;
    /// `Not`.
    pub const NOT: u8 = 14;
    /// `Cel`.
    pub const CEL: u8 = 15;
    /// `Wildcard`.
    pub const WILDCARD: u8 = 16;
    /// `Subpath`.
    pub const SUBPATH: u8 = 17;
    /// `UrlSafe`.
    pub const URL_SAFE: u8 = 18;
    /// `Shlex` (extension range).
    pub const SHLEX: u8 = 128;
}

/// A constraint on one argument value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Constraint {
    /// Admits every value; the only parent that may narrow to anything.
    Wildcard,
    /// Glob over strings.
    Pattern(Pattern),
    /// Unanchored regular expression over strings (boxed, as `Cel`, `UrlPattern`
    /// and `UrlSafe`: a constraint is as large as its largest variant, and every
    /// cached chain holds its leaf's constraints).
    Regex(Box<RegexConstraint>),
    /// Equal to one value.
    Exact(ArgValue),
    /// One of the listed values.
    OneOf(Vec<ArgValue>),
    /// None of the listed values.
    NotOneOf(Vec<ArgValue>),
    /// Numeric bounds.
    Range(Range),
    /// IP address inside a network.
    Cidr(Cidr),
    /// Structured URL pattern (boxed: see `Regex`).
    UrlPattern(Box<UrlPattern>),
    /// A list holding every listed value.
    Contains(Vec<ArgValue>),
    /// A list of allowed values only.
    Subset(Vec<ArgValue>),
    /// Every inner constraint holds (an empty list is invalid).
    All(Vec<Constraint>),
    /// Some inner constraint holds (an empty list admits nothing).
    Any(Vec<Constraint>),
    /// The inner constraint does not hold (its errors still deny).
    Not(Box<Constraint>),
    /// CEL expression (decoded, not evaluated: denies as unsupported; boxed: see
    /// `Regex`).
    Cel(Box<Cel>),
    /// Path contained under a root.
    Subpath(Subpath),
    /// SSRF-screened URL (boxed: see `Regex`).
    UrlSafe(Box<UrlSafe>),
    /// A shell command line running one allow-listed program.
    Shlex(Shlex),
    /// A wire type id this version does not know; kept verbatim, denies.
    Unknown {
        /// The wire type id.
        type_id: u8,
        /// The payload item, re-encoded as is.
        payload: ciborium::Value,
    },
}

fn depth_checked(c: Constraint) -> Result<Constraint, ConstraintBuildError> {
    let depth = c.depth();
    if depth > MAX_CONSTRAINT_DEPTH {
        Err(ConstraintBuildError::DepthExceeded {
            depth,
            max: MAX_CONSTRAINT_DEPTH,
        })
    } else {
        Ok(c)
    }
}

impl Constraint {
    /// `Wildcard`.
    pub fn wildcard() -> Self {
        Constraint::Wildcard
    }

    /// `Pattern`; rejects invalid globs.
    pub fn pattern(glob: &str) -> Result<Self, ConstraintBuildError> {
        Pattern::new(glob).map(Constraint::Pattern)
    }

    /// `Regex`; rejects expressions that do not compile.
    pub fn regex(expression: &str) -> Result<Self, ConstraintBuildError> {
        RegexConstraint::new(expression).map(|r| Constraint::Regex(Box::new(r)))
    }

    /// `Exact`.
    pub fn exact(value: impl Into<ArgValue>) -> Self {
        Constraint::Exact(value.into())
    }

    /// `OneOf`.
    pub fn one_of<T: Into<ArgValue>>(values: impl IntoIterator<Item = T>) -> Self {
        Constraint::OneOf(values.into_iter().map(Into::into).collect())
    }

    /// `NotOneOf`.
    pub fn not_one_of<T: Into<ArgValue>>(values: impl IntoIterator<Item = T>) -> Self {
        Constraint::NotOneOf(values.into_iter().map(Into::into).collect())
    }

    /// Inclusive `Range`; bounds must be finite. Use [`Range`]'s builders for
    /// exclusive bounds.
    pub fn range(min: Option<f64>, max: Option<f64>) -> Result<Self, ConstraintBuildError> {
        Range::new(min, max).map(Constraint::Range)
    }

    /// `Cidr`.
    pub fn cidr(network: &str) -> Result<Self, ConstraintBuildError> {
        Cidr::new(network).map(Constraint::Cidr)
    }

    /// `UrlPattern` (strict: bare wildcard hosts rejected).
    pub fn url_pattern(pattern: &str) -> Result<Self, ConstraintBuildError> {
        UrlPattern::new(pattern).map(|u| Constraint::UrlPattern(Box::new(u)))
    }

    /// `Contains`.
    pub fn contains<T: Into<ArgValue>>(values: impl IntoIterator<Item = T>) -> Self {
        Constraint::Contains(values.into_iter().map(Into::into).collect())
    }

    /// `Subset`.
    pub fn subset<T: Into<ArgValue>>(values: impl IntoIterator<Item = T>) -> Self {
        Constraint::Subset(values.into_iter().map(Into::into).collect())
    }

    /// `All`; rejects results nested deeper than [`MAX_CONSTRAINT_DEPTH`].
    pub fn all(inner: Vec<Constraint>) -> Result<Self, ConstraintBuildError> {
        depth_checked(Constraint::All(inner))
    }

    /// `Any`; rejects results nested deeper than [`MAX_CONSTRAINT_DEPTH`].
    pub fn any(inner: Vec<Constraint>) -> Result<Self, ConstraintBuildError> {
        depth_checked(Constraint::Any(inner))
    }

    /// `Not`; rejects results nested deeper than [`MAX_CONSTRAINT_DEPTH`].
    #[allow(clippy::should_implement_trait)]
    pub fn not(inner: Constraint) -> Result<Self, ConstraintBuildError> {
        depth_checked(Constraint::Not(Box::new(inner)))
    }

    /// `Subpath` with default flags (case-sensitive, root itself allowed).
    pub fn subpath(root: &str) -> Result<Self, ConstraintBuildError> {
        Subpath::new(root, true, true).map(Constraint::Subpath)
    }

    /// `UrlSafe`; rejects malformed domain patterns.
    pub fn url_safe(config: UrlSafe) -> Result<Self, ConstraintBuildError> {
        config.validate()?;
        Ok(Constraint::UrlSafe(Box::new(config)))
    }

    /// `Cel` (will deny as unsupported when evaluated).
    pub fn cel(expression: &str) -> Self {
        Constraint::Cel(Box::new(Cel {
            expression: expression.to_owned(),
            parent_expression: None,
        }))
    }

    /// `Shlex` allowing exactly the listed command words.
    pub fn shlex<S: Into<String>>(allow: impl IntoIterator<Item = S>) -> Self {
        Constraint::Shlex(Shlex::new(allow))
    }

    /// The reference's type name (`"Pattern"`, `"OneOf"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Constraint::Wildcard => "Wildcard",
            Constraint::Pattern(_) => "Pattern",
            Constraint::Regex(_) => "Regex",
            Constraint::Exact(_) => "Exact",
            Constraint::OneOf(_) => "OneOf",
            Constraint::NotOneOf(_) => "NotOneOf",
            Constraint::Range(_) => "Range",
            Constraint::Cidr(_) => "Cidr",
            Constraint::UrlPattern(_) => "UrlPattern",
            Constraint::Contains(_) => "Contains",
            Constraint::Subset(_) => "Subset",
            Constraint::All(_) => "All",
            Constraint::Any(_) => "Any",
            Constraint::Not(_) => "Not",
            Constraint::Cel(_) => "Cel",
            Constraint::Subpath(_) => "Subpath",
            Constraint::UrlSafe(_) => "UrlSafe",
            Constraint::Shlex(_) => "Shlex",
            Constraint::Unknown { .. } => "Unknown",
        }
    }

    /// The wire type id.
    pub fn type_id(&self) -> u8 {
        match self {
            Constraint::Wildcard => type_id::WILDCARD,
            Constraint::Pattern(_) => type_id::PATTERN,
            Constraint::Regex(_) => type_id::REGEX,
            Constraint::Exact(_) => type_id::EXACT,
            Constraint::OneOf(_) => type_id::ONE_OF,
            Constraint::NotOneOf(_) => type_id::NOT_ONE_OF,
            Constraint::Range(_) => type_id::RANGE,
            Constraint::Cidr(_) => type_id::CIDR,
            Constraint::UrlPattern(_) => type_id::URL_PATTERN,
            Constraint::Contains(_) => type_id::CONTAINS,
            Constraint::Subset(_) => type_id::SUBSET,
            Constraint::All(_) => type_id::ALL,
            Constraint::Any(_) => type_id::ANY,
            Constraint::Not(_) => type_id::NOT,
            Constraint::Cel(_) => type_id::CEL,
            Constraint::Subpath(_) => type_id::SUBPATH,
            Constraint::UrlSafe(_) => type_id::URL_SAFE,
            Constraint::Shlex(_) => type_id::SHLEX,
            Constraint::Unknown { type_id, .. } => *type_id,
        }
    }

    /// Nesting depth: 0 for leaves, 1 + deepest child for `All`/`Any`/`Not`.
    pub fn depth(&self) -> usize {
        match self {
            Constraint::All(inner) | Constraint::Any(inner) => {
                1 + inner.iter().map(Constraint::depth).max().unwrap_or(0)
            }
            Constraint::Not(inner) => 1 + inner.depth(),
            _ => 0,
        }
    }

    /// Decode from the wire item `[type_id, payload]`.
    ///
    /// `depth` is the nesting level of this constraint (0 for a constraint
    /// directly in a [`ConstraintSet`]); decoding fails beyond
    /// [`MAX_CONSTRAINT_DEPTH`]. Unknown type ids decode to
    /// [`Constraint::Unknown`] (as in the reference), which denies on use.
    pub fn from_cbor(v: &ciborium::Value, depth: usize) -> Result<Self, ConstraintDecodeError> {
        wire::decode(v, depth)
    }

    /// Encode as the reference's serde serialization would.
    pub fn to_cbor(&self) -> ciborium::Value {
        wire::encode(self)
    }

    /// Whether `value` satisfies this constraint.
    pub fn check(&self, value: &ArgValue) -> Result<(), Mismatch> {
        match self.eval(value, 0) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Mismatch::NotSatisfied),
            Err(e) => Err(e),
        }
    }

    /// The reference's three-way evaluation: `Ok(bool)` or an error that
    /// propagates through composites.
    pub(crate) fn eval(&self, value: &ArgValue, level: usize) -> Result<bool, Mismatch> {
        if level > MAX_CONSTRAINT_DEPTH {
            return Err(Mismatch::InvalidConstraint {
                reason: "constraint nested too deeply".to_owned(),
            });
        }
        match self {
            Constraint::Wildcard => Ok(true),
            Constraint::Pattern(p) => p.eval(value),
            Constraint::Regex(r) => r.eval(value),
            Constraint::Exact(e) => Ok(e == value),
            Constraint::OneOf(vs) => Ok(set::one_of(vs, value)),
            Constraint::NotOneOf(vs) => Ok(set::not_one_of(vs, value)),
            Constraint::Range(r) => Ok(r.eval(value)),
            Constraint::Cidr(c) => c.eval(value),
            Constraint::UrlPattern(u) => u.eval(value),
            Constraint::Contains(vs) => Ok(set::contains(vs, value)),
            Constraint::Subset(vs) => Ok(set::subset(vs, value)),
            Constraint::All(inner) => composite::eval_all(inner, value, level),
            Constraint::Any(inner) => composite::eval_any(inner, value, level),
            Constraint::Not(inner) => Ok(!inner.eval(value, level + 1)?),
            Constraint::Cel(_) => Err(Cel::unsupported()),
            Constraint::Subpath(s) => Ok(s.eval(value)),
            Constraint::UrlSafe(u) => u.eval(value),
            Constraint::Shlex(s) => Ok(value.as_str().is_some_and(|c| s.admits(c).is_ok())),
            Constraint::Unknown { type_id, .. } => Err(Mismatch::Unsupported {
                constraint: "Unknown",
                type_id: *type_id,
            }),
        }
    }

    /// Whether `child` is a valid narrowing of `self` (the parent), exactly as
    /// the reference decides it (see `attenuation.rs` for the pair rules).
    pub fn check_attenuation(&self, child: &Constraint) -> Result<(), AttenuationError> {
        attenuation::check(self, child)
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, name: &str, items: &[T]) -> fmt::Result {
    write!(f, "{name}([")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    f.write_str("])")
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Wildcard => f.write_str("Wildcard"),
            Constraint::Pattern(p) => write!(f, "Pattern({})", p.as_str()),
            Constraint::Regex(r) => write!(f, "Regex({})", r.as_str()),
            Constraint::Exact(v) => write!(f, "Exact({v})"),
            Constraint::OneOf(vs) => write_list(f, "OneOf", vs),
            Constraint::NotOneOf(vs) => write_list(f, "NotOneOf", vs),
            Constraint::Range(r) => write!(f, "{r}"),
            Constraint::Cidr(c) => write!(f, "Cidr({})", c.as_str()),
            Constraint::UrlPattern(u) => write!(f, "{u}"),
            Constraint::Contains(vs) => write_list(f, "Contains", vs),
            Constraint::Subset(vs) => write_list(f, "Subset", vs),
            Constraint::All(cs) => write_list(f, "All", cs),
            Constraint::Any(cs) => write_list(f, "Any", cs),
            Constraint::Not(c) => write!(f, "Not({c})"),
            Constraint::Cel(c) => write!(f, "{c}"),
            Constraint::Subpath(s) => write!(f, "{s}"),
            Constraint::UrlSafe(u) => write!(f, "{u}"),
            Constraint::Shlex(s) => write!(f, "{s}"),
            Constraint::Unknown { type_id, .. } => write!(f, "Unknown(type_id={type_id})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        assert_eq!(
            Constraint::pattern("/data/*").expect("valid").to_string(),
            "Pattern(/data/*)"
        );
        assert_eq!(
            Constraint::range(Some(0.0), Some(100.0))
                .expect("valid")
                .to_string(),
            "Range(0..=100)"
        );
        assert_eq!(
            Constraint::one_of(["a", "b"]).to_string(),
            "OneOf([\"a\", \"b\"])"
        );
        let not = Constraint::not(Constraint::exact(1)).expect("valid");
        assert_eq!(not.to_string(), "Not(Exact(1))");
    }

    #[test]
    fn builders_bound_depth() {
        let mut c = Constraint::Wildcard;
        for _ in 0..MAX_CONSTRAINT_DEPTH {
            c = Constraint::not(c).expect("within limit");
        }
        assert!(Constraint::not(c.clone()).is_err());
        assert_eq!(c.depth(), MAX_CONSTRAINT_DEPTH);
    }

    #[test]
    fn composite_errors_propagate() {
        let cidr = Constraint::cidr("10.0.0.0/8").expect("valid");
        let any = Constraint::any(vec![cidr.clone(), Constraint::exact("garbage")]).expect("ok");
        // The Cidr error on "garbage" propagates before Exact is tried.
        assert!(matches!(
            any.check(&"garbage".into()),
            Err(Mismatch::InvalidValue { .. })
        ));
        let not = Constraint::not(cidr).expect("ok");
        assert!(not.check(&"garbage".into()).is_err());
        assert!(matches!(
            Constraint::All(vec![]).check(&"x".into()),
            Err(Mismatch::InvalidConstraint { .. })
        ));
        assert_eq!(
            Constraint::Any(vec![]).check(&"x".into()),
            Err(Mismatch::NotSatisfied)
        );
    }

    #[test]
    fn unsupported_types() {
        assert!(matches!(
            Constraint::cel("x > 1").check(&ArgValue::Integer(2)),
            Err(Mismatch::Unsupported { type_id: 15, .. })
        ));
    }

    #[test]
    fn shlex_is_evaluated() {
        let c = Constraint::shlex(["ls"]);
        assert_eq!(c.check(&"ls -la".into()), Ok(()));
        assert_eq!(c.check(&"ls; rm".into()), Err(Mismatch::NotSatisfied));
        assert_eq!(c.check(&ArgValue::Integer(1)), Err(Mismatch::NotSatisfied));
    }

    #[test]
    fn a_constraint_stays_small() {
        // Every cached chain holds its leaf's constraints: a large variant inline
        // would make every one of them that large (see `UrlPattern`).
        assert!(std::mem::size_of::<Constraint>() <= 48);
    }
}
