//! Differential property test against the reference (`tenuo` 0.3.5): random
//! chains of 1 to 4 warrants (random tools and constraint sets, random narrowing
//! that is sometimes not a narrowing at all), random calls (tool, arguments, PoP
//! right or wrong, time inside or outside validity, trust, revocation), decided
//! by both implementations from the same bytes. Decisions and reasons must agree.
//!
//! Chains are minted by the reference's builders where it accepts the link (its
//! PoPs then sign for the leaf), and by hand here otherwise (so invalid links
//! are exercised too). Ed25519 verification dominates the cost in debug builds,
//! so the two halves run as two tests (two threads); `PROPTEST_CASES` sets the
//! number of cases of each (default 128, 256 in all).

#[path = "conformance/common.rs"]
mod common;

use std::time::Duration;

use proptest::prelude::*;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::pop::Args;
use tenuo_authz::warrant::WarrantId;

use common::{
    child_payload, ref_set, rk, s, seal, Deciders, Input, Minted, Minter, ROOT, STRANGER,
};

const TOOLS: [&str; 3] = ["read", "write", "list"];
const ARGS: [&str; 5] = ["path", "n", "ip", "url", "mode"];

fn pool(arg: usize) -> Vec<Constraint> {
    let range = |lo: f64, hi: f64| Constraint::range(Some(lo), Some(hi)).unwrap();
    match arg {
        0 => vec![
            Constraint::Wildcard,
            Constraint::subpath("/data").unwrap(),
            Constraint::subpath("/data/a").unwrap(),
            Constraint::pattern("/data/*").unwrap(),
            Constraint::pattern("/data/a/*").unwrap(),
            Constraint::exact("/data/a/x"),
            Constraint::subpath("/").unwrap(),
        ],
        1 => vec![
            Constraint::Wildcard,
            range(0.0, 100.0),
            range(0.0, 50.0),
            range(10.0, 50.0),
            Constraint::one_of([1, 5, 10]),
            Constraint::exact(10),
            range(0.0, 200.0),
        ],
        2 => vec![
            Constraint::Wildcard,
            Constraint::cidr("10.0.0.0/8").unwrap(),
            Constraint::cidr("10.1.0.0/16").unwrap(),
            Constraint::cidr("10.1.2.0/24").unwrap(),
            Constraint::cidr("0.0.0.0/0").unwrap(),
            Constraint::exact("10.1.2.3"),
        ],
        3 => vec![
            Constraint::Wildcard,
            Constraint::url_pattern("https://*.example.com/*").unwrap(),
            Constraint::url_pattern("https://api.example.com/*").unwrap(),
            Constraint::url_pattern("https://api.example.com/v1/*").unwrap(),
            Constraint::url_pattern("http://api.example.com/*").unwrap(),
            Constraint::exact("https://api.example.com/v1/x"),
        ],
        _ => vec![
            Constraint::Wildcard,
            Constraint::one_of(["r", "w", "x"]),
            Constraint::one_of(["r", "w"]),
            Constraint::exact("r"),
            Constraint::not_one_of(["x"]),
            Constraint::not_one_of(["x", "w"]),
            Constraint::regex("^[rw]$").unwrap(),
        ],
    }
}

fn values(arg: usize) -> Vec<ArgValue> {
    match arg {
        0 => vec![
            s("/data/a/x"),
            s("/data/b"),
            s("/etc/passwd"),
            s("/data"),
            s("/data/a/../../etc"),
        ],
        1 => vec![
            ArgValue::Integer(10),
            ArgValue::Integer(5),
            ArgValue::Integer(42),
            ArgValue::Integer(150),
            ArgValue::Float(-1.0),
            s("5"),
        ],
        2 => vec![s("10.1.2.3"), s("10.2.0.1"), s("11.0.0.1"), s("garbage")],
        3 => vec![
            s("https://api.example.com/v1/x"),
            s("https://www.example.com/"),
            s("http://api.example.com/x"),
            s("https://evil.com/"),
        ],
        _ => vec![s("r"), s("w"), s("x"), s("R")],
    }
}

/// Reads choices from a byte stream (zeros once exhausted), so proptest can
/// shrink a scenario by shrinking its bytes. Choice 0 is always the ordinary
/// one (keep, include, correct PoP, inside validity).
struct Choices<'a>(&'a [u8], usize);

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b as usize % n
    }

    /// True one time in `one_in`; never once the stream is exhausted, so
    /// shrinking towards zeros removes rare events.
    fn rare(&mut self, one_in: usize) -> bool {
        self.pick(one_in) == one_in - 1
    }
}

