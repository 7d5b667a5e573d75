//! Helpers shared by the conformance suites: keys on both sides, value conversion,
//! minting chains with either implementation, forging payloads by hand, and
//! deciding one call with both implementations.
//!
//! Included by several test crates with `#[path]`, so not every item is used by each.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use ciborium::Value;
use tenuo_authz::approval::SignedApproval;
use tenuo_authz::chain::PreparedChain;
use tenuo_authz::constraint::{ArgValue, ConstraintSet};
use tenuo_authz::crypto::{PublicKey, Signature, SigningKey};
use tenuo_authz::decision::{authorize, decide, Authorized, Call, Policy, TrustedIssuers};
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::warrant::{Payload, WarrantId};
use tenuo_authz::wire::{decode_stack, encode_envelope, encode_payload};
use tenuo_authz::{Denial, DenyReason, Warrant};

/// Seed of the trusted control-plane key (root issuer).
pub(crate) const ROOT: u8 = 1;
/// Seed of a key nobody trusts and no warrant names.
pub(crate) const STRANGER: u8 = 50;
/// Seed of the key that signs revocation lists.
pub(crate) const SRL_SIGNER: u8 = 90;
/// Base time of warrants minted here (a 30 s window boundary).
pub(crate) const T0: u64 = 1_800_000_000;
/// Default TTL of minted roots.
pub(crate) const TTL: u64 = 3600;

/// Our signing key for a seed.
pub(crate) fn ok(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The reference's signing key for the same seed.
pub(crate) fn rk(seed: u8) -> tenuo::SigningKey {
    tenuo::SigningKey::from_bytes(&[seed; 32])
}

/// Our public key for a seed.
pub(crate) fn pk(seed: u8) -> PublicKey {
    ok(seed).public_key()
}

/// Serde value to CBOR bytes.
pub(crate) fn cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("serializable");
    out
}

/// CBOR bytes to a generic value.
pub(crate) fn value_of(bytes: &[u8]) -> Value {
    ciborium::de::from_reader(bytes).expect("valid CBOR")
}

/// Text argument.
pub(crate) fn s(x: &str) -> ArgValue {
    ArgValue::String(x.to_owned())
}

/// A list of text arguments.
pub(crate) fn list(items: &[&str]) -> ArgValue {
    ArgValue::List(items.iter().map(|x| s(x)).collect())
}

/// Arguments from pairs.
pub(crate) fn args(pairs: &[(&str, ArgValue)]) -> Args {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The reference's form of one argument value (through its own CBOR decoder).
pub(crate) fn ref_value(v: &ArgValue) -> tenuo::ConstraintValue {
    ciborium::de::from_reader(cbor(&v.to_cbor()).as_slice()).expect("reference decodes value")
}

/// The reference's form of call arguments.
pub(crate) fn ref_args(a: &Args) -> HashMap<String, tenuo::ConstraintValue> {
    a.iter().map(|(k, v)| (k.clone(), ref_value(v))).collect()
}

/// The reference's form of a constraint set (through its own CBOR decoder).
pub(crate) fn ref_set(cs: &ConstraintSet) -> tenuo::ConstraintSet {
    ciborium::de::from_reader(cbor(&cs.to_cbor()).as_slice()).expect("reference decodes set")
}

/// Seconds since the epoch, wall clock (the reference's builders use it).
pub(crate) fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Which implementation minted a chain (and signs its PoPs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Minter {
    /// `tenuo` 0.3.5 builders and `Warrant::sign_with_timestamp`.
    Reference,
    /// `tenuo_authz::mint` and `tenuo_authz::pop::sign_pop`.
    Ours,
}

impl Minter {
    /// Both, reference first.
    pub(crate) const BOTH: [Minter; 2] = [Minter::Reference, Minter::Ours];

    /// Short name for labels.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Minter::Reference => "ref",
            Minter::Ours => "ours",
        }
    }
}

/// One warrant of a chain to mint: its holder and what it grants.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Holder seed.
    pub(crate) holder: u8,
    /// Tools and their constraints.
    pub(crate) tools: Vec<(String, ConstraintSet)>,
    /// TTL (root: from issue; child: capped at the parent's expiry).
    pub(crate) ttl: Option<u64>,
    /// `max_depth`, when set.
    pub(crate) max_depth: Option<u32>,
}

