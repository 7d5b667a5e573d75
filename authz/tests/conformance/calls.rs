//! Cases about the call on a sound chain: constraints of every type, argument
//! rules, tool lookup, proof of possession, time, revocation and trust.

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet, Range, UrlSafe};
use tenuo_authz::DenyReason as R;

use crate::common::{args, list, s, Minted, Minter, Step, ROOT, STRANGER};
use crate::harness::{Case, RefReason};

/// One constraint with values it admits and values it refuses.
struct Spec {
    name: &'static str,
    constraint: Constraint,
    allowed: Vec<ArgValue>,
    denied: Vec<ArgValue>,
}

fn spec(name: &'static str, c: Constraint, allowed: Vec<ArgValue>, denied: Vec<ArgValue>) -> Spec {
    Spec {
        name,
        constraint: c,
        allowed,
        denied,
    }
}

fn i(n: i64) -> ArgValue {
    ArgValue::Integer(n)
}

fn f(x: f64) -> ArgValue {
    ArgValue::Float(x)
}

fn specs() -> Vec<Spec> {
    let mut strict_urls = UrlSafe::new();
    strict_urls.allow_domains = Some(vec!["*.example.com".into()]);
    vec![
        spec(
            "Exact",
            Constraint::exact("/data/a"),
            vec![s("/data/a")],
            vec![s("/data/b"), s("/DATA/A"), i(1), ArgValue::Null],
        ),
        spec(
            "ExactInt",
            Constraint::exact(5),
            vec![i(5)],
            vec![i(6), f(5.0), s("5")],
        ),
        spec(
            "Pattern",
            Constraint::pattern("/data/*.csv").unwrap(),
            vec![s("/data/a.csv"), s("/data/report.csv")],
            vec![s("/etc/a.csv"), s("/data/a.txt"), i(3)],
        ),
        spec(
            "PatternPrefix",
            Constraint::pattern("staging-*").unwrap(),
            vec![s("staging-web"), s("staging-")],
            vec![s("prod-web"), s("Staging-web")],
        ),
        spec(
            "Range",
            Constraint::range(Some(0.0), Some(100.0)).unwrap(),
            vec![i(0), i(100), f(99.5), i(42)],
            vec![i(-1), i(101), f(100.5), s("5"), f(f64::NAN)],
        ),
        spec(
            "RangeExclusive",
            Constraint::Range(Range::new(Some(0.0), Some(10.0)).unwrap().max_exclusive()),
            vec![i(0), f(9.99)],
            vec![i(10), i(11)],
        ),
        spec(
            "OneOf",
            Constraint::one_of(["read", "list"]),
            vec![s("read"), s("list")],
            vec![s("write"), s("READ"), i(1)],
        ),
        spec(
            "NotOneOf",
            Constraint::not_one_of(["admin", "root"]),
            vec![s("alice"), s("")],
            vec![s("admin"), s("root")],
        ),
        spec(
            "Regex",
            Constraint::regex("^prod-[a-z]+$").unwrap(),
            vec![s("prod-web"), s("prod-db")],
            vec![s("prod-WEB"), s("staging-web"), s("prod-"), i(7)],
        ),
        spec(
            "Cidr",
            Constraint::cidr("10.0.0.0/8").unwrap(),
            vec![s("10.1.2.3"), s("10.255.255.255")],
            vec![s("11.0.0.1"), s("192.168.1.1"), s("garbage"), s("::1")],
        ),
        spec(
            "CidrV6",
            Constraint::cidr("2001:db8::/32").unwrap(),
            vec![s("2001:db8::1")],
            vec![s("2001:db9::1"), s("10.0.0.1")],
        ),
        spec(
            "UrlPattern",
            Constraint::url_pattern("https://api.example.com/v1/*").unwrap(),
            vec![
                s("https://api.example.com/v1/users"),
                s("https://api.example.com/v1/a/b"),
            ],
            vec![
                s("http://api.example.com/v1/users"),
                s("https://evil.com/v1/users"),
                s("https://api.example.com/v2/users"),
                s("not a url"),
            ],
        ),
        spec(
            "UrlPatternWildHost",
            Constraint::url_pattern("https://*.example.com/*").unwrap(),
            vec![s("https://a.example.com/x"), s("https://b.c.example.com/")],
            vec![s("https://example.org/x"), s("https://evilexample.com/")],
        ),
        spec(
            "Contains",
            Constraint::contains(["admin"]),
            vec![list(&["admin", "ops"]), list(&["admin"])],
            vec![list(&["ops"]), list(&[]), s("admin")],
        ),
        spec(
            "Subset",
            Constraint::subset(["a", "b", "c"]),
            vec![list(&["a", "b"]), list(&[]), list(&["c"])],
            vec![list(&["a", "d"]), s("a")],
        ),
        spec(
            "All",
            Constraint::all(vec![
                Constraint::pattern("/data/*").unwrap(),
                Constraint::not_one_of(["/data/secret"]),
            ])
            .unwrap(),
            vec![s("/data/x")],
            vec![s("/data/secret"), s("/etc/x")],
        ),
        spec(
            "Any",
            Constraint::any(vec![
                Constraint::exact("a"),
                Constraint::range(Some(0.0), Some(10.0)).unwrap(),
            ])
            .unwrap(),
            vec![s("a"), i(3)],
            vec![s("b"), i(11)],
        ),
        spec(
            "Not",
            Constraint::not(Constraint::one_of(["admin", "root"])).unwrap(),
            vec![s("alice")],
            vec![s("admin"), s("root")],
        ),
        spec(
            "NestedComposite",
            Constraint::all(vec![
                Constraint::any(vec![
                    Constraint::pattern("/data/*").unwrap(),
                    Constraint::pattern("/tmp/*").unwrap(),
                ])
                .unwrap(),
                Constraint::not(Constraint::pattern("*.key").unwrap()).unwrap(),
            ])
            .unwrap(),
            vec![s("/data/a"), s("/tmp/b")],
            vec![s("/data/a.key"), s("/etc/x")],
        ),
        spec(
            "Wildcard",
            Constraint::Wildcard,
            vec![s("anything"), i(5), ArgValue::Null, list(&["x"])],
            vec![],
        ),
        spec(
            "Subpath",
            Constraint::subpath("/data").unwrap(),
            vec![s("/data"), s("/data/x/y"), s("/data/./x")],
            vec![
                s("/data/../etc/passwd"),
                s("/etc"),
                s("relative/x"),
                s("/database"),
            ],
        ),
        spec(
            "UrlSafe",
            Constraint::url_safe(UrlSafe::new()).unwrap(),
            vec![s("https://example.com/"), s("http://api.example.com/x")],
            vec![
                s("http://127.0.0.1/"),
                s("http://169.254.169.254/latest"),
                s("http://10.0.0.1/"),
                s("file:///etc/passwd"),
                s("http://localhost/"),
            ],
        ),
        spec(
            "UrlSafeDomains",
            Constraint::url_safe(strict_urls).unwrap(),
            vec![s("https://api.example.com/")],
            vec![s("https://evil.com/"), s("https://example.org/")],
        ),
    ]
}

