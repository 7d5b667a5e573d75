//! `Pattern` (wire type 2): glob matching with the exact semantics of the
//! `glob` 0.3 crate's `Pattern::matches` under its default options, which is
//! what the reference uses, plus the reference's prefix/suffix attenuation.
//!
//! Semantics (default `MatchOptions`: case-sensitive, `*` may cross `/`,
//! leading dots not special):
//! * anchored at both ends; compared per Unicode scalar value;
//! * `?` matches any one character (including `/`);
//! * `*` matches any sequence (including `/`);
//! * `**` is only valid as a whole path component (`a/**/b`, `**/x`, `a/**`);
//!   it resumes matching only at the start or right after a `/`;
//!   `***` or a `**` touching other characters is a compile error;
//! * `[abc]`, `[a-z]`, `[!abc]` are classes; a `]` right after `[` or `[!`
//!   is a literal member; an unclosed `[` is a compile error; a lone `]` is
//!   literal; there is no backslash escaping.
//!
//! The reference evaluates glob with a backtracking search that has an
//! early-exit rule ("ran out of input, give up on this whole branch"). We
//! compute the very same three-valued result with a bottom-up table instead,
//! which is O(pattern × input) rather than exponential; ASCII globs of `*`, `?`
//! and literals, the common case, take an allocation-free wildcard scan.
//!
//! # Compatibility note
//! The reference does not validate the glob when decoding a warrant: an
//! invalid pattern decodes fine and fails only when evaluated (an error,
//! which denies). We compile once at decode time and keep the compile error
//! to report on every evaluation, so decode acceptance is identical.

use super::error::{ConstraintBuildError, Mismatch};
use super::value::ArgValue;
use super::widening::Widening;
use crate::heap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    Single(char),
    Range(char, char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyChar,
    AnySequence,
    AnyRecursive,
    Within(ClassSpan),
    Except(ClassSpan),
}

/// Where a bracket expression's classes sit in [`Glob::classes`]. Spans keep a
/// token at 12 bytes; a glob is cached per warrant, many thousands at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClassSpan {
    start: u32,
    end: u32,
}

/// Three-valued result of the reference's glob search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Match,
    Sub,
    Entire,
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    tokens: Box<[Token]>,
    classes: Box<[Class]>,
}

const ERR_WILDCARDS: &str = "wildcards are either regular `*` or recursive `**`";
const ERR_RECURSIVE: &str = "recursive wildcards must form a single path component";
const ERR_RANGE: &str = "invalid range pattern";

/// Appends the classes of a bracket body to `out`; returns their span.
fn classes(chars: &[char], out: &mut Vec<Class>) -> ClassSpan {
    let start = out.len();
    let mut i = 0;
    while i < chars.len() {
        match (chars.get(i), chars.get(i + 1), chars.get(i + 2)) {
            (Some(&a), Some('-'), Some(&b)) => {
                out.push(Class::Range(a, b));
                i += 3;
            }
            (Some(&a), _, _) => {
                out.push(Class::Single(a));
                i += 1;
            }
            (None, _, _) => break,
        }
    }
    // Patterns are bounded by the warrant size limit, far below u32::MAX.
    let index = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    ClassSpan {
        start: index(start),
        end: index(out.len()),
    }
}

fn in_classes(classes: &[Class], c: char) -> bool {
    classes.iter().any(|cl| match *cl {
        Class::Single(s) => s == c,
        Class::Range(lo, hi) => c >= lo && c <= hi,
    })
}

/// One symbol of a glob of ASCII literals, `?` and `*` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wild {
    Literal(u8),
    One,
    Any,
}

