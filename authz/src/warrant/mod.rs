//! The decoded warrant: its payload fields, and the exact bytes it arrived as.
//! The codec ([`crate::wire`]) decodes and encodes it, and adds the methods that
//! need it (`Warrant::decode`, `Warrant::to_base64url`,
//! `Payload::validate_structure`), so this type does not import its codec.

mod id;

pub use id::{WarrantId, WarrantIdError, WARRANT_ID_PREFIX};

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::constraint::ConstraintSet;
use crate::crypto::{PublicKey, Signature, SignatureError};

/// Domain separation prefix of every warrant signature.
pub const WARRANT_CONTEXT: &[u8] = b"tenuo-warrant-v1";

/// The envelope and payload version this crate reads, writes and signs.
pub(crate) const ENVELOPE_VERSION: u8 = 1;

/// What a warrant authorizes its holder to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarrantType {
    /// Invoke tools (wire value 0).
    Execution,
    /// Issue execution warrants for tools it lists (wire value 1).
    Issuer,
}

impl WarrantType {
    /// The wire value.
    pub fn to_wire(self) -> u8 {
        match self {
            Self::Execution => 0,
            Self::Issuer => 1,
        }
    }

    /// Parses the wire value.
    pub fn from_wire(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Execution),
            1 => Some(Self::Issuer),
            _ => None,
        }
    }
}

impl fmt::Display for WarrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Execution => "execution",
            Self::Issuer => "issuer",
        })
    }
}

/// Every field of a v1 payload (integer keys 0..=18 on the wire).
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// Payload version (key 0); always 1.
    pub version: u8,
    /// Unique id (key 1).
    pub id: WarrantId,
    /// Execution or issuer (key 2).
    pub warrant_type: WarrantType,
    /// Tool name to argument constraints (key 3). `*` grants every tool.
    pub tools: BTreeMap<String, ConstraintSet>,
    /// Who may use the warrant and must sign PoPs (key 4).
    pub holder: PublicKey,
    /// Who signed the warrant (key 5).
    pub issuer: PublicKey,
    /// Unix seconds of issue (key 6).
    pub issued_at: u64,
    /// Unix seconds of expiry (key 7).
    pub expires_at: u64,
    /// Deepest delegation the chain may reach (key 8).
    pub max_depth: u8,
    /// Position in the chain, 0 at the root (key 18; absent means 0).
    pub depth: u32,
    /// SHA-256 of the parent's payload bytes (key 9); `None` at the root.
    pub parent_hash: Option<[u8; 32]>,
    /// Opaque extension entries (key 10), without the session and agent ids.
    pub extensions: BTreeMap<String, Vec<u8>>,
    /// Tools an issuer warrant may grant (key 11).
    pub issuable_tools: Option<Vec<String>>,
    /// Deepest chain an issuer warrant may issue into (key 13).
    pub max_issue_depth: Option<u32>,
    /// Bounds on what an issuer warrant may grant (key 14).
    pub constraint_bounds: Option<ConstraintSet>,
    /// Approvers of a multi-signature workflow (key 15).
    pub required_approvers: Option<Vec<PublicKey>>,
    /// Approvals needed (key 16).
    pub min_approvals: Option<u32>,
    /// Clearance level (key 17).
    pub clearance: Option<u8>,
    /// Session id, carried in extension `tenuo.session_id`.
    pub session_id: Option<String>,
    /// Agent id, carried in extension `tenuo.agent_id`.
    pub agent_id: Option<String>,
}

/// A decoded warrant. It keeps the exact envelope bytes it was decoded from, so
/// signatures are checked over the bytes that were signed and caches can key on them.
///
/// Decoding checks structure only; whether the signature verifies and the issuer is
/// trusted is decided by chain verification.
#[derive(Clone)]
pub struct Warrant {
    envelope: Arc<[u8]>,
    payload_at: std::ops::Range<usize>,
    signature: Signature,
    payload: Payload,
}

impl Warrant {
    /// A warrant from its envelope bytes, where its payload lies in them, its
    /// signature and its decoded payload (the codec, [`crate::wire`], builds it).
    pub(crate) fn from_parts(
        envelope: Arc<[u8]>,
        payload_at: std::ops::Range<usize>,
        signature: Signature,
        payload: Payload,
    ) -> Self {
        Self {
            envelope,
            payload_at,
            signature,
            payload,
        }
    }

    /// The decoded payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The decoded payload, by value.
    pub fn into_payload(self) -> Payload {
        self.payload
    }

    /// The envelope bytes exactly as received or minted.
    pub fn envelope_bytes(&self) -> &[u8] {
        &self.envelope
    }

    /// The payload bytes the issuer signed.
    pub fn payload_bytes(&self) -> &[u8] {
        self.envelope
            .get(self.payload_at.clone())
            .unwrap_or_default()
    }

    /// The issuer's signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The id.
    pub fn id(&self) -> &WarrantId {
        &self.payload.id
    }

    /// The holder's key.
    pub fn holder(&self) -> &PublicKey {
        &self.payload.holder
    }

    /// The issuer's key.
    pub fn issuer(&self) -> &PublicKey {
        &self.payload.issuer
    }

    /// The message the issuer signed: `WARRANT_CONTEXT || 0x01 || payload`.
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(self.payload_bytes())
    }

    /// Verifies the issuer's signature on its own (`verify_strict`).
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        self.payload
            .issuer
            .verify_strict(&self.signed_message(), &self.signature)
    }

    /// SHA-256 of the payload bytes: what a child names as `parent_hash`.
    pub fn payload_hash(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(self.payload_bytes()).into()
    }
}

impl fmt::Debug for Warrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warrant")
            .field("id", &self.payload.id)
            .field("type", &self.payload.warrant_type)
            .field("depth", &self.payload.depth)
            .field("tools", &self.payload.tools.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds the signed message for payload bytes.
pub(crate) fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(WARRANT_CONTEXT.len() + 1 + payload.len());
    message.extend_from_slice(WARRANT_CONTEXT);
    message.push(ENVELOPE_VERSION);
    message.extend_from_slice(payload);
    message
}
