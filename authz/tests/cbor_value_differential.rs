//! The fast CBOR decoder (`wire::decode_value_fast`) against ciborium, which it
//! stands in for when payloads are decoded.
//!
//! Wherever the fast decoder answers, `ciborium::de::from_reader` must accept the
//! same bytes and build the same `Value` (floats compared by bits). Where it
//! declines, the crate decodes with ciborium, so the crate's decoder equals
//! ciborium on every input: both `Ok` with the same value, or both `Err`. On the
//! subset it covers — everything payloads are made of — it must answer, or the
//! speed-up would silently vanish.
//!
//! Inputs: values encoded by ciborium, hand-built items (non-shortest heads,
//! indefinite lengths, bignums, every simple value, floats of every width from raw
//! bits, invalid UTF-8), their mutations and truncations, and random bytes.

use ciborium::value::{Integer, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::wire::{decode_value_fast, same_value as same};

fn ciborium(bytes: &[u8]) -> Result<Value, ciborium::de::Error<std::io::Error>> {
    ciborium::de::from_reader(bytes)
}

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("writing to a Vec");
    out
}

/// The crate's decoder (fast path, else ciborium) agrees with ciborium on
/// `bytes`. Returns whether the fast path answered.
fn agrees(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let Some(ours) = decode_value_fast(bytes) else {
        return Ok(false);
    };
    match ciborium(bytes) {
        Ok(theirs) => prop_assert!(
            same(&ours, &theirs),
            "{bytes:02x?}: fast {ours:?}, ciborium {theirs:?}"
        ),
        Err(e) => prop_assert!(false, "{bytes:02x?}: fast {ours:?}, ciborium {e:?}"),
    }
    Ok(true)
}

// ---- Values, encoded by ciborium ----

/// Integers of every head width, both signs, down to -2^64.
fn integer() -> impl Strategy<Value = Value> {
    (any::<u64>(), 0u32..64, any::<bool>()).prop_map(|(n, shift, negative)| {
        let n = i128::from(n >> shift);
        let n = if negative { -1 - n } else { n };
        Value::Integer(Integer::try_from(n).expect("within 64 bits"))
    })
}

/// Non-NaN floats that ciborium writes as half, single and double.
fn float() -> impl Strategy<Value = f64> {
    let half = (0u16..0x7c00, any::<bool>()).prop_map(|(bits, negative)| {
        let (exponent, mantissa) = (i32::from(bits >> 10), f64::from(bits & 0x3ff));
        let magnitude = match exponent {
            0 => mantissa * 2f64.powi(-24),
            e => (1024.0 + mantissa) * 2f64.powi(e - 25),
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    });
    let single = any::<f32>().prop_filter("not NaN", |f| !f.is_nan());
    let double = any::<f64>().prop_filter("not NaN", |f| !f.is_nan());
    let special = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
    ];
    prop_oneof![
        3 => half,
        2 => single.prop_map(f64::from),
        2 => double,
        1 => prop::sample::select(special.to_vec()),
    ]
}

/// Text past ciborium's 4 KiB scratch buffer, which it decodes in chunks that can
/// split a character.
fn long_text() -> impl Strategy<Value = Value> {
    (
        0usize..4,
        prop::sample::select(vec!["é", "€", "😀", "a"]),
        1000usize..2100,
    )
        .prop_map(|(pad, unit, n)| Value::Text("x".repeat(pad) + &unit.repeat(n)))
}

fn tag() -> impl Strategy<Value = u64> {
    prop_oneof![
        prop::sample::select(vec![0u64, 1, 4, 5, 21, 24, 32, 55799]),
        any::<u64>(),
    ]
    .prop_filter("bignum tags are outside the subset", |t| {
        !matches!(t, 2 | 3)
    })
}

/// Values the fast decoder covers.
fn subset_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => integer(),
        2 => vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        1 => vec(any::<u8>(), 4090..4110).prop_map(Value::Bytes),
        2 => ".{0,16}".prop_map(Value::Text),
        1 => long_text(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        3 => float().prop_map(Value::Float),
    ];
    leaf.prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((inner.clone(), inner.clone()), 0..5).prop_map(Value::Map),
            (tag(), inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
        ]
    })
}

