//! The [`PopBatch`] service: gathers signatures from concurrent requests into batches.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tower_service::Service;

use super::error::{BatchServiceError, SignatureInvalid};
use super::future::ResponseFuture;
use super::worker::{Message, PopBatchWorker};
use crate::crypto::{PublicKey, Signature};

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

/// Called with the size of every batch the worker dispatches (for `tenuo_batch_size`).
pub type BatchObserver = Arc<dyn Fn(usize) + Send + Sync>;

/// Limits of a [`PopBatch`] service.
#[derive(Clone)]
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
    /// single signature (74 % of them in a 16-user loadtest on 2 cores) and paid the full
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

type Acquire = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

/// A `tower` service that verifies signatures in batches gathered across callers.
///
/// The response is the verdict on the item (`Err` is a denial, not a service failure);
/// the service error, [`BatchServiceError`], means no verdict could be given. Clone the
/// service to share it: all clones feed one [`PopBatchWorker`].
///
/// # Examples
///
/// ```
/// use tenuo_authz::batch::{BatchConfig, PopBatch, VerifyItem};
/// use tenuo_authz::crypto::SigningKey;
/// use tower::ServiceExt;
///
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # runtime.block_on(async {
/// let service = PopBatch::spawn_on(BatchConfig::default(), &tokio::runtime::Handle::current());
/// let holder = SigningKey::from_bytes(&[7; 32]);
/// let pop = holder.sign(b"challenge, current window");
/// let item = VerifyItem::with_candidates(
///     holder.public_key(),
///     pop,
///     vec![b"challenge, current window".to_vec(), b"challenge, previous window".to_vec()],
/// );
/// let verdict = service.oneshot(item).await.expect("worker running");
/// assert_eq!(verdict, Ok(()));
/// # });
/// ```
pub struct PopBatch {
    tx: mpsc::UnboundedSender<Message>,
    queue: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
    acquiring: Option<Acquire>,
}

impl PopBatch {
    /// The service and its worker, unstarted: run [`PopBatchWorker::run`] on a Tokio
    /// runtime, or drive it with [`PopBatchWorker::run_once`] in tests.
    pub fn pair(config: BatchConfig) -> (Self, PopBatchWorker) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = Arc::new(Semaphore::new(config.queue_bound));
        let service = Self {
            tx,
            queue: Arc::clone(&queue),
            permit: None,
            acquiring: None,
        };
        (service, PopBatchWorker::new(rx, queue, config))
    }

    /// The service, with its worker spawned on `runtime`.
    pub fn spawn_on(config: BatchConfig, runtime: &tokio::runtime::Handle) -> Self {
        let (service, worker) = Self::pair(config);
        runtime.spawn(worker.run());
        service
    }
}

impl Clone for PopBatch {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            queue: Arc::clone(&self.queue),
            permit: None,
            acquiring: None,
        }
    }
}

impl fmt::Debug for PopBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PopBatch")
            .field("closed", &self.tx.is_closed())
            .field("ready", &self.permit.is_some())
            .finish_non_exhaustive()
    }
}

impl Service<VerifyItem> for PopBatch {
    type Response = Result<(), SignatureInvalid>;
    type Error = BatchServiceError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.tx.is_closed() {
            // Sticky: once the worker is gone every handle reports it, forever.
            self.permit = None;
            self.acquiring = None;
            return Poll::Ready(Err(BatchServiceError::Closed));
        }
        if self.permit.is_some() {
            return Poll::Ready(Ok(()));
        }
        let acquiring = match &mut self.acquiring {
            Some(acquiring) => acquiring,
            None => match Arc::clone(&self.queue).try_acquire_owned() {
                Ok(permit) => {
                    self.permit = Some(permit);
                    return Poll::Ready(Ok(()));
                }
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(BatchServiceError::Closed)),
                Err(TryAcquireError::NoPermits) => self
                    .acquiring
                    .insert(Box::pin(Arc::clone(&self.queue).acquire_owned())),
            },
        };
        match acquiring.as_mut().poll(cx) {
            Poll::Ready(Ok(permit)) => {
                self.acquiring = None;
                self.permit = Some(permit);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(_)) => {
                self.acquiring = None;
                Poll::Ready(Err(BatchServiceError::Closed))
            }
            // Correctness: `acquire_owned` registered this task's waker with the queue
            // semaphore. The worker wakes it by releasing a permit once an item's verdict
            // is sent, or by closing the semaphore when it is dropped.
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, item: VerifyItem) -> Self::Future {
        let Some(permit) = self.permit.take() else {
            return ResponseFuture::failed(BatchServiceError::NotReady);
        };
        let (reply, receiver) = oneshot::channel();
        match self.tx.send(Message {
            item,
            reply,
            permit,
        }) {
            Ok(()) => ResponseFuture::waiting(receiver),
            Err(_) => ResponseFuture::failed(BatchServiceError::Closed),
        }
    }
}
