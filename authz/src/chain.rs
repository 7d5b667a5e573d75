//! Chain verification: everything about a chain that does not depend on the
//! clock, the trust set, the revocation list or the call, checked once.
//!
//! [`PreparedChain::new`] verifies signatures, links and shape and remembers the
//! first failure with the stage it belongs to. [`crate::decision`] replays the
//! stages in the reference's order, interleaving the checks that depend on the
//! moment (trust, revocation, time), so a prepared chain can be cached and
//! re-evaluated and still yield exactly the reason an uncached verification would.
//!
//! The reference's order, which decides the reason when several rules break:
//! revocation, duplicate ids, trusted root, root shape, signatures, per-warrant
//! time, links, then the call (tool, PoP, arguments).

use std::collections::HashSet;
use std::sync::Arc;

use crate::approval::link::{check_link as check_approval_link, LinkFailure};
use crate::approval::LeafApprovals;
use crate::constraint::ConstraintSet;
use crate::crypto::SignatureCriterion;
use crate::crypto::{PublicKey, Signature};
use crate::deny::{ChainError, Denial};
use crate::heap;
use crate::name_map::NameMap;
use crate::warrant::{Payload, Warrant, WarrantId, WarrantType};

/// Extension naming approval gates.
pub use crate::approval::APPROVAL_GATES_EXTENSION;

/// Where in the reference's order a clock-independent failure sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// Duplicate ids: before the trust check.
    Duplicates,
    /// Root shape and signatures: after trust, before time.
    Shape,
    /// Links: after time.
    Links,
}

/// The times of one warrant, for the checks that depend on `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetime {
    pub(crate) id: WarrantId,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
}

/// The span of time in which every warrant of a chain is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeWindow {
    /// The latest `issued_at`.
    pub(crate) latest_issued_at: u64,
    /// The earliest `expires_at`.
    pub(crate) earliest_expiry: u64,
}

/// What a call on the leaf needs: its grants and its holder's (decompressed) key.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The leaf's id.
    pub id: WarrantId,
    /// The holder, who signs PoPs: decompressed once, and in a cache shared by the
    /// chains that name the same key.
    pub holder: Arc<PublicKey>,
    /// The leaf's depth.
    pub depth: u32,
    /// Execution or issuer.
    pub warrant_type: WarrantType,
    /// Tool grants, compiled.
    pub tools: NameMap<ConstraintSet>,
    /// What the leaf requires of approvals; `None` (most leaves) when it has no
    /// gate map, so an ungated call pays one branch.
    pub approvals: Option<Box<LeafApprovals>>,
}

/// A chain with its clock-independent verification done, kept in the compact form
/// a cache holds: lifetimes and ids of every warrant, the root issuer, and the leaf.
/// Nothing else of the warrants is kept: links, signatures and the grants of the
/// warrants above the leaf were checked once and are not needed again.
#[derive(Debug, Clone)]
pub struct PreparedChain {
    pub(crate) lifetimes: Box<[Lifetime]>,
    root_issuer: [u8; 32],
    leaf: Leaf,
    pub(crate) failure: Option<Box<(Stage, Denial)>>,
    /// [`Self::approximate_size`], worked out once: the cache's weigher reads it
    /// whenever it evicts.
    size: usize,
}

impl PreparedChain {
    /// Verifies what can be verified once. `None` for an empty chain. Signatures are
    /// judged by the default [`SignatureCriterion`] (cofactored, in one batch).
    pub fn new(warrants: Vec<Warrant>) -> Option<Self> {
        Self::with_criterion(warrants, SignatureCriterion::default())
    }

    /// [`Self::new`], with the chain's signatures judged by `criterion`.
    pub fn with_criterion(warrants: Vec<Warrant>, criterion: SignatureCriterion) -> Option<Self> {
        Self::with_shared_holder(warrants, criterion, |_| None)
    }