/// Any value: also NaNs of every payload, integers past 64 bits (bignum tags),
/// and tags 2 and 3 over anything.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => subset_value(),
        1 => any::<u64>().prop_map(|bits| Value::Float(f64::from_bits(bits))),
        1 => any::<u128>().prop_map(Value::from),
        1 => any::<i128>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((inner.clone(), inner.clone()), 0..3).prop_map(Value::Map),
            (0u64..5, inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
        ]
    })
}

// ---- Items built byte by byte ----

/// A head with argument `n`, `widen` sizes longer than the shortest form (which
/// is all ciborium's encoder writes; decoders must read the longer ones too).
fn head(major: u8, n: u64, widen: u8) -> Vec<u8> {
    let shortest: u8 = match n {
        0..=23 => 0,
        24..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 3,
        _ => 4,
    };
    let major = major << 5;
    match (shortest + widen).min(4) {
        0 => vec![major | n as u8],
        1 => vec![major | 24, n as u8],
        2 => [&[major | 25][..], &(n as u16).to_be_bytes()].concat(),
        3 => [&[major | 26][..], &(n as u32).to_be_bytes()].concat(),
        _ => [&[major | 27][..], &n.to_be_bytes()].concat(),
    }
}

fn widen() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(0u8), 1 => 1u8..5]
}

fn string(major: u8, content: &[u8], widen: u8) -> Vec<u8> {
    [head(major, content.len() as u64, widen), content.to_vec()].concat()
}

fn prefixed(initial: u8, rest: &[u8]) -> Vec<u8> {
    [&[initial][..], rest].concat()
}

fn is_half_nan(bits: u16) -> bool {
    bits & 0x7c00 == 0x7c00 && bits & 0x3ff != 0
}

/// Leaf items the fast decoder covers.
fn raw_subset_leaf() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        (0u8..2, any::<u64>(), 0u32..64, widen()).prop_map(|(m, n, s, w)| head(m, n >> s, w)),
        (vec(any::<u8>(), 0..20), widen()).prop_map(|(b, w)| string(2, &b, w)),
        (".{0,12}", widen()).prop_map(|(s, w)| string(3, s.as_bytes(), w)),
        prop::sample::select(vec![0xf4u8, 0xf5, 0xf6, 0xf7]).prop_map(|b| vec![b]),
        any::<u16>()
            .prop_filter("NaN halves fall back", |b| !is_half_nan(*b))
            .prop_map(|b| prefixed(0xf9, &b.to_be_bytes())),
        any::<u32>()
            .prop_filter("NaN singles fall back", |b| !f32::from_bits(*b).is_nan())
            .prop_map(|b| prefixed(0xfa, &b.to_be_bytes())),
        any::<u64>().prop_map(|b| prefixed(0xfb, &b.to_be_bytes())),
    ]
    .boxed()
}

/// Leaf items outside the subset, well-formed or not.
fn raw_other_leaf() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        // NaN floats of the two widths ciborium widens through `half` or the FPU.
        (any::<bool>(), 1u16..0x400).prop_map(|(sign, mantissa)| {
            let bits = (u16::from(sign) << 15) | 0x7c00 | mantissa;
            prefixed(0xf9, &bits.to_be_bytes())
        }),
        (any::<bool>(), 1u32..0x80_0000).prop_map(|(sign, mantissa)| {
            let bits = (u32::from(sign) << 31) | 0x7f80_0000 | mantissa;
            prefixed(0xfa, &bits.to_be_bytes())
        }),
        // Every other simple value, short and long form, and the reserved and break bytes.
        (0u8..32).prop_map(|x| vec![0xe0 | x]),
        any::<u8>().prop_map(|x| vec![0xf8, x]),
        // Reserved and indefinite additional info on every major type.
        (0u8..8, 28u8..32).prop_map(|(major, info)| vec![(major << 5) | info]),
        // Text that may not be UTF-8.
        vec(any::<u8>(), 1..8).prop_map(|b| string(3, &b, 0)),
        // Indefinite strings: chunks of the same major type (text chunks may split a character).
        vec(vec(any::<u8>(), 0..6), 0..4).prop_map(|chunks| {
            let chunks: Vec<u8> = chunks.iter().flat_map(|c| string(2, c, 0)).collect();
            [vec![0x5f], chunks, vec![0xff]].concat()
        }),
        (".{0,8}", 0usize..8).prop_map(|(s, cut)| {
            let cut = cut.min(s.len());
            let (a, b) = s.as_bytes().split_at(cut);
            [vec![0x7f], string(3, a, 0), string(3, b, 0), vec![0xff]].concat()
        }),
        // Bignums: tags 2 and 3 over byte strings of every length around 16.
        (0u8..2, vec(any::<u8>(), 0..20))
            .prop_map(|(negative, b)| prefixed(0xc2 + negative, &string(2, &b, 0))),
    ]
    .boxed()
}

