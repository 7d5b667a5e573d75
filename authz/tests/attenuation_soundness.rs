//! Attenuation soundness at warrant level: whenever our `Attenuate` builder mints
//! a child, or our chain verification accepts a hand-made link, every call the
//! child allows (a full decision with the child holder's valid PoP) is allowed
//! by the parent too (same tool and arguments, the parent holder's PoP). The
//! constraint pools include Subpath, UrlPattern, Cidr, UrlSafe and Shlex
//! besides the simpler types. `PROPTEST_CASES` sets the cases of each property (default 48).

#[path = "conformance/common.rs"]
mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use tenuo_authz::chain::PreparedChain;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet, UrlSafe};
use tenuo_authz::decision::{decide, Call, Policy, TrustedIssuers};
use tenuo_authz::mint::{Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::Warrant;

use common::{child_payload, ok, pk, s, seal, ROOT, T0};

const TOOLS: [&str; 3] = ["fetch", "read", "connect"];
const ARGS: [&str; 5] = ["url", "path", "ip", "n", "cmd"];

fn url_safe(domains: Option<&[&str]>, private_ok: bool) -> Constraint {
    let mut u = UrlSafe::new();
    u.allow_domains = domains.map(|d| d.iter().map(|x| (*x).to_owned()).collect());
    u.block_private = !private_ok;
    Constraint::url_safe(u).unwrap()
}

fn pool(arg: usize) -> Vec<Constraint> {
    let range = |lo: f64, hi: f64| Constraint::range(Some(lo), Some(hi)).unwrap();
    match arg {
        0 => vec![
            Constraint::Wildcard,
            Constraint::url_pattern("https://*.example.com/*").unwrap(),
            Constraint::url_pattern("https://api.example.com/*").unwrap(),
            Constraint::url_pattern("https://api.example.com/v1/*").unwrap(),
            Constraint::url_pattern("*://api.example.com/*").unwrap(),
            Constraint::url_pattern("https://api.example.com:8443/*").unwrap(),
            url_safe(None, false),
            url_safe(None, true),
            url_safe(Some(&["*.example.com"]), false),
            url_safe(Some(&["api.example.com"]), false),
            Constraint::exact("https://api.example.com/v1/x"),
            Constraint::pattern("https://api.example.com/*").unwrap(),
        ],
        1 => vec![
            Constraint::Wildcard,
            Constraint::subpath("/").unwrap(),
            Constraint::subpath("/data").unwrap(),
            Constraint::subpath("/data/a").unwrap(),
            Constraint::Subpath(
                tenuo_authz::constraint::Subpath::new("/data", true, false).unwrap(),
            ),
            Constraint::pattern("/data/*").unwrap(),
            Constraint::exact("/data/a/x"),
            Constraint::one_of(["/data/a/x", "/data/b"]),
        ],
        2 => vec![
            Constraint::Wildcard,
            Constraint::cidr("0.0.0.0/0").unwrap(),
            Constraint::cidr("10.0.0.0/8").unwrap(),
            Constraint::cidr("10.1.0.0/16").unwrap(),
            Constraint::cidr("10.1.2.0/24").unwrap(),
            Constraint::cidr("10.1.2.3/32").unwrap(),
            Constraint::exact("10.1.2.3"),
            Constraint::one_of(["10.1.2.3", "192.168.0.1"]),
            Constraint::not(Constraint::cidr("10.1.0.0/16").unwrap()).unwrap(),
        ],
        3 => vec![
            Constraint::Wildcard,
            range(0.0, 100.0),
            range(0.0, 10.0),
            range(5.0, 10.0),
            Constraint::one_of([1, 5, 10]),
            Constraint::exact(5),
            Constraint::all(vec![range(0.0, 100.0), Constraint::not_one_of([7])]).unwrap(),
            Constraint::any(vec![Constraint::exact(5), Constraint::exact(50)]).unwrap(),
        ],
        _ => vec![
            Constraint::Wildcard,
            Constraint::shlex(["ls", "cat", "git"]),
            Constraint::shlex(["ls", "cat"]),
            Constraint::shlex(["ls"]),
            Constraint::shlex(Vec::<String>::new()),
            Constraint::exact("ls -la"),
            Constraint::exact("cat \"a; b\""),
            Constraint::exact("ls; rm -rf /"),
            Constraint::pattern("ls *").unwrap(),
            Constraint::all(vec![
                Constraint::shlex(["ls", "cat"]),
                Constraint::pattern("ls *").unwrap(),
            ])
            .unwrap(),
            Constraint::not(Constraint::shlex(["git"])).unwrap(),
            Constraint::one_of(["ls -la", "rm -rf /"]),
        ],
    }
}

fn values(arg: usize) -> Vec<ArgValue> {
    match arg {
        0 => [
            "https://api.example.com/v1/x",
            "https://api.example.com/v2",
            "https://www.example.com/",
            "http://api.example.com/v1/x",
            "https://api.example.com:8443/v1",
            "https://evil.com/",
            "http://10.1.2.3/",
            "http://127.0.0.1/",
        ]
        .iter()
        .map(|x| s(x))
        .collect(),
        1 => [
            "/data/a/x",
            "/data/b",
            "/data",
            "/etc/passwd",
            "/data/a/../../etc",
            "/",
        ]
        .iter()
        .map(|x| s(x))
        .collect(),
        2 => ["10.1.2.3", "10.1.9.9", "10.2.0.1", "192.168.0.1", "garbage"]
            .iter()
            .map(|x| s(x))
            .collect(),
        3 => vec![
            ArgValue::Integer(5),
            ArgValue::Integer(7),
            ArgValue::Integer(50),
            ArgValue::Float(9.5),
            ArgValue::Integer(500),
        ],
        _ => {
            let mut v: Vec<ArgValue> = [
                "ls -la",
                "ls",
                "cat \"a; b\"",
                "cat x",
                "git status",
                "ls; rm -rf /",
                "rm -rf /",
                "ls $HOME",
                "",
            ]
            .iter()
            .map(|x| s(x))
            .collect();
            v.push(ArgValue::Integer(1));
            v
        }
    }
}

fn constraint_set() -> impl Strategy<Value = ConstraintSet> {
    (
        proptest::collection::btree_map(0usize..ARGS.len(), any::<prop::sample::Index>(), 0..=3),
        any::<bool>(),
    )
        .prop_map(|(picks, open)| {
            let mut cs = ConstraintSet::new();
            for (arg, idx) in picks {
                let p = pool(arg);
                cs.insert(ARGS[arg], idx.get(&p).clone());
            }
            cs.set_allow_unknown(open && !cs.is_empty());
            cs
        })
}

fn tools() -> impl Strategy<Value = BTreeMap<String, ConstraintSet>> {
    proptest::collection::btree_map(
        prop::sample::select(&TOOLS[..]).prop_map(str::to_owned),
        constraint_set(),
        1..=2,
    )
}

/// Calls: a tool and arguments drawn from the value pools.
fn calls() -> impl Strategy<Value = Vec<(String, Args)>> {
    let call = (
        prop::sample::select(&TOOLS[..]).prop_map(str::to_owned),
        proptest::collection::btree_map(0usize..ARGS.len(), any::<prop::sample::Index>(), 0..=4),
    )
        .prop_map(|(tool, picks)| {
            let a: Args = picks
                .into_iter()
                .map(|(arg, idx)| (ARGS[arg].to_owned(), idx.get(&values(arg)).clone()))
                .collect();
            (tool, a)
        });
    proptest::collection::vec(call, 10)
}

fn root(tools: BTreeMap<String, ConstraintSet>) -> Warrant {
    let mut issue = Issue::execution(pk(2)).ttl_secs(600);
    for (t, cs) in tools {
        issue = issue.tool(t, cs);
    }
    issue.sign(&ok(ROOT), T0).unwrap()
}

fn allowed(chain: &PreparedChain, holder: u8, tool: &str, a: &Args, now: i64) -> bool {
    let pop = sign_pop(&ok(holder), &chain.leaf().id, tool, a, now);
    let call = Call {
        tool,
        args: a,
        pop: Some(&pop),
        approvals: &[],
        now,
    };
    let trusted = TrustedIssuers::new([pk(ROOT)]);
    decide(chain, &trusted, &(), &Policy::default(), &call).is_ok()
}

/// Every call the child chain allows, the parent alone allows. Returns how many
/// calls the child allowed.
fn check_soundness(
    parent: &Warrant,
    child: Warrant,
    calls: &[(String, Args)],
) -> Result<usize, TestCaseError> {
    let now = (T0 + 20) as i64;
    let parent_chain = PreparedChain::new(vec![parent.clone()]).unwrap();
    let child_chain = PreparedChain::new(vec![parent.clone(), child]).unwrap();
    prop_assert!(child_chain.is_sound(), "an accepted link must verify");
    let mut allowed_by_child = 0;
    for (tool, a) in calls {
        // Only calls the child's grant admits can be allowed by it; the full
        // decision (with PoP) is made for those.
        let admits = child_chain
            .leaf_grant(tool)
            .is_some_and(|g| g.check_args(a).is_ok());
        if !admits {
            continue;
        }
        prop_assert!(
            allowed(&child_chain, 3, tool, a, now),
            "child grant admits but decision denies: {tool} {a:?}"
        );
        allowed_by_child += 1;
        prop_assert!(
            allowed(&parent_chain, 2, tool, a, now),
            "child allows {tool}({a:?}) but the parent does not\nparent {:?}\nchild  {:?}",
            parent.payload().tools,
            child_chain.leaf().tools
        );
    }
    Ok(allowed_by_child)
}

/// A child tool map derived from the parent's by a choice stream: tools kept or
/// dropped, constraints kept, replaced by any pool entry (often a narrowing,
/// sometimes not), dropped or added, `allow_unknown` sometimes turned on.
fn derive_child(
    parent: &BTreeMap<String, ConstraintSet>,
    bytes: &[u8],
) -> BTreeMap<String, ConstraintSet> {
    let mut at = 0;
    let mut pick = |n: usize| {
        let b = bytes.get(at).copied().unwrap_or(0) as usize;
        at += 1;
        b % n
    };
    let mut out = BTreeMap::new();
    for (tool, set) in parent {
        if !out.is_empty() && pick(4) == 3 {
            continue;
        }
        let mut cs = ConstraintSet::new();
        for (arg, c) in set.iter() {
            let a = ARGS.iter().position(|x| x == arg).unwrap_or(0);
            match pick(8) {
                7 => {}
                3..=6 => {
                    let p = pool(a);
                    cs.insert(arg.clone(), p[pick(p.len())].clone());
                }
                _ => {
                    cs.insert(arg.clone(), c.clone());
                }
            }
        }
        if pick(6) == 5 {
            let a = pick(ARGS.len());
            let p = pool(a);
            cs.insert(ARGS[a], p[pick(p.len())].clone());
        }
        cs.set_allow_unknown(set.allow_unknown() || pick(8) == 7);
        out.insert(tool.clone(), cs);
    }
    if pick(6) == 5 {
        out.insert(TOOLS[pick(TOOLS.len())].to_owned(), ConstraintSet::new());
    }
    out
}

/// One scenario: mint (or forge) a child, then check soundness. Returns whether a
/// child was accepted and how many calls it allowed.
fn scenario(
    parent_tools: BTreeMap<String, ConstraintSet>,
    bytes: &[u8],
    forged: bool,
    calls: &[(String, Args)],
) -> Result<(bool, usize), TestCaseError> {
    let parent = root(parent_tools);
    let child_tools = derive_child(&parent.payload().tools, bytes);
    let child = if forged {
        let mut p = child_payload(&parent, 3, T0 + 1);
        p.tools = child_tools;
        let child = seal(&p, 2);
        let sound = PreparedChain::new(vec![parent.clone(), child.clone()])
            .unwrap()
            .is_sound();
        sound.then_some(child)
    } else {
        let mut att = Attenuate::from(&parent).holder(pk(3)).ttl_secs(300);
        for (t, cs) in child_tools {
            att = att.tool(t, cs);
        }
        att.sign(&ok(2), T0 + 1).ok()
    };
    match child {
        Some(child) => Ok((true, check_soundness(&parent, child, calls)?)),
        None => Ok((false, 0)),
    }
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/attenuation_soundness.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Children minted by our builder.
    #[test]
    fn minted_children_never_allow_more(parent in tools(), bytes in proptest::collection::vec(any::<u8>(), 32), calls in calls()) {
        scenario(parent, &bytes, false, &calls)?;
    }

    /// Links made by hand that our chain verification accepts.
    #[test]
    fn accepted_links_never_allow_more(parent in tools(), bytes in proptest::collection::vec(any::<u8>(), 32), calls in calls()) {
        scenario(parent, &bytes, true, &calls)?;
    }
}

/// The properties are not vacuous: over a fixed sample, children are accepted
/// and allow calls.
#[test]
fn properties_are_not_vacuous() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let (mut accepted, mut allowed) = (0, 0);
    for i in 0..24 {
        let parent = tools().new_tree(&mut runner).unwrap().current();
        let calls = calls().new_tree(&mut runner).unwrap().current();
        let bytes = proptest::collection::vec(any::<u8>(), 32)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (ok, n) = scenario(parent, &bytes, i % 2 == 1, &calls).unwrap();
        accepted += usize::from(ok);
        allowed += n;
    }
    eprintln!("24 scenarios: {accepted} children accepted, {allowed} calls allowed by them");
    assert!(
        accepted >= 8 && allowed >= 8,
        "{accepted} accepted, {allowed} allowed"
    );
}

/// The properties are not vacuous: narrowing children exist and allow calls.
#[test]
fn builder_accepts_narrowing_children_that_allow_calls() {
    let mut parent_set = ConstraintSet::new();
    let mut child_set = ConstraintSet::new();
    for (arg, (wide, narrow)) in [(0, (1, 3)), (1, (2, 3)), (2, (2, 4)), (3, (1, 2))] {
        parent_set.insert(ARGS[arg], pool(arg)[wide].clone());
        child_set.insert(ARGS[arg], pool(arg)[narrow].clone());
    }
    let parent = root([("fetch".to_owned(), parent_set)].into());
    let child = Attenuate::from(&parent)
        .holder(pk(3))
        .tool("fetch", child_set)
        .sign(&ok(2), T0 + 1)
        .unwrap();
    let a: Args = [
        ("url", s("https://api.example.com/v1/x")),
        ("path", s("/data/a/x")),
        ("ip", s("10.1.2.3")),
        ("n", ArgValue::Integer(5)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let n = check_soundness(&parent, child, &[("fetch".into(), a)]).unwrap();
    assert_eq!(n, 1);
}
