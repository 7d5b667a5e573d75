//! The delegation rule for approvals: a child may not weaken what its parent
//! gates. While the child still holds a gated tool (by name or through `*`) it
//! keeps that tool's gate at least as strict, keeps every parent approver, and
//! raises the threshold by one for every approver it adds; and under a parent
//! gate that has no approvers it may not name approvers of its own.

use std::collections::HashSet;

use super::error::GateError;
use super::gates::{ArgGate, GateMap, APPROVAL_GATES_EXTENSION};
use super::threshold::threshold;
use crate::constraint::{ArgValue, Constraint};
use crate::crypto::PublicKey;
use crate::warrant::{Payload, WarrantType};

/// How a link weakens approvals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalLinkError {
    /// The child dropped the gate of a tool it still holds.
    #[error("approval gate of tool {0} removed")]
    GateRemoved(String),
    /// The child gates a tool's calls more narrowly than the parent.
    #[error("approval gate of tool {0} weakened")]
    GateWeakened(String),
    /// The child dropped an approver of the parent.
    #[error("a parent approver was removed")]
    ApproverRemoved,
    /// The child's threshold is below the parent's plus the approvers it added.
    #[error("approval threshold {child} is below the required {required}")]
    ThresholdLowered {
        /// The child's threshold.
        child: u32,
        /// What it must be at least.
        required: u32,
    },
    /// The child names approvers under a parent gate that has none.
    #[error("approvers added under a parent gate that has none")]
    ApproversUnderUnapprovableGate,
}

/// Why a link fails the approval rule: a gate map that does not parse (an
/// invalid warrant), or a weakening (a broken chain).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LinkFailure {
    /// A gate map does not parse.
    Gate(GateError),
    /// The child weakens the parent's approvals.
    Weakened(ApprovalLinkError),
}

/// Checks one parent-to-child link.
pub fn check_link(parent: &Payload, child: &Payload) -> Result<(), LinkFailure> {
    let gates = |p: &Payload| {
        GateMap::parse(
            p.extensions
                .get(APPROVAL_GATES_EXTENSION)
                .map(Vec::as_slice),
        )
        .map_err(LinkFailure::Gate)
    };
    let Some(parent_gates) = gates(parent)? else {
        return Ok(());
    };
    let child_gates = gates(child)?;
    let scope = scope(child);
    let in_scope = |tool: &str| scope.contains(tool) || scope.contains("*");
    let weakened = LinkFailure::Weakened;

    for (tool, parent_gate) in &parent_gates.0 {
        if !in_scope(tool) {
            continue;
        }
        let Some(child_gate) = child_gates.as_ref().and_then(|g| g.get(tool)) else {
            return Err(weakened(ApprovalLinkError::GateRemoved(tool.clone())));
        };
        match (&parent_gate.args, &child_gate.args) {
            (None, None) | (Some(_), None) => {}
            (None, Some(_)) => return Err(weakened(ApprovalLinkError::GateWeakened(tool.clone()))),
            (Some(parent_args), Some(child_args)) => {
                for (arg, p) in parent_args {
                    let strict_enough = child_args
                        .get(arg)
                        .is_some_and(|c| at_least_as_strict(c, p));
                    if !strict_enough {
                        return Err(weakened(ApprovalLinkError::GateWeakened(tool.clone())));
                    }
                }
            }
        }
    }

    let parent_approvers = parent.required_approvers.as_deref().unwrap_or_default();
    let child_approvers = child.required_approvers.as_deref().unwrap_or_default();
    if parent_approvers.is_empty()
        && !child_approvers.is_empty()
        && parent_gates.0.keys().any(|t| in_scope(t))
    {
        return Err(weakened(ApprovalLinkError::ApproversUnderUnapprovableGate));
    }
    if child_gates.is_some() {
        if let Some(parent_list) = &parent.required_approvers {
            let Some(child_list) = &child.required_approvers else {
                return Err(weakened(ApprovalLinkError::ApproverRemoved));
            };
            let keys = |l: &[PublicKey]| l.iter().map(PublicKey::to_bytes).collect::<HashSet<_>>();
            let (p, c) = (keys(parent_list), keys(child_list));
            if !p.is_subset(&c) {
                return Err(weakened(ApprovalLinkError::ApproverRemoved));
            }
            let added = c.difference(&p).count() as u32;
            let required = threshold(parent_list, parent.min_approvals).saturating_add(added);
            let child_threshold = threshold(child_list, child.min_approvals);
            if child_threshold < required {
                return Err(weakened(ApprovalLinkError::ThresholdLowered {
                    child: child_threshold,
                    required,
                }));
            }
        }
    }
    Ok(())
}

/// The tools a child's gates are scoped to: its tools, or what an issuer
/// warrant may issue.
fn scope(child: &Payload) -> HashSet<&str> {
    match child.warrant_type {
        WarrantType::Execution => child.tools.keys().map(String::as_str).collect(),
        WarrantType::Issuer => child
            .issuable_tools
            .iter()
            .flatten()
            .map(String::as_str)
            .collect(),
    }
}

/// Whether the child's argument gate fires on every value the parent's does.
fn at_least_as_strict(child: &ArgGate, parent: &ArgGate) -> bool {
    match (child, parent) {
        (c, p) if c == p => true,
        (ArgGate::All, _) => true,
        (_, ArgGate::All) => false,
        // An exemption may only shrink; a gating constraint may only grow.
        // Both read as "child narrows parent" under the attenuation rules.
        (ArgGate::Exempt(c), ArgGate::Exempt(p))
        | (ArgGate::Constraint(c), ArgGate::Constraint(p)) => {
            let (c, p) = (normalized(c), normalized(p));
            c == p || p.check_attenuation(&c).is_ok()
        }
        _ => false,
    }
}

