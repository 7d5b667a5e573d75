//! The [`PopBatch`] service: gathers signatures from concurrent requests into batches.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot, AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tower_service::Service;

use super::config::BatchConfig;
use super::error::BatchServiceError;
use super::future::ResponseFuture;
use super::message::{Message, VerifyItem};
use super::worker::PopBatchWorker;
use crate::crypto::SignatureInvalid;

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
