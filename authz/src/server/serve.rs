//! Starting, serving and stopping: listeners, the accept loop, limits, shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::serve::{Listener, ListenerExt};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;

use super::auth_request;
use super::config::{ConfigError, ServerConfig};
use super::health::{self, HealthState};
use super::http::{probes, router, AppState};
use super::metrics::{GatewayTools, Metrics};
use super::reload::{
    gateway_watch, revocation_watch, trust_watch, watch_loop, ReloadableGateway, TrustSources,
};
use super::revocation_floor::{FloorError, RevocationFloor};
use super::shedding::Shedding;
use super::unix_socket::{self, SocketError};
use crate::batch::{BatchConfig, PopBatch};
use crate::crypto::SignatureCriterion;
use crate::decision::Policy;
use crate::engine::{AuthzConfig, ExtractCall, Observer, RequestAuthorizer};
use crate::gateway::CompiledGateway;
use crate::Authorizer;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The Unix socket could not be set up.
    #[error(transparent)]
    Socket(#[from] SocketError),
    /// The revocation floor file is unusable, or refuses the revocation list.
    #[error(transparent)]
    Floor(#[from] FloorError),
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    /// Where the main TCP listener is bound; in Unix-socket mode there is none
    /// and this is the unspecified address `0.0.0.0:0` (see [`Self::socket`]).
    pub addr: SocketAddr,
    /// The Unix socket served on instead of TCP, if any.
    pub socket: Option<PathBuf>,
    /// Where the metrics and health listener is bound, unless it is off.
    pub metrics_addr: Option<SocketAddr>,
    ready: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    drain_delay: Duration,
}

impl RunningServer {
    /// Stops: readiness false, a short delay so load balancers notice, no new
    /// connections, in-flight requests finish within the grace period.
    pub async fn shutdown(self) {
        self.ready.store(false, Ordering::Release);
        tracing::info!(event = "shutting_down");
        tokio::time::sleep(self.drain_delay).await;
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        tracing::info!(event = "stopped");
    }
}

/// Runs until `signal` completes, then shuts down gracefully.
pub async fn run(
    config: ServerConfig,
    signal: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let server = spawn(config).await?;
    signal.await;
    server.shutdown().await;
    Ok(())
}

/// Loads the configuration, binds the listeners and starts serving.
pub async fn spawn(config: ServerConfig) -> Result<RunningServer, ServerError> {
    if config.trusted_issuers.is_empty()
        && config.trusted_issuers_file.is_none()
        && config.gateway_config.is_none()
        && config.gateway_yaml.is_none()
    {
        return Err(ConfigError::NoTrustedIssuers.into());
    }
    // Keys may all come from the files, loaded below: the empty set is checked after.
    let policy = Policy {
        signatures: config.signatures,
        ..Policy::default()
    };
    let mut builder = Authorizer::builder()
        .trusted_issuers(config.trusted_issuers.iter().copied())
        .policy(policy)
        .cache(config.cache);
    if let Some(replay) = config.replay {
        builder = builder.replay_protection(replay);
    }
    let authorizer = Arc::new(builder.build_unchecked());
    let gateway = Arc::new(ReloadableGateway::default());
    let metrics = Arc::new(Metrics::new(
        Arc::clone(&authorizer),
        Arc::clone(&gateway) as Arc<dyn GatewayTools>,
    ));
    metrics.set_trusted_issuers(authorizer.trusted_issuers().len());
    let sources = Arc::new(TrustSources::new(
        config.trusted_issuers.clone(),
        Arc::clone(&authorizer),
        Arc::clone(&metrics),
    ));
    if let (None, Some(yaml)) = (&config.gateway_config, &config.gateway_yaml) {
        let compiled = CompiledGateway::from_yaml(yaml).map_err(|e| ConfigError::Invalid {
            name: "gateway config".into(),
            reason: e.to_string(),
        })?;
        sources.set_gateway_roots(&compiled)?;
        if config.auth_request {
            auth_request::warn_about_body_routes(&compiled);
        }
        gateway.store(compiled);
    }

    let mut watches = Vec::new();
    if let Some(path) = &config.trusted_issuers_file {
        watches.push(trust_watch(path.clone(), Arc::clone(&sources)));
    }
    // The gateway config before the revocation list: its trusted roots may be
    // the only ones, and the list is verified against the trusted set.
    if let Some(path) = &config.gateway_config {
        watches.push(gateway_watch(
            path.clone(),
            Arc::clone(&gateway),
            Arc::clone(&sources),
            config.auth_request,
        ));
    }
    let floor = config
        .revocation_floor
        .as_ref()
        .map(RevocationFloor::open)
        .transpose()?
        .map(Arc::new);
    if let Some(path) = &config.revocation_file {
        watches.push(revocation_watch(
            path.clone(),
            Arc::clone(&authorizer),
            floor.clone(),
        ));
    }
    let mut loaded = Vec::new();
    for watch in watches {
        let digest = watch.load()?;
        loaded.push((watch, digest));
    }
    if authorizer.trusted_issuers().is_empty() {
        return Err(ConfigError::NoTrustedIssuers.into());
    }

    // The gateway YAML's `settings` name the headers and may turn debug mode on, as
    // in the reference. They are read once, here: headers are how clients reach
    // us, so a reload does not move them (a changed name takes a restart).
    let settings = gateway.current().map(|g| g.settings().clone());
    let debug_mode = config.debug || settings.as_ref().is_some_and(|s| s.debug_mode);
    let mut authz_config = AuthzConfig {
        debug: debug_mode,
        max_body_bytes: config.max_body_bytes,
        ..AuthzConfig::default()
    };
    if let Some(settings) = settings {
        authz_config.warrant_header = settings.warrant_header;
        authz_config.pop_header = settings.pop_header;
        authz_config.approval_header = settings.approval_header;
    }
    let mut decider = RequestAuthorizer::new(
        Arc::clone(&authorizer),
        Arc::clone(&gateway) as Arc<dyn ExtractCall>,
        Arc::clone(&metrics) as Arc<dyn Observer>,
        authz_config,
    );
    // A batch can only decide the cofactored criterion: strict PoPs are verified inline.
    if config.signatures == SignatureCriterion::Cofactored {
        let batch_metrics = Arc::clone(&metrics);
        decider = decider.with_pop_batch(PopBatch::spawn_on(
            BatchConfig::default()
                .with_batch_observer(move |size| batch_metrics.observe_batch(size)),
            &tokio::runtime::Handle::current(),
        ));
    }
    let decider = Arc::new(decider);
    let ready = Arc::new(AtomicBool::new(false));
    let state = AppState {
        decider: Arc::clone(&decider),
        ready: Arc::clone(&ready),
        path_prefix: config.path_prefix.as_deref().map(Arc::from),
    };
    // Envoy ext_authz gRPC on the same listener (h2c), deciding through the same
    // RequestAuthorizer as the HTTP routes.
    let grpc = super::grpc::ExtAuthz::new(Arc::clone(&decider)).into_service();
    let health_state = HealthState {
        ready: Arc::clone(&ready),
        started: std::time::Instant::now(),
        authorizer: Arc::clone(&authorizer),
        gateway: Arc::clone(&gateway),
        metrics: Arc::clone(&metrics),
    };
    let shedding = Arc::new(Shedding::new(Arc::clone(&metrics)));
    let decisions =
        router(state.clone()).route_service("/envoy.service.auth.v3.Authorization/{*method}", grpc);
    // Probes stay outside the shedding: see `probes`.
    let mut app = protect(decisions, &config, shedding).merge(probes(state));
    if config.legacy_health_on_main_port {
        tracing::warn!(
            event = "legacy_health_on_main_port",
            message = "/healthz and /status answer 200 without a warrant on the main listener; behind an HTTP ext_authz proxy without a path prefix that admits those paths"
        );
        app = app.merge(health::legacy_main_routes(health_state.clone()));
    }
    // Outermost, so a shed request's 503 is narrowed for nginx too.
    let app = app.layer(axum::middleware::from_fn_with_state(
        config.auth_request,
        auth_request::narrow_statuses,
    ));

    let (stop, stopped) = watch::channel(false);
    let limits = ConnectionLimits {
        max_header_bytes: config.max_header_bytes,
        grace: config.shutdown_grace,
    };
    let mut tasks = Vec::new();
    // The main listener first, so readiness on the health listener never
    // precedes a listener able to decide.
    let (addr, socket) = match &config.unix_socket {
        Some(socket_config) => {
            let bound = unix_socket::bind(socket_config)?;
            let guard = bound.guard;
            let stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                serve(bound.listener, app, stopped, limits).await;
                // The socket file goes when the listener stops serving.
                drop(guard);
            }));
            (
                SocketAddr::from(([0, 0, 0, 0], 0)),
                Some(socket_config.path.clone()),
            )
        }
        None => {
            let listener = bind(config.listen).await?;
            let addr = listener.local_addr().map_err(|source| ServerError::Bind {
                addr: config.listen,
                source,
            })?;
            let listener = listener.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            tasks.push(tokio::spawn(serve(listener, app, stopped.clone(), limits)));
            (addr, None)
        }
    };
    let metrics_addr = if config.serve_metrics {
        let metrics_listener = bind(config.metrics_listen).await?;
        let metrics_addr = metrics_listener
            .local_addr()
            .map_err(|source| ServerError::Bind {
                addr: config.metrics_listen,
                source,
            })?;
        let health_app = health::router(health_state);
        tasks.push(tokio::spawn(serve(
            metrics_listener,
            health_app,
            stopped.clone(),
            limits,
        )));
        Some(metrics_addr)
    } else {
        None
    };
    if !loaded.is_empty() {
        let interval = config.watch_interval;
        let mut stopped = stopped.clone();
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                () = watch_loop(loaded, interval) => {}
                _ = stopped.wait_for(|s| *s) => {}
            }
        }));
    }
    ready.store(true, Ordering::Release);
    let trusted_issuers = authorizer.trusted_issuers().len();
    let gateway_routes = gateway.is_loaded();
    let revocation_version = authorizer.revocations().version();
    // One `started` line; its fields say where to reach the server (a socket
    // path or a TCP address, and the metrics address when there is one).
    match (&socket, metrics_addr) {
        (Some(path), Some(metrics)) => {
            tracing::info!(event = "started", socket = %path.display(), metrics = %metrics, trusted_issuers, gateway_routes, revocation_version, debug = debug_mode)
        }
        (Some(path), None) => {
            tracing::info!(event = "started", socket = %path.display(), trusted_issuers, gateway_routes, revocation_version, debug = debug_mode)
        }
        (None, Some(metrics)) => {
            tracing::info!(event = "started", listen = %addr, metrics = %metrics, trusted_issuers, gateway_routes, revocation_version, debug = debug_mode)
        }
        (None, None) => {
            tracing::info!(event = "started", listen = %addr, trusted_issuers, gateway_routes, revocation_version, debug = debug_mode)
        }
    }
    if debug_mode {
        tracing::warn!(
            event = "debug_mode",
            message = "denials carry details and X-Tenuo-Deny-Reason; never use in production"
        );
    }
    Ok(RunningServer {
        addr,
        socket,
        metrics_addr,
        ready,
        stop,
        tasks,
        drain_delay: config.drain_delay,
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

/// Load shedding, a concurrency bound and a timeout around the router; what
/// they refuse is answered, counted and logged by `shedding`.
///
/// `Router::layer` wraps every route separately, so the bound is a global one:
/// one semaphore for the whole listener, not `max_concurrency` per route.
fn protect(app: Router, config: &ServerConfig, shedding: Arc<Shedding>) -> Router {
    app.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(move |error: tower::BoxError| {
                let response = shedding.refuse(&error);
                async move { response }
            }))
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::new(config.max_concurrency))
            .timeout(config.request_timeout),
    )
}

/// Per-connection bounds.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    max_header_bytes: usize,
    grace: Duration,
}

/// Accepts connections (TCP or Unix) until told to stop, then lets open ones
/// finish (bounded). Failed accepts are retried by the listener after a pause.
async fn serve<L: Listener>(
    mut listener: L,
    app: Router,
    mut stopped: watch::Receiver<bool>,
    limits: ConnectionLimits,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let grace = limits.grace;
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            (stream, _) = listener.accept() => {
                let service = TowerToHyperService::new(app.clone());
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = stopped.wait_for(|s| *s) => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            event = "shutdown_timeout",
            message = "connections still open after the grace period were closed"
        );
    }
}
