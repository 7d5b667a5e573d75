//! Server CPU per request: the CPU time a target spent while the harness loaded
//! it, divided by the requests it answered meanwhile, reported beside req/s and
//! latency.
//!
//! The CPU is read just before each measured slice and just after its last
//! answer, so it also holds the moments around the slice (goose starting its
//! users), when the server is idle. Where it is read from, for each target:
//!
//! - the embedded authorizer runs in this process, beside the load generator:
//!   only its runtime's threads count (named [`EMBEDDED_THREADS`], read from
//!   `/proc/self/task/TID/stat`);
//! - `--target-pid PID`: user plus system time from `/proc/PID/stat`;
//! - `--target-metrics URL`: `process_cpu_seconds_total` scraped from the
//!   target's metrics (one scrape per reading, a negligible cost to the target);
//! - otherwise, for a loopback URL, the processes found listening on its port
//!   (the `listener` module);
//! - otherwise the figure is `n/a`, and the report says why once.
//!
//! (`--compare-pid` and `--compare-metrics` do the same for the compared target.)

mod listener;
mod proc_stat;
mod prom_text;
mod scrape;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The thread name of the embedded authorizer's runtime (its workers and its
/// blocking threads); at most 15 bytes, the kernel's limit.
pub const EMBEDDED_THREADS: &str = "embedded-authz";

/// Why a target's CPU could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CpuError {
    /// A `/proc` file could not be read (the process exited, or is another
    /// user's).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `/proc/.../stat` file was not in the kernel's format.
    #[error("{path}: not a /proc stat line")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// No thread of this process has the embedded authorizer's name.
    #[error("no thread named `{0}` in this process")]
    NoThreads(String),
    /// The metrics URL is unusable.
    #[error("metrics {url}: {problem}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The metrics could not be fetched.
    #[error("metrics {url}: {}", with_causes(source))]
    Scrape {
        /// The URL.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The metrics answered with an error status.
    #[error("metrics {url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The metrics have no usable `process_cpu_seconds_total` sample.
    #[error(
        "metrics {url}: no process_cpu_seconds_total sample (a server without process metrics?)"
    )]
    NoCounter {
        /// The URL.
        url: String,
    },
}

/// An error and its causes on one line: reqwest's own message leaves out why
/// (a refused connection, a timeout), which is what the operator needs.
fn with_causes(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Where a target's CPU time is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuSource {
    /// The threads of this process with this name, summed.
    Threads(String),
    /// These processes (`/proc/PID/stat`), summed.
    Processes(Vec<u32>),
    /// `process_cpu_seconds_total` at this metrics URL.
    Metrics(String),
}

impl CpuSource {
    /// The CPU time spent so far (a counter: only differences mean anything).
    pub async fn read(&self, client: &reqwest::Client) -> Result<Duration, CpuError> {
        match self {
            Self::Threads(name) => proc_stat::threads_named(name),
            Self::Processes(pids) => {
                let mut total = Duration::ZERO;
                for &pid in pids {
                    total += proc_stat::process(pid)?;
                }
                Ok(total)
            }
            Self::Metrics(url) => scrape::cpu_seconds(client, url).await,
        }
    }

    /// Says where the figure comes from, for the report.
    pub fn describe(&self) -> String {
        match self {
            Self::Threads(name) => {
                format!("the `{name}` threads of this process (/proc/self/task)")
            }
            Self::Processes(pids) => {
                let named: Vec<String> = pids
                    .iter()
                    .map(|&pid| {
                        let path = PathBuf::from(format!("/proc/{pid}/stat"));
                        match proc_stat::read(&path) {
                            Ok(stat) => format!("{pid} ({})", stat.comm),
                            Err(_) => pid.to_string(),
                        }
                    })
                    .collect();
                let s = if pids.len() == 1 { "" } else { "s" };
                format!("/proc/PID/stat of process{s} {}", named.join(", "))
            }
            Self::Metrics(url) => format!("{} at {url}", prom_text::CPU_SECONDS),
        }
    }
}