/// Whether the ASCII `input` matches the wildcard glob whose `t`-th symbol is
/// `symbol(t)` (`None` past its end), exactly as the reference's search decides.
/// Without `**` and classes that search is plain wildcard matching, for which the
/// greedy two-pointer scan is exact: on a mismatch only the latest `*` needs to
/// absorb one more character, since earlier ones could only hand the same suffix
/// problem on.
fn wildcard_scan(symbol: impl Fn(usize) -> Option<Wild>, input: &[u8]) -> bool {
    let (mut t, mut i) = (0, 0);
    // The latest `*`: the symbol after it, and where its match now ends.
    let mut star: Option<(usize, usize)> = None;
    while i < input.len() {
        match (symbol(t), input.get(i)) {
            (Some(Wild::Any), _) => {
                star = Some((t + 1, i));
                t += 1;
            }
            (Some(Wild::One), _) => {
                t += 1;
                i += 1;
            }
            (Some(Wild::Literal(c)), Some(&b)) if c == b => {
                t += 1;
                i += 1;
            }
            _ => match star {
                Some((after, end)) => {
                    star = Some((after, end + 1));
                    t = after;
                    i = end + 1;
                }
                None => return false,
            },
        }
    }
    (t..).map_while(&symbol).all(|w| w == Wild::Any)
}

/// Whether `source` is a glob of ASCII literals, `?` and single `*`s (no `**`, no
/// bracket), which [`Glob::compile`] compiles one token per byte: never an error.
fn is_wildcard_glob(source: &str) -> bool {
    source.is_ascii() && !source.contains('[') && !source.contains("**")
}

/// The symbols of a source for which [`is_wildcard_glob`] holds.
fn wildcard_symbols(source: &str) -> impl Fn(usize) -> Option<Wild> + '_ {
    let bytes = source.as_bytes();
    move |t| {
        bytes.get(t).map(|&b| match b {
            b'*' => Wild::Any,
            b'?' => Wild::One,
            literal => Wild::Literal(literal),
        })
    }
}