impl Step {
    /// A step for `holder` granting `tools`.
    pub(crate) fn new(holder: u8, tools: Vec<(&str, ConstraintSet)>) -> Self {
        Self {
            holder,
            tools: tools.into_iter().map(|(t, c)| (t.to_owned(), c)).collect(),
            ttl: None,
            max_depth: None,
        }
    }

    /// With a TTL.
    pub(crate) fn ttl(mut self, ttl: u64) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// With a max_depth.
    pub(crate) fn max_depth(mut self, max_depth: u32) -> Self {
        self.max_depth = Some(max_depth);
        self
    }
}

/// A minted chain, decoded by us, with what is needed to sign PoPs for it.
#[derive(Debug, Clone)]
pub(crate) struct Minted {
    /// Who minted the leaf (and so who signs PoPs by default).
    pub(crate) minter: Minter,
    /// The warrants, root first, as we decode them.
    pub(crate) chain: Vec<Warrant>,
    /// Holder seed of each warrant.
    pub(crate) holders: Vec<u8>,
    /// The reference's warrants, when it minted them.
    pub(crate) ref_chain: Option<Vec<tenuo::Warrant>>,
}

impl Minted {
    /// Mints `steps` (root first) issued by seed [`ROOT`]: ours at [`T0`] (+ index),
    /// the reference at the wall clock.
    pub(crate) fn mint(minter: Minter, steps: &[Step]) -> Self {
        Self::mint_by(minter, ROOT, steps)
    }

    /// As [`Minted::mint`] with another root issuer.
    pub(crate) fn mint_by(minter: Minter, issuer: u8, steps: &[Step]) -> Self {
        match minter {
            Minter::Ours => mint_ours(issuer, steps, T0),
            Minter::Reference => mint_ref(issuer, steps),
        }
    }

    /// Stack bytes, root first.
    pub(crate) fn stack(&self) -> Vec<u8> {
        encode_chain(&self.chain)
    }

    /// The leaf warrant.
    pub(crate) fn leaf(&self) -> &Warrant {
        self.chain.last().expect("non-empty chain")
    }

    /// Holder seed of the leaf.
    pub(crate) fn leaf_holder(&self) -> u8 {
        *self.holders.last().expect("non-empty chain")
    }

    /// Latest issue time in the chain.
    pub(crate) fn issued_at(&self) -> u64 {
        self.chain
            .iter()
            .map(|w| w.payload().issued_at)
            .max()
            .unwrap_or(0)
    }

    /// Earliest expiry in the chain.
    pub(crate) fn expires_at(&self) -> u64 {
        self.chain
            .iter()
            .map(|w| w.payload().expires_at)
            .min()
            .unwrap_or(0)
    }

    /// A good decision time: 10 s after the latest issue.
    pub(crate) fn now(&self) -> i64 {
        self.issued_at() as i64 + 10
    }

    /// Ids, root first.
    pub(crate) fn ids(&self) -> Vec<WarrantId> {
        self.chain.iter().map(|w| *w.id()).collect()
    }

    /// A chain made of some of these warrants (by index), for reordering and duplication.
    pub(crate) fn pick(&self, indices: &[usize]) -> Self {
        Self {
            minter: Minter::Ours,
            chain: indices.iter().map(|&i| self.chain[i].clone()).collect(),
            holders: indices.iter().map(|&i| self.holders[i]).collect(),
            ref_chain: None,
        }
    }

    /// This chain with one more warrant (forged or minted elsewhere) appended.
    pub(crate) fn push(&self, warrant: Warrant, holder: u8) -> Self {
        let mut next = self.clone();
        next.chain.push(warrant);
        next.holders.push(holder);
        next.minter = Minter::Ours;
        next.ref_chain = None;
        next
    }

    /// A PoP for the leaf by `signer` over `tool(args)` at `ts`, signed by the
    /// implementation that minted the leaf.
    pub(crate) fn pop(&self, signer: u8, tool: &str, args: &Args, ts: i64) -> [u8; 64] {
        self.pop_for(self.chain.len() - 1, signer, tool, args, ts)
    }

    /// A PoP naming the warrant at `index` (normally the leaf).
    pub(crate) fn pop_for(
        &self,
        index: usize,
        signer: u8,
        tool: &str,
        a: &Args,
        ts: i64,
    ) -> [u8; 64] {
        match (&self.ref_chain, self.minter) {
            (Some(chain), Minter::Reference) => chain[index]
                .sign_with_timestamp(&rk(signer), tool, &ref_args(a), Some(ts))
                .expect("reference signs PoP")
                .to_bytes(),
            _ => sign_pop(&ok(signer), self.chain[index].id(), tool, a, ts).to_bytes(),
        }
    }
}