    /// [`Self::with_criterion`], the leaf's holder key taken from `share` (the
    /// copy other chains hold) when the chain is sound and `share` has one, so
    /// that it is not counted in this chain's size.
    pub(crate) fn with_shared_holder(
        warrants: Vec<Warrant>,
        criterion: SignatureCriterion,
        share: impl FnOnce(&PublicKey) -> Option<Arc<PublicKey>>,
    ) -> Option<Self> {
        Self::prepared(
            warrants,
            |warrants| {
                first_static_failure(warrants, |items| {
                    crate::crypto::verify_all_with(items, criterion).map_err(|e| e.index)
                })
            },
            share,
        )
    }

    /// Everything [`Self::with_criterion`] checks but the signatures, which are
    /// handed back to be verified elsewhere (with other requests' signatures, in
    /// one batch); the chain is prepared as if they hold. No signatures come back
    /// when an earlier failure (a duplicate id, a root that is not one) decides
    /// the chain whatever they are. `None` for an empty chain.
    ///
    /// Once the signatures are decided, [`Self::with_invalid_signature`] gives
    /// the chain that [`Self::with_criterion`] would have prepared if one fails.
    pub(crate) fn awaiting_signatures(
        warrants: Vec<Warrant>,
    ) -> Option<(Self, Vec<ChainSignature>)> {
        let mut signatures = Vec::new();
        // Nothing is shared before the signatures are known to hold: see
        // `Self::share_holder`.
        let chain = Self::prepared(
            warrants,
            |warrants| {
                first_static_failure(warrants, |items| {
                    signatures = items
                        .iter()
                        .map(|&(key, message, signature)| ChainSignature {
                            key: *key,
                            signature: *signature,
                            message: message.to_vec(),
                        })
                        .collect();
                    Ok(())
                })
            },
            |_| None,
        )?;
        Some((chain, signatures))
    }

    /// Takes the leaf's holder key from `share` (the copy other chains hold), as
    /// [`Self::with_shared_holder`] does, for a chain prepared without it. Only a
    /// sound chain's holder is shared.
    pub(crate) fn share_holder(
        &mut self,
        share: impl FnOnce(&PublicKey) -> Option<Arc<PublicKey>>,
    ) {
        if self.failure.is_some() {
            return;
        }
        if let Some(shared) = share(&self.leaf.holder) {
            self.leaf.holder = shared;
            self.size = self.measure(true);
        }
    }

    /// This chain, prepared by [`Self::awaiting_signatures`], with the signature
    /// at `index` found invalid: the failure [`Self::with_criterion`] records.
    /// A signature failure comes before every link failure, so it replaces one.
    pub(crate) fn with_invalid_signature(mut self, index: usize) -> Self {
        let id = self
            .lifetimes
            .get(index)
            .map_or(self.leaf.id, |lifetime| lifetime.id);
        self.failure = Some(Box::new((
            Stage::Shape,
            Denial::SignatureInvalid { index, id },
        )));
        // Prepared without sharing its holder (see `awaiting_signatures`).
        self.size = self.measure(false);
        self
    }

    /// The chain, with its clock-independent failure as `failure_of` finds it.
    fn prepared(
        warrants: Vec<Warrant>,
        failure_of: impl FnOnce(&[Warrant]) -> Option<(Stage, Denial)>,
        share: impl FnOnce(&PublicKey) -> Option<Arc<PublicKey>>,
    ) -> Option<Self> {
        let root_issuer = warrants.first()?.issuer().to_bytes();
        let lifetimes: Box<[Lifetime]> = warrants
            .iter()
            .map(|w| Lifetime {
                id: w.payload().id,
                issued_at: w.payload().issued_at,
                expires_at: w.payload().expires_at,
            })
            .collect();
        let failure = failure_of(&warrants).map(Box::new);
        let leaf = warrants.into_iter().last()?.into_payload();
        let approvals = LeafApprovals::for_leaf(&leaf).map(Box::new);
        // Only a sound chain's holder is shared: an unsound chain never reaches
        // its PoP, and its keys should not crowd out the ones in use.
        let shared = failure.is_none().then(|| share(&leaf.holder)).flatten();
        let holder_shared = shared.is_some();
        let leaf = Leaf {
            id: leaf.id,
            holder: shared.unwrap_or_else(|| Arc::new(leaf.holder)),
            depth: leaf.depth,
            warrant_type: leaf.warrant_type,
            tools: leaf.tools.into_iter().collect(),
            approvals,
        };
        let mut chain = Self {
            lifetimes,
            root_issuer,
            leaf,
            failure,
            size: 0,
        };
        chain.size = chain.measure(holder_shared);
        Some(chain)
    }