fn root_tools(c: &mut Choices<'_>) -> Vec<(String, ConstraintSet)> {
    let mut tools = Vec::new();
    for (t, name) in TOOLS.iter().enumerate() {
        if t > 0 && c.rare(2) {
            continue;
        }
        let mut cs = ConstraintSet::new();
        for (arg, name) in ARGS.iter().enumerate() {
            if c.rare(2) {
                let p = pool(arg);
                // Roots draw from the wider half of each pool.
                cs.insert(*name, p[c.pick(3).min(p.len() - 1)].clone());
            }
        }
        if !cs.is_empty() && c.rare(8) {
            cs.set_allow_unknown(true);
        }
        tools.push(((*name).to_owned(), cs));
    }
    tools
}

/// A child tool map: mostly narrowing, sometimes widening or reshaping.
fn child_tools(
    c: &mut Choices<'_>,
    parent: &std::collections::BTreeMap<String, ConstraintSet>,
) -> Vec<(String, ConstraintSet)> {
    let mut out = Vec::new();
    for (tool, set) in parent {
        if out.is_empty() || !c.rare(3) {
            let mut cs = ConstraintSet::new();
            for (arg, constraint) in set.iter() {
                let a = ARGS.iter().position(|x| x == arg).unwrap_or(0);
                match c.pick(96) {
                    // Occasionally drop the argument (not a narrowing).
                    95 => {}
                    // Sometimes replace it: mostly by a later (often narrower)
                    // entry of its pool, sometimes by any entry.
                    92..=94 => {
                        let p = pool(a);
                        let at = p.iter().position(|x| x == constraint).unwrap_or(0);
                        let j = if c.rare(3) {
                            c.pick(p.len())
                        } else {
                            at + c.pick(p.len() - at)
                        };
                        cs.insert(arg.clone(), p[j].clone());
                    }
                    _ => {
                        cs.insert(arg.clone(), constraint.clone());
                    }
                }
            }
            if c.rare(48) {
                let a = c.pick(ARGS.len());
                let p = pool(a);
                cs.insert(ARGS[a], p[c.pick(p.len())].clone());
            }
            if set.allow_unknown() || c.rare(64) {
                cs.set_allow_unknown(true);
            }
            out.push((tool.clone(), cs));
        }
    }
    if c.rare(24) {
        out.push((TOOLS[c.pick(TOOLS.len())].to_owned(), ConstraintSet::new()));
    }
    out
}

/// Mints a chain of `depth` warrants, each link by the reference when `minter`
/// is the reference and it accepts the link, by hand otherwise.
fn mint(minter: Minter, depth: usize, c: &mut Choices<'_>) -> Minted {
    let tools = root_tools(c);
    let mut m = match minter {
        Minter::Reference => {
            let mut b = tenuo::Warrant::builder()
                .holder(rk(2).public_key())
                .ttl(Duration::from_secs(600));
            for (t, cs) in &tools {
                b = b.capability(t.clone(), ref_set(cs));
            }
            let w = b.build(&rk(ROOT)).expect("reference root");
            let stack = tenuo::wire::encode_stack(&tenuo::wire::WarrantStack(vec![w.clone()]))
                .expect("encodes");
            Minted {
                minter: Minter::Reference,
                chain: tenuo_authz::wire::decode_stack(&stack).expect("decodes"),
                holders: vec![2],
                ref_chain: Some(vec![w]),
            }
        }
        Minter::Ours => {
            let mut issue = tenuo_authz::mint::Issue::execution(common::pk(2)).ttl_secs(600);
            for (t, cs) in tools {
                issue = issue.tool(t, cs);
            }
            Minted {
                minter: Minter::Ours,
                chain: vec![issue.sign(&common::ok(ROOT), common::T0).expect("our root")],
                holders: vec![2],
                ref_chain: None,
            }
        }
    };
    for level in 1..depth {
        let holder = 2 + level as u8;
        let parent = m.leaf().clone();
        let tools = child_tools(c, &parent.payload().tools);
        let outlives = c.rare(24);
        let shorter = c.rare(3);
        if let (Some(chain), false, false) = (&m.ref_chain, outlives, shorter) {
            let mut att = chain[level - 1].attenuate().holder(rk(holder).public_key());
            for (t, cs) in &tools {
                att = att.capability(t.clone(), ref_set(cs));
            }
            if let Ok(child) = att.build(&rk(holder - 1)) {
                let bytes = tenuo::wire::encode(&child).expect("encodes");
                m.chain
                    .push(tenuo_authz::Warrant::decode(&bytes).expect("decodes"));
                m.holders.push(holder);
                m.ref_chain.as_mut().expect("ref chain").push(child);
                continue;
            }
        }
        let mut p = child_payload(&parent, holder, parent.payload().issued_at + 1);
        p.tools = tools.into_iter().collect();
        if outlives {
            p.expires_at += 50;
        } else if shorter {
            p.expires_at -= 100;
        }
        m = m.push(seal(&p, holder - 1), holder);
    }
    m
}

