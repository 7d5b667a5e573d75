//! The standard Prometheus process metrics (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, ...), read from `/proc/self` at scrape time,
//! so nothing is added to the request path. Linux only: elsewhere the server
//! exports none of them.
//!
//! prometheus-client ships no process collector, and the crates that do
//! (`prometheus`' `process` feature, `metrics-process`) belong to other metrics
//! libraries. The reading is done by `procfs`, the maintained `/proc` parser that
//! the `prometheus` crate's own process collector is built on: it gets the details
//! right that a hand-written reader tends to miss, such as a command name with
//! spaces or parentheses in `/proc/self/stat`. The names, units and kinds are the
//! ones every Prometheus client exports, so existing dashboards and the loadtest
//! (`--target-metrics`) read them unchanged.

use procfs::process::{LimitValue, Process};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

/// Reads this process's figures from `/proc/self` at every scrape. A figure that
/// cannot be read (a `/proc` mounted without it, say) is left out of that scrape
/// rather than failing the others.
#[derive(Debug, Default)]
pub(super) struct ProcessCollector;

/// A whole number as a gauge value (saturating: no process reaches the bound).
fn gauge(value: u64) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Encodes one gauge.
fn encode_gauge<N>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: ConstGauge<N>,
) -> Result<(), std::fmt::Error>
where
    ConstGauge<N>: EncodeMetric,
{
    value.encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(me) = Process::myself() else {
            return Ok(());
        };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second().max(1) as f64;
            let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
            // prometheus-client appends `_total` to a counter's name.
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                MetricType::Counter,
            )?)?;
            encode_gauge(
                &mut encoder,
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                gauge(stat.rss.saturating_mul(procfs::page_size())),
            )?;
            encode_gauge(
                &mut encoder,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                gauge(stat.vsize),
            )?;
            encode_gauge(
                &mut encoder,
                "process_threads",
                "Number of OS threads in the process",
                ConstGauge::new(stat.num_threads),
            )?;
            if let Ok(boot) = procfs::boot_time_secs() {
                let start = boot as f64 + stat.starttime as f64 / ticks;
                encode_gauge(
                    &mut encoder,
                    "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds",
                    ConstGauge::new(start),
                )?;
            }
        }
        if let Ok(open) = me.fd_count() {
            encode_gauge(
                &mut encoder,
                "process_open_fds",
                "Number of open file descriptors",
                gauge(open as u64),
            )?;
        }
        if let Ok(limits) = me.limits() {
            // The soft limit, the one that refuses an `open`; unlimited as the
            // largest value, as other clients report it.
            let max = match limits.max_open_files.soft_limit {
                LimitValue::Value(n) => n,
                LimitValue::Unlimited => u64::MAX,
            };
            encode_gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                gauge(max),
            )?;
        }
        Ok(())
    }
}
