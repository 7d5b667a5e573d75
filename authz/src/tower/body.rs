//! Body types the middleware hands on: the request body as received or as buffered
//! for extraction, and the response body of the inner service or of a denial.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

pin_project! {
    /// The request body the inner service receives.
    #[project = RequestProj]
    #[allow(missing_docs)] // variant fields: documented by their variants
    pub enum AuthzRequestBody<B> {
        /// Untouched: the call was extracted without reading the body.
        Original { #[pin] body: B },
        /// Read in full to extract the call, and replayed.
        Buffered { #[pin] body: Full<Bytes> },
    }
}

impl<B> Body for AuthzRequestBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            RequestProj::Original { body } => body.poll_frame(cx),
            RequestProj::Buffered { body } => body.poll_frame(cx).map_err(|never| match never {}),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Original { body } => body.is_end_stream(),
            Self::Buffered { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Original { body } => body.size_hint(),
            Self::Buffered { body } => body.size_hint(),
        }
    }
}

pin_project! {
    /// The response body: the inner service's, or a denial's JSON.
    #[project = ResponseProj]
    #[allow(missing_docs)] // variant fields: documented by their variants
    pub enum AuthzResponseBody<B> {
        /// From the inner service.
        Inner { #[pin] body: B },
        /// A denial written by the middleware.
        Denied { #[pin] body: Full<Bytes> },
    }
}

impl<B> Body for AuthzResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            ResponseProj::Inner { body } => body.poll_frame(cx),
            ResponseProj::Denied { body } => body.poll_frame(cx).map_err(|never| match never {}),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Inner { body } => body.is_end_stream(),
            Self::Denied { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Inner { body } => body.size_hint(),
            Self::Denied { body } => body.size_hint(),
        }
    }
}
