//! Wire compatibility with the reference implementation (`tenuo` 0.3.5), both ways:
//! tokens it mints decode here to the same fields and re-encode to the same bytes,
//! and tokens minted here decode, verify and authorize there.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::{PublicKey, Signature, SigningKey};
use tenuo_authz::decision::{authorize, Call, Policy, TrustedIssuers};
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::{decode_stack, decode_token, encode_payload, TokenKind};
use tenuo_authz::Warrant;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn reference_key(seed: u8) -> tenuo::SigningKey {
    tenuo::SigningKey::from_bytes(&[seed; 32])
}

fn our_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A reference chain: root (control plane -> orchestrator), child (orchestrator -> worker).
fn reference_chain() -> Vec<tenuo::Warrant> {
    let (cp, orch, worker) = (reference_key(1), reference_key(2), reference_key(3));
    let mut wide = tenuo::ConstraintSet::new();
    wide.insert("path", tenuo::Pattern::new("/data/*").unwrap());
    let root = tenuo::Warrant::builder()
        .capability("read_file", wide)
        .ttl(std::time::Duration::from_secs(600))
        .max_depth(4)
        .clearance(tenuo::Clearance::INTERNAL)
        .session_id("s-1")
        .extension("x-team", vec![1, 2, 3])
        .holder(orch.public_key())
        .build(&cp)
        .unwrap();
    let mut narrow = tenuo::ConstraintSet::new();
    narrow.insert("path", tenuo::Pattern::new("/data/reports/*").unwrap());
    let child = root
        .attenuate()
        .capability("read_file", narrow)
        .holder(worker.public_key())
        .ttl(std::time::Duration::from_secs(60))
        .build(&orch)
        .unwrap();
    vec![root, child]
}

#[test]
fn reference_stack_decodes_to_the_same_fields_and_bytes() {
    let chain = reference_chain();
    let bytes = tenuo::wire::encode_stack(&tenuo::wire::WarrantStack::new(chain.clone())).unwrap();
    let ours = decode_stack(&bytes).unwrap();
    assert_eq!(ours.len(), 2);
    for (theirs, mine) in chain.iter().zip(&ours) {
        let p = mine.payload();
        assert_eq!(&p.id.0, theirs.id().as_bytes());
        assert_eq!(p.holder.to_bytes(), theirs.authorized_holder().to_bytes());
        assert_eq!(p.issuer.to_bytes(), theirs.issuer().to_bytes());
        assert_eq!(p.depth, theirs.depth());
        assert_eq!(p.expires_at, theirs.expires_at().timestamp() as u64);
        assert_eq!(p.session_id.as_deref(), theirs.session_id());
        assert_eq!(p.clearance, theirs.clearance().map(|c| c.level()));
        assert_eq!(mine.payload_bytes(), theirs.payload_bytes());
        // Our encoder reproduces the reference's payload bytes from the decoded fields.
        assert_eq!(encode_payload(p), theirs.payload_bytes());
        assert_eq!(mine.envelope_bytes(), tenuo::wire::encode(theirs).unwrap());
        mine.verify_signature().unwrap();
    }
    assert_eq!(ours[1].payload().parent_hash, Some(ours[0].payload_hash()));
    assert_eq!(
        ours[0].payload().extensions.get("x-team"),
        Some(&vec![1, 2, 3])
    );
}

#[test]
fn reference_text_forms_decode() {
    let chain = reference_chain();
    let single = tenuo::wire::encode_base64(&chain[0]).unwrap();
    let (kind, decoded) = decode_token(&single).unwrap();
    assert_eq!((kind, decoded.len()), (TokenKind::Warrant, 1));
    let pem = tenuo::wire::encode_pem(&chain[0]).unwrap();
    assert_eq!(
        decode_token(&pem).unwrap().1[0].envelope_bytes(),
        decoded[0].envelope_bytes()
    );
    let stack_pem =
        tenuo::wire::encode_pem_stack(&tenuo::wire::WarrantStack::new(chain.clone())).unwrap();
    let (kind, decoded) = decode_token(&stack_pem).unwrap();
    assert_eq!((kind, decoded.len()), (TokenKind::Stack, 2));
}

