//! Differential tests of `tenuo_authz::constraint` against the reference
//! `tenuo` 0.3.5 crate: wire bytes, match decisions, attenuation decisions,
//! decode acceptance, and an attenuation-soundness property.

use std::collections::{BTreeMap, HashMap};

use ciborium::Value;
use proptest::prelude::*;
use tenuo::constraints as r;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet, Mismatch};

fn to_bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("serializable");
    out
}

fn to_value(bytes: &[u8]) -> Value {
    ciborium::de::from_reader(bytes).expect("valid CBOR")
}

/// Decode the reference constraint's bytes with our codec and check that we
/// re-encode to the very same bytes.
fn ours(rc: &r::Constraint) -> Constraint {
    let bytes = to_bytes(rc);
    let c = Constraint::from_cbor(&to_value(&bytes), 0)
        .unwrap_or_else(|e| panic!("we reject {rc:?}: {e}"));
    assert_eq!(
        to_bytes(&c.to_cbor()),
        bytes,
        "re-encoding differs for {rc:?}"
    );
    c
}

fn ref_value(v: &ArgValue) -> r::ConstraintValue {
    ciborium::de::from_reader(to_bytes(&v.to_cbor()).as_slice()).expect("reference decodes value")
}

fn s(x: &str) -> ArgValue {
    ArgValue::String(x.to_owned())
}

fn rs(x: &str) -> r::ConstraintValue {
    r::ConstraintValue::String(x.to_owned())
}

