//! Cases about the chain: depths 1 to 8 with narrowing, links broken by hand,
//! chains minted half by each implementation, tampered bytes, non-canonical
//! and invalid encodings.

use ciborium::Value;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::mint::Attenuate;
use tenuo_authz::pop::Args;
use tenuo_authz::warrant::{Payload, WarrantType};
use tenuo_authz::wire::{encode_envelope, encode_stack};
use tenuo_authz::DenyReason as R;
use tenuo_authz::Warrant;

use crate::common::{
    args, cbor, child_payload, ok, pk, rk, s, seal, seal_bytes, value_of, wall_now, Minted, Minter,
    Step, ROOT, STRANGER,
};
use crate::harness::{Case, RefReason};

fn c_subpath(root: &str) -> Constraint {
    Constraint::subpath(root).unwrap()
}

fn c_range(max: f64) -> Constraint {
    Constraint::range(Some(0.0), Some(max)).unwrap()
}

/// The `read` constraints at link `l` of a narrowing chain (0 = root).
fn read_at(l: usize) -> ConstraintSet {
    let path = if l >= 3 { "/data/reports" } else { "/data" };
    let url = match l {
        0 | 1 => "https://*.example.com/*",
        2..=4 => "https://api.example.com/*",
        _ => "https://api.example.com/v1/*",
    };
    let ip = match l {
        0..=3 => "10.0.0.0/8",
        4 | 5 => "10.1.0.0/16",
        _ => "10.1.2.0/24",
    };
    let mode: &[&str] = if l == 0 {
        &["r", "w", "x"]
    } else {
        &["r", "w"]
    };
    ConstraintSet::new()
        .with("path", c_subpath(path))
        .with("n", c_range(100.0 - 10.0 * l as f64))
        .with("url", Constraint::url_pattern(url).unwrap())
        .with("ip", Constraint::cidr(ip).unwrap())
        .with("mode", Constraint::one_of(mode.iter().copied()))
}

fn step_at(l: usize) -> Step {
    let mut tools = vec![("read", read_at(l))];
    if l < 2 {
        tools.push((
            "write",
            ConstraintSet::new().with("path", c_subpath("/data")),
        ));
    }
    if l < 3 {
        tools.push(("list", ConstraintSet::new()));
    }
    Step::new(2 + l as u8, tools)
}

fn read_args(path: &str, n: i64, url: &str, ip: &str, mode: &str) -> Args {
    args(&[
        ("path", s(path)),
        ("n", ArgValue::Integer(n)),
        ("url", s(url)),
        ("ip", s(ip)),
        ("mode", s(mode)),
    ])
}

fn good_read() -> Args {
    read_args(
        "/data/reports/q.csv",
        0,
        "https://api.example.com/v1/x",
        "10.1.2.3",
        "r",
    )
}

/// Chains of 1 to 8 warrants, narrowing at every link, minted by both.
pub(crate) fn depth_cases(out: &mut Vec<Case>) {
    for minter in Minter::BOTH {
        for depth in 1..=8usize {
            let l = depth - 1;
            let mut steps: Vec<Step> = (0..depth).map(step_at).collect();
            let tight = depth % 2 == 0;
            if tight {
                // The root allows exactly this depth.
                steps[0] = steps[0].clone().max_depth(l as u32);
            }
            let m = Minted::mint(minter, &steps);
            let tag = format!(
                "depth {depth}{}",
                if tight { " (max_depth tight)" } else { "" }
            );
            let cat = "chain_depth";
            out.push(Case::call(
                cat,
                format!("{tag}: allowed read"),
                &m,
                "read",
                good_read(),
            ));
            // One argument out of the leaf's bounds, rotating over the arguments.
            let mut bad = good_read();
            let (arg, value) = match depth % 4 {
                0 => ("n", ArgValue::Integer(100 - 10 * l as i64 + 5)),
                1 => ("path", s(if l >= 3 { "/data/other/x" } else { "/etc/x" })),
                2 => (
                    "url",
                    s(if l >= 2 {
                        "https://www.example.com/x"
                    } else {
                        "https://evil.com/x"
                    }),
                ),
                _ => ("ip", s(if l >= 4 { "10.2.0.1" } else { "11.0.0.1" })),
            };
            bad.insert(arg.into(), value.clone());
            out.push(
                Case::call(
                    cat,
                    format!("{tag}: {arg}={value} outside the leaf"),
                    &m,
                    "read",
                    bad,
                )
                .deny(R::ConstraintViolation),
            );
            // Tools are dropped at links 2 (write) and 3 (list).
            let (tool, dropped_at) = if depth % 2 == 0 {
                ("write", 2)
            } else {
                ("list", 3)
            };
            let tool_args = if tool == "list" {
                args(&[])
            } else {
                args(&[("path", s("/data/x"))])
            };
            let c = Case::call(cat, format!("{tag}: {tool}"), &m, tool, tool_args);
            out.push(if l >= dropped_at {
                c.deny(R::ToolNotInWarrant)
            } else {
                c
            });
            if matches!(depth, 2 | 5 | 8) {
                let signer = m.holders[l - 1];
                let pop = m.pop(signer, "read", &good_read(), m.now());
                out.push(
                    Case::call(
                        cat,
                        format!("{tag}: PoP by the parent's holder"),
                        &m,
                        "read",
                        good_read(),
                    )
                    .pop(Some(pop))
                    .deny(R::InvalidPop),
                );
            }
        }
    }
}

