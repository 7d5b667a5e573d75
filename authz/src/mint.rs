//! Minting: root warrants, attenuated children, and the stacks that carry them.
//!
//! What a control plane, a test or the CLI needs to produce warrants that the
//! reference SDKs and this crate both accept. Every rule checked here is also
//! checked by chain verification; minting refuses early so a caller learns at
//! issue time, not at the first denied request.
//!
//! ```
//! use tenuo_authz::{mint::{Issue, Attenuate}, constraint::{Constraint, ConstraintSet}, crypto::SigningKey};
//!
//! let control_plane = SigningKey::from_bytes(&[1; 32]);
//! let orchestrator = SigningKey::from_bytes(&[2; 32]);
//! let worker = SigningKey::from_bytes(&[3; 32]);
//! let now = 1_800_000_000;
//!
//! let mut reports = ConstraintSet::new();
//! reports.insert("path", Constraint::pattern("/data/*").unwrap());
//! let root = Issue::execution(orchestrator.public_key())
//!     .tool("read_file", reports)
//!     .ttl_secs(600)
//!     .sign(&control_plane, now)
//!     .unwrap();
//!
//! let mut narrower = ConstraintSet::new();
//! narrower.insert("path", Constraint::pattern("/data/reports/*").unwrap());
//! let child = Attenuate::from(&root)
//!     .holder(worker.public_key())
//!     .tool("read_file", narrower)
//!     .ttl_secs(60)
//!     .sign(&orchestrator, now)
//!     .unwrap();
//! assert_eq!(child.payload().depth, 1);
//! assert_eq!(child.issuer(), root.holder());
//! ```

use std::collections::BTreeMap;

use crate::approval::link::{check_link as check_approval_link, ApprovalLinkError, LinkFailure};
use crate::approval::{
    request_hash, ApprovalPayload, GateError, GateMap, SignedApproval, APPROVAL_GATES_EXTENSION,
};
use crate::constraint::{AttenuationError, ConstraintSet};
use crate::crypto::{KeyError, PublicKey, SigningKey};
use crate::warrant::{Payload, Warrant, WarrantId, WarrantType};
use crate::wire::{self, DecodeError, MAX_EXTENSION_KEYS, MAX_EXTENSION_VALUE_BYTES};

/// TTL of a warrant minted without one: five minutes.
pub const DEFAULT_TTL_SECS: u64 = 300;
/// Longest TTL any warrant may have: 90 days.
pub const MAX_TTL_SECS: u64 = 90 * 24 * 60 * 60;
/// Deepest delegation any chain may reach.
pub const MAX_DELEGATION_DEPTH: u32 = 64;