/// Reference constraints covering every type and many edge cases.
fn reference_pool() -> Vec<r::Constraint> {
    let mut pool: Vec<r::Constraint> = Vec::new();
    pool.push(r::Wildcard::new().into());
    for p in [
        "/data/*",
        "staging-*",
        "*-safe",
        "*",
        "a*b",
        "c?t",
        "[a-c]*",
        "[!x]y",
        "a/**/b",
        "**/x",
        "a/**",
        "exact",
        "/data/x",
        "[",
        "a**",
        "*-extra-safe",
        "staging-web-*",
        "staging-web",
    ] {
        if let Ok(pat) = r::Pattern::new(p) {
            pool.push(pat.into());
        }
    }
    for re in ["^prod-[a-z]+$", "prod", "^a", "^[0-9]+$"] {
        pool.push(r::RegexConstraint::new(re).expect("regex").into());
    }
    for v in [
        rs("staging-web"),
        rs("/data/x"),
        r::ConstraintValue::Integer(5),
        r::ConstraintValue::Float(5.0),
        r::ConstraintValue::Boolean(true),
        r::ConstraintValue::Null,
        rs("10.1.2.3"),
        rs("https://api.example.com/v1"),
        r::ConstraintValue::List(vec![rs("/data/a"), rs("/data/b")]),
        r::ConstraintValue::List(vec![]),
        rs("ls -la"),
        rs("ls \"a; b\""),
        rs("ls; rm"),
        rs("cat x"),
        rs("ac"),
        rs("admin"),
    ] {
        pool.push(r::Exact::new(v).into());
    }
    pool.push(r::OneOf::new(["a", "b", "c"]).into());
    pool.push(r::OneOf::new(["a", "b"]).into());
    pool.push(r::OneOf::new(["admin", "root"]).into());
    pool.push(r::OneOf::from_values([5i64, 6]).into());
    pool.push(r::NotOneOf::new(["a"]).into());
    pool.push(r::NotOneOf::new(["a", "b"]).into());
    pool.push(r::Range::between(0.0, 100.0).expect("range").into());
    pool.push(r::Range::between(10.0, 50.0).expect("range").into());
    pool.push(
        r::Range::between(0.0, 100.0)
            .expect("range")
            .max_exclusive()
            .into(),
    );
    pool.push(r::Range::max(10.0).expect("range").into());
    pool.push(r::Range::min(-1.5).expect("range").min_exclusive().into());
    for c in [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "0.0.0.0/0",
        "2001:db8::/32",
        "10.1.2.3/8",
        "192.168.1.1",
    ] {
        pool.push(r::Cidr::new(c).expect("cidr").into());
    }
    for u in [
        "https://api.example.com/*",
        "https://*.example.com/*",
        "*://example.com/api/v1/*",
        "https://*.example.com:8443/api/*",
        "https://example.com/",
        "https://api.example.com/v1/*",
        "https://example.com/files/*.txt",
    ] {
        pool.push(r::UrlPattern::new(u).expect("url pattern").into());
    }
    pool.push(r::Contains::new(["admin"]).into());
    pool.push(r::Contains::new(["admin", "ops"]).into());
    pool.push(r::Subset::new(["a", "b", "c"]).into());
    pool.push(r::Subset::new(["/data/a", "/data/b"]).into());
    pool.push(
        r::All::new([
            r::Pattern::new("a*").expect("p").into(),
            r::NotOneOf::new(["ab"]).into(),
        ])
        .into(),
    );
    pool.push(r::All::new([r::Pattern::new("a*").expect("p").into()]).into());
    pool.push(r::All::new([]).into());
    pool.push(r::Any::new([r::Exact::new("a").into(), r::Exact::new("b").into()]).into());
    pool.push(r::Any::new([r::Exact::new("a").into()]).into());
    pool.push(r::Any::new([]).into());
    pool.push(
        r::Any::new([
            r::Cidr::new("10.0.0.0/8").expect("cidr").into(),
            r::Exact::new("garbage").into(),
        ])
        .into(),
    );
    pool.push(r::Not::new(r::Exact::new("admin").into()).into());
    pool.push(r::Not::new(r::OneOf::new(["admin", "root"]).into()).into());
    pool.push(r::Not::new(r::Cidr::new("10.0.0.0/8").expect("cidr").into()).into());
    pool.push(r::CelConstraint::new("amount < 100").into());
    pool.push(r::CelConstraint::attenuate(&r::CelConstraint::new("amount < 100"), "x").into());
    pool.push(r::Subpath::new("/data").expect("subpath").into());
    pool.push(r::Subpath::new("/data/x").expect("subpath").into());
    pool.push(
        r::Subpath::with_options("/Data", false, false)
            .expect("subpath")
            .into(),
    );
    pool.push(r::UrlSafe::new().into());
    pool.push(r::UrlSafe::with_domains(vec!["*.example.com"]).into());
    pool.push(r::UrlSafe::with_domains(vec!["api.example.com"]).into());
    let mut strict = r::UrlSafe::new();
    strict.block_internal_tlds = true;
    strict.allow_ports = Some(vec![443]);
    strict.deny_domains = Some(vec!["evil.com".into()]);
    pool.push(strict.into());
    let mut loose = r::UrlSafe::new();
    loose.block_private = false;
    loose.schemes = vec!["https".into(), "ftp".into()];
    pool.push(loose.into());
    pool.push(r::Shlex::new(vec!["ls", "cat"]).into());
    pool.push(r::Shlex::new(vec!["ls"]).into());
    pool.push(r::Shlex::new(vec!["/usr/bin/ls", "cat", ""]).into());
    pool.push(r::Shlex::new(Vec::<String>::new()).into());
    // Composites reach Shlex evaluation through All → Exact and Not.
    pool.push(
        r::All::new([
            r::Shlex::new(vec!["ls", "cat"]).into(),
            r::Pattern::new("ls *").expect("ok").into(),
        ])
        .into(),
    );
    pool.push(r::Not::new(r::Shlex::new(vec!["cat"]).into()).into());
    pool
}