fn forged_root_spec() -> Step {
    Step::new(
        2,
        vec![
            ("read", read_at(0)),
            (
                "write",
                ConstraintSet::new().with("path", c_subpath("/data")),
            ),
        ],
    )
    .max_depth(3)
}

fn read_ok() -> Args {
    read_args("/data/x", 5, "https://api.example.com/x", "10.0.0.1", "r")
}

type Mutation = Box<dyn Fn(&mut Payload)>;

fn set_read(p: &mut Payload, arg: &str, c: Constraint) {
    p.tools.get_mut("read").unwrap().insert(arg, c);
}

/// Links broken by hand (re-signed so only the link is wrong), on roots minted by both.
pub(crate) fn forged_link_cases(out: &mut Vec<Case>) {
    for minter in Minter::BOTH {
        let root = Minted::mint(minter, &[forged_root_spec()]);
        let r = &root.chain[0];
        let t = r.payload().issued_at + 1;
        let forge = |what: &str, signer: u8, mutate: &dyn Fn(&mut Payload), expect: Option<R>| {
            let mut p = child_payload(r, 3, t);
            mutate(&mut p);
            let m = root.push(seal(&p, signer), 3);
            let mut c = Case::call(
                "chain_invalid",
                format!("[{}-root] {what}", minter.tag()),
                &m,
                "read",
                read_ok(),
            );
            c.expect = expect;
            if expect != Some(R::ChainInvalid) {
                c.category = "forged_link_pinned";
            }
            c
        };
        let ci = Some(R::ChainInvalid);
        let rows: Vec<(&str, u8, Mutation, Option<R>)> = vec![
            ("valid hand-made child", 2, Box::new(|_| {}), None),
            (
                "issuer is a stranger (signed by it)",
                STRANGER,
                Box::new(|p| p.issuer = pk(STRANGER)),
                ci,
            ),
            (
                "issued by the root issuer, not the parent's holder",
                ROOT,
                Box::new(|p| p.issuer = pk(ROOT)),
                ci,
            ),
            (
                "issued by its own holder",
                3,
                Box::new(|p| p.issuer = pk(3)),
                ci,
            ),
            ("no parent hash", 2, Box::new(|p| p.parent_hash = None), ci),
            (
                "wrong parent hash",
                2,
                Box::new(|p| p.parent_hash = Some([7; 32])),
                ci,
            ),
            ("depth jumps to 2", 2, Box::new(|p| p.depth = 2), ci),
            ("depth 0 below a root", 2, Box::new(|p| p.depth = 0), ci),
            (
                "max_depth above the parent's",
                2,
                Box::new(|p| p.max_depth = 4),
                ci,
            ),
            (
                "depth above its own max_depth",
                2,
                Box::new(|p| p.max_depth = 0),
                ci,
            ),
            (
                "expires after the parent",
                2,
                Box::new(|p| p.expires_at += 1),
                ci,
            ),
            (
                "issued before the parent",
                2,
                Box::new(|p| p.issued_at -= 2),
                ci,
            ),
            (
                "adds a tool",
                2,
                Box::new(|p| {
                    p.tools.insert("delete".into(), ConstraintSet::new());
                }),
                ci,
            ),
            (
                "widens Subpath",
                2,
                Box::new(|p| set_read(p, "path", c_subpath("/"))),
                ci,
            ),
            (
                "widens Range",
                2,
                Box::new(|p| set_read(p, "n", c_range(200.0))),
                ci,
            ),
            (
                "widens UrlPattern scheme",
                2,
                Box::new(|p| {
                    set_read(
                        p,
                        "url",
                        Constraint::url_pattern("http://*.example.com/*").unwrap(),
                    )
                }),
                ci,
            ),
            (
                "widens UrlPattern host",
                2,
                Box::new(|p| {
                    set_read(
                        p,
                        "url",
                        Constraint::url_pattern("https://*.example.org/*").unwrap(),
                    )
                }),
                ci,
            ),
            (
                "widens Cidr",
                2,
                Box::new(|p| set_read(p, "ip", Constraint::cidr("0.0.0.0/0").unwrap())),
                ci,
            ),
            (
                "widens OneOf",
                2,
                Box::new(|p| set_read(p, "mode", Constraint::one_of(["r", "w", "x", "y"]))),
                ci,
            ),
            (
                "OneOf to NotOneOf",
                2,
                Box::new(|p| set_read(p, "mode", Constraint::not_one_of(["x"]))),
                ci,
            ),
            (
                "Subpath to Wildcard",
                2,
                Box::new(|p| set_read(p, "path", Constraint::Wildcard)),
                ci,
            ),
            (
                "Subpath to Pattern",
                2,
                Box::new(|p| set_read(p, "path", Constraint::pattern("/data/*").unwrap())),
                ci,
            ),
            (
                "drops a constrained argument",
                2,
                Box::new(|p| {
                    let mut cs = ConstraintSet::new();
                    for (k, v) in p.tools["read"].iter().filter(|(k, _)| k.as_str() != "n") {
                        cs.insert(k.clone(), v.clone());
                    }
                    p.tools.insert("read".into(), cs);
                }),
                ci,
            ),
            (
                "adds an argument (keyset identity)",
                2,
                Box::new(|p| set_read(p, "extra", Constraint::Wildcard)),
                ci,
            ),
            (
                "turns on allow_unknown",
                2,
                Box::new(|p| p.tools.get_mut("read").unwrap().set_allow_unknown(true)),
                ci,
            ),
            (
                "empties a tool's set",
                2,
                Box::new(|p| {
                    p.tools.insert("read".into(), ConstraintSet::new());
                }),
                ci,
            ),
            (
                "becomes an issuer warrant",
                2,
                Box::new(|p| {
                    p.warrant_type = WarrantType::Issuer;
                    p.tools.clear();
                    p.issuable_tools = Some(vec!["read".into()]);
                }),
                ci,
            ),
            (
                "narrows validly (Range and OneOf)",
                2,
                Box::new(|p| {
                    set_read(p, "n", c_range(10.0));
                    set_read(p, "mode", Constraint::one_of(["r"]));
                }),
                None,
            ),
            (
                "drops a tool",
                2,
                Box::new(|p| {
                    p.tools.remove("write");
                }),
                None,
            ),
            (
                "introduces a clearance (accepted at verify time)",
                2,
                Box::new(|p| p.clearance = Some(10)),
                None,
            ),
            (
                "signed by the wrong key",
                STRANGER,
                Box::new(|_| {}),
                Some(R::SignatureInvalid),
            ),
        ];
        for (what, signer, mutate, expect) in rows {
            let mut c = forge(what, signer, &*mutate, expect);
            if expect == Some(R::SignatureInvalid) {
                // The reference verifies signatures while decoding.
                c = c.ref_reason(RefReason::Is(R::InvalidWarrant));
            }
            out.push(c);
        }
        // A child with no tools: the link is not compared; the call finds no tool.
        let mut p = child_payload(r, 3, t);
        p.tools.clear();
        let m = root.push(seal(&p, 2), 3);
        out.push(
            Case::call(
                "forged_link_pinned",
                format!("[{}-root] child with no tools", minter.tag()),
                &m,
                "read",
                read_ok(),
            )
            .deny(R::ToolNotInWarrant),
        );

        // Three warrants: the second link is the broken one.
        let child = Attenuate::from(r)
            .holder(pk(3))
            .tool("read", read_at(1))
            .sign(&ok(2), t)
            .unwrap();
        let two = root.push(child.clone(), 3);
        let g = |mutate: &dyn Fn(&mut Payload)| {
            let mut p = child_payload(&child, 4, t + 1);
            mutate(&mut p);
            two.push(seal(&p, 3), 4)
        };
        let root_hash = r.payload_hash();
        let rows3: Vec<(&str, Mutation, Option<R>)> = vec![
            ("grandchild valid", Box::new(|_| {}), None),
            (
                "grandchild names the root as parent",
                Box::new(move |p| p.parent_hash = Some(root_hash)),
                ci,
            ),
            ("grandchild depth 3 (jump)", Box::new(|p| p.depth = 3), ci),
            (
                "grandchild widens Range",
                Box::new(|p| set_read(p, "n", c_range(95.0))),
                ci,
            ),
            (
                "grandchild issued by the root holder",
                Box::new(|p| p.issuer = pk(2)),
                ci,
            ),
        ];
        for (what, mutate, expect) in rows3 {
            let m = g(&*mutate);
            let mut c = Case::call(
                "chain_invalid",
                format!("[{}-root] {what}", minter.tag()),
                &m,
                "read",
                read_ok(),
            );
            c.expect = expect;
            if expect.is_none() {
                c.category = "forged_link_pinned";
            }
            if what.contains("issued by the root holder") {
                // Signed by seed 3 while naming seed 2: the signature fails first.
                c = c
                    .deny(R::SignatureInvalid)
                    .ref_reason(RefReason::Is(R::InvalidWarrant));
                c.category = "signature_invalid";
            }
            out.push(c);
        }
        // Past the root's max_depth (3): depth 4 forged under a valid depth-3 chain.
        let mut chain = two.clone();
        for depth in 2..=4u32 {
            let parent = chain.leaf().clone();
            let holder = 2 + depth as u8;
            let mut p = child_payload(&parent, holder, t + u64::from(depth));
            if depth == 4 {
                p.max_depth = 3;
            }
            chain = chain.push(seal(&p, holder - 1), holder);
            let mut c = Case::call(
                "chain_invalid",
                format!(
                    "[{}-root] forged depth {depth} under max_depth 3",
                    minter.tag()
                ),
                &chain,
                "read",
                read_ok(),
            );
            if depth == 4 {
                c = c.deny(R::ChainInvalid);
            } else {
                c.category = "forged_link_pinned";
            }
            out.push(c);
        }
        // Duplicates and shape.
        let shapes: Vec<(&str, Minted, Vec<u8>, R)> = vec![
            (
                "root twice",
                root.pick(&[0, 0]),
                vec![ROOT],
                R::ChainInvalid,
            ),
            (
                "child twice",
                two.pick(&[0, 1, 1]),
                vec![ROOT],
                R::ChainInvalid,
            ),
            (
                "root, child, root",
                two.pick(&[0, 1, 0]),
                vec![ROOT],
                R::ChainInvalid,
            ),
            (
                "duplicate and untrusted (duplicates first)",
                two.pick(&[0, 1, 1]),
                vec![STRANGER],
                R::ChainInvalid,
            ),
            (
                "chain starting at a child, its issuer trusted",
                chain.pick(&[1, 2]),
                vec![2],
                R::ChainInvalid,
            ),
        ];
        for (what, m, trusted, reason) in shapes {
            let c = Case::call(
                "chain_invalid",
                format!("[{}-root] {what}", minter.tag()),
                &m,
                "read",
                read_ok(),
            );
            out.push(c.trusted(&trusted).deny(reason));
        }
        issuance_cases(out, minter);
    }
    clearance_cases(out);
}

