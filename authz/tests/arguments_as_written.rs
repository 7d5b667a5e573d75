//! JSON arguments keep the kind they were written with (`10` an integer, `10.0`
//! and `1e1` floats), as the reference authorizer reads them: random JSON argument
//! maps, spelled the ways clients spell numbers, are converted by ours
//! (`ArgValue::from_json`) and by the reference's body extraction
//! (`tenuo::extraction::extract_json_path`), and the PoP each implementation signs
//! over them with the same key for the same warrant must be the same signature.
//! Ed25519 signatures are deterministic, so equal signatures mean equal challenge
//! bytes: the kinds, the values and the canonical encoding all agree.

#[path = "conformance/common.rs"]
mod common;

use std::collections::HashMap;

use proptest::prelude::*;
use tenuo_authz::constraint::ArgValue;
use tenuo_authz::pop::{sign_pop, Args};

use common::{ok, rk, ROOT};

/// A number spelled as JSON text, the ways SDKs and people write them.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(|u| u.to_string()),
        // Beyond u64: serde_json reads the literal as a float.
        (0u32..1000).prop_map(|n| format!("1{n:03}00000000000000000000")),
        any::<i32>().prop_map(|i| format!("{i}.0")),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        (-20i32..20, -300i32..300).prop_map(|(m, e)| format!("{m}e{e}")),
        (-20i32..20, 0i32..15).prop_map(|(m, e)| format!("{m}.5E+{e}")),
        Just("-0.0".to_owned()),
        Just("0.0".to_owned()),
        Just("-0".to_owned()),
        Just("1000000000000.0".to_owned()),
        Just("9007199254740993".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("9223372036854775808.0".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("-9223372036854775809".to_owned()),
    ]
}

/// A JSON value as text: numbers above, strings, booleans, null, lists, maps.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number(),
        "[a-z/._ -]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..3).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// Both implementations' PoP for the same call, from the same JSON text.
fn both_signatures(body: &str) -> ([u8; 64], [u8; 64]) {
    let json: serde_json::Value = serde_json::from_str(body).expect("valid JSON");
    let object = json.as_object().expect("an object");
    let warrant = tenuo::Warrant::builder()
        .capability("compute", tenuo::ConstraintSet::new())
        .holder(rk(2).public_key())
        .ttl(std::time::Duration::from_secs(600))
        .build(&rk(ROOT))
        .unwrap();
    let theirs: HashMap<String, tenuo::ConstraintValue> = object
        .keys()
        .map(|k| {
            let v = tenuo::extraction::extract_json_path(&json, k).expect("the reference extracts");
            (k.clone(), v)
        })
        .collect();
    let ours: Args = object
        .iter()
        .map(|(k, v)| (k.clone(), ArgValue::from_json(v).expect("ours converts")))
        .collect();
    let ts = 1_800_000_000;
    let their_sig = warrant
        .sign_with_timestamp(&rk(2), "compute", &theirs, Some(ts))
        .unwrap()
        .to_bytes();
    let id = tenuo_authz::warrant::WarrantId(*warrant.id().as_bytes());
    let our_sig = sign_pop(&ok(2), &id, "compute", &ours, ts).to_bytes();
    (their_sig, our_sig)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn our_pop_challenge_equals_the_references_for_json_arguments(
        fields in prop::collection::vec(("[a-e]{1,2}", value()), 1..5)
    ) {
        let fields: Vec<String> = fields.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        let body = format!("{{{}}}", fields.join(","));
        // serde_json refuses some spellings (numbers beyond f64): so does every server.
        prop_assume!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
        let (theirs, ours) = both_signatures(&body);
        prop_assert_eq!(theirs, ours, "different PoP challenge for {}", body);
    }
}

/// The spellings the issue names, one by one: each is the kind it was written as,
/// and a PoP over the other kind is a different challenge.
#[test]
fn integral_floats_stay_floats() {
    for (body, kind) in [
        (r#"{"n": 10}"#, "integer"),
        (r#"{"n": 10.0}"#, "float"),
        (r#"{"n": 1e1}"#, "float"),
        (r#"{"n": 0.0}"#, "float"),
        (r#"{"n": -0.0}"#, "float"),
        (r#"{"n": 1000000000000.0}"#, "float"),
        (r#"{"n": 18446744073709551615}"#, "text"),
    ] {
        let (theirs, ours) = both_signatures(body);
        assert_eq!(theirs, ours, "{body}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        let value = ArgValue::from_json(&json["n"]).unwrap();
        let got = match value {
            ArgValue::Integer(_) => "integer",
            ArgValue::Float(_) => "float",
            ArgValue::String(_) => "text",
            _ => "other",
        };
        assert_eq!(got, kind, "{body}");
    }
    let (int_pop, _) = both_signatures(r#"{"n": 10}"#);
    let (float_pop, _) = both_signatures(r#"{"n": 10.0}"#);
    assert_ne!(int_pop, float_pop, "a PoP over 10 must not verify for 10.0");
    let (zero, _) = both_signatures(r#"{"n": 0.0}"#);
    let (negative_zero, _) = both_signatures(r#"{"n": -0.0}"#);
    assert_ne!(zero, negative_zero, "-0.0 is encoded as itself");
}