/// Every constraint type, admitted and refused values, minted by both.
pub(crate) fn constraint_cases(out: &mut Vec<Case>) {
    let specs = specs();
    let tools: Vec<(String, ConstraintSet)> = specs
        .iter()
        .map(|sp| {
            (
                format!("c_{}", sp.name),
                ConstraintSet::new().with("x", sp.constraint.clone()),
            )
        })
        .collect();
    for minter in Minter::BOTH {
        let mut step = Step::new(2, vec![]);
        step.tools = tools.clone();
        let m = Minted::mint(minter, &[step]);
        for sp in &specs {
            let tool = format!("c_{}", sp.name);
            for v in &sp.allowed {
                let what = format!("{} admits {v}", sp.constraint);
                out.push(Case::call(
                    "constraint_allowed",
                    what,
                    &m,
                    &tool,
                    args(&[("x", v.clone())]),
                ));
            }
            for v in &sp.denied {
                let what = format!("{} refuses {v}", sp.constraint);
                out.push(
                    Case::call(
                        "constraint_violation",
                        what,
                        &m,
                        &tool,
                        args(&[("x", v.clone())]),
                    )
                    .deny(R::ConstraintViolation),
                );
            }
            let what = format!("{} with the argument missing", sp.constraint);
            out.push(
                Case::call("constraint_violation", what, &m, &tool, args(&[]))
                    .deny(R::ConstraintViolation),
            );
        }
    }
}

