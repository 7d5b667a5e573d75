//! The warrants, call and PoP of the decision measurements, shared by the
//! `decision` bench and the `decision_cost` example so both measure the same thing.

// The bench reads every field, the example only some.
#![allow(dead_code)]

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::encode_base64url;
use tenuo_authz::Warrant;

pub(crate) struct Setup {
    pub(crate) token: String,
    pub(crate) pop: String,
    pub(crate) args: Args,
    pub(crate) chain: Vec<Warrant>,
    pub(crate) root: SigningKey,
    pub(crate) now: i64,
}

/// A chain of `depth` warrants, each narrowing `path`.
pub(crate) fn setup(depth: usize) -> Setup {
    let root = SigningKey::from_bytes(&[1; 32]);
    let keys: Vec<SigningKey> = (0..depth)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 10; 32]))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let mut chain = vec![Issue::execution(keys[0].public_key())
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(&root, now as u64)
        .unwrap()];
    for i in 1..depth {
        let mut narrower = ConstraintSet::new();
        narrower.insert("path", Constraint::pattern("/data/reports/*").unwrap());
        let child = Attenuate::from(&chain[i - 1])
            .holder(keys[i].public_key())
            .tool("read_file", narrower)
            .sign(&keys[i - 1], now as u64)
            .unwrap();
        chain.push(child);
    }
    let mut args = Args::new();
    args.insert(
        "path".into(),
        ArgValue::String("/data/reports/q3.csv".into()),
    );
    let pop = sign_pop(
        &keys[depth - 1],
        chain[depth - 1].id(),
        "read_file",
        &args,
        now,
    )
    .to_base64url();
    Setup {
        token: encode_base64url(&encode_chain(&chain)),
        pop,
        args,
        chain,
        root,
        now,
    }
}

/// The reference crate's authorizer deciding the same call, as its gateway does on
/// every request: decode the header, then check the whole chain and the PoP.
pub(crate) struct ReferenceDecider {
    authorizer: tenuo::Authorizer,
    args: std::collections::HashMap<String, tenuo::ConstraintValue>,
    pop: tenuo::Signature,
}

impl ReferenceDecider {
    pub(crate) fn new(s: &Setup) -> Self {
        let root = tenuo::PublicKey::from_bytes(&s.root.public_key().to_bytes())
            .expect("the reference parses our key");
        let mut args = std::collections::HashMap::new();
        args.insert(
            "path".to_string(),
            tenuo::ConstraintValue::String("/data/reports/q3.csv".into()),
        );
        let pop = tenuo_authz::crypto::Signature::parse(&s.pop)
            .expect("our PoP parses")
            .to_bytes();
        Self {
            authorizer: tenuo::Authorizer::new().with_trusted_root(root),
            args,
            pop: tenuo::Signature::from_bytes(&pop).expect("64 bytes"),
        }
    }

    /// Panics if the reference denies: every measured call must be an allow.
    pub(crate) fn decide(&self, token: &str) {
        let stack = tenuo::wire::decode_stack(&base64_decode(token)).expect("reference decodes");
        self.authorizer
            .check_chain(&stack.0, "read_file", &self.args, Some(&self.pop), &[])
            .expect("reference allows");
    }
}

pub(crate) fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}