/// How a target's CPU is measured, or why it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuPlan {
    /// Read from this source.
    Measure(CpuSource),
    /// Not measured, for this reason (the report's `n/a`).
    Unavailable(String),
}

/// What the operator said about one target's CPU.
#[derive(Debug, Clone, Copy)]
pub struct CpuOptions<'a> {
    /// `target` or `compare`: the flags' prefix, for messages.
    pub flag: &'a str,
    /// The target's base URL.
    pub url: &'a str,
    /// The target is the embedded authorizer.
    pub embedded: bool,
    /// `--target-pid` / `--compare-pid`.
    pub pid: Option<u32>,
    /// `--target-metrics` / `--compare-metrics` (checked for loopback already).
    pub metrics: Option<&'a str>,
}

/// Chooses where a target's CPU is read (see the module documentation) and
/// reads it once. A source the operator named that cannot be read is an error;
/// one the harness found for itself that cannot be read is `n/a`.
pub async fn plan(options: CpuOptions<'_>, client: &reqwest::Client) -> Result<CpuPlan, CpuError> {
    let source = if options.embedded {
        CpuSource::Threads(EMBEDDED_THREADS.to_owned())
    } else if let Some(pid) = options.pid {
        CpuSource::Processes(vec![pid])
    } else if let Some(url) = options.metrics {
        CpuSource::Metrics(scrape::metrics_url(url)?)
    } else {
        return Ok(discover(options, client).await);
    };
    source.read(client).await?;
    Ok(CpuPlan::Measure(source))
}

/// The processes listening where the target's URL connects, if it is on loopback.
async fn discover(options: CpuOptions<'_>, client: &reqwest::Client) -> CpuPlan {
    let flag = options.flag;
    let Some(addrs) = loopback_addrs(options.url) else {
        return CpuPlan::Unavailable(format!(
            "the target is not on this machine's loopback; pass --{flag}-metrics URL"
        ));
    };
    let mut pids: Vec<u32> = addrs
        .iter()
        .flat_map(|&addr| listener::pids_listening_on(addr))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    if pids.contains(&std::process::id()) {
        return CpuPlan::Unavailable(
            "the target listens inside this process, whose load generator would count too"
                .to_owned(),
        );
    }
    if pids.is_empty() {
        return CpuPlan::Unavailable(format!(
            "no process found listening on {} (another user's?); pass --{flag}-pid PID or --{flag}-metrics URL",
            addrs[0]
        ));
    }
    let source = CpuSource::Processes(pids);
    match source.read(client).await {
        Ok(_) => CpuPlan::Measure(source),
        Err(e) => CpuPlan::Unavailable(format!(
            "{e}; pass --{flag}-pid PID or --{flag}-metrics URL"
        )),
    }
}

/// The addresses a loopback base URL connects to (`localhost` is both
/// loopbacks); `None` for any other host.
fn loopback_addrs(url: &str) -> Option<Vec<SocketAddr>> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let port = parsed.port_or_known_default()?;
    let ips: Vec<IpAddr> = match parsed.host()? {
        url::Host::Ipv4(ip) if ip.is_loopback() => vec![ip.into()],
        url::Host::Ipv6(ip) if ip.is_loopback() => vec![ip.into()],
        url::Host::Domain("localhost") => {
            vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
        }
        _ => return None,
    };
    Some(
        ips.into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_give_their_addresses() {
        let addrs = |url: &str| {
            loopback_addrs(url).map(|a| a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            addrs("http://127.0.0.1:9090/authz"),
            Some(vec!["127.0.0.1:9090".to_owned()])
        );
        assert_eq!(
            addrs("http://[::1]:8080"),
            Some(vec!["[::1]:8080".to_owned()])
        );
        assert_eq!(
            addrs("http://localhost"),
            Some(vec!["127.0.0.1:80".to_owned(), "[::1]:80".to_owned()])
        );
        assert_eq!(addrs("http://10.0.0.1:9090"), None);
        assert_eq!(addrs("http://example.com:9090"), None);
        assert_eq!(addrs("not a url"), None);
    }
}