/// Issuer warrant to execution warrant links.
fn issuance_cases(out: &mut Vec<Case>, minter: Minter) {
    let issuer_root = match minter {
        Minter::Reference => {
            let w = tenuo::Warrant::builder()
                .r#type(tenuo::WarrantType::Issuer)
                .issuable_tools(vec!["read".into(), "write".into()])
                .holder(rk(2).public_key())
                .ttl(std::time::Duration::from_secs(600))
                .build(&rk(ROOT))
                .unwrap();
            Warrant::decode(&tenuo::wire::encode(&w).unwrap()).unwrap()
        }
        Minter::Ours => tenuo_authz::mint::Issue::issuer(pk(2), ["read", "write"])
            .ttl_secs(600)
            .sign(&ok(ROOT), crate::common::T0)
            .unwrap(),
    };
    let root = Minted {
        minter: Minter::Ours,
        chain: vec![issuer_root.clone()],
        holders: vec![2],
        ref_chain: None,
    };
    let t = issuer_root.payload().issued_at + 1;
    let exec = |holder: u8, tool: &str| {
        let mut p = child_payload(&issuer_root, holder, t);
        p.warrant_type = WarrantType::Execution;
        p.issuable_tools = None;
        p.max_issue_depth = None;
        p.tools.clear();
        p.tools.insert(tool.into(), ConstraintSet::new());
        root.push(seal(&p, 2), holder)
    };
    let rows: Vec<(&str, Minted, Option<R>)> = vec![
        ("issued execution warrant", exec(3, "read"), None),
        (
            "issued to the issuer warrant's holder",
            exec(2, "read"),
            Some(R::ChainInvalid),
        ),
        (
            "issued to the issuer warrant's issuer",
            exec(ROOT, "read"),
            Some(R::ChainInvalid),
        ),
        (
            "issued a tool not issuable",
            exec(3, "delete"),
            Some(R::ChainInvalid),
        ),
    ];
    for (what, m, expect) in rows {
        let tool = m.leaf().payload().tools.keys().next().unwrap().clone();
        let mut c = Case::call(
            "chain_invalid",
            format!("[{}-issuer] {what}", minter.tag()),
            &m,
            &tool,
            args(&[]),
        );
        c.expect = expect;
        if expect.is_none() {
            c.category = "forged_link_pinned";
        }
        out.push(c);
    }
}

