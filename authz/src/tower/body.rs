//! Body types the middleware hands on: the request body as received or as buffered
//! for extraction, and the response body of the inner service or of a denial.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

/// `Body` for an enum of the caller's body `B` and a buffered `Full<Bytes>`: both
/// bodies share one shape, one passing `B` through and one replaying bytes.
macro_rules! body_or_full {
    ($name:ident, $proj:ident, $passthrough:ident, $full:ident) => {
        impl<B> Body for $name<B>
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
                    $proj::$passthrough { body } => body.poll_frame(cx),
                    $proj::$full { body } => body.poll_frame(cx).map_err(|never| match never {}),
                }
            }

            fn is_end_stream(&self) -> bool {
                match self {
                    Self::$passthrough { body } => body.is_end_stream(),
                    Self::$full { body } => body.is_end_stream(),
                }
            }

            fn size_hint(&self) -> SizeHint {
                match self {
                    Self::$passthrough { body } => body.size_hint(),
                    Self::$full { body } => body.size_hint(),
                }
            }
        }
    };
}

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

body_or_full!(AuthzRequestBody, RequestProj, Original, Buffered);

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

body_or_full!(AuthzResponseBody, ResponseProj, Inner, Denied);
