//! What a leaf requires of approvals, computed once per chain, and the count of
//! the approvals a call presents against it.
//!
//! An approval counts when it verifies, names an approver of the leaf not
//! already counted, has not expired (expiry is exact), is not dated beyond the
//! clock tolerance in the future, and was signed over this call's request hash.
//! The first `threshold` such approvals allow the call; duplicates and strangers
//! count for nothing. More than twice as many approvals as approvers are refused
//! unread, as the reference refuses them, to bound the signature checks a
//! request can cause.

use std::collections::HashSet;

use super::error::{ApprovalDenial, ApprovalShortfall, GateError};
use super::gates::{GateMap, APPROVAL_GATES_EXTENSION};
use super::request_hash::request_hash;
use super::signed::SignedApproval;
use crate::crypto::PublicKey;
use crate::pop::Args;
use crate::warrant::{Payload, WarrantId};

/// The leaf's approval requirements, for a leaf that carries a gate map.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafApprovals {
    gates: Result<GateMap, GateError>,
    approvers: Vec<PublicKey>,
    threshold: u32,
}

/// The call approvals are checked for.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalCall<'a> {
    /// The leaf's id.
    pub leaf: &'a WarrantId,
    /// The leaf's holder.
    pub holder: &'a PublicKey,
    /// The tool.
    pub tool: &'a str,
    /// Its arguments.
    pub args: &'a Args,
    /// Unix seconds of the decision.
    pub now: u64,
    /// How far in the future an approval may be dated.
    pub tolerance_secs: u64,
}

impl LeafApprovals {
    /// What `leaf` requires; `None` when it has no gate map, so no call on it
    /// needs approvals (approvers alone gate nothing, as in the reference).
    pub fn for_leaf(leaf: &Payload) -> Option<Self> {
        let raw = leaf.extensions.get(APPROVAL_GATES_EXTENSION)?;
        let gates = match GateMap::parse(Some(raw)) {
            Ok(None) => return None,
            Ok(Some(map)) => Ok(map),
            Err(e) => Err(e),
        };
        let approvers = leaf.required_approvers.clone().unwrap_or_default();
        Some(Self {
            gates,
            threshold: threshold(&approvers, leaf.min_approvals),
            approvers,
        })
    }

    /// The approvals needed when a gate fires.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Allows `call` if no gate fires on it, or if `approvals` meet the threshold.
    pub fn check(
        &self,
        call: &ApprovalCall<'_>,
        approvals: &[SignedApproval],
    ) -> Result<(), ApprovalDenial> {
        let gates = self.gates.as_ref().map_err(|e| e.clone())?;
        if !gates.requires_approval(call.tool, call.args)? {
            return Ok(());
        }
        if self.approvers.is_empty() {
            return Err(ApprovalDenial::NoApprovers {
                tool: call.tool.to_owned(),
            });
        }
        let hash = request_hash(call.leaf, call.tool, call.args, call.holder);
        let shortfall = |received| ApprovalDenial::Required {
            tool: call.tool.to_owned(),
            shortfall: Box::new(ApprovalShortfall {
                request_hash: hash,
                required: self.threshold,
                received,
                approvers: self.approvers.clone(),
            }),
        };
        if approvals.is_empty() {
            return Err(shortfall(0));
        }
        let max = self.approvers.len().saturating_mul(2);
        if approvals.len() > max {
            return Err(ApprovalDenial::TooMany {
                given: approvals.len(),
                max,
            });
        }
        let mut counted: HashSet<[u8; 32]> = HashSet::new();
        for approval in approvals {
            let key = approval.approver.to_bytes();
            // The cheap checks first; the signature only for a candidate that could count.
            if counted.contains(&key) || !self.approvers.contains(&approval.approver) {
                continue;
            }
            let Some(payload) = approval.verify() else {
                continue;
            };
            let fresh = call.now < payload.expires_at
                && payload.approved_at <= call.now.saturating_add(call.tolerance_secs);
            if fresh && payload.request_hash == hash {
                counted.insert(key);
                if counted.len() as u32 >= self.threshold {
                    return Ok(());
                }
            }
        }
        Err(shortfall(counted.len() as u32))
    }
}

/// `min_approvals` capped at the distinct approvers, or all of them when unset.
pub(crate) fn threshold(approvers: &[PublicKey], min: Option<u32>) -> u32 {
    let distinct = approvers
        .iter()
        .map(PublicKey::to_bytes)
        .collect::<HashSet<_>>()
        .len() as u32;
    min.map_or(distinct, |m| m.min(distinct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::gates::ToolGate;
    use crate::approval::ApprovalPayload;
    use crate::crypto::SigningKey;
    use std::collections::BTreeMap;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn leaf(approvers: &[u8], min: u32) -> LeafApprovals {
        let mut tools = BTreeMap::new();
        tools.insert("delete".to_owned(), ToolGate { args: None });
        let approvers: Vec<_> = approvers.iter().map(|s| key(*s).public_key()).collect();
        LeafApprovals {
            gates: Ok(GateMap(tools)),
            threshold: threshold(&approvers, Some(min)),
            approvers,
        }
    }

    fn approve(seed: u8, call: &ApprovalCall<'_>, expires_at: u64) -> SignedApproval {
        let hash = request_hash(call.leaf, call.tool, call.args, call.holder);
        let payload = ApprovalPayload::new(hash, [seed; 16], "a", call.now - 10, expires_at);
        SignedApproval::sign(&payload, &key(seed))
    }

    #[test]
    fn counts_distinct_valid_approvals_from_approvers() {
        let id = WarrantId([1; 16]);
        let holder = key(9).public_key();
        let args = Args::new();
        let call = ApprovalCall {
            leaf: &id,
            holder: &holder,
            tool: "delete",
            args: &args,
            now: 1000,
            tolerance_secs: 30,
        };
        let l = leaf(&[1, 2, 3], 2);
        let received = |e: ApprovalDenial| e.shortfall().map(|s| s.received);
        assert!(l
            .check(
                &ApprovalCall {
                    tool: "read",
                    ..call
                },
                &[]
            )
            .is_ok());
        assert_eq!(received(l.check(&call, &[]).unwrap_err()), Some(0));
        let a1 = approve(1, &call, 2000);
        let a2 = approve(2, &call, 2000);
        assert!(l.check(&call, &[a1.clone(), a2.clone()]).is_ok());
        // A duplicate, a stranger and an expired approval do not count.
        assert_eq!(
            received(l.check(&call, &[a1.clone(), a1.clone()]).unwrap_err()),
            Some(1)
        );
        assert_eq!(
            received(
                l.check(&call, &[a1.clone(), approve(7, &call, 2000)])
                    .unwrap_err()
            ),
            Some(1)
        );
        assert_eq!(
            received(
                l.check(&call, &[a1.clone(), approve(2, &call, 1000)])
                    .unwrap_err()
            ),
            Some(1)
        );
        // Signed for other arguments.
        let mut other = Args::new();
        other.insert("x".into(), crate::constraint::ArgValue::Integer(1));
        let elsewhere = approve(
            2,
            &ApprovalCall {
                args: &other,
                ..call
            },
            2000,
        );
        assert_eq!(
            received(l.check(&call, &[a1.clone(), elsewhere]).unwrap_err()),
            Some(1)
        );
        // More than twice the approvers.
        assert!(matches!(
            l.check(&call, &vec![a1; 7]),
            Err(ApprovalDenial::TooMany { given: 7, max: 6 })
        ));
    }
}