/// Clearance may stay or fall, never rise (when both sides carry one).
fn clearance_cases(out: &mut Vec<Case>) {
    let base = Minted::mint(
        Minter::Ours,
        &[Step::new(2, vec![("read", ConstraintSet::new())])],
    );
    let mut rp = base.chain[0].payload().clone();
    rp.clearance = Some(30);
    let root = Minted {
        minter: Minter::Ours,
        chain: vec![seal(&rp, ROOT)],
        holders: vec![2],
        ref_chain: None,
    };
    for (level, expect) in [
        (Some(40), Some(R::ChainInvalid)),
        (Some(30), None),
        (Some(10), None),
        (None, None),
    ] {
        let mut p = child_payload(&root.chain[0], 3, rp.issued_at + 1);
        p.clearance = level;
        let m = root.push(seal(&p, 2), 3);
        let mut c = Case::call(
            "chain_invalid",
            format!("clearance 30 -> {level:?}"),
            &m,
            "read",
            args(&[]),
        );
        c.expect = expect;
        if expect.is_none() {
            c.category = "forged_link_pinned";
        }
        out.push(c);
    }
}

/// Chains minted half by each implementation, at the wall clock.
pub(crate) fn mixed_cases(out: &mut Vec<Case>) {
    let wide = ConstraintSet::new().with("path", c_subpath("/data"));
    let narrow = ConstraintSet::new().with("path", c_subpath("/data/reports"));
    let narrower = ConstraintSet::new().with("path", c_subpath("/data/reports/2024"));
    let now = wall_now();
    // Reference root, our child, reference grandchild.
    let rroot = tenuo::Warrant::builder()
        .capability("read", crate::common::ref_set(&wide))
        .holder(rk(2).public_key())
        .ttl(std::time::Duration::from_secs(600))
        .build(&rk(ROOT))
        .unwrap();
    let our_root = Warrant::decode(&tenuo::wire::encode(&rroot).unwrap()).unwrap();
    let our_child = Attenuate::from(&our_root)
        .holder(pk(3))
        .tool("read", narrow.clone())
        .sign(&ok(2), now)
        .unwrap();
    let their_child = tenuo::wire::decode(our_child.envelope_bytes()).unwrap();
    let rgrand = their_child
        .attenuate()
        .capability("read", crate::common::ref_set(&narrower))
        .holder(rk(4).public_key())
        .build(&rk(3))
        .unwrap();
    let grand = Warrant::decode(&tenuo::wire::encode(&rgrand).unwrap()).unwrap();
    let a = Minted {
        minter: Minter::Reference,
        chain: vec![our_root, our_child, grand],
        holders: vec![2, 3, 4],
        ref_chain: Some(vec![rroot, their_child, rgrand]),
    };
    // Our root, reference child, our grandchild.
    let oroot = tenuo_authz::mint::Issue::execution(pk(2))
        .tool("read", wide)
        .ttl_secs(600)
        .sign(&ok(ROOT), now)
        .unwrap();
    let theirs = tenuo::wire::decode(oroot.envelope_bytes()).unwrap();
    let rchild = theirs
        .attenuate()
        .capability("read", crate::common::ref_set(&narrow))
        .holder(rk(3).public_key())
        .build(&rk(2))
        .unwrap();
    let child = Warrant::decode(&tenuo::wire::encode(&rchild).unwrap()).unwrap();
    let grand = Attenuate::from(&child)
        .holder(pk(4))
        .tool("read", narrower)
        .sign(&ok(3), wall_now())
        .unwrap();
    let b = Minted {
        minter: Minter::Ours,
        chain: vec![oroot, child, grand],
        holders: vec![2, 3, 4],
        ref_chain: None,
    };
    for (label, m) in [("ref/ours/ref", a), ("ours/ref/ours", b)] {
        let cat = "mixed_minting";
        let ok_args = args(&[("path", s("/data/reports/2024/q1.csv"))]);
        out.push(Case::call(
            cat,
            format!("{label}: allowed"),
            &m,
            "read",
            ok_args.clone(),
        ));
        out.push(
            Case::call(
                cat,
                format!("{label}: outside the leaf"),
                &m,
                "read",
                args(&[("path", s("/data/reports/2023/x"))]),
            )
            .deny(R::ConstraintViolation),
        );
        out.push(
            Case::call(
                cat,
                format!("{label}: other tool"),
                &m,
                "write",
                ok_args.clone(),
            )
            .deny(R::ToolNotInWarrant),
        );
        let pop = m.pop(3, "read", &ok_args, m.now());
        out.push(
            Case::call(
                cat,
                format!("{label}: PoP by the middle holder"),
                &m,
                "read",
                ok_args.clone(),
            )
            .pop(Some(pop))
            .deny(R::InvalidPop),
        );
        out.push(
            Case::call(cat, format!("{label}: middle revoked"), &m, "read", ok_args)
                .revoked(&[*m.chain[1].id()])
                .deny(R::WarrantRevoked),
        );
    }
}