/// Set-valued constraints with their values in a canonical order, so the same
/// set written in another order compares equal.
fn normalized(c: &Constraint) -> Constraint {
    let sorted = |values: &[ArgValue]| {
        let mut v = values.to_vec();
        v.sort_by(order);
        v
    };
    match c {
        Constraint::OneOf(v) => Constraint::OneOf(sorted(v)),
        Constraint::NotOneOf(v) => Constraint::NotOneOf(sorted(v)),
        Constraint::Contains(v) => Constraint::Contains(sorted(v)),
        Constraint::Subset(v) => Constraint::Subset(sorted(v)),
        other => other.clone(),
    }
}

/// A total order on values: null, bool, integer, float, text, list, object.
fn order(a: &ArgValue, b: &ArgValue) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &ArgValue) -> u8 {
        match v {
            ArgValue::Null => 0,
            ArgValue::Bool(_) => 1,
            ArgValue::Integer(_) => 2,
            ArgValue::Float(_) => 3,
            ArgValue::String(_) => 4,
            ArgValue::List(_) => 5,
            ArgValue::Object(_) => 6,
        }
    }
    match (a, b) {
        (ArgValue::Bool(x), ArgValue::Bool(y)) => x.cmp(y),
        (ArgValue::Integer(x), ArgValue::Integer(y)) => x.cmp(y),
        (ArgValue::Float(x), ArgValue::Float(y)) => x.total_cmp(y),
        (ArgValue::String(x), ArgValue::String(y)) => x.cmp(y),
        (ArgValue::List(x), ArgValue::List(y)) => x
            .iter()
            .zip(y)
            .map(|(a, b)| order(a, b))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (ArgValue::Object(x), ArgValue::Object(y)) => x
            .iter()
            .zip(y)
            .map(|((ka, va), (kb, vb))| ka.cmp(kb).then_with(|| order(va, vb)))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::ToolGate;
    use crate::constraint::ConstraintSet;
    use crate::crypto::SigningKey;
    use crate::mint::Issue;
    use std::collections::BTreeMap;

    fn key(seed: u8) -> PublicKey {
        SigningKey::from_bytes(&[seed; 32]).public_key()
    }

    fn gated(tool: &str, args: Option<BTreeMap<String, ArgGate>>) -> Vec<u8> {
        let mut map = GateMap::default();
        map.0.insert(tool.into(), ToolGate { args });
        map.to_cbor_bytes()
    }

    fn parent() -> Payload {
        Issue::execution(key(2))
            .tool("delete", ConstraintSet::new())
            .tool("read", ConstraintSet::new())
            .required_approvers([key(70), key(71), key(72)])
            .min_approvals(2)
            .sign(&SigningKey::from_bytes(&[1; 32]), 1_800_000_000)
            .unwrap()
            .into_payload()
    }

    fn weakened(result: Result<(), LinkFailure>) -> Option<ApprovalLinkError> {
        match result {
            Err(LinkFailure::Weakened(e)) => Some(e),
            _ => None,
        }
    }

    #[test]
    fn a_child_keeps_gates_approvers_and_threshold() {
        let mut p = parent();
        p.extensions
            .insert(APPROVAL_GATES_EXTENSION.into(), gated("delete", None));
        let mut child = p.clone();
        assert_eq!(check_link(&p, &child), Ok(()));
        // Adding an approver raises the threshold by one.
        child.required_approvers = Some(vec![key(70), key(71), key(72), key(73)]);
        assert!(matches!(
            weakened(check_link(&p, &child)),
            Some(ApprovalLinkError::ThresholdLowered {
                child: 2,
                required: 3
            })
        ));
        child.min_approvals = Some(3);
        assert_eq!(check_link(&p, &child), Ok(()));
        child.required_approvers = Some(vec![key(70), key(71)]);
        child.min_approvals = Some(2);
        assert_eq!(
            weakened(check_link(&p, &child)),
            Some(ApprovalLinkError::ApproverRemoved)
        );
        // Dropping the gate of a tool still held, or narrowing it to arguments.
        let mut stripped = p.clone();
        stripped.extensions.clear();
        assert!(matches!(
            weakened(check_link(&p, &stripped)),
            Some(ApprovalLinkError::GateRemoved(_))
        ));
        let mut per_arg = p.clone();
        let mut args = BTreeMap::new();
        args.insert("path".to_owned(), ArgGate::All);
        per_arg
            .extensions
            .insert(APPROVAL_GATES_EXTENSION.into(), gated("delete", Some(args)));
        assert!(matches!(
            weakened(check_link(&p, &per_arg)),
            Some(ApprovalLinkError::GateWeakened(_))
        ));
        // Without the gated tool, the gate may go.
        stripped.tools.remove("delete");
        assert_eq!(check_link(&p, &stripped), Ok(()));
    }

    #[test]
    fn argument_gates_may_only_grow_stricter() {
        let all = ArgGate::All;
        let one = ArgGate::Constraint(Constraint::one_of(["a", "b"]));
        let reordered = ArgGate::Constraint(Constraint::one_of(["b", "a"]));
        assert!(at_least_as_strict(&all, &one));
        assert!(!at_least_as_strict(&one, &all));
        assert!(at_least_as_strict(&reordered, &one));
        let exempt = ArgGate::Exempt(Constraint::one_of(["a"]));
        assert!(!at_least_as_strict(&exempt, &one));
    }
}
