//! The metrics listener's routes: `/metrics`, and the reference authorizer's
//! health routes `/health`, `/healthz`, `/ready` and `/status`.
//!
//! The reference serves its health routes on their own port (9091 by default),
//! which is our metrics port; answering them here lets the reference's probes
//! (`port: health`, path `/ready`) work unchanged. They never authorize
//! anything: this listener is not the one a proxy asks for decisions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::metrics::Metrics;
use super::reload::ReloadableGateway;
use crate::Authorizer;

/// What the health routes read.
#[derive(Clone)]
pub(crate) struct HealthState {
    pub(crate) ready: Arc<AtomicBool>,
    pub(crate) started: Instant,
    pub(crate) authorizer: Arc<Authorizer>,
    pub(crate) gateway: Arc<ReloadableGateway>,
    pub(crate) metrics: Arc<Metrics>,
}

/// `/metrics` and the health routes.
pub(crate) fn router(state: HealthState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(alive))
        .route("/healthz", get(alive))
        .route("/ready", get(ready))
        .route("/status", get(status))
        .with_state(state)
}

/// `/healthz` and `/status` for the main listener, with the reference's
/// `--legacy-health-on-main-port` (the main listener always answers `/health`
/// and `/ready`). Like the reference, this is for migrations: behind an HTTP
/// ext_authz proxy without a path prefix, a client request for these paths is
/// answered 200 without a warrant.
pub(crate) fn legacy_main_routes(state: HealthState) -> Router {
    Router::new()
        .route("/healthz", get(alive))
        .route("/status", get(status))
        .with_state(state)
}

async fn metrics(State(state): State<HealthState>) -> Response {
    (
        [(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// The process is up; the reference's body.
async fn alive() -> Response {
    Json(serde_json::json!({ "status": "healthy", "service": "tenuo-authorizer" })).into_response()
}

/// Ready while serving; 503 once shutdown began, so a probe on this port
/// drains the pod as one on the main port does. (The reference's `/ready`
/// answers 200 whenever its health listener is up.)
async fn ready(State(state): State<HealthState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        Json(serde_json::json!({ "status": "healthy", "service": "tenuo-authorizer" }))
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not ready", "service": "tenuo-authorizer" })),
        )
            .into_response()
    }
}

/// The reference's `version`, `uptime_secs` and `cp` fields (the control-plane
/// link is not implemented, so always disabled), and what this server has loaded.
async fn status(State(state): State<HealthState>) -> Response {
    Json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": state.started.elapsed().as_secs(),
        "cp": { "enabled": false, "status": "disabled", "authorizer_id": null },
        "ready": state.ready.load(Ordering::Acquire),
        "trusted_issuers": state.authorizer.trusted_issuers().len(),
        "revocation_list_version": state.authorizer.revocations().version(),
        "gateway_config_loaded": state.gateway.is_loaded(),
    }))
    .into_response()
}
