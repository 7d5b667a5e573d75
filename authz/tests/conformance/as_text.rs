//! The conformance cases as a front end sees them: a token arrives as text and the
//! arguments as JSON. Shared by the suites that decide every case through a front
//! end (`conformance_cli.rs`, `conformance_tower.rs`).
//!
//! Two byte-level inputs are other inputs as text ([`AS_TEXT`]), and a NaN or an
//! infinity has no JSON spelling at all: those cases are decided for what they
//! are as text, or named and left out, never silently.

use tenuo_authz::constraint::ArgValue;
use tenuo_authz::DenyReason;

use crate::harness::Case;

/// Cases whose bytes read differently as token text, and the verdict on that
/// text: the empty string is no token at all (`missing_warrant`, as in every
/// front end); a lone envelope is a valid token, a single warrant, decided by
/// itself (here a delegated leaf whose issuer is not trusted).
const AS_TEXT: &[(&str, Option<DenyReason>)] = &[
    ("empty input", Some(DenyReason::MissingWarrant)),
    (
        "bare envelope instead of a stack",
        Some(DenyReason::UntrustedIssuer),
    ),
];

/// What a front end must answer for `case`.
pub(crate) fn expected(case: &Case) -> Option<DenyReason> {
    AS_TEXT
        .iter()
        .find(|(what, _)| case.what.ends_with(what))
        .map_or(case.expect, |(_, as_text)| *as_text)
}

/// Whether an argument is a NaN or an infinity, which JSON cannot spell (it
/// only reaches a decision inside CBOR, as the library suite sends it).
fn no_json_spelling(case: &Case) -> bool {
    fn non_finite(v: &ArgValue) -> bool {
        match v {
            ArgValue::Float(f) => !f.is_finite(),
            ArgValue::List(items) => items.iter().any(non_finite),
            ArgValue::Object(map) => map.values().any(non_finite),
            _ => false,
        }
    }
    case.input.args.values().any(non_finite)
}

/// Every conformance case a front end can be sent, and the names of those it
/// cannot (only NaN and infinity arguments); checks that each text-level case is
/// there, minted both ways.
pub(crate) fn cases() -> (Vec<Case>, Vec<String>) {
    let (unspellable, cases): (Vec<Case>, Vec<Case>) =
        crate::all::cases().into_iter().partition(no_json_spelling);
    assert!(
        unspellable.len() <= 4,
        "only NaN and infinity arguments may be left out"
    );
    let as_text = cases
        .iter()
        .filter(|c| AS_TEXT.iter().any(|(what, _)| c.what.ends_with(what)))
        .count();
    assert_eq!(
        as_text,
        2 * AS_TEXT.len(),
        "each text-level case, minted both ways"
    );
    (cases, unspellable.into_iter().map(|c| c.what).collect())
}