/// Items built byte by byte; with `subset`, only those the fast decoder covers.
fn raw_item(subset: bool) -> impl Strategy<Value = Vec<u8>> {
    let leaf = if subset {
        raw_subset_leaf()
    } else {
        prop_oneof![3 => raw_subset_leaf(), 2 => raw_other_leaf()].boxed()
    };
    leaf.prop_recursive(5, 64, 5, move |inner| {
        let array = (vec(inner.clone(), 0..5), widen())
            .prop_map(|(items, w)| [head(4, items.len() as u64, w), items.concat()].concat());
        let map = (vec((inner.clone(), inner.clone()), 0..4), widen()).prop_map(|(entries, w)| {
            let body: Vec<u8> = entries
                .iter()
                .flat_map(|(k, v)| [&k[..], v].concat())
                .collect();
            [head(5, entries.len() as u64, w), body].concat()
        });
        let tagged =
            (tag(), widen(), inner.clone()).prop_map(|(t, w, item)| [head(6, t, w), item].concat());
        let definite = prop_oneof![array, map, tagged];
        if subset {
            return definite.boxed();
        }
        let indefinite = (
            vec(inner.clone(), 0..6),
            prop::sample::select(vec![0x9fu8, 0xbf]),
        )
            .prop_map(|(items, initial)| [vec![initial], items.concat(), vec![0xff]].concat());
        // Counts that disagree with the items that follow.
        let miscounted =
            (vec(inner.clone(), 0..4), 4u8..6, any::<bool>()).prop_map(|(items, major, more)| {
                let n = items.len() as u64;
                let claimed = if more { n + 1 } else { n.saturating_sub(1) };
                [head(major, claimed, 0), items.concat()].concat()
            });
        let bignum_tagged = (prop::sample::select(vec![2u64, 3]), inner)
            .prop_map(|(t, item)| [head(6, t, 0), item].concat());
        prop_oneof![3 => definite, 2 => indefinite, 1 => miscounted, 1 => bignum_tagged].boxed()
    })
}

