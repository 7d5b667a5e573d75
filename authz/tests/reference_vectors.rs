//! The reference crate's own vectors (`tenuo` 0.3.5), run against this crate.
//!
//! The vectors live as data under `tests/vectors/reference/` (see the README there
//! for where each file came from and what it pins). Each test here is named after
//! one file, runs every vector in it through our library and reports every vector
//! that disagrees, by id, rather than stopping at the first.
//!
//! Where a vector states a decision, the reference crate is asked too, on the same
//! bytes: the data file is only trusted while the crate still agrees with it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value as Json;
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::{PublicKey, Signature, SigningKey};
use tenuo_authz::decision::{authorize, Call, Policy, TrustedIssuers};
use tenuo_authz::pop::{pop_message, sign_pop, verify_pop, Args, PopWindows};
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::warrant::{WarrantId, WARRANT_CONTEXT};
use tenuo_authz::wire::{
    decode_payload, decode_stack, decode_token, encode_base64url, encode_envelope, encode_payload,
    encode_stack,
};
use tenuo_authz::{Authorizer, Warrant};

const SPEC: &str = include_str!("vectors/reference/spec_vectors.json");
const POP_CANONICAL: &str = include_str!("vectors/reference/pop_canonical.json");
const WIRE: &str = include_str!("vectors/reference/wire_compatibility.json");
const HOLDER_LIFECYCLE: &str = include_str!("vectors/reference/holder_lifecycle.json");
const SHLEX: &str = include_str!("vectors/reference/shlex.json");

/// Collects the vectors that disagree, so one run names all of them.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, id: &str, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(format!("{id}: {}", what()));
        }
    }

    fn assert_none(self, file: &str) {
        assert!(
            self.0.is_empty(),
            "{} vector(s) of {file} disagree:\n  {}",
            self.0.len(),
            self.0.join("\n  ")
        );
    }
}

fn parse(text: &str) -> Json {
    serde_json::from_str(text).expect("vector file is JSON")
}

fn str_of<'a>(v: &'a Json, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} is not text: {v}"))
}

fn hex_of(v: &Json, key: &str) -> Vec<u8> {
    hex::decode(str_of(v, key)).unwrap_or_else(|e| panic!("vector field {key}: {e}"))
}

fn seed(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text)
        .expect("seed hex")
        .try_into()
        .expect("32-byte seed")
}

fn signature(bytes: &[u8]) -> Signature {
    Signature::from_bytes(&bytes.try_into().expect("64-byte signature"))
}

/// Our argument map for a JSON object of arguments.
fn our_args(args: &Json) -> Result<Args, String> {
    let object = args.as_object().expect("args is an object");
    object
        .iter()
        .map(|(name, value)| {
            ArgValue::from_json(value)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("argument {name}: {e}"))
        })
        .collect()
}

/// The reference's value for a JSON argument, as its SDKs build it: a JSON
/// integer is an integer, any other number a float.
fn reference_value(v: &Json) -> tenuo::ConstraintValue {
    use tenuo::ConstraintValue as V;
    match v {
        Json::Null => V::Null,
        Json::Bool(b) => V::Boolean(*b),
        Json::String(s) => V::String(s.clone()),
        Json::Number(n) => match n.as_i64() {
            Some(i) => V::Integer(i),
            None => V::Float(n.as_f64().expect("finite JSON number")),
        },
        Json::Array(items) => V::List(items.iter().map(reference_value).collect()),
        Json::Object(map) => V::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), reference_value(v)))
                .collect(),
        ),
    }
}

fn reference_args(args: &Json) -> HashMap<String, tenuo::ConstraintValue> {
    args.as_object()
        .expect("args is an object")
        .iter()
        .map(|(k, v)| (k.clone(), reference_value(v)))
        .collect()
}

// ---------------------------------------------------------------------------
// spec_vectors.json: the A.x vectors of the protocol spec
// ---------------------------------------------------------------------------

/// The spec file, with its named keys and warrants resolved.
struct Spec {
    doc: Json,
    seeds: BTreeMap<String, [u8; 32]>,
}