/// Why a warrant could not be minted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// An execution warrant needs at least one tool; an issuer warrant needs issuable tools and no tools.
    #[error("a {0} warrant needs {1}")]
    Shape(WarrantType, &'static str),
    /// The TTL is zero or over [`MAX_TTL_SECS`].
    #[error("TTL of {0} s is not within 1..={MAX_TTL_SECS}")]
    Ttl(u64),
    /// The child would outlive its parent.
    #[error("child would expire at {child}, after its parent at {parent}")]
    OutlivesParent {
        /// Requested expiry.
        child: u64,
        /// Parent's expiry.
        parent: u64,
    },
    /// `max_depth` over the protocol cap or the parent's, or the chain already at its limit.
    #[error("delegation depth {depth} exceeds the limit of {max}")]
    Depth {
        /// Depth or max_depth asked for.
        depth: u32,
        /// The limit in force.
        max: u32,
    },
    /// The key signing a child is not the parent's holder.
    #[error("only the parent's holder ({0}) may delegate it")]
    NotHolder(Box<PublicKey>),
    /// The parent has expired.
    #[error("parent warrant expired at {0}")]
    ParentExpired(u64),
    /// A tool the parent does not grant.
    #[error("tool {0} is not granted by the parent")]
    ToolNotInParent(String),
    /// A child's constraints are wider than the parent's.
    // The message carries `error`, so it is deliberately not a `source`: a
    // reporter that walks sources (anyhow's `{:#}`) would print it twice.
    #[error("tool {tool}: {error}")]
    Widened {
        /// The tool.
        tool: String,
        /// Which constraint widened.
        error: AttenuationError,
    },
    /// Clearance may only stay or fall, and cannot appear below a parent without one.
    #[error("clearance cannot rise above the parent's")]
    Clearance,
    /// Too many or too large extensions.
    #[error("extensions exceed the limits ({MAX_EXTENSION_KEYS} entries, {MAX_EXTENSION_VALUE_BYTES} bytes each)")]
    Extensions,
    /// `min_approvals` is zero or more than the distinct approvers.
    #[error("min_approvals {min} is not within 1..={approvers}")]
    Approvals {
        /// The threshold asked for.
        min: u32,
        /// Distinct approvers named.
        approvers: u32,
    },
    /// The child would weaken the parent's approval gates, approvers or threshold.
    #[error(transparent)]
    ApprovalsWeakened(#[from] ApprovalLinkError),
    /// A parent's approval gate map does not parse.
    #[error(transparent)]
    Gates(#[from] GateError),
    /// The random number generator failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The result failed to decode again (a bug if it ever happens).
    #[error("minted warrant does not decode: {0}")]
    Encoding(#[from] DecodeError),
}

/// Fields shared by root issue and attenuation.
#[derive(Debug, Clone, Default)]
struct Common {
    ttl_secs: Option<u64>,
    max_depth: Option<u32>,
    clearance: Option<u8>,
    extensions: BTreeMap<String, Vec<u8>>,
    session_id: Option<String>,
    agent_id: Option<String>,
    id: Option<WarrantId>,
    approvers: Option<Vec<PublicKey>>,
    min_approvals: Option<u32>,
    gates: Option<GateMap>,
}

/// Builds a root warrant, signed by a key the authorizer trusts.
#[derive(Debug, Clone)]
pub struct Issue {
    warrant_type: WarrantType,
    holder: PublicKey,
    tools: BTreeMap<String, ConstraintSet>,
    issuable_tools: Vec<String>,
    max_issue_depth: Option<u32>,
    constraint_bounds: Option<ConstraintSet>,
    common: Common,
}

macro_rules! common_setters {
    () => {
        /// Keys whose signed approvals gated calls need (payload key 15). On a
        /// child, replaces the inherited list, which it must keep.
        pub fn required_approvers(
            mut self,
            approvers: impl IntoIterator<Item = PublicKey>,
        ) -> Self {
            self.common.approvers = Some(approvers.into_iter().collect());
            self
        }

        /// How many distinct approvers must approve a gated call (payload key
        /// 16; default: all of them).
        pub fn min_approvals(mut self, min: u32) -> Self {
            self.common.min_approvals = Some(min);
            self
        }

        /// Which calls need approvals (the `tenuo.approval_gates` extension). A
        /// child without one keeps its parent's gates for the tools it holds.
        pub fn approval_gates(mut self, gates: GateMap) -> Self {
            self.common.gates = Some(gates);
            self
        }

        /// Lifetime from `now`, in seconds (default five minutes).
        pub fn ttl_secs(mut self, ttl: u64) -> Self {
            self.common.ttl_secs = Some(ttl);
            self
        }

        /// Deepest delegation allowed below (and including) this warrant.
        pub fn max_depth(mut self, max_depth: u32) -> Self {
            self.common.max_depth = Some(max_depth);
            self
        }

        /// Clearance level.
        pub fn clearance(mut self, level: u8) -> Self {
            self.common.clearance = Some(level);
            self
        }

        /// An opaque extension entry.
        pub fn extension(mut self, key: impl Into<String>, value: Vec<u8>) -> Self {
            self.common.extensions.insert(key.into(), value);
            self
        }

        /// Session id (carried in the `tenuo.session_id` extension).
        pub fn session_id(mut self, id: impl Into<String>) -> Self {
            self.common.session_id = Some(id.into());
            self
        }

        /// Agent id (carried in the `tenuo.agent_id` extension).
        pub fn agent_id(mut self, id: impl Into<String>) -> Self {
            self.common.agent_id = Some(id.into());
            self
        }

        /// A fixed id instead of a fresh UUIDv7 (tests and reproducible fixtures).
        pub fn id(mut self, id: WarrantId) -> Self {
            self.common.id = Some(id);
            self
        }
    };
}

impl Issue {
    /// An execution warrant for `holder`; add tools with [`Issue::tool`].
    pub fn execution(holder: PublicKey) -> Self {
        Self {
            warrant_type: WarrantType::Execution,
            holder,
            tools: BTreeMap::new(),
            issuable_tools: Vec::new(),
            max_issue_depth: None,
            constraint_bounds: None,
            common: Common::default(),
        }
    }

    /// An issuer warrant for `holder`, allowed to issue execution warrants for `tools`.
    pub fn issuer(holder: PublicKey, tools: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut this = Self::execution(holder);
        this.warrant_type = WarrantType::Issuer;
        this.issuable_tools = tools.into_iter().map(Into::into).collect();
        this
    }

    /// Grants `tool` with argument constraints (execution warrants). `*` grants every tool.
    pub fn tool(mut self, tool: impl Into<String>, constraints: ConstraintSet) -> Self {
        self.tools.insert(tool.into(), constraints);
        self
    }

    /// Caps the depth of chains an issuer warrant may issue into.
    pub fn max_issue_depth(mut self, depth: u32) -> Self {
        self.max_issue_depth = Some(depth);
        self
    }

    /// Bounds every constraint an issuer warrant may grant.
    pub fn constraint_bounds(mut self, bounds: ConstraintSet) -> Self {
        self.constraint_bounds = Some(bounds);
        self
    }

    common_setters!();

    /// Signs the root warrant with `issuer` at `now` (Unix seconds).
    pub fn sign(self, issuer: &SigningKey, now: u64) -> Result<Warrant, MintError> {
        let max_depth = self.common.max_depth.unwrap_or(MAX_DELEGATION_DEPTH);
        if max_depth > MAX_DELEGATION_DEPTH {
            return Err(MintError::Depth {
                depth: max_depth,
                max: MAX_DELEGATION_DEPTH,
            });
        }
        let ttl = self.common.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
        if ttl == 0 || ttl > MAX_TTL_SECS {
            return Err(MintError::Ttl(ttl));
        }
        let mut issuable = self.issuable_tools;
        issuable.sort();
        issuable.dedup();
        let mut common = self.common;
        let (required_approvers, min_approvals) = approvals_of(&mut common)?;
        let payload = Payload {
            version: 1,
            id: fresh_id(common.id, now)?,
            warrant_type: self.warrant_type,
            tools: self.tools,
            holder: self.holder,
            issuer: issuer.public_key(),
            issued_at: now,
            expires_at: now.saturating_add(ttl),
            max_depth: max_depth as u8,
            depth: 0,
            parent_hash: None,
            extensions: common.extensions,
            issuable_tools: (self.warrant_type == WarrantType::Issuer).then_some(issuable),
            max_issue_depth: self.max_issue_depth,
            constraint_bounds: self.constraint_bounds.filter(|b| !b.is_empty()),
            required_approvers,
            min_approvals,
            clearance: common.clearance,
            session_id: common.session_id,
            agent_id: common.agent_id,
        };
        seal(payload, issuer)
    }
}

/// Builds a child of a warrant: same or narrower tools and constraints, same or
/// shorter life, signed by the parent's holder.
#[derive(Debug, Clone)]
pub struct Attenuate<'p> {
    parent: &'p Warrant,
    holder: PublicKey,
    tools: BTreeMap<String, ConstraintSet>,
    issuable_tools: Option<Vec<String>>,
    constraint_bounds: Option<ConstraintSet>,
    common: Common,
}

impl<'p> From<&'p Warrant> for Attenuate<'p> {
    /// Starts with no tools (least authority) and the parent's holder, clearance,
    /// session and agent ids.
    fn from(parent: &'p Warrant) -> Self {
        let p = parent.payload();
        Self {
            parent,
            holder: p.holder,
            tools: BTreeMap::new(),
            issuable_tools: None,
            constraint_bounds: p.constraint_bounds.clone(),
            common: Common {
                clearance: p.clearance,
                session_id: p.session_id.clone(),
                agent_id: p.agent_id.clone(),
                ..Common::default()
            },
        }
    }
}

impl<'p> Attenuate<'p> {
    /// The child's holder (default: the parent's holder).
    pub fn holder(mut self, holder: PublicKey) -> Self {
        self.holder = holder;
        self
    }

    /// Keeps `tool` with `constraints`, which must be as narrow as the parent's or narrower.
    pub fn tool(mut self, tool: impl Into<String>, constraints: ConstraintSet) -> Self {
        self.tools.insert(tool.into(), constraints);
        self
    }

    /// Keeps every tool of the parent with its constraints unchanged.
    pub fn inherit_all(mut self) -> Self {
        self.tools = self.parent.payload().tools.clone();
        if let Some(issuable) = &self.parent.payload().issuable_tools {
            self.issuable_tools = Some(issuable.clone());
        }
        self
    }

    /// For an issuer parent: the tools the child may issue (a subset of the parent's).
    pub fn issuable_tools(mut self, tools: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.issuable_tools = Some(tools.into_iter().map(Into::into).collect());
        self
    }

    common_setters!();

    /// Signs the child with the parent holder's key at `now` (Unix seconds). The TTL,
    /// if given, is capped at the parent's expiry; without one the child expires with
    /// the parent.
    pub fn sign(self, parent_holder: &SigningKey, now: u64) -> Result<Warrant, MintError> {
        let parent = self.parent.payload();
        if parent_holder.public_key() != parent.holder {
            return Err(MintError::NotHolder(Box::new(parent.holder)));
        }
        if now >= parent.expires_at {
            return Err(MintError::ParentExpired(parent.expires_at));
        }
        let depth = parent.depth.saturating_add(1);
        let parent_max = u32::from(parent.max_depth);
        let max_depth = self.common.max_depth.unwrap_or(parent_max);
        if max_depth > parent_max {
            return Err(MintError::Depth {
                depth: max_depth,
                max: parent_max,
            });
        }
        if depth > max_depth.min(MAX_DELEGATION_DEPTH) {
            return Err(MintError::Depth {
                depth,
                max: max_depth.min(MAX_DELEGATION_DEPTH),
            });
        }
        let expires_at = match self.common.ttl_secs {
            Some(0) => return Err(MintError::Ttl(0)),
            Some(ttl) if ttl > MAX_TTL_SECS => return Err(MintError::Ttl(ttl)),
            Some(ttl) => now.saturating_add(ttl).min(parent.expires_at),
            None => parent.expires_at,
        };
        if let Some(level) = self.common.clearance {
            if parent.clearance.is_none_or(|p| level > p) {
                return Err(MintError::Clearance);
            }
        }
        let mut issuable_tools = None;
        match parent.warrant_type {
            WarrantType::Execution => {
                if self.tools.is_empty() {
                    return Err(MintError::Shape(
                        WarrantType::Execution,
                        "at least one tool",
                    ));
                }
                for (tool, child) in &self.tools {
                    let granted = parent
                        .tools
                        .get(tool)
                        .or_else(|| parent.tools.get("*"))
                        .ok_or_else(|| MintError::ToolNotInParent(tool.clone()))?;
                    granted
                        .check_attenuation(child)
                        .map_err(|error| MintError::Widened {
                            tool: tool.clone(),
                            error,
                        })?;
                }
            }
            WarrantType::Issuer => {
                if !self.tools.is_empty() {
                    return Err(MintError::Shape(
                        WarrantType::Issuer,
                        "no tools (use issuable_tools)",
                    ));
                }
                let parent_issuable = parent.issuable_tools.as_deref().unwrap_or_default();
                let mut child = self.issuable_tools.clone().unwrap_or_default();
                child.sort();
                child.dedup();
                if child.is_empty() {
                    return Err(MintError::Shape(
                        WarrantType::Issuer,
                        "at least one issuable tool",
                    ));
                }
                if let Some(tool) = child
                    .iter()
                    .find(|t| !parent_issuable.iter().any(|p| p == *t || p == "*"))
                {
                    return Err(MintError::ToolNotInParent(tool.clone()));
                }
                issuable_tools = Some(child);
            }
        }
        let mut common = self.common;
        if common.approvers.is_none() {
            common.approvers = parent.required_approvers.clone();
        }
        if common.min_approvals.is_none() {
            common.min_approvals = parent.min_approvals;
        }
        if common.gates.is_none() {
            common.gates = inherited_gates(parent, &self.tools, issuable_tools.as_deref())?;
        }
        let (required_approvers, min_approvals) = approvals_of(&mut common)?;
        let payload = Payload {
            version: 1,
            id: fresh_id(common.id, now)?,
            warrant_type: parent.warrant_type,
            tools: self.tools,
            holder: self.holder,
            issuer: parent.holder,
            issued_at: now,
            expires_at,
            max_depth: max_depth as u8,
            depth,
            parent_hash: Some(self.parent.payload_hash()),
            extensions: common.extensions,
            issuable_tools,
            max_issue_depth: match parent.warrant_type {
                WarrantType::Issuer => parent.max_issue_depth,
                WarrantType::Execution => None,
            },
            constraint_bounds: match parent.warrant_type {
                WarrantType::Issuer => self.constraint_bounds.filter(|b| !b.is_empty()),
                WarrantType::Execution => None,
            },
            required_approvers,
            min_approvals,
            clearance: common.clearance,
            session_id: common.session_id,
            agent_id: common.agent_id,
        };
        match check_approval_link(parent, &payload) {
            Ok(()) => {}
            Err(LinkFailure::Gate(e)) => return Err(e.into()),
            Err(LinkFailure::Weakened(e)) => return Err(e.into()),
        }
        seal(payload, parent_holder)
    }
}

/// Moves the gate map into the extensions and checks the threshold; the
/// approvers are stored sorted and without repeats, as the reference's builders
/// store them.
fn approvals_of(common: &mut Common) -> Result<(Option<Vec<PublicKey>>, Option<u32>), MintError> {
    if let Some(gates) = common.gates.take() {
        common
            .extensions
            .insert(APPROVAL_GATES_EXTENSION.to_owned(), gates.to_cbor_bytes());
    }
    let approvers = common.approvers.take().map(|mut list| {
        list.sort_by_key(PublicKey::to_bytes);
        list.dedup();
        list
    });
    if let (Some(list), Some(min)) = (&approvers, common.min_approvals) {
        let distinct = list.len() as u32;
        if min == 0 || min > distinct {
            return Err(MintError::Approvals {
                min,
                approvers: distinct,
            });
        }
    }
    Ok((approvers, common.min_approvals))
}

/// The parent's gates for the tools the child keeps (by name, or all under `*`).
fn inherited_gates(
    parent: &Payload,
    tools: &BTreeMap<String, ConstraintSet>,
    issuable: Option<&[String]>,
) -> Result<Option<GateMap>, MintError> {
    let raw = parent.extensions.get(APPROVAL_GATES_EXTENSION);
    let Some(gates) = GateMap::parse(raw.map(Vec::as_slice))? else {
        return Ok(None);
    };
    let held = |tool: &str| match issuable {
        Some(list) => list.iter().any(|t| t == tool || t == "*"),
        None => tools.contains_key(tool) || tools.contains_key("*"),
    };
    let kept: BTreeMap<_, _> = gates.0.into_iter().filter(|(tool, _)| held(tool)).collect();
    Ok((!kept.is_empty()).then_some(GateMap(kept)))
}

/// Signs an approval of `tool(args)` on `leaf` as `approver`, valid from
/// `approved_at` for `ttl_secs`, bound to the call by its request hash.
pub fn sign_approval(
    approver: &SigningKey,
    leaf: &Warrant,
    tool: &str,
    args: &crate::pop::Args,
    approved_at: u64,
    ttl_secs: u64,
) -> Result<SignedApproval, MintError> {
    let hash = request_hash(leaf.id(), tool, args, leaf.holder());
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|_| KeyError::Rng)?;
    let payload = ApprovalPayload::new(
        hash,
        nonce,
        approver.public_key().to_hex(),
        approved_at,
        approved_at.saturating_add(ttl_secs),
    );
    Ok(SignedApproval::sign(&payload, approver))
}

