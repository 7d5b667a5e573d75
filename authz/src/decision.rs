//! The decision: a pure function of (chain, trusted issuers, revocations, policy,
//! tool, arguments, PoP, now) that allows, or denies with a §2 reason.
//!
//! ```
//! use tenuo_authz::{decision::{authorize, Call, Policy, TrustedIssuers}, mint::Issue,
//!     constraint::{ArgValue, Constraint, ConstraintSet}, crypto::SigningKey, pop::{sign_pop, Args}, DenyReason};
//!
//! let control_plane = SigningKey::from_bytes(&[1; 32]);
//! let agent = SigningKey::from_bytes(&[2; 32]);
//! let now = 1_800_000_000;
//! let mut only_data = ConstraintSet::new();
//! only_data.insert("path", Constraint::pattern("/data/*").unwrap());
//! let warrant = Issue::execution(agent.public_key())
//!     .tool("read_file", only_data)
//!     .sign(&control_plane, now as u64)
//!     .unwrap();
//!
//! let trusted = TrustedIssuers::new([control_plane.public_key()]);
//! let mut args = Args::new();
//! args.insert("path".into(), ArgValue::String("/data/report.csv".into()));
//! let pop = sign_pop(&agent, warrant.id(), "read_file", &args, now);
//! let call = Call { tool: "read_file", args: &args, pop: Some(&pop), approvals: &[], now };
//! let chain = [warrant];
//! assert!(authorize(&chain, &trusted, &(), &Policy::default(), &call).is_ok());
//!
//! args.insert("path".into(), ArgValue::String("/etc/passwd".into()));
//! let pop = sign_pop(&agent, chain[0].id(), "read_file", &args, now);
//! let call = Call { tool: "read_file", args: &args, pop: Some(&pop), approvals: &[], now };
//! let denied = authorize(&chain, &trusted, &(), &Policy::default(), &call).unwrap_err();
//! assert_eq!(denied.reason(), DenyReason::ConstraintViolation);
//! ```

use crate::approval::threshold::ApprovalCall;
use crate::approval::SignedApproval;
use crate::chain::{PreparedChain, Stage};
use crate::constraint::ConstraintSet;
use crate::crypto::{PublicKey, Signature};
use crate::deny::{Denial, TimeError};
use crate::pop::{verify_pop, Args};
use crate::warrant::{Warrant, WarrantId};

pub use crate::policy::{Policy, Revocations, TrustedIssuers, DEFAULT_CLOCK_TOLERANCE_SECS};

/// One tool call to decide.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The tool.
    pub tool: &'a str,
    /// Its arguments.
    pub args: &'a Args,
    /// The holder's PoP signature, if any.
    pub pop: Option<&'a Signature>,
    /// Signed approvals presented with the call (empty for most calls).
    pub approvals: &'a [SignedApproval],
    /// Unix seconds of the decision.
    pub now: i64,
}

/// What an allowed call was allowed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// The leaf warrant's id.
    pub warrant_id: WarrantId,
    /// The tool called.
    pub tool: String,
    /// The leaf's holder, who signed the PoP.
    pub holder: PublicKey,
    /// The leaf's depth.
    pub depth: u32,
    /// Earliest expiry in the chain, Unix seconds.
    pub expires_at: u64,
    /// Seconds until that expiry.
    pub ttl_remaining_secs: u64,
}

/// Decides a call against a chain (root first): verify, then authorize.
pub fn authorize(
    chain: &[Warrant],
    trusted: &TrustedIssuers,
    revocations: &dyn Revocations,
    policy: &Policy,
    call: &Call<'_>,
) -> Result<Authorized, Denial> {
    let prepared = PreparedChain::with_criterion(chain.to_vec(), policy.signatures)
        .ok_or(Denial::MissingWarrant)?;
    decide(&prepared, trusted, revocations, policy, call)
}

/// Decides a call against a prepared chain. The same answer, reason included, as
/// [`authorize`] on the same warrants, when the chain was prepared with
/// `policy.signatures` (its signatures were judged then, by that criterion).
pub fn decide(
    chain: &PreparedChain,
    trusted: &TrustedIssuers,
    revocations: &dyn Revocations,
    policy: &Policy,
    call: &Call<'_>,
) -> Result<Authorized, Denial> {
    let grant = check_before_pop(chain, trusted, revocations, policy, call)?;
    verify_call_pop(chain, policy, call)?;
    finish_after_pop(chain, grant, policy, call)
}