fn flip(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= mask;
    out
}

/// Changes one byte inside the first occurrence of `needle` in the payload and
/// re-wraps it with the original signature.
fn tamper_payload(w: &Warrant, needle: &[u8], replacement: u8) -> Vec<u8> {
    let payload = w.payload_bytes();
    let at = payload
        .windows(needle.len())
        .position(|win| win == needle)
        .expect("needle in payload");
    let mut p = payload.to_vec();
    p[at + needle.len() - 1] = replacement;
    encode_envelope(&p, w.signature())
}

fn stack_of(envelopes: &[&[u8]]) -> Vec<u8> {
    encode_stack(envelopes.iter().copied())
}

/// Tampered signatures and payload bytes.
pub(crate) fn tamper_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new().with("path", c_subpath("/data"));
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[
                Step::new(2, vec![("read", cs.clone())]),
                Step::new(3, vec![("read", cs.clone())]),
            ],
        );
        let (root, leaf) = (m.chain[0].envelope_bytes(), m.leaf().envelope_bytes());
        let sig_at = |env: &[u8]| env.len() - 64;
        let si = |what: String, stack: Vec<u8>| {
            Case::call(
                "signature_invalid",
                what,
                &m,
                "read",
                args(&[("path", s("/data/x"))]),
            )
            .stack(stack)
            .deny(R::SignatureInvalid)
            .ref_reason(RefReason::Is(R::InvalidWarrant))
        };
        for bit in [0u8, 3, 7] {
            for (who, at) in [("root", 0usize), ("leaf", 1)] {
                let env = if at == 0 { root } else { leaf };
                let pos = sig_at(env) + 5 * bit as usize;
                let t = flip(env, pos, 1 << bit);
                let stack = if at == 0 {
                    stack_of(&[&t, leaf])
                } else {
                    stack_of(&[root, &t])
                };
                out.push(si(format!("{who} signature bit {bit} flipped"), stack));
            }
        }
        let zero = encode_envelope(
            m.leaf().payload_bytes(),
            &tenuo_authz::crypto::Signature::from_bytes(&[0; 64]),
        );
        out.push(si(
            "leaf signature all zero".into(),
            stack_of(&[root, &zero]),
        ));
        let swapped = encode_envelope(m.leaf().payload_bytes(), m.chain[0].signature());
        out.push(si(
            "leaf carries the root's signature".into(),
            stack_of(&[root, &swapped]),
        ));
        out.push(si(
            "leaf tool name changed".into(),
            stack_of(&[root, &tamper_payload(m.leaf(), b"read", b'x')]),
        ));
        out.push(si(
            "root tool name changed".into(),
            stack_of(&[&tamper_payload(&m.chain[0], b"read", b'x'), leaf]),
        ));
        out.push(si(
            "leaf constraint text changed".into(),
            stack_of(&[root, &tamper_payload(m.leaf(), b"/data", b'b')]),
        ));
        // A tampered byte that makes the payload undecodable is an invalid warrant.
        let mut broken = m.leaf().payload_bytes().to_vec();
        broken[0] = 0xff;
        let env = encode_envelope(&broken, m.leaf().signature());
        out.push(
            Case::call(
                "invalid_warrant",
                "leaf payload head replaced by a break byte",
                &m,
                "read",
                args(&[("path", s("/data/x"))]),
            )
            .stack(stack_of(&[root, &env]))
            .deny(R::InvalidWarrant),
        );
    }
}

