//! Target `differential`: one decision made from the same bytes by ours
//! (`tenuo_authz`) and by the reference implementation (`tenuo` 0.3.5), compared.
//!
//! Input ([`Case::encode`]): trusted root seeds, the time, a PoP, the tool, the
//! arguments as CBOR, then the stack bytes. The conformance suite writes its
//! cases in this form (`TENUO_FUZZ_SEEDS_DIR`), so the seeds are real chains.
//!
//! Invariant: we never allow what the reference denies; where we deny and the
//! reference allows, our reason is one of the documented fail-closed classes
//! (`unsupported`, `invalid_warrant`; see the README's Compatibility section).
//! Also, below the decision (the PoP covers the arguments, so a mutated
//! argument is otherwise only ever refused as `invalid_pop`): every `Shlex`
//! constraint of the tool's grants judges its argument, and every link
//! attenuates a `Shlex` parent, as the reference does ([`crate::shlex`]).

use std::collections::HashMap;

use tenuo_authz::chain::PreparedChain;
use tenuo_authz::crypto::{Signature, SigningKey};
use tenuo_authz::decision::{decide, Call, Policy, TrustedIssuers};
use tenuo_authz::pop::Args;
use tenuo_authz::wire::decode_stack;
use tenuo_authz::DenyReason;

use crate::constraints::{args_of, args_to_cbor};
use crate::input::{Reader, Writer};

/// Most trusted roots a case names.
const MAX_TRUSTED: usize = 3;

/// One decision's inputs.
#[derive(Debug, Clone)]
pub struct Case {
    /// Seeds of the trusted root keys (`SigningKey::from_bytes(&[seed; 32])`).
    pub trusted: Vec<u8>,
    /// Decision time, Unix seconds.
    pub now: i64,
    /// The PoP signature.
    pub pop: Option<[u8; 64]>,
    /// The tool.
    pub tool: String,
    /// The arguments.
    pub args: Args,
    /// The stack bytes (CBOR).
    pub stack: Vec<u8>,
}

impl Case {
    /// The fuzz input for this case.
    pub fn encode(&self) -> Vec<u8> {
        let mut args = Vec::new();
        // Writing CBOR into a Vec cannot fail.
        let _ = ciborium::ser::into_writer(&args_to_cbor(&self.args), &mut args);
        let trusted = &self.trusted[..self.trusted.len().min(MAX_TRUSTED)];
        Writer::new()
            .u8(trusted.len() as u8)
            .bytes(trusted)
            .i64(self.now)
            .u8(u8::from(self.pop.is_some()))
            .bytes(&self.pop.unwrap_or([0; 64]))
            .field16(self.tool.as_bytes())
            .field32(&args)
            .bytes(&self.stack)
            .finish()
    }

    /// Reads a fuzz input (never fails: missing fields are empty).
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Reader::new(data);
        let count = usize::from(input.u8()) % (MAX_TRUSTED + 1);
        let trusted = input.bytes(count).to_vec();
        let now = input.i64();
        let has_pop = input.u8() % 2 == 1;
        let mut pop = [0u8; 64];
        let got = input.bytes(64);
        pop[..got.len()].copy_from_slice(got);
        let tool = String::from_utf8_lossy(input.field16()).into_owned();
        let args = ciborium::de::from_reader::<ciborium::Value, _>(input.field32())
            .map(|v| args_of(&v))
            .unwrap_or_default();
        Self {
            trusted,
            now,
            pop: has_pop.then_some(pop),
            tool,
            args,
            stack: input.rest().to_vec(),
        }
    }
}

/// Our decision: `Ok` or the §2 reason.
pub fn ours(case: &Case) -> Result<(), DenyReason> {
    let chain = decode_stack(&case.stack).map_err(|_| DenyReason::InvalidWarrant)?;
    let prepared = PreparedChain::new(chain).ok_or(DenyReason::MissingWarrant)?;
    let trusted = TrustedIssuers::new(
        case.trusted
            .iter()
            .map(|&s| SigningKey::from_bytes(&[s; 32]).public_key()),
    );
    let pop = case.pop.map(|b| Signature::from_bytes(&b));
    let call = Call {
        tool: &case.tool,
        args: &case.args,
        pop: pop.as_ref(),
        approvals: &[],
        now: case.now,
    };
    decide(&prepared, &trusted, &(), &Policy::default(), &call)
        .map(|_| ())
        .map_err(|d| d.reason())
}

/// The reference's decision: `Ok`, `Err(message)`, or `None` when the case
/// cannot be put to it (arguments it cannot represent).
pub fn theirs(case: &Case) -> Option<Result<(), String>> {
    let mut args = HashMap::new();
    for (name, value) in &case.args {
        let mut bytes = Vec::new();
        let _ = ciborium::ser::into_writer(&value.to_cbor(), &mut bytes);
        let value: tenuo::ConstraintValue = ciborium::de::from_reader(bytes.as_slice()).ok()?;
        args.insert(name.clone(), value);
    }
    let chain = match tenuo::wire::decode_stack(&case.stack) {
        Ok(stack) => stack.0,
        Err(e) => return Some(Err(e.to_string())),
    };
    let mut authorizer = tenuo::Authorizer::new();
    for &seed in &case.trusted {
        authorizer.add_trusted_root(tenuo::SigningKey::from_bytes(&[seed; 32]).public_key());
    }
    let pop = match case.pop.map(|b| tenuo::Signature::from_bytes(&b)) {
        Some(Err(e)) => return Some(Err(e.to_string())),
        Some(Ok(sig)) => Some(sig),
        None => None,
    };
    Some(
        authorizer
            .check_chain_with_pop_args_as_of(
                &chain,
                &case.tool,
                &args,
                &args,
                pop.as_ref(),
                &[],
                case.now,
            )
            .map(|_| ())
            .map_err(|e| e.to_string()),
    )
}

/// The constraint-level comparison for the `Shlex` constraints of the chain.
fn compare_shlex(case: &Case) {
    let Ok(chain) = decode_stack(&case.stack) else {
        return;
    };
    let grants: Vec<_> = chain
        .iter()
        .map(|w| w.payload().tools.get(&case.tool))
        .collect();
    for grant in grants.iter().flatten() {
        crate::shlex::compare_set(grant, &case.args);
    }
    for pair in grants.windows(2) {
        if let [Some(parent), Some(child)] = pair {
            crate::shlex::compare_link(parent, child);
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let case = Case::decode(data);
    compare_shlex(&case);
    let ours = ours(&case);
    // The reference is only asked about stacks our decoder accepts: a stack we
    // refuse is denied, which is the fail-closed direction whatever it says.
    if ours == Err(DenyReason::InvalidWarrant) {
        return;
    }
    let Some(theirs) = theirs(&case) else { return };
    match (&ours, &theirs) {
        (Ok(()), Err(e)) => panic!("we allow, the reference denies ({e}): {case:?}"),
        (Err(reason), Ok(()))
            if !matches!(reason, DenyReason::Unsupported | DenyReason::InvalidWarrant) =>
        {
            panic!("we deny ({reason}), the reference allows: {case:?}")
        }
        _ => {}
    }
}
