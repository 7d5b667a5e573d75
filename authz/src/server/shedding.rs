//! Requests refused before any decision: past `max_concurrency` requests in flight
//! (load shedding), or cut by the request timeout. Both answer 503 with
//! `Retry-After`; each is counted in `tenuo_requests_shed_total{reason}` and
//! logged as `requests_shed`, at most one line a second with the count since the
//! last line, so an overload does not also flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::metrics::Metrics;

/// Why a request was refused without a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ShedReason {
    /// Every request slot was taken.
    Overloaded,
    /// The request took longer than the request timeout.
    Timeout,
}

impl ShedReason {
    /// The `reason` label and the body's `reason`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Overloaded => "overloaded",
            Self::Timeout => "timeout",
        }
    }

    /// The reason of an error from the shedding, limit and timeout layers.
    fn of(error: &tower::BoxError) -> Self {
        if error.is::<tower::timeout::error::Elapsed>() {
            Self::Timeout
        } else {
            Self::Overloaded
        }
    }
}

/// Counts and logs refused requests, and answers them.
#[derive(Debug)]
pub(crate) struct Shedding {
    metrics: Arc<Metrics>,
    started: Instant,
    /// The second (since `started`, plus one) of the last log line; 0 for none yet.
    last_line: AtomicU64,
    /// Requests refused since the last log line.
    unlogged: AtomicU64,
}

impl Shedding {
    pub(crate) fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            started: Instant::now(),
            last_line: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
        }
    }

    /// Records a refused request and answers it: 503, `Retry-After: 1`, and
    /// `{"authorized":false,"reason":"overloaded"|"timeout"}`.
    pub(crate) fn refuse(&self, error: &tower::BoxError) -> Response {
        let reason = ShedReason::of(error);
        self.record(reason);
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "authorized": false, "reason": reason.as_str() })),
        )
            .into_response();
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        response
    }

    fn record(&self, reason: ShedReason) {
        self.metrics.count_shed(reason.as_str());
        self.unlogged.fetch_add(1, Ordering::Relaxed);
        let second = self.started.elapsed().as_secs() + 1;
        let last = self.last_line.load(Ordering::Relaxed);
        // One request per second wins the exchange and writes the line.
        if second > last
            && self
                .last_line
                .compare_exchange(last, second, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let count = self.unlogged.swap(0, Ordering::Relaxed);
            tracing::warn!(
                event = "requests_shed",
                reason = reason.as_str(),
                count,
                message = "requests refused with 503 before a decision (at most one line a second; count is since the last line)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::reload::ReloadableGateway;
    use crate::Authorizer;

    fn shedding() -> Shedding {
        let authorizer = Arc::new(Authorizer::builder().build_unchecked());
        let metrics = Metrics::new(authorizer, Arc::new(ReloadableGateway::default()));
        Shedding::new(Arc::new(metrics))
    }

    #[test]
    fn every_refusal_is_counted_by_reason() {
        let shedding = shedding();
        let overloaded: tower::BoxError = Box::new(tower::load_shed::error::Overloaded::new());
        let elapsed: tower::BoxError = Box::new(tower::timeout::error::Elapsed::new());
        for _ in 0..3 {
            let response = shedding.refuse(&overloaded);
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()["retry-after"], "1");
        }
        shedding.refuse(&elapsed);
        let text = shedding.metrics.encode();
        assert!(
            text.contains("tenuo_requests_shed_total{reason=\"overloaded\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("tenuo_requests_shed_total{reason=\"timeout\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn a_burst_writes_one_line_and_keeps_the_rest_for_the_next() {
        let shedding = shedding();
        let overloaded: tower::BoxError = Box::new(tower::load_shed::error::Overloaded::new());
        for _ in 0..1000 {
            shedding.refuse(&overloaded);
        }
        // The first refusal wrote the line; the 999 after it wait for the next second.
        assert_eq!(shedding.unlogged.load(Ordering::Relaxed), 999);
        assert_eq!(shedding.last_line.load(Ordering::Relaxed), 1);
    }
}