impl Spec {
    fn load() -> Self {
        let doc = parse(SPEC);
        let seeds = doc["key_seeds"]
            .as_object()
            .expect("key_seeds")
            .iter()
            .map(|(name, hex_text)| (name.clone(), seed(hex_text.as_str().expect("seed"))))
            .collect();
        Self { doc, seeds }
    }

    fn key(&self, name: &str) -> SigningKey {
        SigningKey::from_bytes(&self.seeds[name])
    }

    fn reference_key(&self, name: &str) -> tenuo::SigningKey {
        tenuo::SigningKey::from_bytes(&self.seeds[name])
    }

    /// The name of the key whose public half is `public`.
    fn key_named(&self, public: &PublicKey) -> Option<&str> {
        self.seeds
            .iter()
            .find(|(_, s)| SigningKey::from_bytes(s).public_key() == *public)
            .map(|(name, _)| name.as_str())
    }

    fn warrant_json(&self, id: &str) -> &Json {
        let w = &self.doc["warrants"][id];
        assert!(w.is_object(), "no warrant {id} in spec_vectors.json");
        w
    }

    /// The envelope bytes of a warrant: the payload and signature the vector pins.
    fn envelope(&self, id: &str) -> Vec<u8> {
        let w = self.warrant_json(id);
        encode_envelope(
            &hex_of(w, "payload_hex"),
            &signature(&hex_of(w, "signature_hex")),
        )
    }

    fn ours(&self, id: &str) -> Warrant {
        Warrant::decode(&self.envelope(id)).unwrap_or_else(|e| panic!("{id}: ours: {e}"))
    }

    fn reference(&self, id: &str) -> tenuo::Warrant {
        self.try_reference(id)
            .unwrap_or_else(|e| panic!("{id}: crate: {e}"))
    }

    /// The crate's decoding, which also checks the issuer's signature.
    fn try_reference(&self, id: &str) -> Result<tenuo::Warrant, tenuo::Error> {
        tenuo::wire::decode(&self.envelope(id))
    }