/// A payload map's entries, in order.
type Entries = Vec<(Value, Value)>;

fn map_entries(bytes: &[u8]) -> Entries {
    match value_of(bytes) {
        Value::Map(entries) => entries,
        other => panic!("payload is not a map: {other:?}"),
    }
}

fn int(n: u64) -> Value {
    Value::Integer(n.into())
}

fn key_is(k: &Value, n: u64) -> bool {
    matches!(k, Value::Integer(i) if u64::try_from(*i).ok() == Some(n))
}

/// Non-canonical and invalid encodings of the envelope and stack, and
/// payloads that break the format (re-signed, so only the encoding is wrong).
pub(crate) fn encoding_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new();
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[
                Step::new(2, vec![("read", cs.clone())]),
                Step::new(3, vec![("read", cs.clone())]),
            ],
        );
        let stack = m.stack();
        let (root, leaf) = (
            m.chain[0].envelope_bytes().to_vec(),
            m.leaf().envelope_bytes().to_vec(),
        );
        let leaf_payload = m.leaf().payload_bytes();
        let plen = leaf_payload.len();
        assert!(
            (24..256).contains(&plen),
            "payload length {plen} needs a one-byte head"
        );
        let sig = m.leaf().signature().to_bytes();
        let env = |parts: &[&[u8]]| parts.concat();
        let rows: Vec<(&str, Vec<u8>)> = vec![
            (
                "stack head non-minimal",
                env(&[&[0x98, 0x02], &root, &leaf]),
            ),
            (
                "envelope head non-minimal",
                env(&[&[0x82], &root, &[0x98, 0x03], &leaf[1..]]),
            ),
            (
                "envelope version non-minimal",
                env(&[&[0x82], &root, &[0x83, 0x18, 0x01], &leaf[2..]]),
            ),
            (
                "payload length non-minimal",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x59, 0x00, plen as u8],
                    leaf_payload,
                    &[0x82, 0x01, 0x58, 0x40],
                    &sig,
                ]),
            ),
            (
                "signature length non-minimal",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x58, plen as u8],
                    leaf_payload,
                    &[0x82, 0x01, 0x59, 0x00, 0x40],
                    &sig,
                ]),
            ),
            (
                "signature algorithm non-minimal",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x58, plen as u8],
                    leaf_payload,
                    &[0x82, 0x18, 0x01, 0x58, 0x40],
                    &sig,
                ]),
            ),
            (
                "indefinite-length stack",
                env(&[&[0x9f], &root, &leaf, &[0xff]]),
            ),
            (
                "indefinite-length envelope",
                env(&[&[0x82], &root, &[0x9f], &leaf[1..], &[0xff]]),
            ),
            (
                "indefinite-length signature array",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x58, plen as u8],
                    leaf_payload,
                    &[0x9f, 0x01, 0x58, 0x40],
                    &sig,
                    &[0xff],
                ]),
            ),
            (
                "indefinite-length payload bytes",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x5f, 0x58, plen as u8],
                    leaf_payload,
                    &[0xff, 0x82, 0x01, 0x58, 0x40],
                    &sig,
                ]),
            ),
            ("trailing byte after the stack", env(&[&stack, &[0x00]])),
            ("trailing bytes after the stack", env(&[&stack, &stack])),
            ("stack count says 3", env(&[&[0x83], &stack[1..]])),
            ("stack count says 1", env(&[&[0x81], &stack[1..]])),
            (
                "envelope with a fourth element",
                env(&[&[0x82], &root, &[0x84], &leaf[1..], &[0x00]]),
            ),
            (
                "envelope version 2",
                env(&[&[0x82], &root, &[0x83, 0x02], &leaf[2..]]),
            ),
            (
                "signature algorithm 2",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x58, plen as u8],
                    leaf_payload,
                    &[0x82, 0x02, 0x58, 0x40],
                    &sig,
                ]),
            ),
            (
                "signature of 63 bytes",
                env(&[
                    &[0x82],
                    &root,
                    &[0x83, 0x01, 0x58, plen as u8],
                    leaf_payload,
                    &[0x82, 0x01, 0x58, 0x3f],
                    &sig[..63],
                ]),
            ),
            ("tagged envelope", env(&[&[0x82], &root, &[0xc6], &leaf])),
            ("tagged stack", env(&[&[0xd8, 0x37], &stack])),
            ("empty stack", vec![0x80]),
            ("empty input", vec![]),
            ("truncated stack", stack[..stack.len() - 1].to_vec()),
            ("bare envelope instead of a stack", leaf.clone()),
            ("stack as a map", env(&[&[0xa1, 0x00], &root])),
        ];
        for (what, bytes) in rows {
            out.push(
                Case::call("invalid_warrant", what, &m, "read", args(&[]))
                    .stack(bytes)
                    .deny(R::InvalidWarrant),
            );
        }
        // Payload-level breaks, re-signed by the root issuer so only the format is wrong.
        let root_payload = m.chain[0].payload_bytes().to_vec();
        let entries = map_entries(&root_payload);
        let resign = |entries: Vec<(Value, Value)>| {
            let bytes = cbor(&Value::Map(entries));
            stack_of(&[&seal_bytes(&bytes, ROOT)])
        };
        let with = |f: &dyn Fn(&mut Entries)| {
            let mut e = entries.clone();
            f(&mut e);
            resign(e)
        };
        let replace = |key: u64, v: Value| {
            with(&|e| {
                for (k, val) in e.iter_mut() {
                    if key_is(k, key) {
                        *val = v.clone();
                    }
                }
            })
        };
        let issued = m.chain[0].payload().issued_at;
        let payload_rows: Vec<(&str, Vec<u8>)> = vec![
            (
                "unknown payload key 19",
                with(&|e| e.push((int(19), int(0)))),
            ),
            (
                "retired payload key 12",
                with(&|e| e.push((int(12), int(0)))),
            ),
            (
                "duplicate payload key",
                with(&|e| {
                    let first = e[0].clone();
                    e.push(first);
                }),
            ),
            (
                "text payload key",
                with(&|e| e.push((Value::Text("0".into()), int(1)))),
            ),
            (
                "missing expires_at",
                with(&|e| e.retain(|(k, _)| !key_is(k, 7))),
            ),
            (
                "missing holder",
                with(&|e| e.retain(|(k, _)| !key_is(k, 4))),
            ),
            ("payload version 2", replace(0, int(2))),
            ("warrant type 2", replace(2, int(2))),
            ("expires_at equal to issued_at", replace(7, int(issued))),
            ("id of 15 bytes", replace(1, Value::Bytes(vec![1; 15]))),
            (
                "holder with algorithm 2",
                replace(
                    4,
                    Value::Array(vec![int(2), Value::Bytes(pk(2).to_bytes().to_vec())]),
                ),
            ),
            (
                "holder of 31 bytes",
                replace(4, Value::Array(vec![int(1), Value::Bytes(vec![9; 31])])),
            ),
            (
                "small-order holder key",
                replace(
                    4,
                    Value::Array(vec![
                        int(1),
                        Value::Bytes([[1u8].as_slice(), &[0u8; 31]].concat()),
                    ]),
                ),
            ),
            ("tools not a map", replace(3, Value::Array(vec![]))),
            (
                "issued_at negative",
                replace(6, Value::Integer((-1i64).into())),
            ),
            ("max_depth 256", replace(8, int(256))),
            (
                "payload is an array",
                cbor(&Value::Array(
                    entries.iter().map(|(_, v)| v.clone()).collect(),
                )),
            ),
        ];
        for (what, bytes) in payload_rows {
            let bytes = if what == "payload is an array" {
                stack_of(&[&seal_bytes(&bytes, ROOT)])
            } else {
                bytes
            };
            let what = format!("[{}] {what}", minter.tag());
            out.push(
                Case::call("invalid_warrant", what, &m, "read", args(&[]))
                    .stack(bytes)
                    .deny(R::InvalidWarrant),
            );
        }
    }
    oversize_cases(out);
}