fn mint_ours(issuer: u8, steps: &[Step], t0: u64) -> Minted {
    let root_step = &steps[0];
    let mut issue = Issue::execution(pk(root_step.holder)).ttl_secs(root_step.ttl.unwrap_or(TTL));
    for (tool, cs) in &root_step.tools {
        issue = issue.tool(tool.clone(), cs.clone());
    }
    if let Some(m) = root_step.max_depth {
        issue = issue.max_depth(m);
    }
    let mut chain = vec![issue.sign(&ok(issuer), t0).expect("our root mints")];
    let mut holders = vec![root_step.holder];
    for (i, step) in steps.iter().enumerate().skip(1) {
        let parent = chain.last().expect("parent");
        let mut att = Attenuate::from(parent).holder(pk(step.holder));
        for (tool, cs) in &step.tools {
            att = att.tool(tool.clone(), cs.clone());
        }
        if let Some(ttl) = step.ttl {
            att = att.ttl_secs(ttl);
        }
        if let Some(m) = step.max_depth {
            att = att.max_depth(m);
        }
        let child = att
            .sign(&ok(holders[i - 1]), t0 + i as u64)
            .expect("our child mints");
        chain.push(child);
        holders.push(step.holder);
    }
    Minted {
        minter: Minter::Ours,
        chain,
        holders,
        ref_chain: None,
    }
}

fn mint_ref(issuer: u8, steps: &[Step]) -> Minted {
    let root_step = &steps[0];
    let mut builder = tenuo::Warrant::builder()
        .holder(rk(root_step.holder).public_key())
        .ttl(Duration::from_secs(root_step.ttl.unwrap_or(TTL)));
    for (tool, cs) in &root_step.tools {
        builder = builder.capability(tool.clone(), ref_set(cs));
    }
    if let Some(m) = root_step.max_depth {
        builder = builder.max_depth(m);
    }
    let mut chain = vec![builder.build(&rk(issuer)).expect("reference root mints")];
    let mut holders = vec![root_step.holder];
    for step in steps.iter().skip(1) {
        let parent = chain.last().expect("parent");
        let mut att = parent.attenuate().holder(rk(step.holder).public_key());
        for (tool, cs) in &step.tools {
            att = att.capability(tool.clone(), ref_set(cs));
        }
        if let Some(ttl) = step.ttl {
            att = att.ttl_capped_to_parent(Duration::from_secs(ttl));
        }
        if let Some(m) = step.max_depth {
            att = att.max_depth(m);
        }
        let child = att
            .build(&rk(*holders.last().expect("holder")))
            .expect("reference child mints");
        chain.push(child);
        holders.push(step.holder);
    }
    let stack = tenuo::wire::encode_stack(&tenuo::wire::WarrantStack(chain.clone()))
        .expect("reference encodes stack");
    Minted {
        minter: Minter::Reference,
        chain: decode_stack(&stack).expect("we decode the reference's stack"),
        holders,
        ref_chain: Some(chain),
    }
}

/// The message an issuer signs over payload bytes.
pub(crate) fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut m = b"tenuo-warrant-v1".to_vec();
    m.push(1);
    m.extend_from_slice(payload);
    m
}

/// An envelope around arbitrary payload bytes, signed by `signer`.
pub(crate) fn seal_bytes(payload: &[u8], signer: u8) -> Vec<u8> {
    let sig = ok(signer).sign(&signed_message(payload));
    encode_envelope(payload, &sig)
}

/// A warrant with an arbitrary (structurally valid) payload, signed by `signer`.
pub(crate) fn seal(payload: &Payload, signer: u8) -> Warrant {
    Warrant::decode(&seal_bytes(&encode_payload(payload), signer)).expect("forged warrant decodes")
}

/// A valid child payload of `parent` for `holder`, as attenuation would make it.
pub(crate) fn child_payload(parent: &Warrant, holder: u8, issued_at: u64) -> Payload {
    let p = parent.payload();
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&issued_at.to_be_bytes());
    id[8] = 0x80;
    id[9..12].copy_from_slice(&p.id.0[..3]);
    id[12] = holder;
    id[13] = (p.depth + 1) as u8;
    Payload {
        id: WarrantId(id),
        holder: pk(holder),
        issuer: p.holder,
        issued_at,
        depth: p.depth + 1,
        parent_hash: Some(parent.payload_hash()),
        extensions: BTreeMap::new(),
        ..p.clone()
    }
}