/// Closed and open world, several arguments, empty sets.
pub(crate) fn argument_rule_cases(out: &mut Vec<Case>) {
    let closed = ConstraintSet::new()
        .with("path", Constraint::pattern("/data/*").unwrap())
        .with("n", Constraint::range(Some(0.0), Some(10.0)).unwrap());
    let mut open = closed.clone();
    open.set_allow_unknown(true);
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[Step::new(
                2,
                vec![
                    ("closed", closed.clone()),
                    ("open", open.clone()),
                    ("free", ConstraintSet::new()),
                ],
            )],
        );
        let good = [("path", s("/data/x")), ("n", ArgValue::Integer(3))];
        let extra = [
            ("path", s("/data/x")),
            ("n", ArgValue::Integer(3)),
            ("zz", s("?")),
        ];
        let extra_first = [
            ("path", s("/data/x")),
            ("n", ArgValue::Integer(3)),
            ("a", s("?")),
        ];
        let one_missing = [("path", s("/data/x"))];
        let one_bad = [("path", s("/data/x")), ("n", ArgValue::Integer(11))];
        let both_bad = [("path", s("/etc/x")), ("n", ArgValue::Integer(11))];
        let cv = R::ConstraintViolation;
        type Row<'a> = (&'a str, &'a [(&'a str, ArgValue)], Option<R>);
        let rows: Vec<Row<'_>> = vec![
            ("closed", &good, None),
            ("closed", &extra, Some(cv)),
            ("closed", &extra_first, Some(cv)),
            ("closed", &one_missing, Some(cv)),
            ("closed", &one_bad, Some(cv)),
            ("closed", &both_bad, Some(cv)),
            ("closed", &[], Some(cv)),
            ("open", &good, None),
            ("open", &extra, None),
            ("open", &one_missing, Some(cv)),
            ("open", &one_bad, Some(cv)),
            ("free", &good, None),
            ("free", &extra, None),
            ("free", &[], None),
        ];
        for (tool, pairs, expect) in rows {
            let what = format!("{tool} set with {pairs:?}");
            let mut case = Case::call("argument_rules", what, &m, tool, args(pairs));
            case.expect = expect;
            out.push(case);
        }
    }
}

