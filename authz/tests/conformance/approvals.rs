//! Approval cases: warrants with approvers and approval gates, minted by each
//! implementation with that implementation's approvals, decided by both.
//!
//! Gated tool with enough approvals, ungated tool on a gated warrant, too few,
//! none, a stranger's approval, an expired one, one signed for other arguments,
//! the same approver twice, more approvals than twice the approvers, approvers
//! without a gate map, and delegations that drop a gate or lower the threshold.

use tenuo_authz::approval::{request_hash, ApprovalPayload, GateMap, SignedApproval, ToolGate};
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::Args;
use tenuo_authz::{DenyReason as R, Warrant};

use crate::common::{
    args, cbor, child_payload, ok, pk, ref_args, ref_set, rk, s, seal, Minted, Minter, ROOT, T0,
};
use crate::harness::Case;

/// Seeds of the approvers every gated warrant here names (2 of 3 needed).
pub(crate) const APPROVERS: [u8; 3] = [70, 71, 72];
/// Seed of a key that approves but is not an approver.
pub(crate) const OUTSIDER: u8 = 79;

fn grants() -> ConstraintSet {
    ConstraintSet::new().with("path", Constraint::pattern("/data/*").expect("glob"))
}

/// A gate map with a whole-tool gate on `delete`.
pub(crate) fn gates() -> GateMap {
    let mut map = GateMap::default();
    map.0.insert("delete".into(), ToolGate { args: None });
    map
}

/// A root for holder 2 granting `read` and `delete`, approvers [`APPROVERS`]
/// (threshold 2); gated on `delete` when `gated`.
pub(crate) fn gated_root(minter: Minter, gated: bool) -> Minted {
    match minter {
        Minter::Ours => {
            let mut issue = Issue::execution(pk(2))
                .tool("read", grants())
                .tool("delete", grants())
                .required_approvers(APPROVERS.map(pk))
                .min_approvals(2)
                .ttl_secs(3600);
            if gated {
                issue = issue.approval_gates(gates());
            }
            Minted {
                minter,
                chain: vec![issue.sign(&ok(ROOT), T0).expect("our gated root mints")],
                holders: vec![2],
                ref_chain: None,
            }
        }
        Minter::Reference => {
            assert!(
                gated,
                "the reference's builder wants a gate map with approvers"
            );
            let w = tenuo::Warrant::builder()
                .capability("read", ref_set(&grants()))
                .capability("delete", ref_set(&grants()))
                .holder(rk(2).public_key())
                .required_approvers(APPROVERS.iter().map(|s| rk(*s).public_key()).collect())
                .min_approvals(2)
                .extension(tenuo::APPROVAL_GATE_EXTENSION_KEY, gates().to_cbor_bytes())
                .ttl(std::time::Duration::from_secs(3600))
                .build(&rk(ROOT))
                .expect("reference gated root mints");
            let stack = tenuo::wire::encode_stack(&tenuo::wire::WarrantStack(vec![w.clone()]))
                .expect("stack");
            Minted {
                minter,
                chain: tenuo_authz::wire::decode_stack(&stack).expect("we decode it"),
                holders: vec![2],
                ref_chain: Some(vec![w]),
            }
        }
    }
}

/// The CBOR of an approval by `seed` of `tool(a)` on `m`'s leaf, made by `m`'s
/// minter, valid over `[approved_at, expires_at)`.
pub(crate) fn approval(
    m: &Minted,
    seed: u8,
    nonce: u8,
    tool: &str,
    a: &Args,
    approved_at: u64,
    expires_at: u64,
) -> Vec<u8> {
    let leaf = m.leaf();
    match m.minter {
        Minter::Ours => {
            let hash = request_hash(leaf.id(), tool, a, leaf.holder());
            let payload = ApprovalPayload::new(hash, [nonce; 16], "ours", approved_at, expires_at);
            SignedApproval::sign(&payload, &ok(seed)).to_cbor_bytes()
        }
        Minter::Reference => {
            let holder = tenuo::PublicKey::from_bytes(&leaf.holder().to_bytes()).expect("key");
            let hash = tenuo::approval::compute_request_hash(
                &leaf.id().to_string(),
                tool,
                &ref_args(a),
                Some(&holder),
            );
            let payload = tenuo::approval::ApprovalPayload {
                version: 1,
                request_hash: hash,
                nonce: [nonce; 16],
                external_id: "reference".into(),
                approved_at,
                expires_at,
                extensions: None,
            };
            cbor(&tenuo::approval::SignedApproval::create(payload, &rk(seed)))
        }
    }
}

