//! Token text forms: a warrant or a stack is accepted as unpadded base64url,
//! padded standard base64 (what the Python SDK sends for chains) or PEM, decodes
//! to the same chain in every form, and decides the same in every form (each form
//! is its own verified-chain cache entry: the cache keys the text). The forms the
//! reference authorizer refuses (padded base64url, unpadded standard base64) are
//! refused here too; the server-level suite (`reference_server.rs`) checks both
//! against its binary.

#[path = "conformance/common.rs"]
mod common;

use base64::Engine;
use proptest::prelude::*;
use tenuo_authz::cache::CacheConfig;
use tenuo_authz::constraint::ConstraintSet;
use tenuo_authz::mint::encode_chain;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::{decode_token, encode_pem_chain, encode_pem_warrant, TokenKind};
use tenuo_authz::Authorizer;

use common::{ok, pk, Minted, Minter, Step, ROOT};

fn engine(url_safe: bool, padded: bool) -> base64::engine::GeneralPurpose {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    match (url_safe, padded) {
        (true, false) => URL_SAFE_NO_PAD,
        (true, true) => URL_SAFE,
        (false, true) => STANDARD,
        (false, false) => STANDARD_NO_PAD,
    }
}

/// The envelopes of a chain, to compare chains by their bytes.
fn envelopes(chain: &[tenuo_authz::Warrant]) -> Vec<Vec<u8>> {
    chain.iter().map(|w| w.envelope_bytes().to_vec()).collect()
}

/// A chain of `depth` warrants minted by `minter`.
fn chain(minter: Minter, depth: usize) -> Minted {
    let steps: Vec<Step> = (0..depth)
        .map(|i| Step::new(2 + i as u8, vec![("read", ConstraintSet::new())]))
        .collect();
    Minted::mint(minter, &steps)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every form decodes to the same warrants, or is refused exactly when it is
    /// neither the unpadded base64url nor the padded standard encoding of the bytes
    /// (a mixed form that happens to spell one of those two is that one).
    #[test]
    fn every_accepted_form_is_the_same_chain(
        depth in 1usize..=4,
        reference in any::<bool>(),
        url_safe in any::<bool>(),
        padded in any::<bool>(),
    ) {
        let minter = if reference { Minter::Reference } else { Minter::Ours };
        let m = chain(minter, depth);
        let bytes = encode_chain(&m.chain);
        let text = engine(url_safe, padded).encode(&bytes);
        let accepted =
            text == engine(true, false).encode(&bytes) || text == engine(false, true).encode(&bytes);
        match decode_token(&text) {
            Ok((kind, warrants)) => {
                prop_assert!(accepted, "accepted a mixed form: {}", text);
                prop_assert_eq!(kind, TokenKind::Stack);
                prop_assert_eq!(envelopes(&warrants), envelopes(&m.chain));
            }
            Err(_) => prop_assert!(!accepted, "refused {}", text),
        }
        let pem = decode_token(&encode_pem_chain(&m.chain)).unwrap().1;
        prop_assert_eq!(envelopes(&pem), envelopes(&m.chain));
        let blocks: String = m.chain.iter().map(encode_pem_warrant).collect();
        prop_assert_eq!(envelopes(&decode_token(&blocks).unwrap().1), envelopes(&m.chain));
    }
}

#[test]
fn pem_blocks_hold_what_their_label_says() {
    let m = chain(Minter::Ours, 2);
    let stack = encode_chain(&m.chain);
    let pem = |label: &str, bytes: &[u8]| {
        let body = engine(true, false).encode(bytes);
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    };
    assert!(decode_token(&pem("TENUO WARRANT CHAIN", &stack)).is_ok());
    assert!(
        decode_token(&pem("TENUO WARRANT CHAIN", m.chain[0].envelope_bytes())).is_err(),
        "a chain block holding one warrant"
    );
    assert!(
        decode_token(&pem("TENUO WARRANT", &stack)).is_err(),
        "a warrant block holding a stack"
    );
    let (kind, one) = decode_token(&pem("TENUO WARRANT", m.chain[0].envelope_bytes())).unwrap();
    assert_eq!((kind, one.len()), (TokenKind::Warrant, 1));
    // A chain block holds base64 in either alphabet, as a header does.
    let standard = format!(
        "-----BEGIN TENUO WARRANT CHAIN-----\n{}\n-----END TENUO WARRANT CHAIN-----\n",
        engine(false, true).encode(&stack)
    );
    assert_eq!(
        envelopes(&decode_token(&standard).unwrap().1),
        envelopes(&m.chain)
    );
}

/// The cache keys on the text as received: the same chain in three text forms is
/// three entries, each verified from its own bytes on its first use and answered
/// from the cache after; every form decides exactly as the others, allowed or
/// denied, reason included.
#[test]
fn one_chain_in_every_form_decides_the_same_from_its_own_cache_entry() {
    let m = chain(Minter::Reference, 3);
    let bytes = encode_chain(&m.chain);
    let now = m.now();
    let authorizer = Authorizer::builder()
        .trusted_issuers([pk(ROOT)])
        .cache(CacheConfig::default())
        .clock(move || now)
        .build()
        .unwrap();
    let args = Args::new();
    let leaf = m.chain.last().unwrap();
    let pop = sign_pop(&ok(m.leaf_holder()), leaf.id(), "read", &args, now);
    let pop = engine(true, false).encode(pop.to_bytes());
    let forms = [
        engine(true, false).encode(&bytes),
        engine(false, true).encode(&bytes),
        encode_pem_chain(&m.chain),
    ];
    for (i, form) in forms.iter().enumerate() {
        for round in 0..2u64 {
            let decision = authorizer.authorize(Some(form), "read", &args, Some(&pop));
            assert!(decision.is_ok(), "form {i}, round {round}: {decision:?}");
            let denied = authorizer
                .authorize(Some(form), "write", &args, Some(&pop))
                .map(|_| ())
                .map_err(|d| d.reason());
            assert_eq!(
                denied,
                Err(tenuo_authz::DenyReason::ToolNotInWarrant),
                "form {i}"
            );
            let stats = authorizer.cache_stats().unwrap();
            let seen = i as u64 + 1;
            assert_eq!((stats.misses, stats.entries), (seen, seen), "form {i}");
            // Three hits for each form before, then the denial's, then two a round.
            assert_eq!(stats.hits, 3 * i as u64 + 1 + 2 * round, "form {i}");
        }
    }
}
