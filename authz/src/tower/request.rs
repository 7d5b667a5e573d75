//! [`RequestAuthorizer`]: the decision for one HTTP request, shared by every front
//! end (the tower middleware, the gateway server, the Envoy gRPC service) so all
//! of them decide, log and count alike.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;

use super::context::{AuthzContext, DecisionEvent, Observer};
use super::deny_response::{deny_response, log_denial};
use super::extract::{CallRequest, ExtractCall};
use super::layer::AuthzConfig;
use crate::authorizer::parse_pop;
use crate::decision::{Authorized, Call};
use crate::deny::Denial;
use crate::wire::DecodeError;
use crate::Authorizer;

/// One decided request.
#[derive(Debug)]
pub struct Decided {
    /// The tool, when the request mapped to one.
    pub tool: Option<String>,
    /// The request id (from the request id header, or generated).
    pub request_id: String,
    /// Allowed with its context, or denied.
    pub outcome: Result<AuthzContext, Denial>,
}

/// Decides HTTP requests: headers, extraction, authorizer, logging, observer.
pub struct RequestAuthorizer {
    authorizer: Arc<Authorizer>,
    extractor: Arc<dyn ExtractCall>,
    observer: Arc<dyn Observer>,
    config: AuthzConfig,
}

impl std::fmt::Debug for RequestAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestAuthorizer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RequestAuthorizer {
    /// From its parts.
    pub fn new(
        authorizer: Arc<Authorizer>,
        extractor: Arc<dyn ExtractCall>,
        observer: Arc<dyn Observer>,
        config: AuthzConfig,
    ) -> Self {
        Self {
            authorizer,
            extractor,
            observer,
            config,
        }
    }

    /// The same, with other settings.
    pub fn with_config(&self, config: AuthzConfig) -> Self {
        Self {
            config,
            ..self.clone_parts()
        }
    }

    /// The same, with another observer.
    pub fn with_observer(&self, observer: Arc<dyn Observer>) -> Self {
        Self {
            observer,
            ..self.clone_parts()
        }
    }

    fn clone_parts(&self) -> Self {
        Self {
            authorizer: Arc::clone(&self.authorizer),
            extractor: Arc::clone(&self.extractor),
            observer: Arc::clone(&self.observer),
            config: self.config.clone(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &AuthzConfig {
        &self.config
    }

    /// The authorizer.
    pub fn authorizer(&self) -> &Arc<Authorizer> {
        &self.authorizer
    }

    /// Whether the request's arguments come from its body.
    pub fn needs_body(&self, parts: &http::request::Parts) -> bool {
        self.extractor.needs_body(parts)
    }

    /// Decides a request (with its body, if [`Self::needs_body`]), logs a denial
    /// and tells the observer.
    pub fn decide(&self, parts: &http::request::Parts, body: &[u8]) -> Decided {
        let started = Instant::now();
        let request_id = self.request_id_of(parts);
        let (tool, outcome) = self.decide_quietly(parts, body);
        let outcome =
            outcome.map(|allowed| AuthzContext::from_allowed(allowed, request_id.clone()));
        self.record(tool.as_deref(), outcome.as_ref(), started, &request_id);
        Decided {
            tool,
            request_id,
            outcome,
        }
    }

    /// Logs and counts a denial decided outside [`Self::decide`] (an unreadable
    /// body); returns the request id to answer with.
    pub fn reject(&self, parts: &http::request::Parts, denial: &Denial) -> String {
        let request_id = self.request_id_of(parts);
        self.record(None, Err(denial), Instant::now(), &request_id);
        request_id
    }

    /// The HTTP answer to a denial, per the settings' debug mode.
    pub fn deny_response(&self, denial: &Denial, request_id: &str) -> Response<Full<Bytes>> {
        deny_response(denial, request_id, self.config.debug)
    }

    /// Logs a decision made elsewhere (`POST /v1/check`) and tells the observer.
    pub fn record(
        &self,
        tool: Option<&str>,
        outcome: Result<&AuthzContext, &Denial>,
        started: Instant,
        request_id: &str,
    ) {
        match outcome {
            Err(denial) => log_denial(denial, tool, request_id),
            Ok(context) => tracing::debug!(
                event = "authorization_allowed",
                tool = context.tool.as_str(),
                warrant_id = %context.warrant_id,
                request_id,
            ),
        }
        self.observer.on_decision(&DecisionEvent {
            tool,
            outcome,
            elapsed: started.elapsed(),
        });
    }

    /// The decision, in CONTRACTS order: a missing warrant first, then the
    /// route, then the chain, the tool, the PoP and the arguments.
    fn decide_quietly(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> (Option<String>, Result<Authorized, Denial>) {
        let headers = &parts.headers;
        let token = match headers.get(&self.config.warrant_header).map(|v| v.to_str()) {
            None => return (None, Err(Denial::MissingWarrant)),
            Some(Err(_)) => {
                return (
                    None,
                    Err(Denial::InvalidWarrant(DecodeError::Text(
                        "warrant header is not ASCII",
                    ))),
                )
            }
            Some(Ok(token)) if token.trim().is_empty() => {
                return (None, Err(Denial::MissingWarrant))
            }
            Some(Ok(token)) => token,
        };
        let (tool, args) = match self.extractor.extract(&CallRequest { parts, body }) {
            Ok(call) => call,
            Err(error) => return (None, Err(Denial::Request(error))),
        };
        let outcome = (|| {
            let chain = self.authorizer.prepare(token)?;
            // A PoP header that is not text cannot be a signature: invalid, not missing.
            let pop_text = headers
                .get(&self.config.pop_header)
                .map(|v| v.to_str().unwrap_or("\u{0}"));
            let pop = parse_pop(pop_text)?;
            let call = Call {
                tool: &tool,
                args: &args,
                pop: pop.as_ref(),
                now: self.authorizer.now(),
            };
            self.authorizer.decide(&chain, &call)
        })();
        (Some(tool), outcome)
    }

    /// The request id: the request id header, or a fresh random one.
    pub fn request_id_of(&self, parts: &http::request::Parts) -> String {
        parts
            .headers
            .get(&self.config.request_id_header)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_owned)
            .unwrap_or_else(random_request_id)
    }
}

fn random_request_id() -> String {
    let mut bytes = [0u8; 8];
    // A request id only correlates log lines; a failed RNG read leaves zeros.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}
