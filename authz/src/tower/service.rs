//! [`AuthzService`]: decides each request, then calls the inner service or answers
//! the denial itself.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use tower_service::Service;

use super::body::{AuthzRequestBody, AuthzResponseBody};
use super::context::{AuthzContext, DecisionEvent};
use super::deny_response::{deny_response, log_denial};
use super::extract::{CallRequest, ExtractError};
use super::future::ResponseFuture;
use super::layer::Shared;
use crate::authorizer::parse_pop;
use crate::decision::Call;
use crate::deny::Denial;
use crate::wire::DecodeError;

/// Authorizes requests for an inner service. Built by [`super::AuthzLayer`].
#[derive(Clone)]
pub struct AuthzService<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for AuthzService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzService")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthzService<S>
where
    S: Service<Request<AuthzRequestBody<ReqBody>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    ResBody: Send + 'static,
{
    type Response = Response<AuthzResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let shared = Arc::clone(&self.shared);
        if !shared.extractor.needs_body(&parts) {
            return match shared.decide_and_report(&parts, &[]) {
                Ok(context) => {
                    parts.extensions.insert(context);
                    let request = Request::from_parts(parts, AuthzRequestBody::Original { body });
                    ResponseFuture::inner(self.inner.call(request))
                }
                Err(denied) => ResponseFuture::denied(*denied),
            };
        }
        // The body is needed: read it (bounded) off this call, then decide. The
        // ready inner service goes with the future; a clone stays for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::boxed(Box::pin(async move {
            let limit = shared.config.max_body_bytes;
            let bytes = match Limited::new(body, limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) => {
                    let problem = if error.is::<http_body_util::LengthLimitError>() {
                        ExtractError::BodyTooLarge { limit }
                    } else {
                        ExtractError::BodyUnreadable
                    };
                    let request_id = shared.request_id(&parts);
                    let denial = Denial::Request(problem);
                    shared.report(None, Err(&denial), Instant::now(), &request_id);
                    let response = deny_response(&denial, &request_id, shared.config.debug);
                    return Ok(response.map(|body| AuthzResponseBody::Denied { body }));
                }
            };
            match shared.decide_and_report(&parts, &bytes) {
                Ok(context) => {
                    parts.extensions.insert(context);
                    let request = Request::from_parts(
                        parts,
                        AuthzRequestBody::Buffered {
                            body: Full::new(bytes),
                        },
                    );
                    let response = inner.call(request).await?;
                    Ok(response.map(|body| AuthzResponseBody::Inner { body }))
                }
                Err(denied) => Ok(denied.map(|body| AuthzResponseBody::Denied { body })),
            }
        }))
    }
}

impl Shared {
    /// Decides, logs a denial, tells the observer; returns the context to attach
    /// or the response to send.
    fn decide_and_report(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<AuthzContext, Box<Response<Full<Bytes>>>> {
        let started = Instant::now();
        let request_id = self.request_id(parts);
        let (tool, outcome) = self.decide(parts, body);
        let outcome = outcome.map(|allowed| AuthzContext::new(allowed, request_id.clone()));
        self.report(tool.as_deref(), outcome.as_ref(), started, &request_id);
        outcome.map_err(|denial| Box::new(deny_response(&denial, &request_id, self.config.debug)))
    }

    fn report(
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
    fn decide(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> (Option<String>, Result<crate::decision::Authorized, Denial>) {
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

    fn request_id(&self, parts: &http::request::Parts) -> String {
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
