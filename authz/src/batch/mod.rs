//! Signatures gathered across concurrent requests by a `tower` service
//! ([`PopBatch`]) and verified in batches on blocking threads, off the async
//! workers: every request's PoP, and the signatures of a chain that missed the
//! cache (see `RequestAuthorizer::decide_batched`). Each verdict is the one [`crate::crypto::verify_one_of`] gives for that
//! signature alone (see [`crate::crypto`] for the criterion): a batch only saves time.
//!
//! The service (`service.rs`), its limits (`config.rs`), its messages to the worker
//! (`message.rs`), the worker (`worker.rs`) and the response future (`future.rs`)
//! follow the shape of Zebra's `tower-batch-control`.

mod config;
mod error;
mod future;
mod message;
mod service;
mod worker;

pub use config::{BatchConfig, BatchObserver};
pub use error::BatchServiceError;
pub use future::ResponseFuture;
pub use message::VerifyItem;
pub use service::PopBatch;
pub use worker::PopBatchWorker;
