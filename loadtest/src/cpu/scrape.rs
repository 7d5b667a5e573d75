//! `process_cpu_seconds_total` read over HTTP from a target's Prometheus
//! metrics: one GET per reading, its text parsed by [`super::prom_text`]. An
//! endpoint that is down, answers an error or lacks the counter is a
//! [`CpuError`], never a zero.

use std::time::Duration;

use super::{prom_text, CpuError};

/// The scrape URL: as given, or with `/metrics` when it has no path.
pub(crate) fn metrics_url(url: &str) -> Result<String, CpuError> {
    let bad = |problem| CpuError::Url {
        url: url.to_owned(),
        problem,
    };
    let mut parsed = reqwest::Url::parse(url).map_err(|_| bad("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("scheme must be http or https"));
    }
    if parsed.path() == "/" {
        parsed.set_path("/metrics");
    }
    Ok(parsed.into())
}

/// `process_cpu_seconds_total` at `url`, as time.
pub(crate) async fn cpu_seconds(client: &reqwest::Client, url: &str) -> Result<Duration, CpuError> {
    let failed = |source| CpuError::Scrape {
        url: url.to_owned(),
        source,
    };
    let response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(CpuError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    let text = response.text().await.map_err(failed)?;
    let seconds =
        prom_text::sum_of(&text, prom_text::CPU_SECONDS).ok_or_else(|| CpuError::NoCounter {
            url: url.to_owned(),
        })?;
    Duration::try_from_secs_f64(seconds).map_err(|_| CpuError::NoCounter {
        url: url.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_url_without_a_path_scrapes_slash_metrics() {
        assert_eq!(
            metrics_url("http://127.0.0.1:9091").ok().as_deref(),
            Some("http://127.0.0.1:9091/metrics")
        );
        assert_eq!(
            metrics_url("http://127.0.0.1:9091/stats/prometheus")
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:9091/stats/prometheus")
        );
        assert!(matches!(
            metrics_url("ftp://127.0.0.1/"),
            Err(CpuError::Url { .. })
        ));
    }
}
