//! Approvals, differentially: warrants with approvers and gates and the
//! approvals for them, minted by the reference crate and decided by ours, and
//! minted here and decided by the reference's `Authorizer`; the same verdict and
//! the same reason on every case (the cases are the conformance suite's
//! approval class). Then what a short call reports (request hash, counts,
//! approvers) against the reference's own report, and the minting rules.

#[path = "conformance/approvals.rs"]
mod approvals;
#[path = "conformance/common.rs"]
mod common;
#[path = "conformance/coverage.rs"]
#[allow(dead_code)]
mod coverage;
#[path = "conformance/harness.rs"]
#[allow(dead_code)]
mod harness;

use approvals::{approval, gated_root, gates, APPROVERS};
use common::{args, ok, pk, ref_args, rk, s, Deciders, Minter};
use tenuo_authz::approval::{decode_approvals, encode_approvals, SignedApproval};
use tenuo_authz::chain::PreparedChain;
use tenuo_authz::decision::{decide, Call, Policy, TrustedIssuers};
use tenuo_authz::mint::{sign_approval, Attenuate, MintError};
use tenuo_authz::pop::sign_pop;
use tenuo_authz::DenyReason;

#[test]
fn both_implementations_decide_every_approval_case_alike() {
    let mut cases = Vec::new();
    approvals::approval_cases(&mut cases);
    let mut deciders = Deciders::default();
    let mut failures = Vec::new();
    for case in &cases {
        let ours = deciders.ours(&case.input).map_err(|e| e.0);
        let theirs = deciders.theirs(&case.input).map_err(|e| e.0);
        let wanted = case.expect.map_or(Ok(()), Err);
        if ours != wanted || theirs != wanted {
            failures.push(format!(
                "{}: expected {wanted:?}, ours {:?}, theirs {:?}",
                case.what,
                deciders.ours(&case.input),
                deciders.theirs(&case.input)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 40, "{} cases", cases.len());
}

#[test]
fn a_short_call_reports_what_the_reference_reports() {
    for minter in Minter::BOTH {
        let m = gated_root(minter, true);
        let now = m.now();
        let a = args(&[("path", s("/data/a"))]);
        let one = approval(&m, 70, 1, "delete", &a, now as u64 - 5, now as u64 + 300);
        let chain = PreparedChain::new(m.chain.clone()).expect("chain");
        let pop = tenuo_authz::crypto::Signature::from_bytes(&m.pop(2, "delete", &a, now));
        let ours_approvals =
            vec![SignedApproval::from_cbor(&common::value_of(&one)).expect("decodes")];
        let call = Call {
            tool: "delete",
            args: &a,
            pop: Some(&pop),
            approvals: &ours_approvals,
            now,
        };
        let trusted = TrustedIssuers::new([pk(common::ROOT)]);
        let denial = decide(&chain, &trusted, &(), &Policy::default(), &call).expect_err("1 of 2");
        assert_eq!(denial.reason(), DenyReason::ApprovalRequired);
        let shortfall = denial.approval_shortfall().expect("a shortfall");

        // The reference: the same request hash, threshold and count.
        let holder = tenuo::PublicKey::from_bytes(&m.leaf().holder().to_bytes()).expect("key");
        let hash = tenuo::approval::compute_request_hash(
            &m.leaf().id().to_string(),
            "delete",
            &ref_args(&a),
            Some(&holder),
        );
        assert_eq!(shortfall.request_hash, hash, "[{}]", minter.tag());
        let mut authorizer = tenuo::Authorizer::new();
        authorizer.add_trusted_root(rk(common::ROOT).public_key());
        let ref_chain: Vec<tenuo::Warrant> =
            tenuo::wire::decode_stack(&m.stack()).expect("stack").0;
        let ref_approval: tenuo::approval::SignedApproval =
            ciborium::de::from_reader(one.as_slice()).expect("reference decodes ours");
        let ref_pop = tenuo::Signature::from_bytes(&pop.to_bytes()).expect("sig");
        let refused = authorizer
            .check_chain_with_pop_args_as_of(
                &ref_chain,
                "delete",
                &ref_args(&a),
                &ref_args(&a),
                Some(&ref_pop),
                &[ref_approval],
                now,
            )
            .expect_err("the reference refuses 1 of 2");
        match refused {
            tenuo::Error::InsufficientApprovals {
                required, received, ..
            } => {
                assert_eq!(
                    (shortfall.required, shortfall.received),
                    (required, received)
                );
            }
            other => panic!("unexpected {other}"),
        }
        let mut listed: Vec<_> = shortfall.approvers.iter().map(|k| k.to_bytes()).collect();
        listed.sort();
        let mut expected: Vec<_> = APPROVERS.iter().map(|s| pk(*s).to_bytes()).collect();
        expected.sort();
        assert_eq!(listed, expected);
    }
}

#[test]
fn header_text_in_either_alphabet_decodes_the_reference_approvals() {
    use base64::Engine;
    let m = gated_root(Minter::Reference, true);
    let now = m.now() as u64;
    let a = args(&[("path", s("/data/a"))]);
    let one = approval(&m, 70, 1, "delete", &a, now - 5, now + 300);
    let two = approval(&m, 71, 2, "delete", &a, now - 5, now + 300);
    let single = decode_approvals(&base64::engine::general_purpose::STANDARD.encode(&one))
        .expect("one approval, standard base64");
    assert_eq!(single.len(), 1);
    let array = common::cbor(&vec![common::value_of(&one), common::value_of(&two)]);
    let both = decode_approvals(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&array))
        .expect("an array, base64url");
    assert_eq!(both.len(), 2);
    // What we encode, the reference decodes (its header path: an array first).
    let text = encode_approvals(&both);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64");
    let theirs: Vec<tenuo::approval::SignedApproval> =
        ciborium::de::from_reader(bytes.as_slice()).expect("the reference reads our array");
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|a| a.verify_with_skew(u64::MAX).is_ok()));
}