fn value_pool() -> Vec<ArgValue> {
    let mut vals = vec![
        ArgValue::Integer(5),
        ArgValue::Integer(-3),
        ArgValue::Integer(100),
        ArgValue::Integer(i64::MAX),
        ArgValue::Float(5.0),
        ArgValue::Float(99.9),
        ArgValue::Float(100.0),
        ArgValue::Float(f64::NAN),
        ArgValue::Float(-1.5),
        ArgValue::Bool(true),
        ArgValue::Null,
        ArgValue::List(vec![]),
        ArgValue::List(vec![s("admin"), s("ops")]),
        ArgValue::List(vec![s("a"), s("b")]),
        ArgValue::List(vec![s("/data/a"), s("/data/b")]),
        ArgValue::List(vec![s("/data/a"), ArgValue::Integer(1)]),
        ArgValue::Object([("k".to_owned(), ArgValue::Integer(1))].into()),
    ];
    for x in [
        "",
        "a",
        "b",
        "c",
        "ab",
        "ac",
        "admin",
        "root",
        "staging-web",
        "staging-",
        "x-safe",
        "x-extra-safe",
        "cat",
        "c/t",
        "/data",
        "/data/",
        "/data/x",
        "/data/x/y",
        "/data/../etc",
        "/DATA/x",
        "/Data",
        "/database",
        "a/x/y/b",
        "a/b",
        "x",
        "a/x",
        "ax",
        "prod-abc",
        "prod-ABC",
        "my-prod-db",
        "123",
        "10.1.2.3",
        "10.0.0.1",
        "11.0.0.1",
        "192.168.1.1",
        "::1",
        "2001:db8::1",
        "nope",
        "https://api.example.com/v1/users",
        "http://api.example.com/v1",
        "https://www.example.com/",
        "https://example.com/api/v1/x",
        "https://EXAMPLE.com/",
        "https://a.example.com:8443/api/x",
        "https://a.example.com/api/x",
        "not a url",
        "http://169.254.169.254/",
        "http://127.0.0.1/",
        "http://localhost./",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://10.0.0.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://010.0.0.1/",
        "http://0177.0.0.1/",
        "file:///etc/passwd",
        "https://evil.com/",
        "https://api.example.com:8443/",
        "http://svc.internal/",
        "https://%65vil.com/",
        "ftp://api.example.com/",
        "ls -la",
        "ls",
        "ls; rm -rf /",
        "ls \"a; b\"",
        "ls 'x",
        "ls $HOME",
        "cat\n/etc/passwd",
        "/usr/bin/ls -l",
        "/usr/../bin/ls",
        "cat a|b",
        "cat a\\|b",
        "  ",
        "garbage",
        "exact",
    ] {
        vals.push(s(x));
    }
    vals
}

/// Outcome class of an evaluation, comparable across implementations.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allow,
    Deny,
    Error,
}

fn our_outcome(c: &Constraint, v: &ArgValue) -> Outcome {
    match c.check(v) {
        Ok(()) => Outcome::Allow,
        Err(Mismatch::NotSatisfied) => Outcome::Deny,
        Err(_) => Outcome::Error,
    }
}

fn ref_outcome(c: &r::Constraint, v: &r::ConstraintValue) -> Outcome {
    match c.matches(v) {
        Ok(true) => Outcome::Allow,
        Ok(false) => Outcome::Deny,
        Err(_) => Outcome::Error,
    }
}

#[test]
fn wire_bytes_match_reference() {
    for rc in reference_pool() {
        let _ = ours(&rc);
    }
}

#[test]
fn constructors_encode_like_reference() {
    let pairs: Vec<(Constraint, r::Constraint)> = vec![
        (Constraint::Wildcard, r::Wildcard::new().into()),
        (
            Constraint::pattern("/data/*").expect("ok"),
            r::Pattern::new("/data/*").expect("ok").into(),
        ),
        (
            Constraint::regex("^a$").expect("ok"),
            r::RegexConstraint::new("^a$").expect("ok").into(),
        ),
        (Constraint::exact(1.5), r::Exact::new(1.5).into()),
        (
            Constraint::one_of(["a", "b"]),
            r::OneOf::new(["a", "b"]).into(),
        ),
        (
            Constraint::not_one_of(["a"]),
            r::NotOneOf::new(["a"]).into(),
        ),
        (
            Constraint::range(Some(0.0), Some(1e300)).expect("ok"),
            r::Range::between(0.0, 1e300).expect("ok").into(),
        ),
        (
            Constraint::range(None, Some(0.1)).expect("ok"),
            r::Range::max(0.1).expect("ok").into(),
        ),
        (
            Constraint::cidr("10.0.0.0/8").expect("ok"),
            r::Cidr::new("10.0.0.0/8").expect("ok").into(),
        ),
        (
            Constraint::url_pattern("https://*.x.com/*").expect("ok"),
            r::UrlPattern::new("https://*.x.com/*").expect("ok").into(),
        ),
        (Constraint::contains(["a"]), r::Contains::new(["a"]).into()),
        (Constraint::subset(["a"]), r::Subset::new(["a"]).into()),
        (
            Constraint::all(vec![Constraint::exact(1)]).expect("ok"),
            r::All::new([r::Exact::new(1i64).into()]).into(),
        ),
        (
            Constraint::any(vec![Constraint::exact(true)]).expect("ok"),
            r::Any::new([r::Exact::new(true).into()]).into(),
        ),
        (
            Constraint::not(Constraint::exact("x")).expect("ok"),
            r::Not::new(r::Exact::new("x").into()).into(),
        ),
        (
            Constraint::cel("a > 1"),
            r::CelConstraint::new("a > 1").into(),
        ),
        (
            Constraint::subpath("/data/../x/").expect("ok"),
            r::Subpath::new("/data/../x/").expect("ok").into(),
        ),
        (
            Constraint::url_safe(tenuo_authz::constraint::UrlSafe::new()).expect("ok"),
            r::UrlSafe::new().into(),
        ),
        (Constraint::shlex(["ls"]), r::Shlex::new(vec!["ls"]).into()),
    ];
    for (mine, theirs) in pairs {
        assert_eq!(
            to_bytes(&mine.to_cbor()),
            to_bytes(&theirs),
            "constructor bytes differ for {mine}"
        );
    }
}

