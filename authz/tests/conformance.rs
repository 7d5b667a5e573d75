//! Decision conformance with the reference implementation (`tenuo` 0.3.5).
//!
//! Every case is one decision — (chain, trusted roots, revocations, tool, args,
//! PoP, now) — made by both implementations from the same bytes: ours with
//! `tenuo_authz::decision`, the reference with `tenuo::wire::decode_stack` and
//! `Authorizer::check_chain_with_pop_args_as_of` (a decode error there is a deny).
//! Both must agree on allow/deny, our reason must be the one expected for the
//! case, and the reference's error, mapped to a §2 reason, must match too unless
//! the case says why it cannot. Chains are minted both ways: by the reference's
//! builders with its PoPs, and by our `mint` module with our PoPs. The run then
//! asserts what the cases cover (`conformance/coverage.rs`): every §2 reason,
//! every evaluated constraint type admitting and refusing, chains of 1 to 8
//! warrants, both directions; and prints it on one line.
//!
//! Deliberate divergences (we deny where the reference allows) are pinned by the
//! `divergence_*` tests at the end.

#[path = "conformance/all.rs"]
mod all;
#[path = "conformance/approvals.rs"]
mod approvals;
#[path = "conformance/calls.rs"]
mod calls;
#[path = "conformance/chains.rs"]
mod chains;
#[path = "conformance/common.rs"]
mod common;
#[path = "conformance/coverage.rs"]
mod coverage;
#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/numbers.rs"]
mod numbers;
#[path = "conformance/shlex.rs"]
mod shlex;

use ciborium::Value;
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::DenyReason;

use common::{
    args, cbor, pk, rk, s, seal, seal_bytes, value_of, Deciders, Input, Minted, Minter, Step, ROOT,
};

#[test]
fn decisions_agree_with_the_reference() {
    let cases = all::cases();
    let total = harness::run(&cases);
    assert!(total >= 500, "only {total} cases");
}

/// A divergence: the reference allows, we deny with `reason`.
fn pin_divergence(input: &Input, reason: DenyReason) {
    let mut deciders = Deciders::default();
    let theirs = deciders.theirs(input);
    assert_eq!(theirs, Ok(()), "the reference allows");
    let ours = deciders.ours(input);
    assert_eq!(ours.map_err(|e| e.0), Err(reason), "we deny");
}

fn input_for(m: &Minted, tool: &str, a: tenuo_authz::pop::Args) -> Input {
    let now = m.now();
    Input {
        stack: m.stack(),
        trusted: vec![ROOT],
        revoked: Vec::new(),
        tool: tool.to_owned(),
        pop: Some(m.pop(m.leaf_holder(), tool, &a, now)),
        args: a,
        now,
        approvals: Vec::new(),
    }
}

fn from_reference(w: tenuo::Warrant, holder: u8) -> Minted {
    let stack = tenuo::wire::encode_stack(&tenuo::wire::WarrantStack(vec![w.clone()])).unwrap();
    Minted {
        minter: Minter::Reference,
        chain: tenuo_authz::wire::decode_stack(&stack).unwrap(),
        holders: vec![holder],
        ref_chain: Some(vec![w]),
    }
}

