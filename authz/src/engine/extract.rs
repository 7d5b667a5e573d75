//! Which tool call an HTTP request is: the [`ExtractCall`] trait, implemented by
//! the gateway configuration and by any closure.

pub use crate::deny::ExtractError;
use crate::pop::Args;

/// What an extractor sees: the request head and, when it asked for it, the body.
#[derive(Debug)]
pub struct CallRequest<'a> {
    /// Method, URI, headers.
    pub parts: &'a http::request::Parts,
    /// The buffered body; empty unless [`ExtractCall::needs_body`] said yes.
    pub body: &'a [u8],
}

/// Maps a request to `(tool, arguments)`.
///
/// Implemented for closures `Fn(&CallRequest) -> Result<(String, Args), ExtractError>`
/// (which never need the body) and by the gateway configuration.
pub trait ExtractCall: Send + Sync + 'static {
    /// Whether this request's arguments come from its body (which is then
    /// buffered, up to the configured limit, before the call is extracted).
    fn needs_body(&self, _parts: &http::request::Parts) -> bool {
        false
    }

    /// The tool call this request makes.
    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError>;
}

impl<F> ExtractCall for F
where
    F: Fn(&CallRequest<'_>) -> Result<(String, Args), ExtractError> + Send + Sync + 'static,
{
    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        self(request)
    }
}