/// The §2 reason the reference's error amounts to (decision-time errors).
pub(crate) fn ref_reason(e: &tenuo::Error) -> DenyReason {
    use tenuo::Error as E;
    match e {
        E::UntrustedRoot => DenyReason::UntrustedIssuer,
        E::WarrantExpired { .. } | E::IssuedInFuture => DenyReason::WarrantExpired,
        E::WarrantRevoked(_) => DenyReason::WarrantRevoked,
        E::ToolNotAuthorized { .. } | E::InvalidWarrantType { .. } => DenyReason::ToolNotInWarrant,
        E::ConstraintNotSatisfied { .. } => DenyReason::ConstraintViolation,
        // A glob or regex that does not compile, found when evaluated: its own
        // server reports it as a constraint violation (`ErrorCode::ConstraintViolation`).
        E::InvalidPattern(_) => DenyReason::ConstraintViolation,
        E::MissingSignature(_) => DenyReason::MissingPop,
        E::SignatureInvalid(m) if m.contains("Proof-of-Possession") => DenyReason::InvalidPop,
        E::SignatureInvalid(_) => DenyReason::SignatureInvalid,
        E::DeserializationError(_) | E::PayloadTooLarge { .. } | E::Validation(_) => {
            DenyReason::InvalidWarrant
        }
        E::FeatureNotEnabled { .. } | E::CelError(_) => DenyReason::Unsupported,
        E::ApprovalRequired { .. } | E::InsufficientApprovals { .. } | E::InvalidApproval(_) => {
            DenyReason::ApprovalRequired
        }
        // Every link error: ChainVerificationFailed, MonotonicityViolation,
        // SelfIssuanceProhibited and the constraint attenuation errors.
        _ => DenyReason::ChainInvalid,
    }
}

/// A decision by either implementation: allow, or deny with a reason and detail.
pub(crate) type Outcome = Result<(), (DenyReason, String)>;

/// The inputs of one decision.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// Stack bytes (root first).
    pub(crate) stack: Vec<u8>,
    /// Trusted root seeds.
    pub(crate) trusted: Vec<u8>,
    /// Revoked warrant ids.
    pub(crate) revoked: Vec<WarrantId>,
    /// Tool called.
    pub(crate) tool: String,
    /// Arguments.
    pub(crate) args: Args,
    /// PoP signature bytes.
    pub(crate) pop: Option<[u8; 64]>,
    /// Decision time.
    pub(crate) now: i64,
    /// Signed approvals presented, each the CBOR of one.
    pub(crate) approvals: Vec<Vec<u8>>,
}

/// Decides inputs with both implementations, caching decoded chains by bytes.
#[derive(Default)]
pub(crate) struct Deciders {
    ours: HashMap<Vec<u8>, Result<PreparedChain, (DenyReason, String)>>,
    theirs: HashMap<Vec<u8>, Result<Vec<tenuo::Warrant>, String>>,
    srl: HashMap<Vec<WarrantId>, tenuo::SignedRevocationList>,
}