fn resigned_root(m: &Minted, edit: impl Fn(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let Value::Map(mut entries) = value_of(m.chain[0].payload_bytes()) else {
        panic!("payload is a map");
    };
    edit(&mut entries);
    let envelope = seal_bytes(&cbor(&Value::Map(entries)), ROOT);
    tenuo_authz::wire::encode_stack([envelope.as_slice()])
}

fn entry_mut(entries: &mut [(Value, Value)], key: u64) -> &mut Value {
    &mut entries
        .iter_mut()
        .find(|(k, _)| matches!(k, Value::Integer(i) if u64::try_from(*i).ok() == Some(key)))
        .expect("key present")
        .1
}

#[test]
fn divergence_duplicate_tool_names_are_invalid() {
    let cs = ConstraintSet::new().with("path", Constraint::pattern("/data/*").unwrap());
    let m = Minted::mint(Minter::Ours, &[Step::new(2, vec![("read", cs)])]);
    let stack = resigned_root(&m, |entries| {
        let Value::Map(tools) = entry_mut(entries, 3) else {
            panic!("tools is a map");
        };
        // The same tool again, unconstrained: the reference keeps the last one.
        let open = cbor(&ConstraintSet::new().to_cbor());
        tools.push((Value::Text("read".into()), value_of(&open)));
    });
    let input = Input {
        stack,
        ..input_for(&m, "read", args(&[("path", s("/etc/passwd"))]))
    };
    pin_divergence(&input, DenyReason::InvalidWarrant);
}

#[test]
fn divergence_duplicate_extension_keys_are_invalid() {
    let mut base = Minted::mint(
        Minter::Ours,
        &[Step::new(2, vec![("read", ConstraintSet::new())])],
    );
    let mut p = base.chain[0].payload().clone();
    p.extensions.insert("x-team".into(), vec![1]);
    base.chain = vec![seal(&p, ROOT)];
    let stack = resigned_root(&base, |entries| {
        let Value::Map(ext) = entry_mut(entries, 10) else {
            panic!("extensions is a map");
        };
        ext.push((Value::Text("x-team".into()), Value::Bytes(vec![2])));
    });
    let input = Input {
        stack,
        ..input_for(&base, "read", args(&[]))
    };
    pin_divergence(&input, DenyReason::InvalidWarrant);
}

#[test]
fn divergence_oversized_warrant_inside_a_stack() {
    // `docs/reference.md` §1: 64 KiB per warrant. The reference applies that limit to a lone
    // warrant (`wire::decode`) but, inside a stack, only the 256 KiB stack limit.
    let base = Minted::mint(
        Minter::Ours,
        &[Step::new(2, vec![("read", ConstraintSet::new())])],
    );
    let mut p = base.chain[0].payload().clone();
    for i in 0..9 {
        p.extensions.insert(format!("x-big-{i}"), vec![0x01; 8000]);
    }
    let big = seal_bytes(&tenuo_authz::wire::encode_payload(&p), ROOT);
    assert!(big.len() > 64 * 1024);
    // Alone, both refuse it.
    assert!(tenuo::wire::decode(&big).is_err());
    assert!(tenuo_authz::wire::decode_warrant(&big).is_err());
    let input = Input {
        stack: tenuo_authz::wire::encode_stack([big.as_slice()]),
        ..input_for(&base, "read", args(&[]))
    };
    pin_divergence(&input, DenyReason::InvalidWarrant);
}

#[test]
fn divergence_deeply_nested_values_are_invalid() {
    // `docs/reference.md` §1 bounds nesting before decoding; the reference only hits
    // ciborium's 256-level recursion limit, so it accepts a 150-deep list value.
    let mut value = tenuo_authz::constraint::ArgValue::Null;
    for _ in 0..150 {
        value = tenuo_authz::constraint::ArgValue::List(vec![value]);
    }
    let set = ConstraintSet::new().with("x", Constraint::Exact(value.clone()));
    let m = Minted::mint(
        Minter::Ours,
        &[Step::new(2, vec![("read", ConstraintSet::new())])],
    );
    let mut p = m.chain[0].payload().clone();
    p.tools.insert("read".into(), set);
    let envelope = seal_bytes(&tenuo_authz::wire::encode_payload(&p), ROOT);
    let input = Input {
        stack: tenuo_authz::wire::encode_stack([envelope.as_slice()]),
        ..input_for(&m, "read", args(&[("x", value)]))
    };
    // The PoP names the same id: the payload differs only in its constraints.
    pin_divergence(&input, DenyReason::InvalidWarrant);
}

#[test]
fn cel_is_unsupported_here_and_a_missing_feature_in_the_reference() {
    // The dev-dependency is `tenuo` with its default features, which leave out
    // `cel`: built so, the reference refuses every CEL expression. (Built with
    // `cel` it would evaluate them, and could allow what we refuse.)
    assert!(matches!(
        tenuo::cel::compile("x > 1"),
        Err(tenuo::Error::FeatureNotEnabled { feature: "cel" })
    ));
    let mut cel = tenuo::ConstraintSet::new();
    cel.insert("x", tenuo::constraints::CelConstraint::new("x > 1"));
    let w = tenuo::Warrant::builder()
        .capability("cel", cel)
        .holder(rk(2).public_key())
        .ttl(std::time::Duration::from_secs(600))
        .build(&rk(ROOT))
        .unwrap();
    let m = from_reference(w.clone(), 2);
    // A value the expression admits: only the missing evaluator refuses it.
    let input = input_for(
        &m,
        "cel",
        args(&[("x", tenuo_authz::constraint::ArgValue::Integer(2))]),
    );
    let mut deciders = Deciders::default();
    assert_eq!(
        deciders.ours(&input).map_err(|e| e.0),
        Err(DenyReason::Unsupported)
    );
    let mut authorizer = tenuo::Authorizer::new();
    authorizer.add_trusted_root(rk(ROOT).public_key());
    let call = common::ref_args(&input.args);
    let pop = tenuo::Signature::from_bytes(&input.pop.expect("a PoP")).unwrap();
    let refused = authorizer
        .check_chain_with_pop_args_as_of(&[w], "cel", &call, &call, Some(&pop), &[], input.now)
        .expect_err("the reference refuses CEL");
    assert!(
        matches!(refused, tenuo::Error::FeatureNotEnabled { feature: "cel" }),
        "{refused}"
    );
}

#[test]
fn a_call_without_a_warrant_is_missing_warrant() {
    // At the request level (the reference's `Authorizer` takes decoded chains,
    // not tokens, so it has no equivalent; the harness's `missing_warrant`
    // cases compare the decision level, an empty chain, with it).
    let authorizer = tenuo_authz::Authorizer::builder()
        .trusted_issuers([pk(ROOT)])
        .build()
        .unwrap();
    for token in [None, Some(""), Some(" \n\t")] {
        let denial = authorizer
            .authorize(token, "read", &args(&[]), None)
            .expect_err("no warrant, no call");
        assert_eq!(denial.reason(), DenyReason::MissingWarrant, "{token:?}");
    }
}

/// Both implementations decide `input` as `expect` says (`None`: allow).
fn both_decide(input: &Input, expect: Option<DenyReason>, what: &str) {
    let mut deciders = Deciders::default();
    let wanted = expect.map_or(Ok(()), Err);
    assert_eq!(
        deciders.theirs(input).map_err(|e| e.0),
        wanted,
        "reference: {what}"
    );
    assert_eq!(
        deciders.ours(input).map_err(|e| e.0),
        wanted,
        "ours: {what}"
    );
}

/// Adds `key: value` to the first map holding `key` in `v`, depth first.
fn push_duplicate(v: &mut Value, key: &str, value: &Value) -> bool {
    match v {
        Value::Map(entries) => {
            if entries.iter().any(|(k, _)| k.as_text() == Some(key)) {
                entries.push((Value::Text(key.into()), value.clone()));
                return true;
            }
            entries
                .iter_mut()
                .any(|(_, inner)| push_duplicate(inner, key, value))
        }
        Value::Array(items) => items.iter_mut().any(|i| push_duplicate(i, key, value)),
        Value::Tag(_, inner) => push_duplicate(inner, key, value),
        _ => false,
    }
}

#[test]
fn duplicate_argument_names_and_value_keys_last_one_wins_in_both() {
    // The reference decodes a constraint set's arguments and a value's map into
    // serde `BTreeMap`s, which keep the last of duplicate keys; we decode alike.
    let exact =
        |v: tenuo_authz::constraint::ArgValue| value_of(&cbor(&Constraint::exact(v).to_cbor()));
    let pattern = value_of(&cbor(&Constraint::pattern("/data/*").unwrap().to_cbor()));
    let mode =
        |m: &str| tenuo_authz::constraint::ArgValue::Object([("mode".to_owned(), s(m))].into());
    for minter in Minter::BOTH {
        // Argument `path` twice: the last constraint is the one enforced, in
        // either order.
        for (first, last, admitted, refused) in [
            (
                Constraint::pattern("/data/*").unwrap(),
                exact(s("/etc/passwd")),
                "/etc/passwd",
                "/data/x",
            ),
            (
                Constraint::exact("/etc/passwd"),
                pattern.clone(),
                "/data/x",
                "/etc/passwd",
            ),
        ] {
            let cs = ConstraintSet::new().with("path", first);
            let m = Minted::mint(minter, &[Step::new(2, vec![("read", cs)])]);
            let stack = resigned_root(&m, |entries| {
                assert!(push_duplicate(entry_mut(entries, 3), "path", &last));
            });
            for (path, expect) in [
                (admitted, None),
                (refused, Some(DenyReason::ConstraintViolation)),
            ] {
                let input = Input {
                    stack: stack.clone(),
                    ..input_for(&m, "read", args(&[("path", s(path))]))
                };
                both_decide(&input, expect, &format!("[{}] path={path}", minter.tag()));
            }
        }
        // A value map with `mode` twice: `{"mode": "ro", "mode": "rw"}` is {"mode": "rw"}.
        let cs = ConstraintSet::new().with("opts", Constraint::exact(mode("ro")));
        let m = Minted::mint(minter, &[Step::new(2, vec![("cfg", cs)])]);
        let stack = resigned_root(&m, |entries| {
            assert!(push_duplicate(
                entry_mut(entries, 3),
                "mode",
                &Value::Text("rw".into())
            ));
        });
        for (value, expect) in [("rw", None), ("ro", Some(DenyReason::ConstraintViolation))] {
            let input = Input {
                stack: stack.clone(),
                ..input_for(&m, "cfg", args(&[("opts", mode(value))]))
            };
            both_decide(&input, expect, &format!("[{}] mode={value}", minter.tag()));
        }
    }
}
