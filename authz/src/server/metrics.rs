//! Prometheus metrics (`docs/reference.md` §4), fed by the middleware's observer and read
//! from the authorizer's cache at scrape time, with the standard process metrics
//! on Linux (`process_cpu_seconds_total` and the rest, see `process`).
//!
//! A `tool` label names only a tool that someone trusted named: a route of the
//! gateway config in force, or a tool a verified warrant was allowed to call
//! (at most [`MAX_TOOL_LABELS`] of those, each at most [`MAX_TOOL_LABEL_BYTES`]
//! long). Anything else a caller writes, in `POST /v1/check` say, counts under
//! the one value `other`, so callers cannot grow the series or crowd real tools
//! out of them.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::engine::{DecisionEvent, Observer};
use crate::Authorizer;

#[cfg(target_os = "linux")]
mod process;

/// Most distinct `tool` label values learnt from allowed calls (the gateway
/// config's own tools are always labelled, on top of these).
pub const MAX_TOOL_LABELS: usize = 512;

/// Longest tool name given a label of its own.
pub const MAX_TOOL_LABEL_BYTES: usize = 128;

/// The label of every tool nobody trusted named.
const UNLISTED_TOOL: &str = "other";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    result: &'static str,
    tool: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Whether the gateway config in force routes to a tool (its tools are always
/// labelled by name). The reloadable gateway answers it.
pub trait GatewayTools: Send + Sync + std::fmt::Debug {
    /// Whether a route of the config in force calls `tool`.
    fn routes_to(&self, tool: &str) -> bool;
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    denials: Family<ReasonLabels, Counter>,
    shed: Family<ReasonLabels, Counter>,
    duration: Histogram,
    ttl_remaining: Histogram,
    batch_size: Histogram,
    trusted_issuers: Gauge,
    gateway_tools: Arc<dyn GatewayTools>,
    allowed_tools: RwLock<HashSet<String>>,
}

impl Metrics {
    /// Registers every metric; the cache ones read `authorizer` at scrape time,
    /// and the gateway config in force says which tools are labelled by name.
    pub fn new(authorizer: Arc<Authorizer>, gateway_tools: Arc<dyn GatewayTools>) -> Self {
        let mut registry = Registry::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        let denials = Family::<ReasonLabels, Counter>::default();
        let shed = Family::<ReasonLabels, Counter>::default();
        // 5 µs .. ~10 s: decisions are microseconds, a cold deep chain a few ms.
        let duration = Histogram::new(exponential_buckets(5e-6, 2.0, 22));
        let ttl_remaining = Histogram::new([
            1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 86400.0,
        ]);
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 9));
        let trusted_issuers = Gauge::default();
        registry.register("tenuo_authz", "Authorization decisions", decisions.clone());
        registry.register("tenuo_authz_denied", "Denials by reason", denials.clone());
        registry.register(
            "tenuo_requests_shed",
            "Requests refused with 503 before a decision (overloaded, timeout)",
            shed.clone(),
        );
        registry.register(
            "tenuo_authz_duration_seconds",
            "Decision latency",
            duration.clone(),
        );
        registry.register(
            "tenuo_warrant_ttl_remaining_seconds",
            "TTL left on allowed warrants",
            ttl_remaining.clone(),
        );
        registry.register(
            "tenuo_batch_size",
            "PoP signature batch sizes",
            batch_size.clone(),
        );
        registry.register(
            "tenuo_trusted_issuers",
            "Trusted root issuer keys in force",
            trusted_issuers.clone(),
        );
        registry.register_collector(Box::new(CacheCollector { authorizer }));
        #[cfg(target_os = "linux")]
        registry.register_collector(Box::new(process::ProcessCollector));
        Self {
            registry,
            decisions,
            denials,
            shed,
            duration,
            ttl_remaining,
            batch_size,
            trusted_issuers,
            gateway_tools,
            allowed_tools: RwLock::new(HashSet::new()),
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Sets the trusted issuer gauge (on start and on every reload).
    pub fn set_trusted_issuers(&self, count: usize) {
        self.trusted_issuers
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Counts one request refused before a decision, by its `reason` label.
    pub(crate) fn count_shed(&self, reason: &'static str) {
        self.shed.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// Records the size of one PoP signature batch.
    pub fn observe_batch(&self, size: usize) {
        self.batch_size.observe(size as f64);
    }

    /// The `tool` label of a decision (see the module documentation).
    fn tool_label(&self, tool: Option<&str>, allowed: bool) -> String {
        let Some(tool) = tool else {
            return "none".to_owned();
        };
        if self.gateway_tools.routes_to(tool) {
            return tool.to_owned();
        }
        let known = self
            .allowed_tools
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(tool);
        if known {
            return tool.to_owned();
        }
        // Only an allowed call proves that a trusted issuer named the tool.
        if allowed && tool.len() <= MAX_TOOL_LABEL_BYTES {
            let mut learnt = self
                .allowed_tools
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if learnt.len() < MAX_TOOL_LABELS || learnt.contains(tool) {
                learnt.insert(tool.to_owned());
                return tool.to_owned();
            }
        }
        UNLISTED_TOOL.to_owned()
    }
}

impl Observer for Metrics {
    fn on_decision(&self, event: &DecisionEvent<'_>) {
        let tool = self.tool_label(event.tool, event.outcome.is_ok());
        self.duration.observe(event.elapsed.as_secs_f64());
        match event.outcome {
            Ok(context) => {
                self.decisions
                    .get_or_create(&DecisionLabels {
                        result: "allow",
                        tool,
                    })
                    .inc();
                self.ttl_remaining
                    .observe(context.ttl_remaining_secs as f64);
            }
            Err(denial) => {
                self.decisions
                    .get_or_create(&DecisionLabels {
                        result: "deny",
                        tool,
                    })
                    .inc();
                self.denials
                    .get_or_create(&ReasonLabels {
                        reason: denial.reason().as_str(),
                    })
                    .inc();
            }
        }
    }
}

/// Reads the chain cache's counters at scrape time.
#[derive(Debug)]
struct CacheCollector {
    authorizer: Arc<Authorizer>,
}

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.authorizer.cache_stats().unwrap_or_default();
        let hits = ConstCounter::new(stats.hits);
        hits.encode(encoder.encode_descriptor(
            "tenuo_chain_cache_hits",
            "Decisions served from the verified-chain cache",
            None,
            MetricType::Counter,
        )?)?;
        let misses = ConstCounter::new(stats.misses);
        misses.encode(encoder.encode_descriptor(
            "tenuo_chain_cache_misses",
            "Chains decoded and verified",
            None,
            MetricType::Counter,
        )?)?;
        let entries = ConstGauge::new(i64::try_from(stats.entries).unwrap_or(i64::MAX));
        entries.encode(encoder.encode_descriptor(
            "tenuo_chain_cache_entries",
            "Chains in the cache",
            None,
            MetricType::Gauge,
        )?)?;
        Ok(())
    }
}
