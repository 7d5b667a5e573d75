//! [`AuthzConfig`]: the header names, debug mode and body bound of HTTP decisions.

/// Settings of HTTP decisions (the tower layer and the server). Defaults follow `docs/reference.md` §1 and the Tenuo SDKs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthzConfig {
    /// Header carrying the warrant or stack (default `x-tenuo-warrant`).
    pub warrant_header: http::HeaderName,
    /// Header carrying the PoP signature (default `x-tenuo-pop`).
    pub pop_header: http::HeaderName,
    /// Header carrying signed approvals (default `x-tenuo-approvals`): base64 of
    /// the CBOR of one approval or an array of them.
    pub approval_header: http::HeaderName,
    /// Header whose value becomes the request id (default `x-request-id`); one is
    /// generated when absent.
    pub request_id_header: http::HeaderName,
    /// Add `X-Tenuo-Deny-Reason` and detailed messages to denials. Never in production.
    pub debug: bool,
    /// Largest request body read for extraction (default 1 MiB).
    pub max_body_bytes: usize,
}

impl Default for AuthzConfig {
    fn default() -> Self {
        Self {
            warrant_header: http::HeaderName::from_static("x-tenuo-warrant"),
            pop_header: http::HeaderName::from_static("x-tenuo-pop"),
            approval_header: http::HeaderName::from_static("x-tenuo-approvals"),
            request_id_header: http::HeaderName::from_static("x-request-id"),
            debug: false,
            max_body_bytes: 1024 * 1024,
        }
    }
}