/// Tool lookup: exact, case-sensitive, `*`, issuer leaves; before PoP.
pub(crate) fn tool_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new();
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[Step::new(
                2,
                vec![("read_file", cs.clone()), ("list", cs.clone())],
            )],
        );
        out.push(Case::call(
            "tool",
            "granted tool",
            &m,
            "read_file",
            args(&[]),
        ));
        for other in ["write_file", "Read_file", "read_file ", "", "*", "read"] {
            let what = format!("tool {other:?} not granted");
            out.push(
                Case::call("tool_not_in_warrant", what, &m, other, args(&[]))
                    .deny(R::ToolNotInWarrant),
            );
        }
        out.push(
            Case::call(
                "tool_not_in_warrant",
                "unknown tool without PoP (lookup before PoP)",
                &m,
                "nope",
                args(&[]),
            )
            .pop(None)
            .deny(R::ToolNotInWarrant),
        );
        let star = Minted::mint(
            minter,
            &[Step::new(
                2,
                vec![
                    (
                        "*",
                        ConstraintSet::new().with("path", Constraint::pattern("/data/*").unwrap()),
                    ),
                    ("exact_tool", ConstraintSet::new()),
                ],
            )],
        );
        for tool in ["anything", "delete_everything", "exact_tool"] {
            let what = format!("'*' grants {tool}");
            let a = args(&[("path", s("/data/x"))]);
            out.push(Case::call("tool", what, &star, tool, a));
        }
        out.push(
            Case::call(
                "constraint_violation",
                "'*' constraints apply",
                &star,
                "anything",
                args(&[("path", s("/etc"))]),
            )
            .deny(R::ConstraintViolation),
        );
        out.push(Case::call(
            "tool",
            "exact tool beats '*' (its open set applies)",
            &star,
            "exact_tool",
            args(&[("path", s("/etc"))]),
        ));
    }
    // An issuer warrant cannot authorize calls.
    let issuer = tenuo::Warrant::builder()
        .r#type(tenuo::WarrantType::Issuer)
        .issuable_tools(vec!["read_file".into()])
        .holder(crate::common::rk(2).public_key())
        .ttl(std::time::Duration::from_secs(600))
        .build(&crate::common::rk(ROOT))
        .unwrap();
    let stack =
        tenuo::wire::encode_stack(&tenuo::wire::WarrantStack(vec![issuer.clone()])).unwrap();
    let m = Minted {
        minter: Minter::Reference,
        chain: tenuo_authz::wire::decode_stack(&stack).unwrap(),
        holders: vec![2],
        ref_chain: Some(vec![issuer]),
    };
    out.push(
        Case::call(
            "tool_not_in_warrant",
            "issuer warrant as leaf",
            &m,
            "read_file",
            args(&[]),
        )
        .deny(R::ToolNotInWarrant),
    );
    let ours = tenuo_authz::mint::Issue::issuer(crate::common::pk(2), ["read_file"])
        .sign(&crate::common::ok(ROOT), crate::common::T0)
        .unwrap();
    let m = Minted {
        minter: Minter::Ours,
        chain: vec![ours],
        holders: vec![2],
        ref_chain: None,
    };
    out.push(
        Case::call(
            "tool_not_in_warrant",
            "issuer warrant as leaf",
            &m,
            "read_file",
            args(&[]),
        )
        .deny(R::ToolNotInWarrant),
    );
}

/// PoP: missing, wrong args/tool/key/warrant, garbage, each window offset.
pub(crate) fn pop_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new().with("path", Constraint::pattern("/data/*").unwrap());
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[
                Step::new(2, vec![("read", cs.clone()), ("write", cs.clone())]),
                Step::new(3, vec![("read", cs.clone()), ("write", cs.clone())]),
            ],
        );
        let a = args(&[("path", s("/data/x"))]);
        let now = m.now();
        let base = Case::call("pop", "valid PoP", &m, "read", a.clone());
        out.push(base.clone());
        out.push(base.clone().pop(None).deny(R::MissingPop));
        let mut c = base.clone().pop(None).deny(R::MissingPop);
        c.what
            .push_str(" / no PoP and bad args (PoP before constraints)");
        out.push(c.with_args(args(&[("path", s("/etc/passwd"))])));
        let wrong: Vec<(&str, [u8; 64])> = vec![
            (
                "PoP for other args",
                m.pop(3, "read", &args(&[("path", s("/data/y"))]), now),
            ),
            ("PoP for no args", m.pop(3, "read", &args(&[]), now)),
            ("PoP for other tool", m.pop(3, "write", &a, now)),
            ("PoP by a stranger", m.pop(STRANGER, "read", &a, now)),
            ("PoP by the parent's holder", m.pop(2, "read", &a, now)),
            ("PoP by the root issuer", m.pop(ROOT, "read", &a, now)),
            (
                "PoP naming the parent warrant",
                m.pop_for(0, 3, "read", &a, now),
            ),
            ("all-zero PoP", [0u8; 64]),
            ("warrant signature as PoP", m.leaf().signature().to_bytes()),
        ];
        for (what, sig) in wrong {
            let mut c = base.clone().pop(Some(sig)).deny(R::InvalidPop);
            c.what = format!("[{}] {what}", minter.tag());
            out.push(c);
        }
        // Windows are 30 s; the verifier accepts offsets -2..=+2 around now's window.
        let window = now.div_euclid(30);
        for offset in -3i64..=3 {
            let edges: &[i64] = if offset.abs() >= 2 { &[0, 29] } else { &[15] };
            for &within in edges {
                let ts = (window + offset) * 30 + within;
                let mut c = base.clone().pop(Some(m.pop(3, "read", &a, ts)));
                c.category = "pop_window";
                c.what = format!("[{}] PoP {offset:+} windows (+{within} s)", minter.tag());
                if offset.abs() > 2 {
                    c = c.deny(R::InvalidPop);
                }
                out.push(c);
            }
        }
    }
}