#[test]
fn match_decisions_match_reference() {
    let values = value_pool();
    let mut compared = 0usize;
    for rc in reference_pool() {
        let c = ours(&rc);
        let cel = matches!(rc, r::Constraint::Cel(_));
        for v in &values {
            let rv = ref_value(v);
            let mine = our_outcome(&c, v);
            let theirs = ref_outcome(&rc, &rv);
            if cel {
                assert_eq!(mine, Outcome::Error);
                assert_eq!(theirs, Outcome::Error);
                continue;
            }
            assert_eq!(mine, theirs, "constraint {rc:?} value {v:?}");
            compared += 1;
        }
    }
    assert!(compared > 5000, "only {compared} comparisons");
}

#[test]
fn attenuation_decisions_match_reference() {
    let pool = reference_pool();
    let mine: Vec<Constraint> = pool.iter().map(ours).collect();
    let mut compared = 0usize;
    for (rp, p) in pool.iter().zip(&mine) {
        for (rc, c) in pool.iter().zip(&mine) {
            let theirs = rp.validate_attenuation(rc).is_ok();
            let ours_ok = p.check_attenuation(c).is_ok();
            assert_eq!(ours_ok, theirs, "parent {rp:?} child {rc:?}");
            compared += 1;
        }
    }
    assert!(compared > 5000, "only {compared} comparisons");
}

#[test]
fn constraint_set_decisions_match_reference() {
    let mut rset = r::ConstraintSet::new();
    rset.insert("path", r::Pattern::new("/data/*").expect("ok"));
    rset.insert("n", r::Range::between(0.0, 10.0).expect("ok"));
    rset.insert("ip", r::Cidr::new("10.0.0.0/8").expect("ok"));
    let mut open = rset.clone();
    open.set_allow_unknown(true);
    let mut cel = rset.clone();
    cel.insert("expr", r::CelConstraint::new("x"));
    let sets = [rset, open, cel, r::ConstraintSet::new()];
    let arg_maps: Vec<Vec<(&str, ArgValue)>> = vec![
        vec![
            ("path", s("/data/x")),
            ("n", ArgValue::Integer(3)),
            ("ip", s("10.0.0.1")),
        ],
        vec![
            ("path", s("/data/x")),
            ("n", ArgValue::Integer(30)),
            ("ip", s("10.0.0.1")),
        ],
        vec![("path", s("/data/x")), ("n", ArgValue::Integer(3))],
        vec![
            ("path", s("/data/x")),
            ("n", ArgValue::Float(3.5)),
            ("ip", s("10.0.0.1")),
            ("extra", ArgValue::Null),
        ],
        vec![
            ("path", s("/data/x")),
            ("n", ArgValue::Integer(3)),
            ("ip", s("bad")),
        ],
        vec![],
        vec![("other", ArgValue::Integer(1))],
    ];
    for rset in &sets {
        let bytes = to_bytes(rset);
        let set = ConstraintSet::from_cbor(&to_value(&bytes), 0).expect("decodes");
        assert_eq!(to_bytes(&set.to_cbor()), bytes);
        for pairs in &arg_maps {
            let args: BTreeMap<String, ArgValue> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            let rargs: HashMap<String, r::ConstraintValue> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), ref_value(v)))
                .collect();
            assert_eq!(
                set.check_args(&args).is_ok(),
                rset.matches(&rargs).is_ok(),
                "set {rset:?} args {pairs:?}"
            );
        }
    }
    for p in &sets {
        for c in &sets {
            let mine_p = ConstraintSet::from_cbor(&to_value(&to_bytes(p)), 0).expect("ok");
            let mine_c = ConstraintSet::from_cbor(&to_value(&to_bytes(c)), 0).expect("ok");
            assert_eq!(
                mine_p.check_attenuation(&mine_c).is_ok(),
                p.validate_attenuation(c).is_ok(),
                "parent {p:?} child {c:?}"
            );
        }
    }
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