    fn list(&self, key: &str) -> &[Json] {
        self.doc[key]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Every pinned warrant decodes, re-encodes to its exact payload bytes, carries a
/// signature that verifies exactly when the vector says it does, and (Ed25519
/// being deterministic) re-signing with the named key reproduces it.
#[test]
fn spec_vectors_warrant_bytes() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    let warrants = spec.doc["warrants"].as_object().expect("warrants");
    assert!(warrants.len() >= 40, "only {} warrants", warrants.len());
    for (id, w) in warrants {
        let payload = hex_of(w, "payload_hex");
        let warrant = match Warrant::decode(&spec.envelope(id)) {
            Ok(warrant) => warrant,
            Err(e) => {
                failures.check(false, id, || format!("does not decode: {e}"));
                continue;
            }
        };
        failures.check(warrant.payload_bytes() == payload, id, || {
            "payload bytes changed in decoding".into()
        });
        match decode_payload(&payload) {
            Ok(fields) => failures.check(encode_payload(&fields) == payload, id, || {
                "our encoder does not reproduce the payload bytes".into()
            }),
            Err(e) => failures.check(false, id, || format!("payload does not decode: {e}")),
        }
        let signed_by = w["signed_by"].as_str();
        let verifies = warrant.verify_signature().is_ok();
        failures.check(verifies == signed_by.is_some(), id, || {
            format!("signature verifies: {verifies}, vector says signed_by {signed_by:?}")
        });
        if let Some(name) = signed_by {
            let resigned = spec.key(name).sign(&warrant.signed_message());
            failures.check(resigned == *warrant.signature(), id, || {
                format!("re-signing with {name} does not reproduce the signature")
            });
            failures.check(spec.key(name).public_key() == *warrant.issuer(), id, || {
                format!("issuer is not {name}")
            });
        }
        // The crate checks the signature while decoding.
        let theirs = spec.try_reference(id).is_ok();
        failures.check(theirs == signed_by.is_some(), id, || {
            format!("the crate decodes it: {theirs}")
        });
    }
    failures.assert_none("spec_vectors.json (warrants)");
}

/// The A.1 envelope and the A.8 stack, in bytes and in their base64url text.
#[test]
fn spec_vectors_envelopes_and_stacks() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    for v in spec.list("envelopes") {
        let id = str_of(v, "vector");
        let envelope = hex_of(v, "envelope_hex");
        failures.check(spec.envelope(str_of(v, "warrant")) == envelope, id, || {
            "envelope of the pinned payload and signature differs".into()
        });
        // Both alphabets the reference authorizer reads.
        for text in ["base64url", "base64_standard"] {
            match decode_token(str_of(v, text)) {
                Ok((_, chain)) => failures.check(
                    chain.len() == 1 && chain[0].envelope_bytes() == envelope,
                    id,
                    || format!("{text} text does not decode to the envelope"),
                ),
                Err(e) => failures.check(false, id, || format!("{text} text: {e}")),
            }
        }
    }
    for v in spec.list("stacks") {
        let id = str_of(v, "vector");
        let bytes = hex_of(v, "stack_hex");
        let expected: Vec<Vec<u8>> = v["chain"]
            .as_array()
            .expect("chain")
            .iter()
            .map(|w| spec.envelope(w.as_str().expect("warrant id")))
            .collect();
        let same = |chain: &[Warrant]| {
            chain.len() == expected.len()
                && chain
                    .iter()
                    .zip(&expected)
                    .all(|(w, e)| w.envelope_bytes() == e)
        };
        match decode_stack(&bytes) {
            Ok(chain) => failures.check(same(&chain), id, || "stack members differ".into()),
            Err(e) => failures.check(false, id, || format!("stack: {e}")),
        }
        for text in ["base64url", "base64_standard"] {
            match decode_token(str_of(v, text)) {
                Ok((_, chain)) => {
                    failures.check(same(&chain), id, || format!("{text} stack differs"))
                }
                Err(e) => failures.check(false, id, || format!("{text} stack: {e}")),
            }
        }
        let members: Vec<&[u8]> = expected.iter().map(Vec::as_slice).collect();
        failures.check(
            tenuo_authz::wire::encode_stack(members) == bytes,
            id,
            || "our stack encoding differs".into(),
        );
    }
    failures.assert_none("spec_vectors.json (envelopes, stacks)");
}

/// A.7's extension values keep their exact CBOR bytes; A.23's session id is read
/// from its extension.
#[test]
fn spec_vectors_extensions() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    for v in spec.list("extensions") {
        let id = str_of(v, "vector");
        let warrant = spec.ours(str_of(v, "warrant"));
        let values = v["values_hex"].as_object().expect("values_hex");
        failures.check(
            warrant.payload().extensions.len() == values.len(),
            id,
            || format!("{} extensions", warrant.payload().extensions.len()),
        );
        for (key, hex_text) in values {
            let expected = hex::decode(hex_text.as_str().expect("hex")).expect("hex");
            failures.check(
                warrant.payload().extensions.get(key) == Some(&expected),
                id,
                || format!("extension {key} differs"),
            );
        }
    }
    let root = spec.ours("A.23.root_session");
    failures.check(
        root.payload().session_id.as_deref() == Some("sess-abc"),
        "A.23",
        || format!("session id {:?}", root.payload().session_id),
    );
    failures.assert_none("spec_vectors.json (extensions)");
}