/// Expiry and not-yet-valid, with the reference's edges.
pub(crate) fn time_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new();
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[
                Step::new(2, vec![("read", cs.clone())]).ttl(600),
                Step::new(3, vec![("read", cs.clone())]).ttl(120),
            ],
        );
        let issued = m.issued_at() as i64;
        let leaf_expiry = m.expires_at() as i64;
        let root_expiry = m.chain[0].payload().expires_at as i64;
        let base = Case::call("time", "inside validity", &m, "read", args(&[]));
        let rows: Vec<(&str, i64, Option<R>)> = vec![
            ("one second before leaf expiry", leaf_expiry - 1, None),
            (
                "exactly at leaf expiry (expired)",
                leaf_expiry,
                Some(R::WarrantExpired),
            ),
            (
                "after leaf expiry, before root expiry",
                leaf_expiry + 60,
                Some(R::WarrantExpired),
            ),
            (
                "after root expiry",
                root_expiry + 1,
                Some(R::WarrantExpired),
            ),
            (
                "long after expiry",
                root_expiry + 86_400,
                Some(R::WarrantExpired),
            ),
            ("issued_at = now + 30 (tolerated)", issued - 30, None),
            ("issued_at = now + 31", issued - 31, Some(R::WarrantExpired)),
            (
                "issued_at = now + 1 hour",
                issued - 3600,
                Some(R::WarrantExpired),
            ),
            ("at issue time", issued, None),
            ("now = 0", 0, Some(R::WarrantExpired)),
            ("now negative", -5, Some(R::WarrantExpired)),
        ];
        for (what, now, expect) in rows {
            let mut c = base.clone().at(&m, now);
            c.category = if expect.is_some() {
                "warrant_expired"
            } else {
                "time"
            };
            c.what = format!("[{}] {what}", minter.tag());
            c.expect = expect;
            out.push(c);
        }
        let mut c = base.clone().at(&m, leaf_expiry).pop(None);
        c.category = "warrant_expired";
        c.what = format!("[{}] expired and no PoP (time before PoP)", minter.tag());
        out.push(c.deny(R::WarrantExpired));
        let mut c = base.clone().at(&m, leaf_expiry).trusted(&[STRANGER]);
        c.category = "untrusted_issuer";
        c.what = format!(
            "[{}] expired and untrusted (trust before time)",
            minter.tag()
        );
        out.push(c.deny(R::UntrustedIssuer));
    }
}

