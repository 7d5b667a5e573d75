//! The future a [`PopBatch`](super::PopBatch) call returns.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use super::error::BatchServiceError;
use crate::crypto::SignatureInvalid;

/// Resolves to the verdict on one [`VerifyItem`](super::VerifyItem), or to a
/// [`BatchServiceError`] when the service could not decide it.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture {
    state: State,
}

#[derive(Debug)]
enum State {
    Waiting(oneshot::Receiver<Result<(), SignatureInvalid>>),
    Failed(Option<BatchServiceError>),
}

impl ResponseFuture {
    pub(super) fn waiting(receiver: oneshot::Receiver<Result<(), SignatureInvalid>>) -> Self {
        Self {
            state: State::Waiting(receiver),
        }
    }

    pub(super) fn failed(error: BatchServiceError) -> Self {
        Self {
            state: State::Failed(Some(error)),
        }
    }
}

impl Future for ResponseFuture {
    type Output = Result<Result<(), SignatureInvalid>, BatchServiceError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            State::Waiting(receiver) => match Pin::new(receiver).poll(cx) {
                Poll::Ready(Ok(verdict)) => Poll::Ready(Ok(verdict)),
                Poll::Ready(Err(_)) => Poll::Ready(Err(BatchServiceError::Abandoned)),
                // Correctness: the oneshot receiver registered this task's waker. The
                // blocking verification task wakes it by sending the verdict; if the
                // worker or that task goes away first, dropping the sender wakes it too.
                Poll::Pending => Poll::Pending,
            },
            State::Failed(error) => {
                Poll::Ready(Err(error.take().unwrap_or(BatchServiceError::Closed)))
            }
        }
    }
}