impl Deciders {
    /// Our decision: `decode_stack`, then [`decide`] on a [`PreparedChain`] built
    /// once per distinct stack (the server's path; the same answer as
    /// [`authorize`], which re-verifies every signature on every call).
    pub(crate) fn ours(&mut self, input: &Input) -> Outcome {
        let prepared = self.ours.entry(input.stack.clone()).or_insert_with(|| {
            match decode_stack(&input.stack) {
                Err(e) => Err((DenyReason::InvalidWarrant, e.to_string())),
                Ok(chain) => PreparedChain::new(chain)
                    .ok_or((DenyReason::MissingWarrant, "empty".to_owned())),
            }
        });
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => return Err(e.clone()),
        };
        with_call_of(input, |trusted, revoked, call| {
            decide(prepared, trusted, revoked, &Policy::default(), call)
        })
    }

    /// Our decision through the uncached [`authorize`] (verifies every signature).
    pub(crate) fn ours_uncached(input: &Input) -> Outcome {
        Self::ours_under(input, &Policy::default())
    }

    /// [`Self::ours_uncached`] under `policy`.
    pub(crate) fn ours_under(input: &Input, policy: &Policy) -> Outcome {
        let chain =
            decode_stack(&input.stack).map_err(|e| (DenyReason::InvalidWarrant, e.to_string()))?;
        with_call_of(input, |trusted, revoked, call| {
            authorize(&chain, trusted, revoked, policy, call)
        })
    }

    /// The reference's decision: `tenuo::wire::decode_stack` (an error is a deny,
    /// reason invalid_warrant), then `Authorizer::check_chain_with_pop_args_as_of`
    /// with the trusted roots and, when ids are revoked, a signed revocation list.
    pub(crate) fn theirs(&mut self, input: &Input) -> Outcome {
        let chain = self.theirs.entry(input.stack.clone()).or_insert_with(|| {
            tenuo::wire::decode_stack(&input.stack)
                .map(|s| s.0)
                .map_err(|e| e.to_string())
        });
        let chain = match chain {
            Ok(c) => c,
            Err(e) => return Err((DenyReason::InvalidWarrant, e.clone())),
        };
        reference_check(&mut self.srl, chain, input)
    }

    /// Our decision when no warrant is presented at all: [`authorize`] on an
    /// empty chain (what `Authorizer::authorize` does for an absent or blank token).
    pub(crate) fn ours_without_warrant(input: &Input) -> Outcome {
        with_call_of(input, |trusted, revoked, call| {
            authorize(&[], trusted, revoked, &Policy::default(), call)
        })
    }

    /// The reference's decision when no warrant is presented: the same check on
    /// an empty chain. It has no "missing warrant" error: it refuses an empty
    /// chain as a failed chain verification (`ChainVerificationFailed`).
    pub(crate) fn theirs_without_warrant(&mut self, input: &Input) -> Outcome {
        reference_check(&mut self.srl, &[], input)
    }
}

/// Runs one of our decision functions with `input`'s trusted roots, revocations and
/// call, and reduces its answer to an [`Outcome`].
fn with_call_of(
    input: &Input,
    decide: impl FnOnce(&TrustedIssuers, &HashSet<WarrantId>, &Call<'_>) -> Result<Authorized, Denial>,
) -> Outcome {
    let trusted = TrustedIssuers::new(input.trusted.iter().map(|&s| pk(s)));
    let revoked: HashSet<WarrantId> = input.revoked.iter().copied().collect();
    let pop = input.pop.map(|b| Signature::from_bytes(&b));
    let approvals: Vec<SignedApproval> = input
        .approvals
        .iter()
        .map(|bytes| SignedApproval::from_cbor(&value_of(bytes)).expect("our approval decodes"))
        .collect();
    let call = Call {
        tool: &input.tool,
        args: &input.args,
        pop: pop.as_ref(),
        approvals: &approvals,
        now: input.now,
    };
    decide(&trusted, &revoked, &call)
        .map(|_| ())
        .map_err(|d| (d.reason(), d.to_string()))
}

/// `Authorizer::check_chain_with_pop_args_as_of` on `chain`, with the trusted
/// roots and, when ids are revoked, a signed revocation list (cached in `srl`).
fn reference_check(
    srl: &mut HashMap<Vec<WarrantId>, tenuo::SignedRevocationList>,
    chain: &[tenuo::Warrant],
    input: &Input,
) -> Outcome {
    let mut authorizer = tenuo::Authorizer::new();
    for &seed in &input.trusted {
        authorizer.add_trusted_root(rk(seed).public_key());
    }
    if !input.revoked.is_empty() {
        let srl = srl
            .entry(input.revoked.clone())
            .or_insert_with(|| {
                tenuo::SignedRevocationList::builder()
                    .revoke_all(input.revoked.iter().map(|id| id.to_string()))
                    .build(&rk(SRL_SIGNER))
                    .expect("SRL builds")
            })
            .clone();
        authorizer
            .set_revocation_list(srl, &rk(SRL_SIGNER).public_key())
            .expect("SRL installs");
    }
    let args = ref_args(&input.args);
    let pop = input
        .pop
        .map(|b| tenuo::Signature::from_bytes(&b).expect("64 bytes"));
    let approvals: Vec<tenuo::approval::SignedApproval> = input
        .approvals
        .iter()
        .map(|bytes| {
            ciborium::de::from_reader(bytes.as_slice()).expect("reference decodes approval")
        })
        .collect();
    authorizer
        .check_chain_with_pop_args_as_of(
            chain,
            &input.tool,
            &args,
            &args,
            pop.as_ref(),
            &approvals,
            input.now,
        )
        .map(|_| ())
        .map_err(|e| (ref_reason(&e), e.to_string()))
}

/// A random-ish but deterministic generator (SplitMix64), for fixed-seed loops.
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