#[test]
fn reference_pop_verifies_here_and_ours_there() {
    let chain = reference_chain();
    let bytes = tenuo::wire::encode_stack(&tenuo::wire::WarrantStack::new(chain.clone())).unwrap();
    let ours = decode_stack(&bytes).unwrap();
    let now = now();
    let mut their_args = HashMap::new();
    their_args.insert(
        "path".to_string(),
        tenuo::ConstraintValue::String("/data/reports/q3.csv".into()),
    );
    let their_pop = chain[1]
        .sign_with_timestamp(&reference_key(3), "read_file", &their_args, Some(now))
        .unwrap();

    let mut args = Args::new();
    args.insert(
        "path".into(),
        ArgValue::String("/data/reports/q3.csv".into()),
    );
    let pop = Signature::from_bytes(&their_pop.to_bytes());
    let trusted =
        TrustedIssuers::new([
            PublicKey::from_bytes(&reference_key(1).public_key().to_bytes()).unwrap(),
        ]);
    let call = Call {
        tool: "read_file",
        args: &args,
        pop: Some(&pop),
        approvals: &[],
        now,
    };
    authorize(&ours, &trusted, &(), &Policy::default(), &call).unwrap();

    let our_pop = sign_pop(&our_key(3), ours[1].id(), "read_file", &args, now);
    assert_eq!(
        our_pop.to_bytes(),
        their_pop.to_bytes(),
        "Ed25519 is deterministic: same message, same signature"
    );
}

#[test]
fn our_chain_verifies_and_authorizes_in_the_reference() {
    let (cp, orch, worker) = (our_key(1), our_key(2), our_key(3));
    let now = now();
    let mut wide = ConstraintSet::new();
    wide.insert("path", Constraint::pattern("/data/*").unwrap());
    let root = Issue::execution(orch.public_key())
        .tool("read_file", wide)
        .ttl_secs(600)
        .agent_id("agent-7")
        .sign(&cp, now as u64)
        .unwrap();
    let mut narrow = ConstraintSet::new();
    narrow.insert("path", Constraint::pattern("/data/reports/*").unwrap());
    let child = Attenuate::from(&root)
        .holder(worker.public_key())
        .tool("read_file", narrow)
        .ttl_secs(60)
        .sign(&orch, now as u64)
        .unwrap();
    let stack = encode_chain(&[root.clone(), child.clone()]);

    let theirs = tenuo::wire::decode_stack(&stack).unwrap();
    assert_eq!(tenuo::wire::encode_stack(&theirs).unwrap(), stack);
    let authorizer = tenuo::Authorizer::new().with_trusted_root(reference_key(1).public_key());
    let mut args = Args::new();
    args.insert(
        "path".into(),
        ArgValue::String("/data/reports/q3.csv".into()),
    );
    let pop = sign_pop(&worker, child.id(), "read_file", &args, now);
    let mut their_args = HashMap::new();
    their_args.insert(
        "path".to_string(),
        tenuo::ConstraintValue::String("/data/reports/q3.csv".into()),
    );
    let their_pop = tenuo::Signature::from_bytes(&pop.to_bytes()).unwrap();
    authorizer
        .check_chain(&theirs.0, "read_file", &their_args, Some(&their_pop), &[])
        .unwrap();
    their_args.insert(
        "path".to_string(),
        tenuo::ConstraintValue::String("/data/other".into()),
    );
    assert!(authorizer
        .check_chain(&theirs.0, "read_file", &their_args, Some(&their_pop), &[])
        .is_err());
}

#[test]
fn warrants_round_trip_through_our_codec() {
    let chain = reference_chain();
    for warrant in &chain {
        let bytes = tenuo::wire::encode(warrant).unwrap();
        let ours = Warrant::decode(&bytes).unwrap();
        assert_eq!(ours.envelope_bytes(), &bytes[..]);
    }
}
