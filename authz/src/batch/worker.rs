//! The worker behind [`PopBatch`](super::PopBatch): gathers items and verifies each batch on
//! a blocking thread, off the async workers.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::{mpsc, AcquireError, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::config::BatchConfig;
use super::message::Message;
use crate::crypto::{decide, VerifyRequest};

enum Event {
    Slot(Result<OwnedSemaphorePermit, AcquireError>),
    Received,
    Disconnected,
}

/// Gathers queued items into batches and verifies them. Dropping it stops the service:
/// queued callers get [`BatchServiceError::Abandoned`](super::BatchServiceError::Abandoned)
/// and later ones [`BatchServiceError::Closed`](super::BatchServiceError::Closed).
#[derive(Debug)]
pub struct PopBatchWorker {
    rx: mpsc::UnboundedReceiver<Message>,
    queue: Arc<Semaphore>,
    slots: Arc<Semaphore>,
    config: BatchConfig,
    open: bool,
}

impl PopBatchWorker {
    pub(super) fn new(
        rx: mpsc::UnboundedReceiver<Message>,
        queue: Arc<Semaphore>,
        config: BatchConfig,
    ) -> Self {
        Self {
            rx,
            queue,
            slots: Arc::new(Semaphore::new(config.max_concurrent_batches)),
            config,
            open: true,
        }
    }

    /// Runs until every handle of the service is dropped and the queue is drained.
    /// Needs a Tokio runtime with the timer enabled.
    pub async fn run(mut self) {
        while self.run_once().await.is_some() {}
    }

    /// Waits for one batch, hands it to a blocking thread and returns its size without
    /// waiting for the verdicts; `None` once every handle is dropped and the queue is empty.
    pub async fn run_once(&mut self) -> Option<usize> {
        let first = if self.open {
            self.rx.recv().await
        } else {
            None
        };
        let Some(first) = first else {
            self.open = false;
            return None;
        };
        let max_items = self.config.max_items;
        let mut batch = vec![first];
        self.drain(&mut batch);

        if !self.config.max_latency.is_zero() {
            let deadline = Instant::now() + self.config.max_latency;
            while self.open && batch.len() < max_items {
                match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                    Ok(Some(message)) => batch.push(message),
                    Ok(None) => self.open = false,
                    Err(_elapsed) => break,
                }
            }
        }

        // Wait for a free verification thread, gathering what arrives meanwhile.
        let mut acquire = std::pin::pin!(Arc::clone(&self.slots).acquire_owned());
        let slot = loop {
            let room = self.open && batch.len() < max_items;
            let rx = &mut self.rx;
            let batch = &mut batch;
            let event = std::future::poll_fn(|cx| {
                if let Poll::Ready(slot) = acquire.as_mut().poll(cx) {
                    return Poll::Ready(Event::Slot(slot));
                }
                if room {
                    match rx.poll_recv(cx) {
                        Poll::Ready(Some(message)) => {
                            batch.push(message);
                            return Poll::Ready(Event::Received);
                        }
                        Poll::Ready(None) => return Poll::Ready(Event::Disconnected),
                        Poll::Pending => {}
                    }
                }
                // Correctness: `acquire` registered this task's waker with the slot
                // semaphore, which a blocking batch wakes when it finishes; `poll_recv`
                // (when there is room) registered it with the channel, which a caller's
                // `call` wakes, as does dropping the last handle.
                Poll::Pending
            })
            .await;
            match event {
                // The slot semaphore is never closed; were it, verify without a slot.
                Event::Slot(slot) => break slot.ok(),
                Event::Received => {}
                Event::Disconnected => self.open = false,
            }
        };
        self.drain(&mut batch);

        let size = batch.len();
        if let Some(observer) = &self.config.observer {
            observer(size);
        }
        // If the runtime is shutting down the closure is dropped unrun: the callers'
        // reply senders drop with it and they get `Abandoned`, never a verdict.
        drop(tokio::task::spawn_blocking(move || {
            verify_batch(batch);
            drop(slot);
        }));
        Some(size)
    }

    /// Takes what is already queued, up to the batch limit.
    fn drain(&mut self, batch: &mut Vec<Message>) {
        while self.open && batch.len() < self.config.max_items {
            match self.rx.try_recv() {
                Ok(message) => batch.push(message),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => self.open = false,
            }
        }
    }
}

impl Drop for PopBatchWorker {
    fn drop(&mut self) {
        // Wake callers waiting in `poll_ready` so they see `Closed` rather than hang.
        self.queue.close();
    }
}

/// Decides every item of `batch` and sends each verdict to its caller.
fn verify_batch(batch: Vec<Message>) {
    let requests: Vec<VerifyRequest<'_, Vec<u8>>> = batch
        .iter()
        .map(|message| VerifyRequest {
            key: &message.item.key,
            signature: &message.item.signature,
            candidates: &message.item.messages,
        })
        .collect();
    let verdicts = decide(&requests);
    drop(requests);
    for (message, verdict) in batch.into_iter().zip(verdicts) {
        // A caller that stopped waiting has dropped its receiver; nothing to do.
        let _ = message.reply.send(verdict);
        drop(message.permit);
    }
}
