//! Limits of a [`PopBatch`](super::PopBatch) service, and its batch observer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// Called with the size of every batch the worker dispatches (for `tenuo_batch_size`).
pub type BatchObserver = Arc<dyn Fn(usize) + Send + Sync>;

/// Limits of a [`PopBatch`](super::PopBatch) service.
#[derive(Clone)]
#[non_exhaustive]
pub struct BatchConfig {
    pub(super) max_items: usize,
    pub(super) max_latency: Duration,
    pub(super) queue_bound: usize,
    pub(super) max_concurrent_batches: usize,
    pub(super) observer: Option<BatchObserver>,
}

impl Default for BatchConfig {
    /// 64 items per batch, no deliberate wait, 4096 queued items, one batch in flight per
    /// two CPUs (at least one).
    ///
    /// Why half: batches grow only while every verification thread is busy. With one
    /// thread per CPU a thread is nearly always free, so under load most batches held a
    /// single signature (README, Performance) and paid the full
    /// single-signature price, while the async workers serving HTTP fought the
    /// verification threads for the same CPUs.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            max_items: 64,
            max_latency: Duration::ZERO,
            queue_bound: 4096,
            max_concurrent_batches: (cpus / 2).max(1),
            observer: None,
        }
    }
}

impl BatchConfig {
    /// Largest batch (at least 1).
    pub fn with_max_items(mut self, max_items: usize) -> Self {
        self.max_items = max_items.max(1);
        self
    }

    /// How long the first item of a batch may wait for company while a verification thread
    /// is free. Items also gather, without this wait, while every thread is busy, which is
    /// when batching pays. Tokio's timer has millisecond resolution, so a positive wait
    /// below 1 ms lasts up to about 1 ms.
    pub fn with_max_latency(mut self, max_latency: Duration) -> Self {
        self.max_latency = max_latency;
        self
    }

    /// Most items queued or being verified at once (at least 1); `poll_ready` waits for room.
    pub fn with_queue_bound(mut self, queue_bound: usize) -> Self {
        self.queue_bound = queue_bound.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// Most batches verified at once on blocking threads (at least 1).
    pub fn with_max_concurrent_batches(mut self, batches: usize) -> Self {
        self.max_concurrent_batches = batches.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// Reports every dispatched batch's size to `observer`.
    pub fn with_batch_observer(mut self, observer: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }
}

impl fmt::Debug for BatchConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchConfig")
            .field("max_items", &self.max_items)
            .field("max_latency", &self.max_latency)
            .field("queue_bound", &self.queue_bound)
            .field("max_concurrent_batches", &self.max_concurrent_batches)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}