#[test]
fn minting_keeps_gates_and_refuses_to_weaken_them() {
    let m = gated_root(Minter::Ours, true);
    let root = &m.chain[0];
    let now = root.payload().issued_at + 1;
    let grants = root.payload().tools["delete"].clone();
    // A child that keeps `delete` inherits its gate, approvers and threshold.
    let child = Attenuate::from(root)
        .holder(pk(3))
        .tool("delete", grants.clone())
        .sign(&ok(2), now)
        .expect("child mints");
    assert_eq!(child.payload().min_approvals, Some(2));
    assert!(child
        .payload()
        .extensions
        .contains_key("tenuo.approval_gates"));
    // Lowering the threshold is refused at mint time.
    let lowered = Attenuate::from(root)
        .holder(pk(3))
        .tool("delete", grants.clone())
        .min_approvals(1)
        .sign(&ok(2), now);
    assert!(
        matches!(lowered, Err(MintError::ApprovalsWeakened(_))),
        "{lowered:?}"
    );
    // An approval minted here allows the child's gated call, decided by the reference.
    let a = args(&[("path", s("/data/a"))]);
    let approvals: Vec<_> = [70, 71]
        .iter()
        .map(|s| sign_approval(&ok(*s), &child, "delete", &a, now, 300).expect("approval"))
        .collect();
    let ref_chain: Vec<tenuo::Warrant> =
        tenuo::wire::decode_stack(&tenuo_authz::mint::encode_chain(&[
            root.clone(),
            child.clone(),
        ]))
        .expect("stack")
        .0;
    let ref_approvals: Vec<tenuo::approval::SignedApproval> = approvals
        .iter()
        .map(|a| ciborium::de::from_reader(a.to_cbor_bytes().as_slice()).expect("decodes"))
        .collect();
    let pop = sign_pop(&ok(3), child.id(), "delete", &a, now as i64 + 5);
    let mut authorizer = tenuo::Authorizer::new();
    authorizer.add_trusted_root(rk(common::ROOT).public_key());
    authorizer
        .check_chain_with_pop_args_as_of(
            &ref_chain,
            "delete",
            &ref_args(&a),
            &ref_args(&a),
            Some(&tenuo::Signature::from_bytes(&pop.to_bytes()).expect("sig")),
            &ref_approvals,
            now as i64 + 5,
        )
        .expect("the reference allows our approvals");
    let _ = gates();
}

fn arg_value() -> impl proptest::strategy::Strategy<Value = tenuo_authz::constraint::ArgValue> {
    use proptest::prelude::*;
    use tenuo_authz::constraint::ArgValue;
    let leaf = prop_oneof![
        ".{0,12}".prop_map(ArgValue::String),
        any::<i64>().prop_map(ArgValue::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(ArgValue::Float),
        any::<bool>().prop_map(ArgValue::Bool),
        Just(ArgValue::Null),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(ArgValue::List),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..3).prop_map(ArgValue::Object),
        ]
    })
}

proptest::proptest! {
    /// The request hash of random arguments is the reference's, byte for byte.
    #[test]
    fn request_hashes_equal_the_reference(
        a in proptest::collection::btree_map("[a-z_]{1,8}", arg_value(), 0..5),
        tool in "[a-z_]{1,12}",
        id in proptest::array::uniform16(proptest::num::u8::ANY),
    ) {
        let id = tenuo_authz::warrant::WarrantId(id);
        let holder = pk(2);
        let ours = tenuo_authz::approval::request_hash(&id, &tool, &a, &holder);
        let theirs = tenuo::approval::compute_request_hash(
            &id.to_string(),
            &tool,
            &ref_args(&a),
            Some(&tenuo::PublicKey::from_bytes(&holder.to_bytes()).expect("key")),
        );
        proptest::prop_assert_eq!(ours, theirs);
    }
}
