//! `cargo xtask soak --minutes N [--rate R] [--sample-secs S]`: the release
//! `tenuo-authorizer` on 127.0.0.1 under the load test (`tenuo-loadtest`, mixed
//! scenario: cached, cold and denied calls, open loop at R requests/s) for N
//! minutes, in rounds of at most two minutes. Every S seconds it samples the
//! server's resident memory (`VmRSS`), open descriptors (`/proc/<pid>/fd`) and
//! threads, with the server's decision count and verified-chain cache entries
//! from its metrics, prints a table, and ends with a verdict: after the warm-up,
//! resident memory may grow by at most 10 % and descriptors by at most 16, else
//! the soak fails. The warm-up ends at one third of the run (at least one minute),
//! or when the cache stops growing (it fills up to its bound by design), if later:
//! resident memory keeps rising for several minutes after the cache's entry count
//! saturates, while entries are replaced, before it settles.
//!
//! `cargo xtask soak --verdict FILE` recomputes the verdict of a run's `samples.csv`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use xshell::{cmd, Shell};

use crate::project_root;

/// Most growth of resident memory after warm-up, percent.
const MAX_RSS_GROWTH_PCT: f64 = 10.0;
/// Most growth of open descriptors after warm-up.
const MAX_FD_GROWTH: i64 = 16;
/// Longest load-test round, seconds.
const ROUND_SECS: u64 = 120;

struct Options {
    minutes: f64,
    rate: u32,
    sample_secs: u64,
    verdict_of: Option<PathBuf>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options> {
    let mut options = Options {
        minutes: 30.0,
        rate: 300,
        sample_secs: 10,
        verdict_of: None,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--minutes" => options.minutes = value()?.parse()?,
            "--rate" => options.rate = value()?.parse()?,
            "--sample-secs" => options.sample_secs = value()?.parse::<u64>()?.max(1),
            "--verdict" => options.verdict_of = Some(PathBuf::from(value()?)),
            other => bail!(
                "unknown soak argument {other}: cargo xtask soak --minutes N [--rate R] [--sample-secs S] | --verdict samples.csv"
            ),
        }
    }
    ensure!(options.minutes > 0.0, "--minutes must be positive");
    Ok(options)
}

/// One sample of the server process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at_secs: u64,
    rss_kib: u64,
    fds: i64,
    threads: u64,
    decisions: u64,
    cache_entries: u64,
}

pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<()> {
    let options = parse(args)?;
    if let Some(csv) = &options.verdict_of {
        return verdict(&read_csv(csv)?);
    }
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    println!("== building release tenuo-authorizer and tenuo-loadtest");
    cmd!(
        sh,
        "cargo build --release -p tenuo-authz -p tenuo-loadtest --features tenuo-authz/server --bin tenuo-authorizer --bin tenuo-loadtest"
    )
    .run()?;
    let release = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("release");
    let tmp = sh.create_temp_dir()?;
    let dir = tmp.path();
    let reports = soak_dir(&root)?;
    let loadtest = release.join("tenuo-loadtest");
    cmd!(sh, "{loadtest} --write-setup {dir}").quiet().run()?;
    let trusted = std::fs::read_to_string(dir.join("trusted_issuer.hex"))?;

    // Run a copy under a neutral name: on a shared machine, a name-based kill
    // aimed at another authorizer (`pkill -f tenuo-authorizer`) would end the soak.
    let binary = reports.join("authz-soak-server");
    std::fs::copy(release.join("tenuo-authorizer"), &binary)?;
    let mut server = Server::start(&binary, dir, trusted.trim())?;
    let target = format!("http://{}", server.listen);
    println!(
        "== server pid {} on {target}; load: mixed, open loop at {}/s, {} min",
        server.pid(),
        options.rate,
        options.minutes
    );
    let total = Duration::from_secs_f64(options.minutes * 60.0);
    let started = Instant::now();
    let load = std::thread::spawn({
        let loadtest = loadtest.clone();
        let (dir, reports) = (dir.to_path_buf(), reports.clone());
        let rate = options.rate;
        move || load_rounds(&loadtest, &dir, &reports, &target, rate, started, total)
    });

    println!(
        "\n{:>8} {:>10} {:>6} {:>8} {:>11} {:>8}",
        "t (s)", "RSS (MiB)", "fds", "threads", "decisions", "cached"
    );
    let mut samples = Vec::new();
    while started.elapsed() < total && !load.is_finished() {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the server exited during the soak ({status}; exit 0 means it was sent SIGTERM) \
                 after {} s; its last log lines:\n{}",
                started.elapsed().as_secs(),
                server.last_log_lines()
            );
        }
        let sample = sample(&server, started.elapsed().as_secs())?;
        println!(
            "{:>8} {:>10.1} {:>6} {:>8} {:>11} {:>8}",
            sample.at_secs,
            sample.rss_kib as f64 / 1024.0,
            sample.fds,
            sample.threads,
            sample.decisions,
            sample.cache_entries
        );
        samples.push(sample);
        std::thread::sleep(Duration::from_secs(options.sample_secs));
    }
    let rounds = load
        .join()
        .map_err(|_| anyhow::anyhow!("load thread panicked"))??;
    samples.push(sample(&server, started.elapsed().as_secs())?);
    server.stop();
    println!(
        "\nload-test rounds: {rounds}; reports and logs in {}",
        reports.display()
    );
    if let Some(last) = rounds.checked_sub(1) {
        let log = std::fs::read_to_string(reports.join(format!("round-{last}.log")))?;
        let tail: Vec<&str> = log.lines().rev().take(12).collect();
        println!("last round:");
        for line in tail.iter().rev() {
            println!("  {line}");
        }
    }
    write_csv(&reports, &samples)?;
    verdict(&samples)
}

