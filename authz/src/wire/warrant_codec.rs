//! The codec side of [`Warrant`] and [`Payload`]: decoding a warrant, encoding it
//! as header text, and the structural rules every decode checks. They live with
//! the codec so that the warrant types do not import it.

use super::{decode_warrant, encode_base64url, StructureError};
use super::{MAX_CONSTRAINTS_PER_TOOL, MAX_EXTENSION_KEYS, MAX_EXTENSION_VALUE_BYTES, MAX_TOOLS};
use crate::crypto::PublicKey;
use crate::warrant::{Payload, Warrant, WarrantType};
use crate::wire::DecodeError;

impl Warrant {
    /// Decodes one envelope (CBOR bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_warrant(bytes)
    }

    /// base64url (no padding) of the envelope, the form of the `X-Tenuo-Warrant` header.
    pub fn to_base64url(&self) -> String {
        encode_base64url(self.envelope_bytes())
    }
}

impl Payload {
    /// Structural rules that need no clock, checked on every decode.
    pub fn validate_structure(&self) -> Result<(), StructureError> {
        use StructureError as E;
        if self.expires_at <= self.issued_at {
            return Err(E::ExpiryNotAfterIssue);
        }
        match self.warrant_type {
            WarrantType::Execution => {
                if self.issuable_tools.is_some() || self.max_issue_depth.is_some() {
                    return Err(E::ExecutionWithIssuerFields);
                }
            }
            WarrantType::Issuer => {
                if !self.tools.is_empty()
                    || self.issuable_tools.as_ref().is_none_or(|t| t.is_empty())
                {
                    return Err(E::IssuerShape);
                }
            }
        }
        if let Some(issue) = self.max_issue_depth {
            if issue > u32::from(self.max_depth) {
                return Err(E::IssueDepthOverMax(issue, u32::from(self.max_depth)));
            }
        }
        if self.tools.len() > MAX_TOOLS {
            return Err(E::TooManyTools(self.tools.len()));
        }
        if let Some(set) = self
            .tools
            .values()
            .find(|s| s.len() > MAX_CONSTRAINTS_PER_TOOL)
        {
            return Err(E::TooManyConstraints(set.len()));
        }
        if self.extensions.len() > MAX_EXTENSION_KEYS {
            return Err(E::TooManyExtensions(self.extensions.len()));
        }
        if let Some(value) = self
            .extensions
            .values()
            .find(|v| v.len() > MAX_EXTENSION_VALUE_BYTES)
        {
            return Err(E::ExtensionTooLarge(value.len()));
        }
        if let (Some(approvers), Some(min)) = (&self.required_approvers, self.min_approvals) {
            let mut distinct: Vec<[u8; 32]> = approvers.iter().map(PublicKey::to_bytes).collect();
            distinct.sort_unstable();
            distinct.dedup();
            let distinct = distinct.len() as u32;
            if min == 0 || min > distinct {
                return Err(E::ApprovalThreshold {
                    min,
                    approvers: distinct,
                });
            }
        }
        Ok(())
    }
}