/// Our decision on each authorization vector, and the crate's on the same input.
///
/// The PoP is signed by the crate (as an SDK client would), so a call is allowed
/// only if we rebuild the very challenge the client signed.
#[test]
fn spec_vectors_authorize() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    let root = spec.key(str_of(&spec.doc, "trusted_root"));
    let trusted = TrustedIssuers::new([root.public_key()]);
    let checks = spec.list("authorize");
    assert!(checks.len() >= 50, "only {} checks", checks.len());
    for (n, v) in checks.iter().enumerate() {
        let id = format!("{} #{n}", str_of(v, "vector"));
        let expect = str_of(v, "expect");
        let tool = str_of(v, "tool");
        let at = v["at"].as_i64().expect("at");
        let names: Vec<&str> = v["chain"]
            .as_array()
            .expect("chain")
            .iter()
            .map(|w| w.as_str().expect("warrant id"))
            .collect();
        let chain: Vec<Warrant> = names.iter().map(|w| spec.ours(w)).collect();
        // The crate refuses a badly signed warrant while decoding: a denial.
        let reference_chain: Result<Vec<tenuo::Warrant>, _> =
            names.iter().map(|w| spec.try_reference(w)).collect();
        let revoked: Vec<&str> = v["revoked"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .map(|w| w.as_str().expect("warrant id"))
                    .collect()
            })
            .unwrap_or_default();
        let revoked_ids: HashSet<WarrantId> = revoked.iter().map(|w| *spec.ours(w).id()).collect();

        // The client's PoP, signed by the crate over the leaf (as an SDK would);
        // a leaf the crate refuses to decode is signed by us, since the chain is
        // denied before its PoP matters.
        let leaf = chain.last().expect("non-empty chain");
        let pop_signer = match str_of(v, "pop") {
            "none" => None,
            "holder" => Some(
                spec.key_named(leaf.holder())
                    .expect("holder is a named key"),
            ),
            other => Some(other),
        };
        let args_ours = our_args(&v["args"]);
        let pop: Option<Signature> = pop_signer.map(|name| {
            match spec.try_reference(names.last().expect("non-empty chain")) {
                Ok(theirs) => {
                    let signed = theirs
                        .sign_with_timestamp(
                            &spec.reference_key(name),
                            tool,
                            &reference_args(&v["args"]),
                            Some(at),
                        )
                        .expect("the crate signs the PoP");
                    Signature::from_bytes(&signed.to_bytes())
                }
                Err(_) => sign_pop(
                    &spec.key(name),
                    leaf.id(),
                    tool,
                    args_ours.as_ref().expect("arguments"),
                    at,
                ),
            }
        });
        let reference_pop = pop
            .as_ref()
            .map(|s| tenuo::Signature::from_bytes(&s.to_bytes()).expect("64-byte signature"));

        // The crate's decision: the vector is only trusted while it agrees.
        let mut reference = tenuo::Authorizer::new()
            .with_trusted_root(spec.reference_key("control_plane").public_key());
        if !revoked.is_empty() {
            reference
                .install_verified_revocation_ids(
                    revoked.iter().map(|w| spec.reference(w).id().to_string()),
                    1,
                )
                .expect("revocation ids install");
        }
        let reference_args = reference_args(&v["args"]);
        let reference_allows = reference_chain.is_ok_and(|chain| {
            reference
                .check_chain_with_pop_args_as_of(
                    &chain,
                    tool,
                    &reference_args,
                    &reference_args,
                    reference_pop.as_ref(),
                    &[],
                    at,
                )
                .is_ok()
        });
        failures.check(reference_allows == (expect == "allow"), &id, || {
            format!(
                "the crate {} it; the vector expects {expect}",
                if reference_allows { "allows" } else { "denies" }
            )
        });

        // Ours.
        let args = match args_ours {
            Ok(args) => args,
            Err(e) => {
                failures.check(false, &id, || format!("arguments refused: {e}"));
                continue;
            }
        };
        let call = Call {
            tool,
            args: &args,
            pop: pop.as_ref(),
            approvals: &[],
            now: at,
        };
        let ours = match authorize(&chain, &trusted, &revoked_ids, &Policy::default(), &call) {
            Ok(_) => "allow".to_owned(),
            Err(denial) => denial.reason().as_str().to_owned(),
        };
        failures.check(ours == expect, &id, || {
            format!("ours: {ours}, expected: {expect}")
        });

        // The same call through the `Authorizer`, as a front end makes it: the
        // chain as token text, the PoP as header text, the clock at the instant.
        let token = match chain.as_slice() {
            [single] => single.to_base64url(),
            _ => encode_base64url(&encode_stack(chain.iter().map(Warrant::envelope_bytes))),
        };
        let authorizer = Authorizer::builder()
            .trusted_issuers([root.public_key()])
            .clock(move || at)
            .build()
            .expect("an authorizer with one trusted issuer");
        if !revoked_ids.is_empty() {
            let list = SignedRevocationList::sign(&root, 1, revoked_ids.iter().copied(), at as u64);
            authorizer
                .install_revocation_list(&list)
                .expect("a list from the trusted issuer installs");
        }
        let pop_text = pop.as_ref().map(Signature::to_base64url);
        let via_authorizer =
            match authorizer.authorize(Some(&token), tool, &args, pop_text.as_deref()) {
                Ok(_) => "allow".to_owned(),
                Err(denial) => denial.reason().as_str().to_owned(),
            };
        failures.check(via_authorizer == ours, &id, || {
            format!("through the Authorizer: {via_authorizer}; decision::authorize: {ours}")
        });
    }
    failures.assert_none("spec_vectors.json (authorize)");
}

