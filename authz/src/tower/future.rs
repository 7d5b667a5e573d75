//! [`ResponseFuture`]: the inner service's future, a denial ready now, or (when the
//! body had to be read first) a boxed future doing both steps.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use pin_project_lite::pin_project;

use super::body::AuthzResponseBody;

type BoxedResponse<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<AuthzResponseBody<B>>, E>> + Send>>;

pin_project! {
    /// Response future of [`super::AuthzService`].
    #[project = Proj]
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner { #[pin] future: F },
        Denied { response: Option<Response<Full<Bytes>>> },
        Boxed { future: BoxedResponse<B, E> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn denied(response: Response<Full<Bytes>>) -> Self {
        Self {
            state: State::Denied {
                response: Some(response),
            },
        }
    }

    pub(crate) fn boxed(future: BoxedResponse<B, E>) -> Self {
        Self {
            state: State::Boxed { future },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<AuthzResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            // Correctness: a Pending from the inner future was registered by it
            // with `cx`, so the inner service wakes this task.
            StateProj::Inner { future } => future
                .poll(cx)
                .map_ok(|r| r.map(|body| AuthzResponseBody::Inner { body })),
            StateProj::Denied { response } => match response.take() {
                Some(response) => {
                    Poll::Ready(Ok(response.map(|body| AuthzResponseBody::Denied { body })))
                }
                // Correctness: only reached when polled after completion, which the
                // Future contract forbids; nothing will wake the task, by design.
                None => Poll::Pending,
            },
            // Correctness: the boxed future registers `cx` with whatever it awaits
            // (the body or the inner service), which wakes this task.
            StateProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}
