//! Signed approvals: the multi-signature gate a warrant can put in front of a
//! tool, evaluated as the reference authorizer evaluates it.
//!
//! A warrant names approvers (`required_approvers`, `min_approvals`) and, in its
//! `tenuo.approval_gates` extension, which calls need them. A gated call is
//! allowed only with enough distinct, valid, unexpired approvals from those
//! approvers, each signed over this call's request hash; an ungated call needs
//! none. Approvers without a gate map gate nothing (the reference's reading).
//!
//! The parts, one job each: [`signed`] decodes and verifies one approval,
//! [`header`] decodes the text a request carries them in, [`request_hash`](mod@request_hash)
//! binds an approval to one call, [`gates`] parses and evaluates the gate map,
//! [`threshold`] counts approvals against what the leaf requires, and [`link`]
//! keeps a delegation from weakening any of it.

pub mod gates;
pub mod header;
pub mod link;
pub mod request_hash;
pub mod signed;
pub mod threshold;

mod error;

pub use error::{ApprovalDecodeError, ApprovalDenial, ApprovalShortfall, GateError};
pub use gates::{ArgGate, GateMap, ToolGate, APPROVAL_GATES_EXTENSION};
pub use header::{
    decode_approvals, decode_approvals_cbor, encode_approvals, MAX_APPROVALS, MAX_APPROVALS_BYTES,
};
pub use request_hash::request_hash;
pub use signed::{ApprovalPayload, SignedApproval, APPROVAL_CONTEXT};
pub use threshold::LeafApprovals;