/// The PoP vectors: the pinned signature verifies over the pinned preimage, and
/// our verifier accepts it exactly when the crate's does.
#[test]
fn spec_vectors_pop() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    for v in spec.list("pop") {
        let id = format!("{} ({})", str_of(v, "vector"), str_of(v, "signed_by"));
        let warrant = spec.ours(str_of(v, "warrant"));
        let reference = spec.reference(str_of(v, "warrant"));
        let tool = str_of(v, "tool");
        let window = v["window_ts"].as_i64().expect("window_ts");
        let sig = signature(&hex_of(v, "signature_hex"));
        let signer = spec.key(str_of(v, "signed_by"));
        let args = our_args(&v["args"]).expect("pop args");

        if let Some(preimage) = v["preimage_hex"].as_str() {
            // The spec signs `WARRANT_CONTEXT || preimage`; the preimage starts with
            // the challenge it pins.
            let preimage = hex::decode(preimage).expect("hex");
            let challenge = hex_of(v, "challenge_hex");
            failures.check(preimage.ends_with(&challenge), &id, || {
                "preimage does not end with the challenge".into()
            });
            let message = [WARRANT_CONTEXT, preimage.as_slice()].concat();
            failures.check(
                signer.public_key().verify_strict(&message, &sig).is_ok(),
                &id,
                || "signature does not verify over the pinned preimage".into(),
            );
            failures.check(signer.sign(&message) == sig, &id, || {
                "signing the pinned preimage does not reproduce the signature".into()
            });
            // Our challenge for the same call is the crate's, not necessarily the
            // spec text's: compare with the crate.
            let theirs = reference
                .pop_preimage(tool, &reference_args(&v["args"]), window, 30)
                .expect("the crate builds the preimage");
            let ours = pop_message(warrant.id(), tool, &args, window);
            failures.check(
                ours == [WARRANT_CONTEXT, theirs.as_slice()].concat(),
                &id,
                || "our challenge differs from the crate's".into(),
            );
        }

        let theirs = reference
            .verify_pop_as_of(
                tool,
                &reference_args(&v["args"]),
                Some(&tenuo::Signature::from_bytes(&sig.to_bytes()).expect("signature")),
                30,
                5,
                window,
            )
            .is_ok();
        let ours = verify_pop(
            warrant.holder(),
            warrant.id(),
            tool,
            &args,
            Some(&sig),
            window,
            PopWindows::default(),
        )
        .is_ok();
        failures.check(ours == theirs, &id, || {
            format!("ours accepts: {ours}, the crate accepts: {theirs}")
        });
        let expected = v["crate_accepts"].as_bool().expect("crate_accepts");
        failures.check(theirs == expected, &id, || {
            format!("the crate accepts: {theirs}, the vector says {expected}")
        });
    }
    failures.assert_none("spec_vectors.json (pop)");
}