    /// The leaf: grants, holder, id and depth.
    pub fn leaf(&self) -> &Leaf {
        &self.leaf
    }

    /// Number of warrants in the chain.
    pub fn len(&self) -> usize {
        self.lifetimes.len()
    }

    /// Always false: an empty chain cannot be prepared.
    pub fn is_empty(&self) -> bool {
        self.lifetimes.is_empty()
    }

    /// The root (first) warrant's issuer, which must be trusted, as its 32-byte
    /// encoding: it is only ever compared, so it is not kept decompressed.
    pub fn root_issuer(&self) -> &[u8; 32] {
        &self.root_issuer
    }

    /// Ids of every warrant, root first.
    pub fn ids(&self) -> impl Iterator<Item = &WarrantId> {
        self.lifetimes.iter().map(|l| &l.id)
    }

    /// Whether every clock-independent check passed.
    pub fn is_sound(&self) -> bool {
        self.failure.is_none()
    }

    /// The earliest expiry in the chain.
    pub fn expires_at(&self) -> u64 {
        self.time_window().earliest_expiry
    }

    /// When every warrant of the chain is within its time, so that a decision
    /// learns it from two comparisons and looks at each warrant only to name the
    /// one that is not. In a sound chain each warrant lies within its parent's
    /// lifetime (the links were checked), so the leaf's times are the chain's and
    /// nothing is walked; only a chain with a failed link is.
    pub(crate) fn time_window(&self) -> TimeWindow {
        match (&self.failure, self.lifetimes.last()) {
            (None, Some(leaf)) => TimeWindow {
                latest_issued_at: leaf.issued_at,
                earliest_expiry: leaf.expires_at,
            },
            _ => TimeWindow {
                latest_issued_at: self
                    .lifetimes
                    .iter()
                    .map(|l| l.issued_at)
                    .max()
                    .unwrap_or(0),
                earliest_expiry: self
                    .lifetimes
                    .iter()
                    .map(|l| l.expires_at)
                    .min()
                    .unwrap_or(0),
            },
        }
    }

    /// The constraints the leaf applies to `tool` (exact name, else `*`); none for
    /// an issuer warrant, which authorizes no calls itself.
    pub fn leaf_grant(&self, tool: &str) -> Option<&ConstraintSet> {
        if self.leaf.warrant_type != WarrantType::Execution {
            return None;
        }
        self.leaf
            .tools
            .get(tool)
            .or_else(|| self.leaf.tools.get("*"))
    }

    /// An estimate of the resident bytes this chain holds (itself in its `Arc`,
    /// and what it points to), for cache weighing. A holder key shared with
    /// other chains is not counted: the cache sets its bytes aside.
    pub fn approximate_size(&self) -> usize {
        self.size
    }

    fn measure(&self, holder_shared: bool) -> usize {
        let arc = 2 * size_of::<usize>();
        let holder = if holder_shared {
            0
        } else {
            heap::allocation(arc + size_of::<PublicKey>())
        };
        // A denial holds a few short strings at most.
        let failure = self.failure.as_ref().map_or(0, |_| {
            heap::allocation(size_of::<(Stage, Denial)>()) + heap::allocation(64)
        });
        // A gate map is small next to the grants it gates: a flat estimate.
        let approvals = self.leaf.approvals.as_ref().map_or(0, |_| 1024);
        heap::allocation(arc + size_of::<Self>())
            + heap::allocation(size_of_val(&*self.lifetimes))
            + holder
            + failure
            + self.leaf.tools.heap_bytes(ConstraintSet::heap_bytes)
            + approvals
    }
}