fn fresh_id(fixed: Option<WarrantId>, now: u64) -> Result<WarrantId, KeyError> {
    match fixed {
        Some(id) => Ok(id),
        None => WarrantId::generate(now.saturating_mul(1000)),
    }
}

/// Validates, encodes, signs and re-decodes a payload, so a minted warrant is
/// exactly what a verifier will see.
fn seal(payload: Payload, signer: &SigningKey) -> Result<Warrant, MintError> {
    if payload.extensions.len() > MAX_EXTENSION_KEYS
        || payload
            .extensions
            .values()
            .any(|v| v.len() > MAX_EXTENSION_VALUE_BYTES)
    {
        return Err(MintError::Extensions);
    }
    match (payload.warrant_type, payload.tools.is_empty()) {
        (WarrantType::Execution, true) => {
            return Err(MintError::Shape(
                WarrantType::Execution,
                "at least one tool",
            ))
        }
        (WarrantType::Issuer, false) => {
            return Err(MintError::Shape(WarrantType::Issuer, "no tools"))
        }
        _ => {}
    }
    let bytes = wire::encode_payload(&payload);
    let signature = signer.sign(&crate::warrant::signed_message(&bytes));
    Ok(Warrant::decode(&wire::encode_envelope(&bytes, &signature))?)
}

/// Encodes a chain (root first) as stack bytes.
pub fn encode_chain(chain: &[Warrant]) -> Vec<u8> {
    wire::encode_stack(chain.iter().map(Warrant::envelope_bytes))
}