impl Glob {
    /// Compile a glob; errors are the `glob` crate's error messages.
    pub fn compile(pattern: &str) -> Result<Self, &'static str> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut class_table = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            match c {
                '?' => {
                    tokens.push(Token::AnyChar);
                    i += 1;
                }
                '*' => {
                    let start = i;
                    while chars.get(i) == Some(&'*') {
                        i += 1;
                    }
                    let count = i - start;
                    if count > 2 {
                        return Err(ERR_WILDCARDS);
                    }
                    if count == 1 {
                        tokens.push(Token::AnySequence);
                        continue;
                    }
                    let after_separator = start == 0 || chars.get(start - 1) == Some(&'/');
                    if !after_separator {
                        return Err(ERR_RECURSIVE);
                    }
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    } else if i != chars.len() {
                        return Err(ERR_RECURSIVE);
                    }
                    // The reference collapses a `**` directly following another
                    // only when at least two tokens precede it.
                    let collapse = tokens.len() > 1 && tokens.last() == Some(&Token::AnyRecursive);
                    if !collapse {
                        tokens.push(Token::AnyRecursive);
                    }
                }
                '[' => {
                    let negated = chars.get(i + 1) == Some(&'!');
                    if negated && i + 4 <= chars.len() {
                        let close = chars
                            .get(i + 3..)
                            .and_then(|rest| rest.iter().position(|x| *x == ']'));
                        if let (Some(j), Some(body)) =
                            (close, close.and_then(|j| chars.get(i + 2..i + 3 + j)))
                        {
                            tokens.push(Token::Except(classes(body, &mut class_table)));
                            i += j + 4;
                            continue;
                        }
                    } else if !negated && i + 3 <= chars.len() {
                        let close = chars
                            .get(i + 2..)
                            .and_then(|rest| rest.iter().position(|x| *x == ']'));
                        if let (Some(j), Some(body)) =
                            (close, close.and_then(|j| chars.get(i + 1..i + 2 + j)))
                        {
                            tokens.push(Token::Within(classes(body, &mut class_table)));
                            i += j + 3;
                            continue;
                        }
                    }
                    return Err(ERR_RANGE);
                }
                other => {
                    tokens.push(Token::Char(other));
                    i += 1;
                }
            }
        }
        Ok(Glob {
            tokens: tokens.into_boxed_slice(),
            classes: class_table.into_boxed_slice(),
        })
    }

    fn span(&self, span: ClassSpan) -> &[Class] {
        self.classes
            .get(span.start as usize..span.end as usize)
            .unwrap_or(&[])
    }

    /// Whether `input` matches, exactly as `glob::Pattern::matches` decides.
    pub fn matches(&self, input: &str) -> bool {
        match self.matches_ascii_wildcards(input) {
            Some(verdict) => verdict,
            None => self.matches_by_table(input),
        }
    }

    /// The common case, an ASCII input against literal ASCII characters, `?` and
    /// `*` only (`/data/*`, `staging-*`), decided without allocating by
    /// [`wildcard_scan`]; `None` for any other glob or input.
    fn matches_ascii_wildcards(&self, input: &str) -> Option<bool> {
        let wild = |token: &Token| match token {
            Token::Char(c) if c.is_ascii() => Some(Wild::Literal(*c as u8)),
            Token::AnyChar => Some(Wild::One),
            Token::AnySequence => Some(Wild::Any),
            _ => None,
        };
        if !input.is_ascii() || !self.tokens.iter().all(|t| wild(t).is_some()) {
            return None;
        }
        Some(wildcard_scan(
            |t| self.tokens.get(t).and_then(wild),
            input.as_bytes(),
        ))
    }

    /// The general case: the reference's three-valued search, computed bottom-up
    /// over (token, input position) in O(tokens x characters).
    fn matches_by_table(&self, input: &str) -> bool {
        let chars: Vec<char> = input.chars().collect();
        let n = chars.len();
        // next[p] = result of matching tokens[t+1..] from input position p.
        // Start with the empty token suffix.
        let mut next: Vec<Step> = (0..=n)
            .map(|p| if p == n { Step::Match } else { Step::Sub })
            .collect();
        let mut cur: Vec<Step> = vec![Step::Sub; n + 1];
        for token in self.tokens.iter().rev() {
            match token {
                Token::AnySequence | Token::AnyRecursive => {
                    // First non-Sub among candidate resume points q >= p, where
                    // candidates are p itself, then (for `**`) positions right
                    // after a `/` and the end of input, or (for `*`) every q.
                    let mut first_later = Step::Sub;
                    for p in (0..=n).rev() {
                        let here = next.get(p).copied().unwrap_or(Step::Sub);
                        let value = if here == Step::Sub { first_later } else { here };
                        if let Some(slot) = cur.get_mut(p) {
                            *slot = value;
                        }
                        let eligible = match token {
                            Token::AnySequence => true,
                            _ => p == n || (p > 0 && chars.get(p - 1) == Some(&'/')),
                        };
                        if eligible && here != Step::Sub {
                            first_later = here;
                        }
                    }
                }
                single => {
                    for p in 0..=n {
                        let value = match chars.get(p) {
                            None => Step::Entire,
                            Some(&c) => {
                                let ok = match single {
                                    Token::Char(t) => *t == c,
                                    Token::AnyChar => true,
                                    Token::Within(span) => in_classes(self.span(*span), c),
                                    Token::Except(span) => !in_classes(self.span(*span), c),
                                    Token::AnySequence | Token::AnyRecursive => false,
                                };
                                if ok {
                                    next.get(p + 1).copied().unwrap_or(Step::Sub)
                                } else {
                                    Step::Sub
                                }
                            }
                        };
                        if let Some(slot) = cur.get_mut(p) {
                            *slot = value;
                        }
                    }
                }
            }
            std::mem::swap(&mut next, &mut cur);
        }
        next.first() == Some(&Step::Match)
    }
}

/// A `Pattern` constraint: the source text plus its compiled glob (or the
/// compile error, reported on evaluation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: Box<str>,
    compiled: Compiled,
}

/// What a pattern compiled to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Compiled {
    /// ASCII literals, `?` and single `*`s (`/data/reports/*`), the common case:
    /// matched by scanning the source itself. A token array would take twelve
    /// bytes a character in every cached chain for nothing an ASCII input needs.
    Wildcards,
    /// Anything else: the tokens (boxed: most patterns have none, and a constraint
    /// is as large as its largest variant).
    Glob(Box<Glob>),
    /// Not a glob: the error every evaluation reports.
    Invalid(&'static str),
}