/// One warrant's signature, to be verified away from the chain that carries it.
#[derive(Debug, Clone)]
pub(crate) struct ChainSignature {
    /// The warrant's issuer.
    pub(crate) key: PublicKey,
    /// The issuer's signature.
    pub(crate) signature: Signature,
    /// The bytes it signs.
    pub(crate) message: Vec<u8>,
}

/// The first clock-independent failure, in the reference's order; `signatures`
/// judges the chain's signatures (index of the first invalid one) at their place
/// in that order, and is not called when an earlier failure decides.
fn first_static_failure(
    chain: &[Warrant],
    signatures: impl FnOnce(&[crate::crypto::Item<'_>]) -> Result<(), usize>,
) -> Option<(Stage, Denial)> {
    if chain.len() > 1 {
        let mut seen = HashSet::with_capacity(chain.len());
        if let Some(dup) = chain.iter().find(|w| !seen.insert(w.payload().id)) {
            return Some((
                Stage::Duplicates,
                ChainError::Duplicate(dup.payload().id).into(),
            ));
        }
        let root = chain[0].payload();
        if root.depth != 0 || root.parent_hash.is_some() {
            let shape = ChainError::NotARoot {
                depth: root.depth,
                has_parent: root.parent_hash.is_some(),
            };
            return Some((Stage::Shape, shape.into()));
        }
    }
    // By default every signature in one batch: one multiscalar multiplication instead
    // of one scalar multiplication per warrant (see `crate::batch` for its semantics).
    let messages: Vec<Vec<u8>> = chain.iter().map(Warrant::signed_message).collect();
    let items: Vec<_> = chain
        .iter()
        .zip(&messages)
        .map(|(w, m)| (w.issuer(), m.as_slice(), w.signature()))
        .collect();
    if let Err(index) = signatures(&items) {
        let id = chain.get(index).unwrap_or(&chain[0]).payload().id;
        return Some((Stage::Shape, Denial::SignatureInvalid { index, id }));
    }
    for (index, pair) in chain.windows(2).enumerate() {
        if let [parent, child] = pair {
            if let Err(error) = check_link(parent, child, index + 1) {
                return Some((Stage::Links, error.into()));
            }
            // The reference checks approvals last within a link.
            match check_approval_link(parent.payload(), child.payload()) {
                Ok(()) => {}
                Err(LinkFailure::Gate(error)) => {
                    return Some((Stage::Links, Denial::Approval(error.into())));
                }
                Err(LinkFailure::Weakened(error)) => {
                    let error = ChainError::ApprovalsWeakened {
                        index: index + 1,
                        error,
                    };
                    return Some((Stage::Links, error.into()));
                }
            }
        }
    }
    None
}

/// One parent-to-child link, in the reference's order.
fn check_link(
    parent_warrant: &Warrant,
    child_warrant: &Warrant,
    index: usize,
) -> Result<(), ChainError> {
    let parent = parent_warrant.payload();
    let child = child_warrant.payload();
    if child.issuer != parent.holder {
        return Err(ChainError::IssuerNotParentHolder { index });
    }
    if child.parent_hash != Some(parent_warrant.payload_hash()) {
        return Err(ChainError::ParentHash { index });
    }
    let parent_max = u32::from(parent.max_depth);
    let child_max = u32::from(child.max_depth);
    if child.depth != parent.depth.saturating_add(1) {
        return Err(ChainError::Depth {
            index,
            depth: child.depth,
            max_depth: parent.depth.saturating_add(1),
        });
    }
    if child.depth > parent_max || child_max > parent_max {
        return Err(ChainError::Depth {
            index,
            depth: child.depth.max(child_max),
            max_depth: parent_max,
        });
    }
    if child.depth > child_max {
        return Err(ChainError::Depth {
            index,
            depth: child.depth,
            max_depth: child_max,
        });
    }
    if child.issued_at < parent.issued_at || child.expires_at > parent.expires_at {
        return Err(ChainError::Lifetime { index });
    }
    match (parent.warrant_type, child.warrant_type) {
        (WarrantType::Execution, WarrantType::Execution) => {
            check_execution_link(parent, child, index)
        }
        (WarrantType::Issuer, WarrantType::Issuer) => check_issuer_link(parent, child, index),
        (WarrantType::Issuer, WarrantType::Execution) => check_issuance(parent, child, index),
        (WarrantType::Execution, WarrantType::Issuer) => Err(ChainError::TypeTransition {
            index,
            parent: parent.warrant_type,
            child: child.warrant_type,
        }),
    }
}

fn clearance_raised(parent: &Payload, child: &Payload) -> bool {
    matches!((parent.clearance, child.clearance), (Some(p), Some(c)) if c > p)
}

/// Execution to execution: every child tool narrows the parent's grant (or `*`).
///
/// Compatibility note: as in the reference, a child with no tools is not compared
/// (it can authorize nothing), and a child may carry a clearance its parent lacks.
fn check_execution_link(parent: &Payload, child: &Payload, index: usize) -> Result<(), ChainError> {
    if !parent.tools.is_empty() && !child.tools.is_empty() {
        for (tool, child_set) in &child.tools {
            let parent_set = parent
                .tools
                .get(tool)
                .or_else(|| parent.tools.get("*"))
                .ok_or_else(|| ChainError::ToolWidened {
                    index,
                    tool: tool.clone(),
                })?;
            parent_set.check_attenuation(child_set).map_err(|error| {
                ChainError::ConstraintWidened {
                    index,
                    tool: tool.clone(),
                    error: Box::new(error),
                }
            })?;
        }
    }
    if clearance_raised(parent, child) {
        return Err(ChainError::ClearanceRaised { index });
    }
    Ok(())
}

fn issuable(parent: &Payload, tool: &str) -> bool {
    parent
        .issuable_tools
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|t| t == tool || t == "*")
}

/// Issuer to issuer: issuable tools and constraint bounds only narrow.
fn check_issuer_link(parent: &Payload, child: &Payload, index: usize) -> Result<(), ChainError> {
    if let (Some(_), Some(child_tools)) = (&parent.issuable_tools, &child.issuable_tools) {
        if let Some(tool) = child_tools.iter().find(|t| !issuable(parent, t)) {
            return Err(ChainError::ToolWidened {
                index,
                tool: tool.clone(),
            });
        }
    }
    if let (Some(parent_bounds), Some(child_bounds)) =
        (&parent.constraint_bounds, &child.constraint_bounds)
    {
        parent_bounds
            .check_attenuation(child_bounds)
            .map_err(|error| ChainError::ConstraintWidened {
                index,
                tool: "constraint_bounds".into(),
                error: Box::new(error),
            })?;
    }
    Ok(())
}

/// Issuer to execution: tools drawn from the issuable set, within the bounds, and
/// never granted to the issuer warrant's own holder or issuer.
fn check_issuance(parent: &Payload, child: &Payload, index: usize) -> Result<(), ChainError> {
    if let Some(tool) = child.tools.keys().find(|t| !issuable(parent, t)) {
        return Err(ChainError::ToolWidened {
            index,
            tool: tool.clone(),
        });
    }
    if clearance_raised(parent, child) {
        return Err(ChainError::ClearanceRaised { index });
    }
    if let Some(bounds) = &parent.constraint_bounds {
        for (tool, set) in &child.tools {
            bounds
                .check_attenuation(set)
                .map_err(|error| ChainError::ConstraintWidened {
                    index,
                    tool: tool.clone(),
                    error: Box::new(error),
                })?;
        }
    }
    if child.holder == parent.holder || child.holder == parent.issuer {
        return Err(ChainError::SelfIssuance { index });
    }
    Ok(())
}
