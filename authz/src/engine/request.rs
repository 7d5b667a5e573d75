//! [`RequestAuthorizer`]: the decision for one HTTP request, shared by every front
//! end (the tower middleware, the gateway server, the Envoy gRPC service) so all
//! of them decide, log and count alike.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use tokio::sync::Semaphore;

use super::config::AuthzConfig;
use super::context::{AuthzContext, DecisionEvent, Observer};
use super::deny_response::{deny_response, log_denial};
use super::extract::{CallRequest, ExtractCall};
use crate::approval::{decode_approvals, ApprovalDecodeError, ApprovalDenial, SignedApproval};
use crate::authorizer::parse_pop;
use crate::batch::{PopBatch, ResponseFuture as BatchResponse, VerifyItem};
use crate::chain::{ChainSignature, PreparedChain};
use crate::crypto::Signature;
use crate::crypto::{verify_one_of, SignatureCriterion, SignatureInvalid};
use crate::decision::{finish_after_pop, Authorized, Call};
use crate::deny::Denial;
use crate::pop::{candidate_windows, verify_pop, Args, PopChallenge, PopError, PopWindows};
use crate::wire::DecodeError;
use crate::Authorizer;
use tower_service::Service;

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
    /// A handle to clone per request: a `PopBatch` in use holds a future that is
    /// not `Sync`, so the shared template sits behind a mutex.
    pop_batch: Option<Mutex<PopBatch>>,
    /// Chains verified at once on blocking threads in [`Self::decide_batched`]
    /// when there is no batch service.
    cold_slots: Arc<Semaphore>,
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
            pop_batch: None,
            cold_slots: Arc::new(Semaphore::new(cold_verifications())),
        }
    }

    /// Verifies PoPs, and the signatures of chains that missed the cache, through
    /// `batch`, gathering concurrent requests' signatures into batches, in
    /// [`Self::decide_batched`]. A batch decides the cofactored
    /// criterion only: under [`SignatureCriterion::Strict`] the batch is not used
    /// and PoPs stay inline.
    pub fn with_pop_batch(self, batch: PopBatch) -> Self {
        if self.authorizer.policy().signatures == SignatureCriterion::Strict {
            return self;
        }
        Self {
            pop_batch: Some(Mutex::new(batch)),
            ..self
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
            pop_batch: self.pop_batch.as_ref().map(|b| Mutex::new(lock(b).clone())),
            cold_slots: Arc::clone(&self.cold_slots),
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
        self.conclude(tool, outcome, started, request_id)
    }

    /// As [`Self::decide`], for servers: the signatures are verified off the async
    /// workers, so a burst of new or forged warrants does not stall the workers
    /// that answer cached requests and health checks.
    ///
    /// With a batch service (see [`Self::with_pop_batch`]), the PoP and, for a
    /// chain that is not cached, the chain's signatures join the batches that
    /// concurrent requests share: a new chain costs one trip to the verification
    /// threads, with no thread hand-off of its own, and its signatures are checked
    /// at the batch price. The chain is decoded and its links checked here, on the
    /// worker, as if its signatures held; their verdicts then settle the chain
    /// (cached either way, as [`Self::decide`] caches it). This replaced a
    /// blocking-thread hand-off per new chain, whose task switches cost more
    /// CPU than the curve arithmetic; a second batch service for new chains
    /// alone was tried too, and cached requests under a flood of new ones fared
    /// worse with it (README, Performance). Without a batch service, a chain that is not cached is verified on a blocking thread, at
    /// most one per CPU at a time (more wait their turn without holding a thread),
    /// and the PoP here.
    ///
    /// The answer, reason included, is [`Self::decide`]'s, except that batched
    /// signatures are held to the batch criterion (see [`crate::crypto`]), which
    /// is also the chain cache's. Under [`SignatureCriterion::Strict`] nothing is
    /// batched. If the batch service or the blocking pool is unavailable, the
    /// work is done inline: a service problem never changes a verdict.
    pub async fn decide_batched(&self, parts: &http::request::Parts, body: &[u8]) -> Decided {
        let started = Instant::now();
        let request_id = self.request_id_of(parts);
        let (tool, outcome) = match &self.pop_batch {
            Some(template) => {
                let batch = lock(template).clone();
                self.decide_with_batch(batch, parts, body).await
            }
            None => match self.before_pop_off_worker(parts, body).await {
                Err((tool, denial)) => (tool, Err(denial)),
                Ok(pending) => {
                    let verdict = pending.verify_pop_inline();
                    let outcome = verdict.and_then(|()| pending.finish(&self.authorizer));
                    (Some(pending.tool), outcome)
                }
            },
        };
        self.conclude(tool, outcome, started, request_id)
    }

    /// [`Self::decide_batched`] with a batch service: a cached chain's PoP, or a
    /// new chain's signatures and PoP, in the shared batches.
    async fn decide_with_batch(
        &self,
        mut batch: PopBatch,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> (Option<String>, Result<Authorized, Denial>) {
        let (token, tool, args) = match self.call_of(parts, body) {
            Ok(call) => call,
            Err((tool, denial)) => return (tool, Err(denial)),
        };
        let pending = match self.authorizer.cached(token) {
            Some(chain) => self.pending_pop(parts, Ok(chain), tool, args),
            None => {
                return match self.authorizer.prepare_awaiting_signatures(token) {
                    Ok((chain, signatures)) => {
                        let new = NewChain {
                            token,
                            chain,
                            signatures,
                        };
                        self.decide_new_chain(batch, parts, new, tool, args).await
                    }
                    Err(denial) => (Some(tool), Err(denial)),
                };
            }
        };
        match pending {
            Err((tool, denial)) => (tool, Err(denial)),
            Ok(pending) => {
                let verdict = verify_pop_batched(&mut batch, &pending).await;
                let outcome = verdict.and_then(|()| pending.finish(&self.authorizer));
                (Some(pending.tool), outcome)
            }
        }
    }

    /// A chain that missed the cache: judged as if its signatures held, they and
    /// (when the call gets that far) the PoP go to the batch together; the
    /// signatures' verdicts then settle the chain, which is cached, and a chain
    /// with an invalid signature is judged again as what it is.
    async fn decide_new_chain(
        &self,
        mut batch: PopBatch,
        parts: &http::request::Parts,
        new: NewChain<'_>,
        tool: String,
        args: Args,
    ) -> (Option<String>, Result<Authorized, Denial>) {
        let NewChain {
            token,
            chain,
            signatures,
        } = new;
        let optimistic = Arc::new(chain);
        let pending = self.pending_pop(
            parts,
            Ok(Arc::clone(&optimistic)),
            tool.clone(),
            args.clone(),
        );
        let mut items: Vec<VerifyItem> = signatures
            .into_iter()
            .map(|s| VerifyItem::new(s.key, s.signature, s.message))
            .collect();
        let links = items.len();
        // The PoP joins only when the chain, were its signatures valid, lets the
        // call reach it; its verdict counts only if they are.
        let pop_form = match &pending {
            Ok(pending) => pop_item(pending).map(|item| items.push(item)),
            Err(_) => Ok(()),
        };
        let mut verdicts = verify_in_batch(&mut batch, items).await;
        let pop_verdict = verdicts.split_off(links.min(verdicts.len())).pop();
        match verdicts.iter().position(Result::is_err) {
            None => {
                let decided = match pending {
                    Err((tool, denial)) => (tool, Err(denial)),
                    Ok(pending) => {
                        let verdict = pop_form.and(match pop_verdict {
                            Some(Ok(())) => Ok(()),
                            _ => Err(Denial::Pop(PopError::Invalid)),
                        });
                        let outcome = verdict.and_then(|()| pending.finish(&self.authorizer));
                        (Some(pending.tool), outcome)
                    }
                };
                // The decision is made and holds no other handle on the chain, so
                // it is handed to the cache without a copy.
                self.authorizer
                    .remember(token, Arc::unwrap_or_clone(optimistic));
                decided
            }
            Some(index) => {
                drop(pending);
                let chain = Arc::unwrap_or_clone(optimistic).with_invalid_signature(index);
                let chain = self.authorizer.remember(token, chain);
                match self.pending_pop(parts, Ok(chain), tool, args) {
                    Err((tool, denial)) => (tool, Err(denial)),
                    // Not reached: the chain's failure is replayed before the PoP.
                    // Were it, the whole decision is made here, as `decide` makes it.
                    Ok(pending) => {
                        let verdict = pending.verify_pop_inline();
                        let outcome = verdict.and_then(|()| pending.finish(&self.authorizer));
                        (Some(pending.tool), outcome)
                    }
                }
            }
        }
    }

    /// [`Self::before_pop`], with a chain-cache miss verified on a blocking thread.
    async fn before_pop_off_worker(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<PendingPop, (Option<String>, Denial)> {
        let (token, tool, args) = self.call_of(parts, body)?;
        let chain = match self.authorizer.cached(token) {
            Some(chain) => Ok(chain),
            None => self.prepare_off_worker(token).await,
        };
        self.pending_pop(parts, chain, tool, args)
    }

    /// Verifies a chain that missed the cache on a blocking thread, one per CPU at
    /// a time; inline when there is no Tokio runtime or its blocking pool is gone.
    async fn prepare_off_worker(&self, token: &str) -> Result<Arc<PreparedChain>, Denial> {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.authorizer.prepare(token);
        }
        // The semaphore is never closed; were it, verify without a slot.
        let slot = Arc::clone(&self.cold_slots).acquire_owned().await.ok();
        let authorizer = Arc::clone(&self.authorizer);
        let owned = token.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            let chain = authorizer.prepare(&owned);
            drop(slot);
            chain
        })
        .await;
        match verified {
            Ok(chain) => chain,
            // Cancelled at runtime shutdown (or a bug panicked there): decide here.
            Err(_) => self.authorizer.prepare(token),
        }
    }

    /// The end of every decision: the context on allow, the log line and the
    /// observer's record, whichever way the PoP was verified.
    fn conclude(
        &self,
        tool: Option<String>,
        outcome: Result<Authorized, Denial>,
        started: Instant,
        request_id: String,
    ) -> Decided {
        let outcome =
            outcome.map(|allowed| AuthzContext::from_allowed(allowed, request_id.clone()));
        self.record(tool.as_deref(), outcome.as_ref(), started, &request_id);
        Decided {
            tool,
            request_id,
            outcome,
        }
    }

    /// Everything up to the PoP: warrant header, extraction, chain, tool.
    fn before_pop(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<PendingPop, (Option<String>, Denial)> {
        let (token, tool, args) = self.call_of(parts, body)?;
        let chain = self.authorizer.prepare(token);
        self.pending_pop(parts, chain, tool, args)
    }

    /// The first checks: the warrant header, then the route and the extraction
    /// of the call's tool and arguments.
    fn call_of<'p>(
        &self,
        parts: &'p http::request::Parts,
        body: &[u8],
    ) -> Result<(&'p str, String, Args), (Option<String>, Denial)> {
        let token = self.token(parts).map_err(|d| (None, d))?;
        let (tool, args) = self
            .extractor
            .extract(&CallRequest { parts, body })
            .map_err(|e| (None, Denial::Request(e)))?;
        Ok((token, tool, args))
    }

    /// The checks after the chain is prepared: the PoP header's form, then the
    /// chain at this moment (trust, revocation, time) and the tool.
    fn pending_pop(
        &self,
        parts: &http::request::Parts,
        chain: Result<Arc<PreparedChain>, Denial>,
        tool: String,
        args: Args,
    ) -> Result<PendingPop, (Option<String>, Denial)> {
        let fail = |tool: &str, denial| (Some(tool.to_owned()), denial);
        let chain = chain.map_err(|d| fail(&tool, d))?;
        // As the reference: approvals that cannot be read refuse the request
        // before the chain is judged.
        let approvals = self.approvals(parts).map_err(|d| fail(&tool, d))?;
        let pop = parse_pop(self.pop_text(parts)).map_err(|d| fail(&tool, d))?;
        let now = self.authorizer.now();
        let call = Call {
            tool: &tool,
            args: &args,
            pop: pop.as_ref(),
            approvals: &approvals,
            now,
        };
        self.authorizer
            .check_before_pop(&chain, &call)
            .map_err(|d| fail(&tool, d))?;
        Ok(PendingPop {
            chain,
            tool,
            args,
            pop,
            approvals,
            now,
            windows: self.authorizer.policy().pop_windows,
        })
    }

    fn token<'p>(&self, parts: &'p http::request::Parts) -> Result<&'p str, Denial> {
        match parts
            .headers
            .get(&self.config.warrant_header)
            .map(|v| v.to_str())
        {
            None => Err(Denial::MissingWarrant),
            Some(Err(_)) => Err(Denial::InvalidWarrant(DecodeError::Text(
                "warrant header is not ASCII",
            ))),
            Some(Ok(token)) if token.trim().is_empty() => Err(Denial::MissingWarrant),
            Some(Ok(token)) => Ok(token),
        }
    }

    /// The approvals header, decoded; none when it is absent or empty (no
    /// allocation on the common path).
    fn approvals(&self, parts: &http::request::Parts) -> Result<Vec<SignedApproval>, Denial> {
        let Some(value) = parts.headers.get(&self.config.approval_header) else {
            return Ok(Vec::new());
        };
        let text = value
            .to_str()
            .map_err(|_| ApprovalDenial::Undecodable(ApprovalDecodeError::Base64))?;
        Ok(decode_approvals(text.trim()).map_err(ApprovalDenial::Undecodable)?)
    }

    /// A PoP header that is not text cannot be a signature: invalid, not missing.
    fn pop_text<'p>(&self, parts: &'p http::request::Parts) -> Option<&'p str> {
        parts
            .headers
            .get(&self.config.pop_header)
            .map(|v| v.to_str().unwrap_or("\u{0}"))
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

    /// The decision, in this order: a missing warrant first, then the route, then
    /// the chain, the tool, the PoP and the arguments.
    fn decide_quietly(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> (Option<String>, Result<Authorized, Denial>) {
        match self.before_pop(parts, body) {
            Err((tool, denial)) => (tool, Err(denial)),
            Ok(pending) => {
                let verdict = pending.verify_pop_inline();
                let outcome = verdict.and_then(|()| pending.finish(&self.authorizer));
                (Some(pending.tool), outcome)
            }
        }
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

/// Concurrent off-worker chain verifications: one per CPU, as the work is pure CPU.
fn cold_verifications() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn random_request_id() -> String {
    let mut bytes = [0u8; 8];
    // A request id only correlates log lines; a failed RNG read leaves zeros.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// A request that passed every check before the PoP.
struct PendingPop {
    chain: Arc<PreparedChain>,
    tool: String,
    args: Args,
    pop: Option<Signature>,
    approvals: Vec<SignedApproval>,
    now: i64,
    windows: PopWindows,
}

impl PendingPop {
    /// The PoP verified here and now (`verify_strict`, every accepted window).
    fn verify_pop_inline(&self) -> Result<(), Denial> {
        let leaf = self.chain.leaf();
        verify_pop(
            &leaf.holder,
            &leaf.id,
            &self.tool,
            &self.args,
            self.pop.as_ref(),
            self.now,
            self.windows,
        )
        .map_err(Denial::Pop)
    }

    /// Replay check, arguments and approvals, after a verified PoP.
    fn finish(&self, authorizer: &Authorizer) -> Result<Authorized, Denial> {
        let call = Call {
            tool: &self.tool,
            args: &self.args,
            pop: self.pop.as_ref(),
            approvals: &self.approvals,
            now: self.now,
        };
        authorizer.after_pop_verified(&self.chain, &call)?;
        let grant = self
            .chain
            .leaf_grant(&self.tool)
            .ok_or_else(|| Denial::ToolNotInWarrant {
                tool: self.tool.clone(),
                id: self.chain.leaf().id,
            })?;
        finish_after_pop(&self.chain, grant, authorizer.policy(), &call)
    }
}

/// A chain that missed the cache, prepared but for its signatures.
struct NewChain<'t> {
    token: &'t str,
    chain: PreparedChain,
    signatures: Vec<ChainSignature>,
}

/// The PoP as a batch item: the current window joins the batch, the other
/// accepted windows are tried for this request alone.
fn pop_item(pending: &PendingPop) -> Result<VerifyItem, Denial> {
    let Some(signature) = pending.pop else {
        return Err(Denial::Pop(PopError::Missing));
    };
    let leaf = pending.chain.leaf();
    let windows = candidate_windows(pending.now, pending.windows).map_err(Denial::Pop)?;
    let challenge = PopChallenge::new(&leaf.id, &pending.tool, &pending.args);
    let messages = windows.iter().map(|w| challenge.message(*w)).collect();
    Ok(VerifyItem::with_candidates(
        *leaf.holder,
        signature,
        messages,
    ))
}

/// Queues every item in the batch service (they join the same batches as other
/// requests' items), then collects their verdicts in order. An item the service
/// fails (never a verdict) is decided here with the batch's criterion, so its
/// verdict is the one the batch would have given.
async fn verify_in_batch(
    batch: &mut PopBatch,
    items: Vec<VerifyItem>,
) -> Vec<Result<(), SignatureInvalid>> {
    let mut queued = Vec::with_capacity(items.len());
    for item in items {
        let response = queue(batch, item.clone()).await;
        queued.push((item, response));
    }
    let mut verdicts = Vec::with_capacity(queued.len());
    for (item, response) in queued {
        verdicts.push(match response {
            Some(response) => match response.await {
                Ok(verdict) => verdict,
                Err(_) => verify_one_of(&item.key, &item.messages, &item.signature),
            },
            None => verify_one_of(&item.key, &item.messages, &item.signature),
        });
    }
    verdicts
}

/// Verifies a cached chain's PoP in a batch. The item is rebuilt only if the
/// service fails, so the common path builds its messages once.
async fn verify_pop_batched(batch: &mut PopBatch, pending: &PendingPop) -> Result<(), Denial> {
    let verdict = match queue(batch, pop_item(pending)?).await {
        Some(response) => response.await.ok(),
        None => None,
    };
    let verdict = match verdict {
        Some(verdict) => verdict,
        None => {
            let item = pop_item(pending)?;
            verify_one_of(&item.key, &item.messages, &item.signature)
        }
    };
    verdict.map_err(|_| Denial::Pop(PopError::Invalid))
}

/// Waits for room in the batch service's queue and queues `item`; `None` when
/// the service is closed.
async fn queue(batch: &mut PopBatch, item: VerifyItem) -> Option<BatchResponse> {
    let ready = std::future::poll_fn(|cx| Service::poll_ready(batch, cx)).await;
    ready.ok().map(|()| Service::call(batch, item))
}

fn lock(batch: &Mutex<PopBatch>) -> MutexGuard<'_, PopBatch> {
    // Cloning a handle cannot leave it inconsistent: a poisoned lock is still usable.
    batch
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