/// A.9.2: a constraint the spec calls unknown decodes here exactly when it
/// decodes in the crate, and one that decodes keeps its bytes and denies.
#[test]
fn spec_vectors_unknown_constraint() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    for v in spec.list("unknown_constraints") {
        let id = str_of(v, "vector");
        let bytes = hex_of(v, "constraint_hex");
        let value: ciborium::Value = ciborium::de::from_reader(bytes.as_slice()).expect("CBOR");
        let theirs: Result<tenuo::Constraint, _> = ciborium::de::from_reader(bytes.as_slice());
        let expected = v["crate_decodes"].as_bool().expect("crate_decodes");
        failures.check(theirs.is_ok() == expected, id, || {
            format!(
                "the crate decodes: {}, the vector says {expected}",
                theirs.is_ok()
            )
        });
        match Constraint::from_cbor(&value, 0) {
            Ok(constraint) => {
                failures.check(expected, id, || {
                    "ours decodes what the crate refuses".into()
                });
                failures.check(constraint.to_cbor() == value, id, || {
                    "bytes not kept".into()
                });
                failures.check(
                    constraint
                        .check(&ArgValue::String("anything".into()))
                        .is_err(),
                    id,
                    || "an unknown constraint allowed a value".into(),
                );
            }
            Err(e) => failures.check(!expected, id, || {
                format!("ours refuses it ({e}); the crate decodes it")
            }),
        }
    }
    failures.assert_none("spec_vectors.json (unknown constraints)");
}

/// A.22.b: the signed revocation list is read as the crate reads it.
#[test]
fn spec_vectors_revocation_list() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    for v in spec.list("revocation_lists") {
        let id = str_of(v, "vector");
        let bytes = hex_of(v, "srl_hex");
        let theirs = tenuo::SignedRevocationList::from_bytes(&bytes);
        let ours = SignedRevocationList::from_cbor(&bytes);
        failures.check(ours.is_ok() == theirs.is_ok(), id, || {
            format!(
                "ours decodes: {}, the crate decodes: {}",
                ours.is_ok(),
                theirs.is_ok()
            )
        });
        let expected = v["crate_decodes"].as_bool().expect("crate_decodes");
        failures.check(theirs.is_ok() == expected, id, || {
            format!(
                "the crate decodes: {}, the vector says {expected}",
                theirs.is_ok()
            )
        });
    }
    failures.assert_none("spec_vectors.json (revocation lists)");
}

// ---------------------------------------------------------------------------
// pop_canonical.json: the cross-language PoP canonicalization fixture
// ---------------------------------------------------------------------------

/// Every case's signature is reproduced by signing our challenge with the
/// holder's key, and verifies under our verifier at the case's instant.
#[test]
fn pop_canonical() {
    let doc = parse(POP_CANONICAL);
    let holder = SigningKey::from_bytes(&seed(str_of(&doc, "holder_priv_hex")));
    let mut failures = Failures::default();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 11, "only {} cases", cases.len());
    for case in cases {
        let id = str_of(case, "name");
        let tool = str_of(case, "tool");
        let timestamp = case["timestamp"].as_i64().expect("timestamp");
        let expected = signature(&hex_of(case, "expected_signature_hex"));
        let warrant = match decode_token(str_of(case, "warrant_b64")) {
            Ok((_, chain)) if chain.len() == 1 => chain.into_iter().next().expect("one"),
            Ok(_) => {
                failures.check(false, id, || "warrant_b64 is not one warrant".into());
                continue;
            }
            Err(e) => {
                failures.check(false, id, || format!("warrant_b64: {e}"));
                continue;
            }
        };
        failures.check(*warrant.holder() == holder.public_key(), id, || {
            "holder is not the fixture's key".into()
        });
        let args = match our_args(&case["args"]) {
            Ok(args) => args,
            Err(e) => {
                failures.check(false, id, || e);
                continue;
            }
        };
        let window = timestamp - timestamp.rem_euclid(30);
        let signed = holder.sign(&pop_message(warrant.id(), tool, &args, window));
        failures.check(signed == expected, id, || {
            format!("ours signs {}", hex::encode(signed.to_bytes()))
        });
        let verified = verify_pop(
            warrant.holder(),
            warrant.id(),
            tool,
            &args,
            Some(&expected),
            timestamp,
            PopWindows::default(),
        );
        failures.check(verified.is_ok(), id, || {
            format!("ours refuses it: {verified:?}")
        });
    }
    failures.assert_none("pop_canonical.json");
}