fn text(x: &str) -> Value {
    Value::Text(x.to_owned())
}

fn map(entries: Vec<(Value, Value)>) -> Value {
    Value::Map(entries)
}

/// Compare decode acceptance (and re-encoding) for one CBOR item.
fn compare_decode(v: &Value) {
    let bytes = to_bytes(v);
    let theirs: Result<r::Constraint, _> = ciborium::de::from_reader(bytes.as_slice());
    let mine = Constraint::from_cbor(v, 0);
    assert_eq!(
        mine.is_ok(),
        theirs.is_ok(),
        "acceptance differs for {v:?}: ours {mine:?} theirs {theirs:?}"
    );
    if let (Ok(m), Ok(t)) = (mine, theirs) {
        assert_eq!(
            to_bytes(&m.to_cbor()),
            to_bytes(&t),
            "re-encoding differs for {v:?}"
        );
    }
}

#[test]
fn decode_acceptance_edge_cases() {
    let tagged = |v: Value| Value::Tag(42, Box::new(v));
    let cases = vec![
        arr(vec![int(16), Value::Null]),
        arr(vec![int(16), tagged(Value::Null)]),
        tagged(arr(vec![tagged(int(16)), Value::Null])),
        arr(vec![int(16), Value::Bool(false)]),
        arr(vec![int(16)]),
        arr(vec![int(16), Value::Null, Value::Null]),
        arr(vec![int(-1), Value::Null]),
        arr(vec![int(300), Value::Null]),
        arr(vec![int(6), text("reserved")]),
        arr(vec![int(200), map(vec![(int(1), tagged(int(2)))])]),
        Value::Bytes(vec![99, 7]),
        Value::Bytes(vec![16, 0]),
        Value::Bytes(vec![16]),
        arr(vec![int(2), map(vec![(text("pattern"), text("a*"))])]),
        arr(vec![
            int(2),
            map(vec![(Value::Bytes(b"pattern".to_vec()), text("a*"))]),
        ]),
        arr(vec![
            int(2),
            map(vec![(text("pattern"), Value::Bytes(b"a*".to_vec()))]),
        ]),
        arr(vec![
            int(2),
            map(vec![
                (text("pattern"), text("a")),
                (text("pattern"), text("b")),
            ]),
        ]),
        arr(vec![int(2), map(vec![])]),
        arr(vec![int(2), arr(vec![text("a*")])]),
        arr(vec![
            int(1),
            map(vec![(text("value"), Value::Bytes(b"hi".to_vec()))]),
        ]),
        arr(vec![
            int(1),
            map(vec![(text("value"), Value::Bytes(vec![0xff]))]),
        ]),
        arr(vec![
            int(1),
            map(vec![(text("value"), Value::Integer(u64::MAX.into()))]),
        ]),
        arr(vec![int(1), map(vec![(text("value"), tagged(int(1)))])]),
        arr(vec![
            int(1),
            map(vec![(text("value"), map(vec![(int(1), int(2))]))]),
        ]),
        arr(vec![
            int(1),
            map(vec![(
                text("value"),
                map(vec![(text("k"), int(1)), (text("k"), int(2))]),
            )]),
        ]),
        arr(vec![
            int(1),
            map(vec![(text("value"), Value::Float(f64::NAN))]),
        ]),
        arr(vec![
            int(4),
            map(vec![(text("values"), Value::Bytes(vec![1, 2]))]),
        ]),
        arr(vec![
            int(4),
            map(vec![(text("values"), tagged(arr(vec![int(1)])))]),
        ]),
        arr(vec![
            int(3),
            map(vec![
                (text("min"), Value::Float(1.0)),
                (text("min_inclusive"), Value::Bool(true)),
                (text("max_inclusive"), Value::Bool(false)),
            ]),
        ]),
        arr(vec![
            int(3),
            map(vec![
                (text("min"), int(1)),
                (text("min_inclusive"), Value::Bool(true)),
                (text("max_inclusive"), Value::Bool(false)),
            ]),
        ]),
        arr(vec![
            int(3),
            map(vec![
                (text("max"), Value::Float(f64::INFINITY)),
                (text("min_inclusive"), Value::Bool(true)),
                (text("max_inclusive"), Value::Bool(false)),
            ]),
        ]),
        arr(vec![
            int(3),
            map(vec![
                (text("max"), tagged(Value::Null)),
                (text("min_inclusive"), Value::Bool(true)),
                (text("max_inclusive"), Value::Bool(false)),
            ]),
        ]),
        arr(vec![int(8), text("10.0.0.0/8")]),
        arr(vec![int(8), text("10.0.0.0/33")]),
        arr(vec![int(8), text("10.0.0.0/255.255.0.0")]),
        arr(vec![int(9), text("https://*/*")]),
        arr(vec![int(9), text("nope")]),
        arr(vec![int(9), text("https://x.com/__tenuo_path_wildcard__")]),
        arr(vec![int(12), map(vec![(text("constraints"), arr(vec![]))])]),
        arr(vec![
            int(12),
            map(vec![(text("constraints"), Value::Bytes(vec![]))]),
        ]),
        arr(vec![
            int(12),
            map(vec![(text("constraints"), Value::Bytes(vec![16]))]),
        ]),
        arr(vec![
            int(14),
            map(vec![(text("constraint"), arr(vec![int(16), Value::Null]))]),
        ]),
        arr(vec![int(15), map(vec![(text("expression"), text("x"))])]),
        arr(vec![
            int(15),
            map(vec![
                (text("expression"), text("x")),
                (text("parent_expression"), Value::Null),
            ]),
        ]),
        arr(vec![int(17), map(vec![(text("root"), text("rel"))])]),
        arr(vec![
            int(17),
            map(vec![
                (text("root"), text("/a")),
                (text("allow_equal"), Value::Bool(false)),
            ]),
        ]),
        arr(vec![int(18), map(vec![])]),
        arr(vec![
            int(18),
            map(vec![(text("allow_ports"), Value::Bytes(vec![80]))]),
        ]),
        arr(vec![
            int(18),
            map(vec![(text("allow_ports"), arr(vec![int(70000)]))]),
        ]),
        arr(vec![
            int(18),
            map(vec![(text("schemes"), Value::Bytes(vec![]))]),
        ]),
        arr(vec![
            int(18),
            map(vec![(text("allow_domains"), arr(vec![text("")]))]),
        ]),
        arr(vec![
            int(128),
            map(vec![(text("allow"), arr(vec![text("ls")]))]),
        ]),
        arr(vec![
            int(128),
            map(vec![(text("allow"), arr(vec![int(1)]))]),
        ]),
        map(vec![]),
        text("x"),
    ];
    for v in &cases {
        compare_decode(v);
    }
}