fn with(mut case: Case, approvals: Vec<Vec<u8>>) -> Case {
    case.input.approvals = approvals;
    case
}

/// A child of `m`'s root for holder 3, forged by hand (signed by holder 2) so
/// it can break the approval rules the minters refuse to break.
fn forged_child(m: &Minted, edit: impl Fn(&mut tenuo_authz::warrant::Payload)) -> Minted {
    let root = &m.chain[0];
    let mut p = child_payload(root, 3, root.payload().issued_at + 1);
    edit(&mut p);
    let child: Warrant = seal(&p, 2);
    // A forged leaf is ours: its PoPs are signed here.
    Minted {
        minter: Minter::Ours,
        chain: vec![root.clone(), child],
        holders: vec![2, 3],
        ref_chain: None,
    }
}

/// Every approval case, both directions.
pub(crate) fn approval_cases(cases: &mut Vec<Case>) {
    const C: &str = "approvals";
    for minter in Minter::BOTH {
        let m = gated_root(minter, true);
        let now = m.now() as u64;
        let a = args(&[("path", s("/data/a"))]);
        let other = args(&[("path", s("/data/b"))]);
        let ok_by = |seed: u8| approval(&m, seed, seed, "delete", &a, now - 5, now + 300);
        let call = |what: &str, tool: &str| Case::call(C, what, &m, tool, a.clone());

        cases.push(with(
            call("2 of 3 approve the gated tool", "delete"),
            vec![ok_by(70), ok_by(71)],
        ));
        cases.push(with(
            call("3 of 3 approve", "delete"),
            vec![ok_by(70), ok_by(71), ok_by(72)],
        ));
        cases.push(call(
            "ungated tool on a gated warrant, no approvals",
            "read",
        ));
        cases.push(with(
            call("ungated tool, approvals ignored", "read"),
            vec![ok_by(70)],
        ));
        cases.push(call("gated tool, no approvals", "delete").deny(R::ApprovalRequired));
        cases.push(
            with(call("gated tool, 1 of 2", "delete"), vec![ok_by(70)]).deny(R::ApprovalRequired),
        );
        let outsider = approval(&m, OUTSIDER, 1, "delete", &a, now - 5, now + 300);
        cases.push(
            with(
                call("an outsider's approval", "delete"),
                vec![ok_by(70), outsider],
            )
            .deny(R::ApprovalRequired),
        );
        let expired = approval(&m, 71, 2, "delete", &a, now - 400, now - 100);
        cases.push(
            with(
                call("an expired approval", "delete"),
                vec![ok_by(70), expired],
            )
            .deny(R::ApprovalRequired),
        );
        let expiring_now = approval(&m, 71, 3, "delete", &a, now - 400, now);
        cases.push(
            with(
                call("an approval expiring this second", "delete"),
                vec![ok_by(70), expiring_now],
            )
            .deny(R::ApprovalRequired),
        );
        let elsewhere = approval(&m, 71, 4, "delete", &other, now - 5, now + 300);
        cases.push(
            with(
                call("an approval for other arguments", "delete"),
                vec![ok_by(70), elsewhere],
            )
            .deny(R::ApprovalRequired),
        );
        let again = approval(&m, 70, 5, "delete", &a, now - 5, now + 300);
        cases.push(
            with(
                call("the same approver twice", "delete"),
                vec![ok_by(70), again],
            )
            .deny(R::ApprovalRequired),
        );
        let future = approval(&m, 71, 6, "delete", &a, now + 20, now + 300);
        cases.push(with(
            call("an approval dated within the clock tolerance", "delete"),
            vec![ok_by(70), future],
        ));
        let far_future = approval(&m, 71, 7, "delete", &a, now + 120, now + 300);
        cases.push(
            with(
                call("an approval dated beyond the tolerance", "delete"),
                vec![ok_by(70), far_future],
            )
            .deny(R::ApprovalRequired),
        );
        let flood: Vec<_> = (0..7)
            .map(|n| approval(&m, 70, 10 + n, "delete", &a, now - 5, now + 300))
            .collect();
        cases.push(
            with(call("7 approvals for 3 approvers", "delete"), flood).deny(R::ApprovalRequired),
        );
        // The argument check comes first: a call its constraints refuse is a
        // constraint violation, approvals or not.
        cases.push(
            Case::call(
                C,
                "gated tool outside its constraints",
                &m,
                "delete",
                args(&[("path", s("/etc/x"))]),
            )
            .deny(R::ConstraintViolation),
        );
        // The PoP comes before approvals too.
        cases.push(
            with(
                call("enough approvals, PoP of another holder", "delete"),
                vec![ok_by(70), ok_by(71)],
            )
            .pop(Some(
                tenuo_authz::pop::sign_pop(&ok(9), m.leaf().id(), "delete", &a, now as i64)
                    .to_bytes(),
            ))
            .deny(R::InvalidPop),
        );

        // Delegations, forged: the child drops the gate, or keeps it with a lower threshold.
        let stripped = forged_child(&m, |p| {
            p.extensions.clear();
        });
        cases.push(
            Case::call(
                C,
                format!("[{}] child drops the parent's gate", minter.tag()),
                &stripped,
                "read",
                a.clone(),
            )
            .deny(R::ChainInvalid),
        );
        let lowered = forged_child(&m, |p| {
            p.extensions
                .insert("tenuo.approval_gates".into(), gates().to_cbor_bytes());
            p.min_approvals = Some(1);
        });
        cases.push(
            Case::call(
                C,
                format!("[{}] child lowers the threshold", minter.tag()),
                &lowered,
                "read",
                a.clone(),
            )
            .deny(R::ChainInvalid),
        );
        let dropped = forged_child(&m, |p| {
            p.extensions
                .insert("tenuo.approval_gates".into(), gates().to_cbor_bytes());
            p.required_approvers = Some(vec![pk(70), pk(71)]);
        });
        cases.push(
            Case::call(
                C,
                format!("[{}] child drops an approver", minter.tag()),
                &dropped,
                "read",
                a.clone(),
            )
            .deny(R::ChainInvalid),
        );
        let kept = forged_child(&m, |p| {
            p.extensions
                .insert("tenuo.approval_gates".into(), gates().to_cbor_bytes());
        });
        cases.push(Case::call(
            C,
            format!("[{}] child keeps the gate", minter.tag()),
            &kept,
            "read",
            a.clone(),
        ));
        let only_read = forged_child(&m, |p| {
            p.extensions.clear();
            p.tools.remove("delete");
        });
        cases.push(Case::call(
            C,
            format!("[{}] child drops the gated tool and its gate", minter.tag()),
            &only_read,
            "read",
            a.clone(),
        ));
    }
    // Approvers without a gate map gate nothing (minted here: the reference's
    // builder refuses to mint it, its authorizer allows it).
    let m = gated_root(Minter::Ours, false);
    let a = args(&[("path", s("/data/a"))]);
    cases.push(Case::call(
        C,
        "approvers without a gate map",
        &m,
        "delete",
        a.clone(),
    ));
    // A gate map that is not CBOR: every call on the leaf is refused, after its
    // PoP and arguments, as an invalid warrant.
    let mut p = m.chain[0].payload().clone();
    p.extensions
        .insert("tenuo.approval_gates".into(), vec![0xff, 0x00]);
    let malformed = Minted {
        chain: vec![seal(&p, ROOT)],
        ..m.clone()
    };
    cases
        .push(Case::call(C, "a malformed gate map", &malformed, "read", a).deny(R::InvalidWarrant));
}