/// Overwrites, insertions, deletions and truncations at arbitrary places.
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(kind, at, byte) in edits {
        let at = at % (bytes.len() + 1);
        match kind % 4 {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            2 if at < bytes.len() => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            _ => {}
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(u8, usize, u8)>> {
    vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..4)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/cbor_value_differential.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// The subset, as ciborium encodes it: answered, equal to ciborium's decoding
    /// and to the value encoded.
    #[test]
    fn subset_values_decode_as_ciborium_decodes_them(value in subset_value()) {
        let bytes = encode(&value);
        let ours = decode_value_fast(&bytes);
        prop_assert!(ours.is_some(), "fast path declined {value:?}");
        prop_assert!(agrees(&bytes)?);
        let ours = ours.unwrap_or(Value::Null);
        prop_assert!(same(&ours, &value), "{value:?} decoded as {ours:?}");
    }

    /// The subset built byte by byte, with non-shortest heads and floats from raw
    /// bits: answered and equal to ciborium.
    #[test]
    fn hand_built_subset_items_are_answered_and_agree(bytes in raw_item(true)) {
        prop_assert!(agrees(&bytes)?, "fast path declined {bytes:02x?}");
    }

    #[test]
    fn any_value_agrees(value in any_value()) {
        agrees(&encode(&value))?;
    }

    #[test]
    fn hand_built_items_agree(bytes in raw_item(false), trailing in vec(any::<u8>(), 0..3)) {
        agrees(&bytes)?;
        agrees(&[bytes, trailing].concat())?;
    }

    #[test]
    fn every_truncation_agrees(value in any_value()) {
        let bytes = encode(&value);
        for end in 0..bytes.len() {
            agrees(&bytes[..end])?;
        }
    }

    #[test]
    fn mutated_values_agree(value in any_value(), edits in edits()) {
        agrees(&mutate(encode(&value), &edits))?;
    }

    #[test]
    fn mutated_items_agree(bytes in raw_item(false), edits in edits()) {
        agrees(&mutate(bytes, &edits))?;
    }

    #[test]
    fn random_bytes_agree(bytes in vec(any::<u8>(), 0..48)) {
        agrees(&bytes)?;
    }
}

/// The inputs left to ciborium, whatever ciborium makes of them.
#[test]
fn declines_what_it_does_not_cover() {
    let cases: [(&[u8], &str); 12] = [
        (&[0x9f, 0x01, 0xff], "indefinite array"),
        (&[0xbf, 0xff], "indefinite map"),
        (&[0x5f, 0x41, 0x01, 0xff], "indefinite bytes"),
        (&[0xc2, 0x41, 0x01], "bignum tag 2"),
        (&[0xc3, 0x80], "tag 3 over an array"),
        (&[0xf9, 0x7e, 0x00], "NaN half"),
        (&[0xfa, 0x7f, 0xc0, 0x00, 0x00], "NaN single"),
        (&[0xf8, 0x14], "false in the long form"),
        (&[0xe0], "simple value 0"),
        (&[0x82, 0x01], "truncated array"),
        (&[0x62, 0xc3, 0x28], "invalid UTF-8"),
        (&[0x1c], "reserved additional info"),
    ];
    for (bytes, what) in cases {
        assert_eq!(decode_value_fast(bytes), None, "{what}");
    }
}

#[test]
fn reads_edge_values_as_ciborium_does() {
    let cases: [&[u8]; 10] = [
        &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // -2^64
        &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // 2^64 - 1
        &[0x18, 0x01],                                           // 1, non-shortest head
        &[0xf7],                                                 // undefined
        &[0xf9, 0x00, 0x01],                                     // smallest half subnormal
        &[0xf9, 0x03, 0xff],                                     // largest half subnormal
        &[0xf9, 0x80, 0x00],                                     // -0.0
        &[0xf9, 0xfc, 0x00],                                     // -inf
        &[0xfb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 1],                   // signalling NaN double
        &[0x01, 0x02],                                           // trailing bytes, ignored
    ];
    for bytes in cases {
        assert!(agrees(bytes).unwrap(), "{bytes:02x?} declined");
    }
}

/// Nesting past the fast decoder's budget is left to ciborium, which accepts 256
/// levels and refuses more.
#[test]
fn deep_nesting_is_left_to_ciborium() {
    let nested = |levels: usize| [vec![0x81; levels], vec![0x00]].concat();
    assert!(agrees(&nested(128)).unwrap());
    for levels in [129, 256, 257, 5000] {
        assert!(!agrees(&nested(levels)).unwrap(), "{levels} levels");
    }
    assert!(ciborium(&nested(256)).is_ok());
    assert!(ciborium(&nested(257)).is_err());
}

/// The payloads warrants are made of take the fast path.
#[test]
fn payloads_take_the_fast_path() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let holder = SigningKey::from_bytes(&[2; 32]).public_key();
    let set = ConstraintSet::new()
        .with("path", Constraint::pattern("/data/*").expect("pattern"))
        .with(
            "amount",
            Constraint::range(Some(0.5), Some(1e9)).expect("range"),
        )
        .with("mode", Constraint::exact("read"))
        .with(
            "either",
            Constraint::any(vec![
                Constraint::range(Some(-1.25), None).expect("range"),
                Constraint::not(Constraint::exact(7)).expect("not"),
            ])
            .expect("any"),
        );
    let warrant = Issue::execution(holder)
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(&key, 1_700_000_000)
        .expect("signed");
    let bytes = warrant.payload_bytes();
    assert!(agrees(bytes).unwrap(), "payload declined: {bytes:02x?}");
}