#[test]
fn depth_limit_matches_reference() {
    for n in [31usize, 32, 33, 34] {
        let mut v = arr(vec![int(16), Value::Null]);
        for _ in 0..n {
            v = arr(vec![int(14), map(vec![(text("constraint"), v)])]);
        }
        compare_decode(&v);
        let mut w = arr(vec![int(12), map(vec![(text("constraints"), arr(vec![]))])]);
        for _ in 0..n {
            w = arr(vec![
                int(13),
                map(vec![(text("constraints"), arr(vec![w]))]),
            ]);
        }
        compare_decode(&w);
    }
}

fn arb_leaf_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Integer(n.into())),
        any::<u64>().prop_map(|n| Value::Integer(n.into())),
        prop_oneof![Just(0.5f64), Just(f64::NAN), Just(1e10), any::<f64>()].prop_map(Value::Float),
        "[a-z/*?]{0,6}".prop_map(Value::Text),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(Value::Bytes),
        prop_oneof![
            Just("value"),
            Just("pattern"),
            Just("values"),
            Just("min"),
            Just("root")
        ]
        .prop_map(|t| Value::Text(t.to_owned())),
    ]
}

fn arb_cbor() -> impl Strategy<Value = Value> {
    arb_leaf_value().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((inner.clone(), inner.clone()), 0..3).prop_map(Value::Map),
            (0u64..4, inner.clone()).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
            (0u64..20, inner.clone())
                .prop_map(|(t, v)| Value::Array(vec![Value::Integer(t.into()), v])),
            (0u64..20, inner).prop_map(|(t, v)| Value::Array(vec![
                Value::Integer(t.into()),
                Value::Map(vec![(
                    Value::Text(
                        [
                            "value",
                            "values",
                            "pattern",
                            "constraints",
                            "constraint",
                            "root"
                        ][(t % 6) as usize]
                            .to_owned()
                    ),
                    v
                )])
            ])),
        ]
    })
}