/// Revocation of any warrant of the chain, checked first.
pub(crate) fn revocation_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new();
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[
                Step::new(2, vec![("read", cs.clone())]),
                Step::new(3, vec![("read", cs.clone())]),
                Step::new(4, vec![("read", cs.clone())]),
            ],
        );
        let ids = m.ids();
        let unrelated = tenuo_authz::warrant::WarrantId([0x5a; 16]);
        let base = Case::call("warrant_revoked", "", &m, "read", args(&[]));
        let rows: Vec<(&str, Vec<_>, Option<R>)> = vec![
            (
                "root revoked (cascades)",
                vec![ids[0]],
                Some(R::WarrantRevoked),
            ),
            ("middle revoked", vec![ids[1]], Some(R::WarrantRevoked)),
            ("leaf revoked", vec![ids[2]], Some(R::WarrantRevoked)),
            ("all revoked", ids.clone(), Some(R::WarrantRevoked)),
            ("unrelated id revoked", vec![unrelated], None),
        ];
        for (what, revoked, expect) in rows {
            let mut c = base.clone().revoked(&revoked);
            c.what = format!("[{}] {what}", minter.tag());
            c.expect = expect;
            out.push(c);
        }
        let pinned: Vec<(&str, Case)> = vec![
            (
                "revoked and untrusted (revocation first)",
                base.clone().trusted(&[STRANGER]),
            ),
            (
                "revoked and expired",
                base.clone().at(&m, m.expires_at() as i64 + 5),
            ),
            ("revoked and no PoP", base.clone().pop(None)),
            (
                "revoked, PoP for other args",
                base.clone().with_args(args(&[("x", s("y"))])),
            ),
        ];
        for (what, c) in pinned {
            let mut c = c.revoked(&[ids[1]]).deny(R::WarrantRevoked);
            c.what = format!("[{}] {what}", minter.tag());
            out.push(c);
        }
    }
}

/// Trust: the root issuer must be trusted; a lone warrant is judged by its issuer.
pub(crate) fn trust_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new();
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[
                Step::new(2, vec![("read", cs.clone())]),
                Step::new(3, vec![("read", cs.clone())]),
            ],
        );
        let base = Case::call("untrusted_issuer", "", &m, "read", args(&[]));
        let rows: Vec<(&str, Vec<u8>, Option<R>)> = vec![
            ("no trusted keys", vec![], Some(R::UntrustedIssuer)),
            (
                "other key trusted",
                vec![STRANGER],
                Some(R::UntrustedIssuer),
            ),
            (
                "only the leaf issuer trusted",
                vec![2],
                Some(R::UntrustedIssuer),
            ),
            (
                "only the leaf holder trusted",
                vec![3],
                Some(R::UntrustedIssuer),
            ),
            ("root among several", vec![STRANGER, 2, ROOT], None),
        ];
        for (what, trusted, expect) in rows {
            let mut c = base.clone().trusted(&trusted);
            c.what = format!("[{}] {what}", minter.tag());
            c.expect = expect;
            if expect.is_none() {
                c.category = "trust";
            }
            out.push(c);
        }
        // Another issuer entirely.
        let other = Minted::mint_by(minter, 60, &[Step::new(2, vec![("read", cs.clone())])]);
        out.push(
            Case::call(
                "untrusted_issuer",
                "root signed by an untrusted key",
                &other,
                "read",
                args(&[]),
            )
            .deny(R::UntrustedIssuer),
        );
        out.push(
            Case::call(
                "trust",
                "root signed by a key trusted alongside",
                &other,
                "read",
                args(&[]),
            )
            .trusted(&[ROOT, 60]),
        );
        // The leaf presented alone: judged by its own issuer (the reference's rule).
        let lone = m.pick(&[1]);
        let lone_call = |what: &str| {
            let mut c = Case::call("lone_delegated", what.to_owned(), &lone, "read", args(&[]));
            c.input.pop = Some(m.pop(3, "read", &args(&[]), m.now()));
            c.what = format!("[{}] {what}", minter.tag());
            c
        };
        out.push(lone_call("delegated warrant alone, its issuer trusted (accepted)").trusted(&[2]));
        out.push(lone_call("delegated warrant alone, root trusted").deny(R::UntrustedIssuer));
        // Reversed chain: the first warrant's issuer is not a root.
        let reversed = m.pick(&[1, 0]);
        let mut c = Case::call(
            "untrusted_issuer",
            "reversed chain",
            &reversed,
            "read",
            args(&[]),
        );
        c.input.pop = Some(m.pop_for(0, 2, "read", &args(&[]), m.now()));
        out.push(c.deny(R::UntrustedIssuer));
    }
}