/// Runs load-test rounds until `total` has passed since `started`.
fn load_rounds(
    loadtest: &Path,
    dir: &Path,
    reports: &Path,
    target: &str,
    rate: u32,
    started: Instant,
    total: Duration,
) -> Result<usize> {
    let mut rounds = 0;
    loop {
        let left = total.saturating_sub(started.elapsed()).as_secs();
        if left < 5 {
            return Ok(rounds);
        }
        let secs = left.min(ROUND_SECS).to_string();
        let out = reports.join(format!("round-{rounds}"));
        let log_path = reports.join(format!("round-{rounds}.log"));
        let log = std::fs::File::create(&log_path)?;
        let status = Command::new(loadtest)
            .args(["--setup"])
            .arg(dir)
            .args(["--target", target, "--scenario", "mixed", "--rate"])
            .arg(rate.to_string())
            .args(["--duration", &secs, "--quiet", "--out"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()?;
        ensure!(
            status.success(),
            "load-test round {rounds} failed ({status}); see {}",
            log_path.display()
        );
        rounds += 1;
    }
}

fn sample(server: &Server, at_secs: u64) -> Result<Sample> {
    let pid = server.pid();
    // Scraped before /proc is read, so the scrape's own descriptor is closed again.
    let metrics = server.metrics_text();
    let metric = |prefix: &str| -> u64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    let decisions = metric("tenuo_authz_total{");
    let cache_entries = metric("tenuo_chain_cache_entries ");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (the soak needs Linux)")?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as i64;
    Ok(Sample {
        at_secs,
        rss_kib: field("VmRSS:"),
        fds,
        threads: field("Threads:"),
        decisions,
        cache_entries,
    })
}

/// `<target dir>/soak/`, emptied.
fn soak_dir(root: &Path) -> Result<PathBuf> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("soak");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn write_csv(dir: &Path, samples: &[Sample]) -> Result<()> {
    let mut text = String::from("t_secs,rss_kib,fds,threads,decisions,cache_entries\n");
    for s in samples {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            s.at_secs, s.rss_kib, s.fds, s.threads, s.decisions, s.cache_entries
        ));
    }
    let path = dir.join("samples.csv");
    std::fs::write(&path, text)?;
    println!("samples: {}", path.display());
    Ok(())
}

fn read_csv(path: &Path) -> Result<Vec<Sample>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            ensure!(f.len() == 6, "bad line {line:?}");
            Ok(Sample {
                at_secs: f[0].parse()?,
                rss_kib: f[1].parse()?,
                fds: f[2].parse()?,
                threads: f[3].parse()?,
                decisions: f[4].parse()?,
                cache_entries: f[5].parse()?,
            })
        })
        .collect()
}

/// When the cache stopped growing: the first sample after which the entry count
/// never rises more than 1 % above it.
fn cache_full_at(samples: &[Sample]) -> u64 {
    samples
        .iter()
        .enumerate()
        .find(|(i, s)| {
            samples[i + 1..]
                .iter()
                .all(|later| later.cache_entries * 100 <= s.cache_entries * 101)
        })
        .map_or(0, |(_, s)| s.at_secs)
}

