//! Starting, serving and stopping: listeners, the accept loop, limits, shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceBuilder;

use super::config::{ConfigError, ServerConfig};
use super::http::{router, AppState};
use super::metrics::Metrics;
use super::reload::{gateway_watch, revocation_watch, trust_watch, watch_loop, ReloadableGateway};
use crate::batch::{BatchConfig, PopBatch, SignatureCriterion};
use crate::decision::Policy;
use crate::gateway::CompiledGateway;
use crate::tower::{AuthzConfig, ExtractCall, Observer, RequestAuthorizer};
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
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    /// Where the main listener is bound.
    pub addr: SocketAddr,
    /// Where the metrics listener is bound.
    pub metrics_addr: SocketAddr,
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
    if config.trusted_issuers.is_empty() && config.trusted_issuers_file.is_none() {
        return Err(ConfigError::NoTrustedIssuers.into());
    }
    // Keys may all come from the file, loaded below: the empty set is checked after.
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
    let metrics = Arc::new(Metrics::new(Arc::clone(&authorizer)));
    metrics.set_trusted_issuers(authorizer.trusted_issuers().len());
    let gateway = Arc::new(ReloadableGateway::default());
    if let (None, Some(yaml)) = (&config.gateway_config, &config.gateway_yaml) {
        let compiled = CompiledGateway::from_yaml(yaml).map_err(|e| ConfigError::Invalid {
            name: "gateway config".into(),
            reason: e.to_string(),
        })?;
        gateway.store(compiled);
    }

    let mut watches = Vec::new();
    if let Some(path) = &config.trusted_issuers_file {
        watches.push(trust_watch(
            path.clone(),
            config.trusted_issuers.clone(),
            Arc::clone(&authorizer),
            Arc::clone(&metrics),
        ));
    }
    if let Some(path) = &config.gateway_config {
        watches.push(gateway_watch(path.clone(), Arc::clone(&gateway)));
    }
    if let Some(path) = &config.revocation_file {
        watches.push(revocation_watch(path.clone(), Arc::clone(&authorizer)));
    }
    let mut loaded = Vec::new();
    for watch in watches {
        let digest = watch.load()?;
        loaded.push((watch, digest));
    }
    if authorizer.trusted_issuers().is_empty() {
        return Err(ConfigError::NoTrustedIssuers.into());
    }

    let authz_config = AuthzConfig {
        debug: config.debug,
        max_body_bytes: config.max_body_bytes,
        ..AuthzConfig::default()
    };
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
    let app = protect(
        router(state).route_service("/envoy.service.auth.v3.Authorization/{*method}", grpc),
        &config,
    );

    let listener = bind(config.listen).await?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    let metrics_listener = bind(config.metrics_listen).await?;
    let metrics_addr = metrics_listener
        .local_addr()
        .map_err(|source| ServerError::Bind {
            addr: config.metrics_listen,
            source,
        })?;
    let metrics_app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = Arc::clone(&metrics);
            async move {
                (
                    [(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.encode(),
                )
            }
        }),
    );

    let (stop, stopped) = watch::channel(false);
    let limits = ConnectionLimits {
        max_header_bytes: config.max_header_bytes,
        grace: config.shutdown_grace,
    };
    let mut tasks = vec![
        tokio::spawn(serve(listener, app, stopped.clone(), limits)),
        tokio::spawn(serve(
            metrics_listener,
            metrics_app,
            stopped.clone(),
            limits,
        )),
    ];
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
    tracing::info!(
        event = "started",
        listen = %addr,
        metrics = %metrics_addr,
        trusted_issuers = authorizer.trusted_issuers().len(),
        gateway_routes = gateway.is_loaded(),
        debug = config.debug,
    );
    if config.debug {
        tracing::warn!(
            event = "debug_mode",
            message = "denials carry details and X-Tenuo-Deny-Reason; never use in production"
        );
    }
    Ok(RunningServer {
        addr,
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

/// Load shedding, a concurrency bound and a timeout around the router.
fn protect(app: Router, config: &ServerConfig) -> Router {
    app.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|error: tower::BoxError| async move {
                overloaded(&error)
            }))
            .load_shed()
            .concurrency_limit(config.max_concurrency)
            .timeout(config.request_timeout),
    )
}

fn overloaded(error: &tower::BoxError) -> Response {
    let (status, reason) = if error.is::<tower::timeout::error::Elapsed>() {
        (StatusCode::SERVICE_UNAVAILABLE, "timeout")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "overloaded")
    };
    let mut response = (
        status,
        axum::Json(serde_json::json!({ "authorized": false, "reason": reason })),
    )
        .into_response();
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from_static("1"));
    response
}

/// Per-connection bounds.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    max_header_bytes: usize,
    grace: Duration,
}

/// Accepts connections until told to stop, then lets open ones finish (bounded).
async fn serve(
    listener: TcpListener,
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
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
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