// ---------------------------------------------------------------------------
// wire_compatibility.json: strict decoding and byte preservation
// ---------------------------------------------------------------------------

fn cbor(bytes: &[u8]) -> Result<ciborium::Value, String> {
    ciborium::de::from_reader(bytes).map_err(|e| e.to_string())
}

fn cbor_bytes(value: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("serializing a Value cannot fail");
    out
}

/// Each input decodes here exactly when it decodes in the crate; what decodes
/// re-encodes to the same bytes; an unknown constraint denies.
#[test]
fn wire_compatibility() {
    let doc = parse(WIRE);
    let mut failures = Failures::default();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    for case in cases {
        let id = str_of(case, "id");
        let bytes = hex_of(case, "hex");
        let expected = case["reference_decodes"]
            .as_bool()
            .expect("reference_decodes");
        let round_trip = case["round_trip"].as_bool().unwrap_or(false);
        let outcome: Result<Vec<u8>, String> = match str_of(case, "kind") {
            "warrant" => Warrant::decode(&bytes)
                .map(|w| w.envelope_bytes().to_vec())
                .map_err(|e| e.to_string()),
            "constraint" => cbor(&bytes).and_then(|v| {
                Constraint::from_cbor(&v, 0)
                    .map(|c| cbor_bytes(&c.to_cbor()))
                    .map_err(|e| e.to_string())
            }),
            "constraint_set" => cbor(&bytes).and_then(|v| {
                ConstraintSet::from_cbor(&v, 0)
                    .map(|c| cbor_bytes(&c.to_cbor()))
                    .map_err(|e| e.to_string())
            }),
            other => panic!("{id}: unknown kind {other}"),
        };
        failures.check(outcome.is_ok() == expected, id, || match &outcome {
            Ok(_) => "ours decodes it; the crate refuses it".into(),
            Err(e) => format!("ours refuses it ({e}); the crate decodes it"),
        });
        if str_of(case, "kind") == "warrant" {
            // The data must say what the crate's own decoder says, today.
            let crate_decodes = tenuo::wire::decode(&bytes).is_ok();
            failures.check(crate_decodes == expected, id, || {
                format!("the data says reference_decodes {expected}; tenuo::wire::decode says {crate_decodes}")
            });
        }
        if let (Ok(encoded), true) = (&outcome, round_trip) {
            failures.check(*encoded == bytes, id, || {
                "re-encoding changed the bytes".into()
            });
        }
        if let Some(value) = case["fails_closed_on"].as_str() {
            let denies = cbor(&bytes)
                .ok()
                .and_then(|v| Constraint::from_cbor(&v, 0).ok())
                .is_some_and(|c| c.check(&ArgValue::String(value.into())).is_err());
            failures.check(denies, id, || format!("does not deny {value:?}"));
        }
        if let (Some(tool), Ok(warrant)) = (case["tool"].as_str(), Warrant::decode(&bytes)) {
            let args = our_args(&case["denied_args"]).expect("denied_args");
            let denied = warrant
                .payload()
                .tools
                .get(tool)
                .is_some_and(|grant| grant.check_args(&args).is_err());
            failures.check(denied, id, || {
                "a call through the unknown constraint was allowed".into()
            });
            failures.check(warrant.verify_signature().is_ok(), id, || {
                "signature does not verify".into()
            });
        }
    }
    failures.assert_none("wire_compatibility.json");
}

// ---------------------------------------------------------------------------
// holder_lifecycle.json: the key identity vector
// ---------------------------------------------------------------------------

/// The public key derives from the secret as pinned, and the secret never shows
/// in a key's debug form.
#[test]
fn holder_lifecycle() {
    let doc = parse(HOLDER_LIFECYCLE);
    let identity = &doc["identity"];
    let secret_hex = str_of(identity, "secret_hex");
    let key = SigningKey::from_bytes(&seed(secret_hex));
    assert_eq!(
        key.public_key().to_hex(),
        str_of(identity, "public_key_hex"),
        "identity: public key"
    );
    let rendered = format!("{key:?}");
    assert!(
        !rendered.contains(secret_hex),
        "identity: secret in {rendered}"
    );
}

