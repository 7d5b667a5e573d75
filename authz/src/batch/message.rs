//! What a caller asks the service to verify ([`VerifyItem`]), and what the service
//! sends the worker for it: the item, where its verdict goes, and its place in the
//! bounded queue.

use tokio::sync::{oneshot, OwnedSemaphorePermit};

use crate::crypto::{PublicKey, Signature, SignatureInvalid};

/// One signature to verify, with the messages it may have signed.
///
/// The signature is valid if it verifies for any candidate. Only the first candidate
/// joins the batch (for a PoP, the current time window: the common case); the others are
/// tried one by one, and only for this item, when the batch does not settle it.
#[derive(Clone, Debug)]
pub struct VerifyItem {
    /// The signer's key.
    pub key: PublicKey,
    /// The signature.
    pub signature: Signature,
    /// Candidate messages, most likely first. An empty list is refused.
    pub messages: Vec<Vec<u8>>,
}

impl VerifyItem {
    /// An item with a single message.
    pub fn new(key: PublicKey, signature: Signature, message: impl Into<Vec<u8>>) -> Self {
        Self {
            key,
            signature,
            messages: vec![message.into()],
        }
    }

    /// An item valid if any of `messages` verifies, most likely first.
    pub fn with_candidates(key: PublicKey, signature: Signature, messages: Vec<Vec<u8>>) -> Self {
        Self {
            key,
            signature,
            messages,
        }
    }
}

/// A queued item, its reply channel and its place in the bounded queue.
pub(crate) struct Message {
    pub(crate) item: VerifyItem,
    pub(crate) reply: oneshot::Sender<Result<(), SignatureInvalid>>,
    /// Released once the verdict is sent, making room for another caller.
    pub(crate) permit: OwnedSemaphorePermit,
}