/// Warrants and stacks over the size limits.
fn oversize_cases(out: &mut Vec<Case>) {
    let base = Minted::mint(
        Minter::Ours,
        &[Step::new(2, vec![("read", ConstraintSet::new())])],
    );
    // (A single warrant over 64 KiB inside a stack is refused only here: see
    // `divergence_oversized_warrant_inside_a_stack`.)
    let mut p = base.chain[0].payload().clone();
    for i in 0..7 {
        p.extensions.insert(format!("x-big-{i}"), vec![0x01; 8000]);
    }
    let fat = seal_bytes(&tenuo_authz::wire::encode_payload(&p), ROOT);
    let stack = stack_of(&[&fat, &fat, &fat, &fat, &fat]);
    assert!(stack.len() > 256 * 1024 && fat.len() < 64 * 1024);
    out.push(
        Case::call(
            "invalid_warrant",
            format!("stack of {} bytes", stack.len()),
            &base,
            "read",
            args(&[]),
        )
        .stack(stack)
        .deny(R::InvalidWarrant),
    );
    // Just under the warrant limit, alone: accepted by both.
    let m = Minted {
        minter: Minter::Ours,
        chain: vec![Warrant::decode(&fat).unwrap()],
        holders: vec![2],
        ref_chain: None,
    };
    out.push(Case::call(
        "size_pinned",
        format!("warrant of {} bytes", fat.len()),
        &m,
        "read",
        args(&[]),
    ));
}