fn arb_glob() -> impl Strategy<Value = String> {
    "[ab/*?\\[\\]!\\-]{0,8}"
}

fn arb_input() -> impl Strategy<Value = String> {
    "[ab/!\\-\\]]{0,10}"
}

/// Small constraints over a tiny alphabet so attenuation is often valid.
fn arb_constraint() -> impl Strategy<Value = Constraint> {
    let leaf = prop_oneof![
        Just(Constraint::Wildcard),
        "[ab]{0,2}\\*?".prop_map(|p| Constraint::pattern(&p).expect("valid")),
        "\\*?[ab]{0,2}".prop_map(|p| Constraint::pattern(&p).expect("valid")),
        "[ab]{0,2}".prop_map(Constraint::exact),
        (0i64..4).prop_map(Constraint::exact),
        prop::collection::vec("[ab]{0,2}", 0..3).prop_map(Constraint::one_of),
        prop::collection::vec("[ab]{0,2}", 0..3).prop_map(Constraint::not_one_of),
        prop::collection::vec("[ab]{0,1}", 0..3).prop_map(Constraint::contains),
        prop::collection::vec("[ab]{0,1}", 0..3).prop_map(Constraint::subset),
        (0.0f64..4.0, 0.0f64..4.0).prop_map(|(a, b)| {
            Constraint::range(Some(a.floor()), Some(b.floor())).expect("finite")
        }),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(Constraint::All),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Constraint::Any),
            inner.prop_map(|c| Constraint::Not(Box::new(c))),
        ]
    })
}

fn arb_arg() -> impl Strategy<Value = ArgValue> {
    prop_oneof![
        "[ab]{0,3}".prop_map(ArgValue::String),
        (0i64..5).prop_map(ArgValue::Integer),
        Just(ArgValue::Float(1.5)),
        prop::collection::vec("[ab]{0,1}".prop_map(ArgValue::String), 0..3)
            .prop_map(ArgValue::List),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn prop_decode_matches_reference(v in arb_cbor()) {
        compare_decode(&v);
    }

    #[test]
    fn prop_glob_matches_reference(pattern in arb_glob(), input in arb_input()) {
        let theirs = r::Pattern::new(&pattern).ok().map(|p| p.matches(&rs(&input)).unwrap_or(false));
        let mine = Constraint::pattern(&pattern).ok().map(|c| c.check(&s(&input)).is_ok());
        prop_assert_eq!(mine, theirs, "pattern {:?} input {:?}", pattern, input);
    }

    #[test]
    fn prop_attenuation_and_matching_match_reference(
        p in arb_constraint(), c in arb_constraint(), v in arb_arg()
    ) {
        let rp: r::Constraint = ciborium::de::from_reader(to_bytes(&p.to_cbor()).as_slice()).expect("ref decodes");
        let rc: r::Constraint = ciborium::de::from_reader(to_bytes(&c.to_cbor()).as_slice()).expect("ref decodes");
        prop_assert_eq!(p.check_attenuation(&c).is_ok(), rp.validate_attenuation(&rc).is_ok());
        prop_assert_eq!(our_outcome(&p, &v), ref_outcome(&rp, &ref_value(&v)));
    }

    #[test]
    fn prop_attenuation_is_sound(p in arb_constraint(), c in arb_constraint(), v in arb_arg()) {
        if p.check_attenuation(&c).is_ok() && c.check(&v).is_ok() {
            prop_assert!(p.check(&v).is_ok(), "parent {} child {} value {}", p, c, v);
        }
    }
}

#[test]
fn arg_value_cbor_matches_reference() {
    for v in value_pool() {
        let rv = ref_value(&v);
        assert_eq!(to_bytes(&v.to_cbor()), to_bytes(&rv), "value {v:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn prop_arg_value_decode_matches_reference(v in arb_cbor()) {
        let bytes = to_bytes(&v);
        let theirs: Result<r::ConstraintValue, _> = ciborium::de::from_reader(bytes.as_slice());
        let mine = ArgValue::from_cbor(&v);
        prop_assert_eq!(mine.is_ok(), theirs.is_ok(), "value {:?}", v);
        if let (Ok(m), Ok(t)) = (mine, theirs) {
            prop_assert_eq!(to_bytes(&m.to_cbor()), to_bytes(&t));
        }
    }
}