fn call(m: &Minted, c: &mut Choices<'_>) -> Input {
    let granted: Vec<&String> = m.leaf().payload().tools.keys().collect();
    let tool = match c.pick(8) {
        6 => TOOLS[c.pick(TOOLS.len())].to_owned(),
        7 => "other".to_owned(),
        _ => granted[c.pick(granted.len())].clone(),
    };
    // Mostly the arguments the leaf declares for the tool, mostly with the first
    // value of each pool (which most constraints in the pools admit).
    let leaf = &m.leaf().payload().tools;
    let declared = leaf.get(&tool).or_else(|| leaf.get("*"));
    let mut a = Args::new();
    for (i, arg) in ARGS.iter().enumerate() {
        let include = match declared {
            Some(cs) if cs.get(arg).is_some() => !c.rare(12),
            _ => c.rare(8),
        };
        if include {
            let vs = values(i);
            let v = if c.rare(4) { c.pick(vs.len()) } else { 0 };
            a.insert((*arg).to_owned(), vs[v].clone());
        }
    }
    if c.rare(12) {
        a.insert("zz".into(), s("extra"));
    }
    let issued = m.issued_at() as i64;
    let now = match c.pick(12) {
        10 => m.expires_at() as i64 + c.pick(3) as i64,
        11 => issued - 31 - c.pick(100) as i64,
        _ => issued + 5 + c.pick(50) as i64,
    };
    let holder = m.leaf_holder();
    let pop = match c.pick(16) {
        11 => None,
        12 => Some(m.pop(STRANGER, &tool, &a, now)),
        13 => Some(m.pop(holder, &tool, &Args::new(), now)),
        14 => Some(m.pop(holder, &tool, &a, now - 120)),
        15 => Some(m.pop(holder, "other_tool", &a, now)),
        _ => Some(m.pop(holder, &tool, &a, now)),
    };
    let trusted = if c.rare(16) {
        vec![STRANGER]
    } else {
        vec![ROOT]
    };
    let revoked: Vec<WarrantId> = if c.rare(16) {
        vec![m.ids()[c.pick(m.chain.len())]]
    } else {
        Vec::new()
    };
    Input {
        stack: m.stack(),
        trusted,
        revoked,
        tool,
        args: a,
        pop,
        now,
        approvals: Vec::new(),
    }
}

/// Decides one scenario with both; returns our reason (`None` = allow).
fn check(
    minter: Minter,
    depth: usize,
    bytes: &[u8],
) -> Result<Option<&'static str>, TestCaseError> {
    let mut c = Choices(bytes, 0);
    let m = mint(minter, depth, &mut c);
    let input = call(&m, &mut c);
    let mut deciders = Deciders::default();
    let ours = deciders.ours(&input);
    let theirs = deciders.theirs(&input);
    prop_assert_eq!(
        ours.is_ok(),
        theirs.is_ok(),
        "decisions differ\nours   {:?}\ntheirs {:?}\ninput  {:?}",
        ours,
        theirs,
        input
    );
    if let (Err(o), Err(t)) = (&ours, &theirs) {
        prop_assert_eq!(o.0, t.0, "reasons differ: ours {:?} theirs {:?}", o, t);
    }
    Ok(ours.err().map(|e| e.0.as_str()))
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/differential.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reference_minted_chains_decide_alike(depth in 1usize..=4, bytes in proptest::collection::vec(any::<u8>(), 192)) {
        check(Minter::Reference, depth, &bytes)?;
    }

    #[test]
    fn our_chains_decide_alike(depth in 1usize..=4, bytes in proptest::collection::vec(any::<u8>(), 192)) {
        check(Minter::Ours, depth, &bytes)?;
    }
}

/// The generator must reach allows and many deny reasons, or the property is
/// vacuous; a fixed sample also keeps one deterministic run in every CI job.
#[test]
fn scenarios_cover_allows_and_many_reasons() {
    let mut rng = common::Rng(0x5eed);
    let mut seen = std::collections::BTreeMap::new();
    for i in 0..32 {
        let minter = Minter::BOTH[i % 2];
        let depth = 1 + rng.below(4);
        let bytes: Vec<u8> = (0..192).map(|_| rng.next() as u8).collect();
        let outcome = check(minter, depth, &bytes).expect("implementations agree");
        *seen.entry(outcome.unwrap_or("allow")).or_insert(0) += 1;
    }
    eprintln!("outcomes of 32 fixed scenarios: {seen:?}");
    assert!(seen.get("allow").copied().unwrap_or(0) >= 6, "{seen:?}");
    assert!(seen.len() >= 6, "{seen:?}");
}
