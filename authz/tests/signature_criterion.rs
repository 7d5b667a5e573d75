//! The one place our default verdicts differ from the reference's, pinned against the
//! reference itself, and the opt-in criterion that removes it.
//!
//! A warrant whose envelope signature has a torsion component in `R` (only the signing
//! key's holder can make one) satisfies the cofactored equation but not
//! `verify_strict`'s. By default chain signatures are verified in one batch, which can
//! only decide the cofactored equation, so we accept such a warrant where the reference
//! refuses it. `SignatureCriterion::Strict` verifies each signature by itself with
//! `verify_strict`'s equation and then agrees with the reference here too.

#[path = "conformance/common.rs"]
mod common;

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::crypto::Signature;
use tenuo_authz::crypto::SignatureCriterion;
use tenuo_authz::decision::Policy;
use tenuo_authz::mint::encode_chain;
use tenuo_authz::wire::encode_envelope;
use tenuo_authz::{DenyReason, Warrant};

use common::{args, s, signed_message, Deciders, Input, Minted, Minter, Step, ROOT};

fn wide_scalar(parts: &[&[u8]]) -> Scalar {
    let mut hash = Sha512::new();
    for part in parts {
        hash.update(part);
    }
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hash.finalize());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// An Ed25519 signature by the key with seed `seed` whose `R` is `[r]B + torsion`:
/// valid under the cofactored equation, refused by `verify_strict` unless `torsion`
/// is the identity.
fn sign_with_torsion(seed: u8, message: &[u8], torsion: &EdwardsPoint) -> Signature {
    let secret = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).to_scalar();
    let key = EdwardsPoint::mul_base(&secret).compress().to_bytes();
    let nonce = wide_scalar(&[b"torsion nonce", message]);
    let r = (EdwardsPoint::mul_base(&nonce) + torsion)
        .compress()
        .to_bytes();
    let k = wide_scalar(&[&r, &key, message]);
    let s = nonce + k * secret;
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&r);
    bytes[32..].copy_from_slice(s.as_bytes());
    Signature::from_bytes(&bytes)
}

/// `m` with its leaf re-signed, by the same key over the same payload, with `torsion`
/// added to `R`. Parents are untouched, so every link still holds.
fn with_torsion_leaf(m: &Minted, torsion: &EdwardsPoint) -> Minted {
    let signer = match m.holders.len() {
        1 => ROOT,
        n => m.holders[n - 2],
    };
    let leaf = m.leaf();
    let signature = sign_with_torsion(signer, &signed_message(leaf.payload_bytes()), torsion);
    let resealed = Warrant::decode(&encode_envelope(leaf.payload_bytes(), &signature))
        .expect("re-signed leaf decodes");
    let mut chain = m.chain.clone();
    *chain.last_mut().expect("non-empty") = resealed;
    Minted {
        minter: m.minter,
        chain,
        holders: m.holders.clone(),
        ref_chain: None,
    }
}

fn read_call(m: &Minted) -> Input {
    let a = args(&[("path", s("/data/a.csv"))]);
    let now = m.now();
    Input {
        stack: m.stack(),
        trusted: vec![ROOT],
        revoked: Vec::new(),
        tool: "read".to_owned(),
        pop: Some(m.pop(m.leaf_holder(), "read", &a, now)),
        args: a,
        now,
        approvals: Vec::new(),
    }
}

/// Our decision under `criterion`, through the uncached decision function.
fn ours_with(input: &Input, criterion: SignatureCriterion) -> Result<(), DenyReason> {
    let policy = Policy {
        signatures: criterion,
        ..Policy::default()
    };
    Deciders::ours_under(input, &policy).map_err(|(reason, _)| reason)
}

/// Chains of depth 1, 2 and 5, minted by each implementation.
fn chains() -> Vec<Minted> {
    let read = || ConstraintSet::new().with("path", Constraint::pattern("/data/*").unwrap());
    let mut out = Vec::new();
    for minter in [Minter::Ours, Minter::Reference] {
        for depth in [1u8, 2, 5] {
            let steps: Vec<Step> = (0..depth)
                .map(|i| Step::new(10 + i, vec![("read", read())]))
                .collect();
            out.push(Minted::mint(minter, &steps));
        }
    }
    out
}

/// A `read` call on every chain of [`chains`] with its leaf re-signed with a torsion
/// component of order 8, 4 and 2 (every kind of nonzero one), and who minted it.
fn torsion_calls() -> Vec<(Minter, Input)> {
    let mut out = Vec::new();
    for m in chains() {
        for torsion in [EIGHT_TORSION[1], EIGHT_TORSION[2], EIGHT_TORSION[4]] {
            out.push((m.minter, read_call(&with_torsion_leaf(&m, &torsion))));
        }
    }
    out
}

#[test]
fn divergence_a_torsion_component_in_a_chain_signature_is_accepted_by_default() {
    let mut deciders = Deciders::default();
    for (minter, input) in torsion_calls() {
        let theirs = deciders.theirs(&input).map_err(|(reason, _)| reason);
        assert!(theirs.is_err(), "the reference refuses {minter:?}");
        assert_eq!(
            ours_with(&input, SignatureCriterion::Cofactored),
            Ok(()),
            "the batch criterion accepts"
        );
        // The cached decision path agrees with the uncached one.
        assert_eq!(deciders.ours(&input), Ok(()));
    }
}

#[test]
fn the_strict_criterion_gives_the_references_verdict_on_torsion_components() {
    let mut deciders = Deciders::default();
    for (_, input) in torsion_calls() {
        let theirs = deciders.theirs(&input).map_err(|(reason, _)| reason);
        // Both deny. As for every bad signature in the conformance suite, the
        // reference reports it while decoding the stack (`invalid_warrant`).
        assert_eq!(theirs, Err(DenyReason::InvalidWarrant));
        assert_eq!(
            ours_with(&input, SignatureCriterion::Strict),
            Err(DenyReason::SignatureInvalid)
        );
    }
}

#[test]
fn both_criteria_accept_honest_chains_and_an_identity_torsion_is_no_torsion() {
    let mut deciders = Deciders::default();
    for m in chains() {
        let identity = with_torsion_leaf(&m, &EdwardsPoint::default());
        for candidate in [identity, m] {
            let input = read_call(&candidate);
            assert_eq!(deciders.theirs(&input), Ok(()));
            for criterion in [SignatureCriterion::Cofactored, SignatureCriterion::Strict] {
                assert_eq!(ours_with(&input, criterion), Ok(()), "{criterion:?}");
            }
        }
    }
}

#[test]
fn both_criteria_refuse_a_tampered_signature() {
    for m in chains() {
        let mut bytes = m.leaf().signature().to_bytes();
        bytes[40] ^= 1;
        let leaf = m.leaf();
        let tampered = Warrant::decode(&encode_envelope(
            leaf.payload_bytes(),
            &Signature::from_bytes(&bytes),
        ))
        .expect("decodes");
        let mut chain = m.chain.clone();
        *chain.last_mut().expect("non-empty") = tampered;
        let input = Input {
            stack: encode_chain(&chain),
            ..read_call(&m)
        };
        for criterion in [SignatureCriterion::Cofactored, SignatureCriterion::Strict] {
            assert_eq!(
                ours_with(&input, criterion),
                Err(DenyReason::SignatureInvalid),
                "{criterion:?}"
            );
        }
    }
}