/// Shape of a pattern for attenuation: the reference only reasons about
/// patterns with at most one `*` at an end.
enum Shape<'a> {
    Literal,
    Prefix(&'a str),
    Suffix(&'a str),
    Complex,
}

impl Pattern {
    /// Build, rejecting invalid globs.
    pub fn new(pattern: &str) -> Result<Self, ConstraintBuildError> {
        let p = Self::from_wire(pattern.to_owned());
        match &p.compiled {
            Compiled::Invalid(reason) => Err(ConstraintBuildError::InvalidPattern {
                pattern: pattern.to_owned(),
                reason,
            }),
            Compiled::Wildcards | Compiled::Glob(_) => Ok(p),
        }
    }

    /// Build from a decoded payload: never fails (see the module's
    /// compatibility note).
    pub(crate) fn from_wire(source: String) -> Self {
        let compiled = if is_wildcard_glob(&source) {
            Compiled::Wildcards
        } else {
            match Glob::compile(&source) {
                Ok(glob) => Compiled::Glob(Box::new(glob)),
                Err(reason) => Compiled::Invalid(reason),
            }
        };
        Pattern {
            source: source.into_boxed_str(),
            compiled,
        }
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> Result<bool, Mismatch> {
        if let Compiled::Invalid(reason) = self.compiled {
            return Err(Mismatch::InvalidConstraint {
                reason: format!("invalid glob `{}`: {reason}", self.source),
            });
        }
        let ArgValue::String(input) = value else {
            return Ok(false);
        };
        Ok(self.matches(input))
    }

    /// Whether `input` matches this pattern (false if it is not a valid glob).
    fn matches(&self, input: &str) -> bool {
        match &self.compiled {
            Compiled::Glob(glob) => glob.matches(input),
            Compiled::Wildcards if input.is_ascii() => {
                wildcard_scan(wildcard_symbols(&self.source), input.as_bytes())
            }
            // A non-ASCII input (rare) takes the general search over the tokens,
            // compiled for the occasion: the table it builds allocates anyway.
            Compiled::Wildcards => Glob::compile(&self.source).is_ok_and(|g| g.matches(input)),
            Compiled::Invalid(_) => false,
        }
    }

    /// An estimate of the resident bytes this pattern holds on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        let tokens = match &self.compiled {
            Compiled::Glob(glob) => {
                heap::allocation(size_of::<Glob>())
                    + heap::allocation(size_of_val(&*glob.tokens))
                    + heap::allocation(size_of_val(&*glob.classes))
            }
            Compiled::Wildcards | Compiled::Invalid(_) => 0,
        };
        heap::string(&self.source) + tokens
    }

    fn shape(&self) -> Shape<'_> {
        let s = &*self.source;
        match s.matches('*').count() {
            0 => Shape::Literal,
            1 => {
                if let Some(prefix) = s.strip_suffix('*') {
                    Shape::Prefix(prefix)
                } else if let Some(suffix) = s.strip_prefix('*') {
                    Shape::Suffix(suffix)
                } else {
                    Shape::Complex
                }
            }
            _ => Shape::Complex,
        }
    }

    /// Pattern → Pattern attenuation, as the reference decides it.
    ///
    /// # Compatibility note
    /// Only `*` is considered: `?` and `[...]` count as literal characters
    /// here, so e.g. parent `a*` admits child `a?` (which is sound), but also
    /// parent `?` (no `*`) admits only an identical child. A literal child
    /// is compared textually against the parent's prefix/suffix, not glob-
    /// matched.
    pub(crate) fn attenuate(&self, child: &Pattern) -> Result<(), Widening> {
        if self.source == child.source {
            return Ok(());
        }
        let ok = match (self.shape(), child.shape()) {
            (Shape::Prefix(p), Shape::Prefix(c)) => c.starts_with(p),
            (Shape::Prefix(p), Shape::Literal) => child.source.starts_with(p),
            (Shape::Suffix(p), Shape::Suffix(c)) => c.ends_with(p),
            (Shape::Suffix(p), Shape::Literal) => child.source.ends_with(p),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Widening::PatternNotNarrower {
                parent: self.source.to_string(),
                child: child.source.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Glob::compile(p).map(|g| g.matches(s)).unwrap_or(false)
    }

    #[test]
    fn star_crosses_slash_and_is_anchored() {
        assert!(m("/data/*", "/data/a/b"));
        assert!(m("staging-*", "staging-"));
        assert!(!m("staging-*", "xstaging-a"));
        assert!(!m("abc", "abcd"));
        assert!(m("*", ""));
    }

    #[test]
    fn question_and_classes() {
        assert!(m("c?t", "cat"));
        assert!(m("?", "/"));
        assert!(m("k[!e]tteh", "kitteh"));
        assert!(!m("k[!e]tteh", "ketteh"));
        assert!(m("[a-c]", "b"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(m("a]", "a]"));
        assert!(!m("A", "a"));
    }

    #[test]
    fn recursive_wildcard() {
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(m("a/**/b", "a/b"));
        assert!(m("**/x", "x"));
        assert!(m("**/x", "a/x"));
        assert!(!m("**/x", "ax"));
        assert!(m("a/**", "a/b/c"));
    }

    #[test]
    fn compile_errors() {
        assert!(Glob::compile("***").is_err());
        assert!(Glob::compile("a**").is_err());
        assert!(Glob::compile("**a").is_err());
        assert!(Glob::compile("[").is_err());
        assert!(Glob::compile("[ab").is_err());
        assert!(Glob::compile("[!]").is_err());
        assert!(Glob::compile("[]").is_err());
    }

    proptest::proptest! {
        // The allocation-free path decides exactly as the reference's search.
        #[test]
        fn the_wildcard_scan_agrees_with_the_table(
            pattern in "[ab/*?]{0,8}",
            input in "[ab/]{0,10}",
        ) {
            if let Ok(glob) = Glob::compile(&pattern) {
                if let Some(fast) = glob.matches_ascii_wildcards(&input) {
                    proptest::prop_assert_eq!(fast, glob.matches_by_table(&input));
                }
            }
        }
    }

    proptest::proptest! {
        // A pattern that keeps no tokens decides exactly as its compiled tokens,
        // on ASCII inputs (the scan of its source) and on any other (the table).
        #[test]
        fn a_pattern_without_tokens_agrees_with_its_glob(
            pattern in "[ab/*?\\[\\]é]{0,8}",
            input in "[ab/é]{0,10}",
        ) {
            let p = Pattern::from_wire(pattern.clone());
            let kept = matches!(p.compiled, Compiled::Glob(_) | Compiled::Invalid(_));
            proptest::prop_assert_eq!(kept, !is_wildcard_glob(&pattern));
            let value = ArgValue::String(input.clone());
            match Glob::compile(&pattern) {
                Ok(glob) => proptest::prop_assert_eq!(p.eval(&value).ok(), Some(glob.matches(&input))),
                Err(_) => proptest::prop_assert!(p.eval(&value).is_err()),
            }
        }
    }

    #[test]
    fn the_wildcard_scan_takes_only_what_it_decides_exactly() {
        let fast = |p: &str, s: &str| Glob::compile(p).unwrap().matches_ascii_wildcards(s);
        assert_eq!(
            fast("/data/*/reports/*.csv", "/data/x/reports/q3.csv"),
            Some(true)
        );
        assert_eq!(fast("*a*b", "xaxbxb"), Some(true));
        assert_eq!(fast("*a*b", "xaxbx"), Some(false));
        assert_eq!(fast("a?c", "abc"), Some(true));
        assert_eq!(fast("a/**/b", "a/x/b"), None);
        assert_eq!(fast("[ab]", "a"), None);
        assert_eq!(fast("caf*", "café"), None);
        assert_eq!(fast("é*", "éa"), None);
    }

    #[test]
    fn attenuation_prefix_suffix() {
        let p = |s: &str| Pattern::from_wire(s.into());
        assert!(p("staging-*").attenuate(&p("staging-web-*")).is_ok());
        assert!(p("staging-*").attenuate(&p("staging-web")).is_ok());
        assert!(p("*-safe").attenuate(&p("*-extra-safe")).is_ok());
        assert!(p("*-safe").attenuate(&p("*")).is_err());
        assert!(p("a*b").attenuate(&p("a*b")).is_ok());
        assert!(p("a*b").attenuate(&p("axb")).is_err());
        assert!(p("staging-*").attenuate(&p("*-safe")).is_err());
    }

    #[test]
    fn invalid_pattern_errors_on_eval() {
        let p = Pattern::from_wire("[".into());
        assert!(matches!(
            p.eval(&ArgValue::Integer(1)),
            Err(Mismatch::InvalidConstraint { .. })
        ));
    }
}
