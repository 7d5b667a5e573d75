//! Inputs wrong in two ways, and inputs the reference accepts that a strict
//! reading would refuse, decided by both implementations (`tenuo` 0.3.5 as the
//! oracle). Each test pins either agreement or a difference the README's
//! Compatibility section documents.

#[path = "conformance/common.rs"]
mod common;

use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::wire::{decode_stack, encode_envelope, encode_payload, encode_stack};
use tenuo_authz::DenyReason;

use common::{
    args, ok, s, seal_bytes, signed_message, Deciders, Input, Minted, Minter, Step, ROOT, STRANGER,
};

fn input(stack: Vec<u8>, m: &Minted, trusted: u8, tool: &str, a: tenuo_authz::pop::Args) -> Input {
    let now = m.now();
    Input {
        stack,
        trusted: vec![trusted],
        revoked: Vec::new(),
        tool: tool.to_owned(),
        pop: Some(m.pop(m.leaf_holder(), tool, &a, now)),
        approvals: Vec::new(),
        args: a,
        now,
    }
}

fn reason(outcome: &common::Outcome) -> Option<DenyReason> {
    outcome.as_ref().err().map(|(r, _)| *r)
}

/// A signed payload followed by more bytes inside the signed byte string: the
/// reference decodes the leading map and ignores the rest; so do we. The issuer
/// signed every byte, so nothing unsigned is granted.
#[test]
fn payload_bytes_after_the_signed_map_are_ignored_by_both() {
    let m = Minted::mint(
        Minter::Ours,
        &[Step::new(
            2,
            vec![(
                "read",
                ConstraintSet::new().with("path", Constraint::pattern("/data/*").unwrap()),
            )],
        )],
    );
    for trailing in [&[0x00][..], &[0xff, 0xff], &[0x1c], &[0xa1, 0x01]] {
        let mut payload = encode_payload(m.chain[0].payload());
        payload.extend_from_slice(trailing);
        let stack = encode_stack([seal_bytes(&payload, ROOT).as_slice()]);
        let mut deciders = Deciders::default();
        for (path, expect) in [
            ("/data/a", None),
            ("/etc/passwd", Some(DenyReason::ConstraintViolation)),
        ] {
            let i = input(stack.clone(), &m, ROOT, "read", args(&[("path", s(path))]));
            let (ours, theirs) = (deciders.ours(&i), deciders.theirs(&i));
            assert_eq!(
                reason(&ours),
                expect,
                "ours, trailing {trailing:02x?}: {ours:?}"
            );
            assert_eq!(
                reason(&theirs),
                expect,
                "reference, trailing {trailing:02x?}: {theirs:?}"
            );
        }
        // Bytes after the envelope, outside the signature, stay refused by both.
        let mut outside = stack.clone();
        outside.push(0x00);
        assert!(decode_stack(&outside).is_err());
        assert!(tenuo::wire::decode_stack(&outside).is_err());
    }
}

/// A tampered payload whose root is also untrusted. The reference verifies every
/// signature while decoding, so it reports the broken signature first, as an
/// undecodable warrant; we check trust first and report `untrusted_issuer`. Both
/// deny; the reasons differ as documented (README, Compatibility).
#[test]
fn a_tampered_chain_with_an_untrusted_root_is_untrusted_here_and_undecodable_there() {
    let m = Minted::mint(
        Minter::Ours,
        &[Step::new(2, vec![("read", ConstraintSet::new())])],
    );
    // The root's payload with one more second of life, under the original signature.
    let original = encode_payload(m.chain[0].payload());
    let mut widened = m.chain[0].payload().clone();
    widened.expires_at += 1;
    let signature = ok(ROOT).sign(&signed_message(&original));
    let tampered = encode_envelope(&encode_payload(&widened), &signature);
    let stack = encode_stack([tampered.as_slice()]);
    let mut deciders = Deciders::default();
    let untrusted = input(stack.clone(), &m, STRANGER, "read", args(&[]));
    assert_eq!(
        reason(&deciders.ours(&untrusted)),
        Some(DenyReason::UntrustedIssuer)
    );
    assert_eq!(
        reason(&deciders.theirs(&untrusted)),
        Some(DenyReason::InvalidWarrant)
    );
    let trusted = input(stack, &m, ROOT, "read", args(&[]));
    let ours = reason(&deciders.ours(&trusted));
    assert!(
        matches!(
            ours,
            Some(DenyReason::SignatureInvalid | DenyReason::InvalidWarrant)
        ),
        "{ours:?}"
    );
    assert_eq!(
        reason(&deciders.theirs(&trusted)),
        Some(DenyReason::InvalidWarrant)
    );
}

/// A glob or a regular expression that does not compile: both accept the
/// warrant and refuse the argument when it is evaluated, so a call that fails
/// earlier for another reason gets that reason from both.
#[test]
fn constraints_that_do_not_compile_deny_when_evaluated_in_both() {
    // Built from their wire form: the constructors refuse them, the decoder keeps them.
    let wire = |type_id: u8, source: &str| {
        let payload = ciborium::Value::Map(vec![(
            ciborium::Value::Text("pattern".into()),
            ciborium::Value::Text(source.into()),
        )]);
        let value = ciborium::Value::Array(vec![ciborium::Value::Integer(type_id.into()), payload]);
        Constraint::from_cbor(&value, 0).expect("decodes")
    };
    let bad = ConstraintSet::new()
        .with("path", wire(2, "/data/[z-a]*"))
        .with("name", wire(5, "(unclosed"));
    let m = Minted::mint(Minter::Ours, &[Step::new(2, vec![("read", bad)])]);
    let mut deciders = Deciders::default();
    for (tool, a, expect) in [
        (
            "read",
            args(&[("path", s("/data/x")), ("name", s("x"))]),
            DenyReason::ConstraintViolation,
        ),
        ("write", args(&[]), DenyReason::ToolNotInWarrant),
    ] {
        let i = input(m.stack(), &m, ROOT, tool, a);
        assert_eq!(reason(&deciders.ours(&i)), Some(expect), "ours, {tool}");
        let theirs = deciders.theirs(&i);
        assert_eq!(
            reason(&theirs),
            Some(expect),
            "reference, {tool}: {theirs:?}"
        );
    }
}