/// No warrant presented at all. The reference has no reason for it: it refuses
/// the empty chain as a failed chain verification, which maps to chain_invalid;
/// both deny, and ours says `missing_warrant` whatever else is wrong with the call.
pub(crate) fn absent_warrant_cases(out: &mut Vec<Case>) {
    let cs = ConstraintSet::new().with("path", Constraint::pattern("/data/*").unwrap());
    for minter in Minter::BOTH {
        let m = Minted::mint(minter, &[Step::new(2, vec![("read", cs.clone())])]);
        let base = Case::call(
            "missing_warrant",
            "",
            &m,
            "read",
            args(&[("path", s("/data/x"))]),
        );
        let rows: Vec<(&str, Case)> = vec![
            ("with a valid PoP for the withheld warrant", base.clone()),
            ("and no PoP", base.clone().pop(None)),
            (
                "and a tool nothing grants",
                Case::call("missing_warrant", "", &m, "write", args(&[])),
            ),
            ("and no trusted issuer", base.clone().trusted(&[])),
            (
                "and arguments out of bounds",
                base.clone().with_args(args(&[("path", s("/etc/passwd"))])),
            ),
        ];
        for (what, c) in rows {
            let mut c = c
                .without_warrant()
                .deny(R::MissingWarrant)
                .ref_reason(RefReason::Is(R::ChainInvalid));
            c.what = format!("[{}] no warrant, {what}", minter.tag());
            out.push(c);
        }
    }
}

/// Constraint types we do not evaluate: deny as unsupported, where the reference denies too.
pub(crate) fn unsupported_cases(out: &mut Vec<Case>) {
    let unknown = Constraint::Unknown {
        type_id: 99,
        payload: ciborium::Value::Null,
    };
    let m = Minted::mint(
        Minter::Ours,
        &[Step::new(
            2,
            vec![
                (
                    "cel",
                    ConstraintSet::new().with("x", Constraint::cel("x > 1")),
                ),
                ("unknown", ConstraintSet::new().with("x", unknown)),
            ],
        )],
    );
    let mut cel = tenuo::ConstraintSet::new();
    cel.insert("x", tenuo::constraints::CelConstraint::new("x > 1"));
    let reference = tenuo::Warrant::builder()
        .capability("cel", cel)
        .holder(crate::common::rk(2).public_key())
        .ttl(std::time::Duration::from_secs(600))
        .build(&crate::common::rk(ROOT))
        .unwrap();
    let stack =
        tenuo::wire::encode_stack(&tenuo::wire::WarrantStack(vec![reference.clone()])).unwrap();
    let r = Minted {
        minter: Minter::Reference,
        chain: tenuo_authz::wire::decode_stack(&stack).unwrap(),
        holders: vec![2],
        ref_chain: Some(vec![reference]),
    };
    for (m, tool, a) in [
        (&m, "cel", args(&[("x", ArgValue::Integer(2))])),
        (&m, "cel", args(&[("x", ArgValue::Integer(0))])),
        (&r, "cel", args(&[("x", ArgValue::Integer(2))])),
        (&m, "unknown", args(&[("x", s("y"))])),
    ] {
        let what = format!("{tool} with {a:?}");
        // The reference as we build it (without its `cel` feature) refuses CEL
        // as a missing feature, which is `unsupported` too; it reports unknown
        // types as constraint violations.
        let ref_reason = if tool == "cel" {
            RefReason::Same
        } else {
            RefReason::Any
        };
        out.push(
            Case::call("unsupported", what, m, tool, a)
                .deny(R::Unsupported)
                .ref_reason(ref_reason),
        );
    }
}