/// Flat: after warm-up, the mean of the last quarter of the samples is within
/// the bounds of the mean of the first quarter.
fn verdict(samples: &[Sample]) -> Result<()> {
    let end = samples.last().map_or(0, |s| s.at_secs);
    let cache_full = cache_full_at(samples);
    let warm_up = (end / 3).max(60).max(cache_full);
    println!(
        "\nwarm-up: {warm_up} s (a third of the run: {} s; cache full from {cache_full} s)",
        (end / 3).max(60)
    );
    let steady: Vec<&Sample> = samples.iter().filter(|s| s.at_secs >= warm_up).collect();
    ensure!(
        steady.len() >= 4,
        "too few samples after the {warm_up} s warm-up: run longer (--minutes) or sample more often"
    );
    let quarter = (steady.len() / 4).max(1);
    let mean = |xs: &[&Sample], f: fn(&Sample) -> f64| {
        xs.iter().map(|s| f(s)).sum::<f64>() / xs.len() as f64
    };
    let (first, last) = (&steady[..quarter], &steady[steady.len() - quarter..]);
    let rss = |s: &Sample| s.rss_kib as f64 / 1024.0;
    let fds = |s: &Sample| s.fds as f64;
    let (rss0, rss1) = (mean(first, rss), mean(last, rss));
    let (fd0, fd1) = (mean(first, fds), mean(last, fds));
    let growth = (rss1 - rss0) / rss0.max(1.0) * 100.0;
    let max_rss = steady.iter().map(|s| rss(s)).fold(0.0, f64::max);
    let max_fds = steady.iter().map(|s| s.fds).max().unwrap_or(0);
    println!(
        "after the {warm_up} s warm-up: RSS {rss0:.1} -> {rss1:.1} MiB ({growth:+.1} %, max {max_rss:.1}), \
         fds {fd0:.0} -> {fd1:.0} (max {max_fds}); bounds: RSS +{MAX_RSS_GROWTH_PCT} %, fds +{MAX_FD_GROWTH}"
    );
    ensure!(
        growth <= MAX_RSS_GROWTH_PCT,
        "resident memory grew {growth:.1} % after warm-up"
    );
    ensure!(
        (fd1 - fd0) as i64 <= MAX_FD_GROWTH,
        "open descriptors grew from {fd0:.0} to {fd1:.0}"
    );
    println!("verdict: flat");
    Ok(())
}

type LogTail = std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>;

/// The server process, on loopback ports it picked itself.
struct Server {
    child: Child,
    listen: String,
    metrics: String,
    /// The last lines the server logged (its log is otherwise dropped).
    last_lines: LogTail,
}

impl Server {
    fn start(binary: &Path, dir: &Path, trusted: &str) -> Result<Self> {
        let mut child = Command::new(binary)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            .args(["--trusted-issuer", trusted, "--config"])
            .arg(dir.join("gateway.yaml"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("server.stderr"))?)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let last_lines: LogTail = std::sync::Arc::default();
        // Reads the log so the server never blocks on a full pipe; keeps the tail.
        std::thread::spawn({
            let last_lines = std::sync::Arc::clone(&last_lines);
            move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.contains("\"started\"") {
                        let _ = tx.send(line.clone());
                    }
                    let mut tail: std::sync::MutexGuard<'_, std::collections::VecDeque<String>> =
                        last_lines
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if tail.len() == 10 {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .context("the server did not log `started` within 30 s")?;
        let value: serde_json::Value = serde_json::from_str(&line)?;
        let listen = value["listen"]
            .as_str()
            .context("no listen address in the started line")?
            .to_owned();
        ensure!(
            listen.starts_with("127.0.0.1:"),
            "not on loopback: {listen}"
        );
        let metrics = value["metrics"]
            .as_str()
            .context("no metrics address in the started line")?
            .to_owned();
        ensure!(
            metrics.starts_with("127.0.0.1:"),
            "metrics not on loopback: {metrics}"
        );
        Ok(Self {
            child,
            listen,
            metrics,
            last_lines,
        })
    }

    /// The Prometheus text of the metrics listener (empty if unreachable).
    fn metrics_text(&self) -> String {
        let fetch = || -> std::io::Result<String> {
            let mut stream = std::net::TcpStream::connect(&self.metrics)?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nhost: soak\r\nconnection: close\r\n\r\n")?;
            let mut text = String::new();
            stream.read_to_string(&mut text)?;
            Ok(text)
        };
        fetch().unwrap_or_default()
    }

    fn last_log_lines(&self) -> String {
        let tail = self
            .last_lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(points: &[(u64, u64, u64)]) -> Vec<Sample> {
        points
            .iter()
            .map(|&(at_secs, rss_mib, cache_entries)| Sample {
                at_secs,
                rss_kib: rss_mib * 1024,
                fds: 20,
                threads: 6,
                decisions: at_secs * 300,
                cache_entries,
            })
            .collect()
    }

    #[test]
    fn warm_up_lasts_until_the_cache_is_full_and_growth_after_it_fails() {
        // The cache fills until 600 s, memory follows it, then both stay flat.
        let filling: Vec<(u64, u64, u64)> = (0..=120)
            .map(|i| {
                let t = i * 15;
                let entries = (t * 6).min(3600);
                (t, 10 + entries / 144, entries)
            })
            .collect();
        let samples = run(&filling);
        assert_eq!(cache_full_at(&samples), 600);
        assert!(verdict(&samples).is_ok());
        // The same with memory still growing once the cache is full: a leak.
        let leaking: Vec<(u64, u64, u64)> = filling
            .iter()
            .map(|&(t, rss, e)| (t, rss + t / 60, e))
            .collect();
        assert!(verdict(&run(&leaking)).is_err());
    }
}