/// The constraint-level vectors (A.19, A.25 and the A.25.1 erratum): each
/// constraint, as the crate encodes it, judges each value as the crate does.
#[test]
fn spec_vectors_constraints() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    let checks = spec.list("constraint_checks");
    assert!(
        checks.len() >= 20,
        "only {} constraint checks",
        checks.len()
    );
    for (n, v) in checks.iter().enumerate() {
        let id = format!("{} #{n} {}", str_of(v, "vector"), v["value"]);
        let bytes = hex_of(v, "constraint_hex");
        // The crate's verdict now, and the one recorded: `None` is an error.
        let theirs: Option<bool> =
            ciborium::de::from_reader::<tenuo::Constraint, _>(bytes.as_slice())
                .ok()
                .and_then(|c| c.matches(&reference_value(&v["value"])).ok());
        failures.check(theirs == v["crate_matches"].as_bool(), &id, || {
            format!(
                "the crate now says {theirs:?}, the vector {}",
                v["crate_matches"]
            )
        });
        let value: ciborium::Value = ciborium::de::from_reader(bytes.as_slice()).expect("CBOR");
        let ours = Constraint::from_cbor(&value, 0)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                let arg = ArgValue::from_json(&v["value"]).map_err(|e| e.to_string())?;
                Ok(c.check(&arg).is_ok())
            });
        // An error in the crate (a malformed policy) must deny here.
        let expected = theirs.unwrap_or(false);
        failures.check(
            ours.as_ref().is_ok_and(|m| *m == expected) || (!expected && ours.is_err()),
            &id,
            || format!("ours: {ours:?}, the crate: {theirs:?}"),
        );
    }
    failures.assert_none("spec_vectors.json (constraints)");
}

/// A.27: a child may not add a tool its parent never held; our minting refuses
/// what the crate's builder refuses.
#[test]
fn spec_vectors_attenuation() {
    let spec = Spec::load();
    let mut failures = Failures::default();
    for v in spec.list("attenuation_refusals") {
        let id = str_of(v, "vector");
        let parent = spec.ours(str_of(v, "parent"));
        let constraints = parent
            .payload()
            .tools
            .get(str_of(v, "constraints_of_parent_tool"))
            .expect("the parent's tool")
            .clone();
        let now = parent.payload().issued_at + 60;
        let child = tenuo_authz::mint::Attenuate::from(&parent)
            .holder(spec.key(str_of(v, "child_holder")).public_key())
            .tool(str_of(v, "tool"), constraints)
            .sign(&spec.key(str_of(v, "parent_holder")), now);
        let expected = v["crate_refuses"].as_bool().expect("crate_refuses");
        failures.check(child.is_err() == expected, id, || {
            format!(
                "ours refuses: {}, the crate refuses: {expected}",
                child.is_err()
            )
        });
    }
    failures.assert_none("spec_vectors.json (attenuation)");
}

// ---------------------------------------------------------------------------
// shlex.json: the shared Shlex decisions
// ---------------------------------------------------------------------------

/// Each command is judged against its allow list as the crate judges it
/// (`crate_matches`, checked against the crate on every run).
#[test]
fn shlex() {
    let doc = parse(SHLEX);
    let mut failures = Failures::default();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    for case in cases {
        let id = str_of(case, "name");
        let allow: Vec<&str> = case["allow"]
            .as_array()
            .expect("allow")
            .iter()
            .map(|a| a.as_str().expect("allowed program"))
            .collect();
        let command = str_of(case, "command");
        let expected = case["crate_matches"].as_bool().expect("crate_matches");
        let theirs = tenuo::constraints::Shlex::new(allow.clone())
            .matches(&tenuo::ConstraintValue::String(command.into()))
            .unwrap_or(false);
        failures.check(theirs == expected, id, || {
            format!("the crate now says {theirs}, the vector {expected}")
        });
        let ours = Constraint::shlex(allow).check(&ArgValue::String(command.into()));
        failures.check(ours.is_ok() == expected, id, || format!("ours: {ours:?}"));
    }
    failures.assert_none("shlex.json");
}