/// The PoP step of a decision: the call's PoP verified for the leaf's holder, in
/// the windows `policy` accepts around `call.now`.
pub fn verify_call_pop(
    chain: &PreparedChain,
    policy: &Policy,
    call: &Call<'_>,
) -> Result<(), Denial> {
    let leaf = chain.leaf();
    verify_pop(
        &leaf.holder,
        &leaf.id,
        call.tool,
        call.args,
        call.pop,
        call.now,
        policy.pop_windows,
    )?;
    Ok(())
}

/// The part of a decision before the PoP: the chain at `now`, then the tool.
/// Returns the constraints the call's arguments must meet.
///
/// Split from [`decide`] so a caller may verify the PoP elsewhere (in a batch)
/// and then call [`finish_after_pop`]; the reference's order is kept.
pub fn check_before_pop<'c>(
    chain: &'c PreparedChain,
    trusted: &TrustedIssuers,
    revocations: &dyn Revocations,
    policy: &Policy,
    call: &Call<'_>,
) -> Result<&'c ConstraintSet, Denial> {
    check_chain_at(chain, trusted, revocations, policy, call.now)?;
    chain
        .leaf_grant(call.tool)
        .ok_or_else(|| Denial::ToolNotInWarrant {
            tool: call.tool.to_owned(),
            id: chain.leaf().id,
        })
}

/// The part of a decision after a verified PoP: arguments, then approvals (the
/// reference evaluates gates only on a call its constraints admit).
pub fn finish_after_pop(
    chain: &PreparedChain,
    grant: &ConstraintSet,
    policy: &Policy,
    call: &Call<'_>,
) -> Result<Authorized, Denial> {
    grant
        .check_args(call.args)
        .map_err(|violation| Denial::Constraint {
            violation,
            id: chain.leaf().id,
        })?;
    let leaf = chain.leaf();
    if let Some(required) = &leaf.approvals {
        let approval_call = ApprovalCall {
            leaf: &leaf.id,
            holder: &leaf.holder,
            tool: call.tool,
            args: call.args,
            now: call.now.max(0) as u64,
            tolerance_secs: policy.clock_tolerance_secs,
        };
        required.check(&approval_call, call.approvals)?;
    }
    let expires_at = chain.expires_at();
    Ok(Authorized {
        warrant_id: leaf.id,
        tool: call.tool.to_owned(),
        holder: *leaf.holder,
        depth: leaf.depth,
        expires_at,
        ttl_remaining_secs: expires_at.saturating_sub(call.now.max(0) as u64),
    })
}

/// Checks the chain alone at `now`: revocation, trust, shape, signatures, time and
/// links, in the reference's order.
pub fn check_chain_at(
    chain: &PreparedChain,
    trusted: &TrustedIssuers,
    revocations: &dyn Revocations,
    policy: &Policy,
    now: i64,
) -> Result<(), Denial> {
    if !revocations.revokes_nothing() {
        if let Some(revoked) = chain
            .lifetimes
            .iter()
            .find(|l| revocations.is_revoked(&l.id))
        {
            return Err(Denial::Revoked(revoked.id));
        }
    }
    let failure_at = |stage: Stage| match chain.failure.as_deref() {
        Some((s, denial)) if *s == stage => Err(denial.clone()),
        _ => Ok(()),
    };
    failure_at(Stage::Duplicates)?;
    if !trusted.contains_bytes(chain.root_issuer()) {
        return Err(Denial::UntrustedIssuer(Box::new(*chain.root_issuer())));
    }
    failure_at(Stage::Shape)?;
    let now_secs = now.max(0) as u64;
    let not_before = now_secs.saturating_add(policy.clock_tolerance_secs);
    // Every warrant is within its time exactly when the earliest expiry is still
    // ahead and the latest issue is not beyond the tolerance: only then is the
    // walk below, which names the first warrant that is not, skipped.
    let window = chain.time_window();
    if now_secs < window.earliest_expiry && window.latest_issued_at <= not_before {
        return failure_at(Stage::Links);
    }
    for lifetime in &chain.lifetimes {
        if now_secs >= lifetime.expires_at {
            return Err(TimeError::Expired {
                id: lifetime.id,
                expires_at: lifetime.expires_at,
            }
            .into());
        }
        if lifetime.issued_at > not_before {
            return Err(TimeError::NotYetValid {
                id: lifetime.id,
                issued_at: lifetime.issued_at,
            }
            .into());
        }
    }
    failure_at(Stage::Links)
}
