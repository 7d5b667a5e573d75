//! What the conformance cases cover, measured on the cases as decided rather
//! than assumed from how they were written: the §2 deny reasons expected, the
//! constraint types seen admitting and refusing a call, the chain lengths, and
//! the directions (who minted what both implementations decided).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::RangeInclusive;

use tenuo_authz::constraint::ConstraintSet;
use tenuo_authz::wire::decode_stack;
use tenuo_authz::{DenyReason, Warrant};

use crate::common::Minter;
use crate::harness::Case;

/// The constraint types both implementations evaluate. `Cel` and unknown type
/// ids are refused as unsupported here; the `unsupported` cases cover them.
const EVALUATED_TYPES: [&str; 17] = [
    "Exact",
    "Pattern",
    "Range",
    "OneOf",
    "NotOneOf",
    "Regex",
    "Cidr",
    "UrlPattern",
    "Contains",
    "Subset",
    "All",
    "Any",
    "Not",
    "Wildcard",
    "Subpath",
    "UrlSafe",
    "Shlex",
];

/// Chain lengths (warrants, root to leaf) decided in each direction.
const LENGTHS: RangeInclusive<usize> = 1..=8;

/// Allowed and denied counts.
#[derive(Debug, Default, Clone, Copy)]
struct Split {
    allowed: usize,
    denied: usize,
}

/// Coverage of a set of cases, filled by [`Coverage::record`].
#[derive(Default)]
pub(crate) struct Coverage {
    cases: usize,
    reasons: BTreeSet<&'static str>,
    admitting: BTreeSet<&'static str>,
    refusing: BTreeSet<&'static str>,
    lengths: BTreeSet<(&'static str, usize)>,
    directions: BTreeMap<&'static str, Split>,
    /// Our decoding of each stack seen (`None`: it does not decode).
    chains: HashMap<Vec<u8>, Option<Vec<Warrant>>>,
}

impl Coverage {
    /// Counts one case, decided `allowed` (by both: the harness checked that).
    pub(crate) fn record(&mut self, case: &Case, allowed: bool) {
        self.cases += 1;
        if let Some(reason) = case.expect {
            self.reasons.insert(reason.as_str());
        }
        let split = self.directions.entry(case.minter.tag()).or_default();
        if allowed {
            split.allowed += 1;
        } else {
            split.denied += 1;
        }
        if case.withheld {
            return;
        }
        let stack = &case.input.stack;
        let chain = self
            .chains
            .entry(stack.clone())
            .or_insert_with(|| decode_stack(stack).ok());
        let Some(chain) = chain.as_deref() else {
            return;
        };
        self.lengths.insert((case.minter.tag(), chain.len()));
        let Some(grant) = chain.last().and_then(|leaf| grant(leaf, &case.input.tool)) else {
            return;
        };
        if allowed {
            // Every constraint of the grant admitted its argument.
            for (_, constraint) in grant.iter() {
                self.admitting.insert(constraint.type_name());
            }
        } else if case.expect == Some(DenyReason::ConstraintViolation) {
            // The constraint of the argument that failed (missing included);
            // an undeclared argument is refused by no constraint in particular.
            if let Err(violation) = grant.check_args(&case.input.args) {
                if let Some(constraint) = grant.get(&violation.argument) {
                    self.refusing.insert(constraint.type_name());
                }
            }
        }
    }

    /// One line: cases, directions, reasons, constraint types, chain lengths.
    pub(crate) fn summary(&self) -> String {
        let directions: Vec<String> = self
            .directions
            .iter()
            .map(|(tag, s)| format!("{tag}-minted {} allow/{} deny", s.allowed, s.denied))
            .collect();
        let lengths = |tag: &str| {
            let found: Vec<String> = self
                .lengths
                .iter()
                .filter(|(t, _)| *t == tag)
                .map(|(_, n)| n.to_string())
                .collect();
            format!("{tag} [{}]", found.join(","))
        };
        let both = EVALUATED_TYPES
            .iter()
            .filter(|t| self.admitting.contains(*t) && self.refusing.contains(*t))
            .count();
        format!(
            "coverage: {} cases; {}; deny reasons {}/{}; constraint types admitting and refusing {}/{}; chain lengths {}, {}",
            self.cases,
            directions.join(", "),
            self.reasons.len(),
            DenyReason::ALL.len(),
            both,
            EVALUATED_TYPES.len(),
            lengths(Minter::Reference.tag()),
            lengths(Minter::Ours.tag()),
        )
    }

    /// Panics naming whatever is not covered.
    pub(crate) fn assert_complete(&self) {
        let mut gaps = Vec::new();
        for reason in DenyReason::ALL {
            if !self.reasons.contains(reason.as_str()) {
                gaps.push(format!("no case expects {reason}"));
            }
        }
        for t in EVALUATED_TYPES {
            if !self.admitting.contains(t) {
                gaps.push(format!("no allowed case with a {t} constraint"));
            }
            if !self.refusing.contains(t) {
                gaps.push(format!("no case refused by a {t} constraint"));
            }
        }
        for minter in Minter::BOTH {
            let tag = minter.tag();
            let split = self.directions.get(tag).copied().unwrap_or_default();
            if split.allowed == 0 || split.denied == 0 {
                gaps.push(format!("{tag}-minted cases need an allow and a deny"));
            }
            for n in LENGTHS {
                if !self.lengths.contains(&(tag, n)) {
                    gaps.push(format!("no {tag}-minted chain of {n} warrants"));
                }
            }
        }
        assert!(gaps.is_empty(), "coverage gaps:\n{}", gaps.join("\n"));
    }
}

/// The leaf's constraints for `tool`, as the decision looks them up.
fn grant<'w>(leaf: &'w Warrant, tool: &str) -> Option<&'w ConstraintSet> {
    let tools = &leaf.payload().tools;
    tools.get(tool).or_else(|| tools.get("*"))
}
