//! Server CPU per request: a short run against the embedded authorizer reports
//! a positive, finite figure in every row; a target's metrics are read around
//! each slice; a source that cannot be used is refused, and a target without one
//! is reported unavailable in the table, the JSON and the plot.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Behaviour;
use tenuo_loadtest::cpu::{self, CpuError, CpuOptions, CpuPlan, CpuSource};
use tenuo_loadtest::report::{self, Machine, Report, RunSummary};
use tenuo_loadtest::{FixedCall, LoadModel, Progress, RunConfig, Runner, Workload};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_embedded_run_reports_cpu_per_request() {
    let out = scratch("server-cpu-embedded");
    let output = Command::new(env!("CARGO_BIN_EXE_tenuo-loadtest"))
        .args([
            "--scenario",
            "cached,deny",
            "--duration",
            "1",
            "--users",
            "4",
        ])
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("cpu/req"), "{stdout}");
    assert!(
        stdout.contains("server CPU from the `embedded-authz` threads"),
        "{stdout}"
    );

    let report = Report::load(&out.join("report.json")).unwrap();
    let target = &report.targets[0];
    assert_eq!(target.cpu_unavailable, None);
    assert_eq!(target.scenarios.len(), 2);
    for row in target.scenarios.iter().chain([&target.overall]) {
        assert!(row.requests > 0, "{}: no requests", row.name);
        let cpu = row
            .cpu_us_per_request
            .unwrap_or_else(|| panic!("{}: no cpu/req\n{stdout}", row.name));
        assert!(cpu.is_finite() && cpu > 0.0, "{}: {cpu} µs", row.name);
        let spent = row.server_cpu_secs.unwrap_or_default();
        assert!(spent > 0.0, "{}: {spent} s", row.name);
    }
}

/// A metrics endpoint whose `process_cpu_seconds_total` rises by a quarter of a
/// second at every scrape, and that answers 500 from scrape `fail_from` (0-based) on.
async fn fake_metrics(fail_from: u64) -> (String, tokio::task::JoinHandle<()>) {
    let scrapes = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let n = scrapes.fetch_add(1, Ordering::Relaxed);
            async move {
                if n >= fail_from {
                    return Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                }
                Ok(format!(
                    "# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total {}\n",
                    n as f64 * 0.25
                ))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// One phase of open-loop calls to `url`, with `cpu` as the target's plan.
async fn run_fixed(url: &str, cpu: CpuPlan) -> tenuo_loadtest::RunResults {
    let workload: Arc<dyn Workload> = Arc::new(FixedCall::new("fixed", "/"));
    let runner = Runner::new(RunConfig {
        targets: vec![("target".into(), url.to_owned())],
        phases: vec![("fixed".into(), workload)],
        model: LoadModel::Open {
            rate: 200.0,
            max_in_flight: 16,
        },
        duration: Duration::from_millis(300),
        rounds: 1,
        timeout: Duration::from_secs(5),
        progress: Progress::Off,
        cpu: vec![cpu],
    })
    .unwrap();
    runner.run().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpu_of_a_slice_comes_from_the_targets_metrics() {
    let server = common::start(Behaviour::EveryNth {
        n: u64::MAX,
        delay: Duration::ZERO,
    })
    .await;
    let (metrics, task) = fake_metrics(u64::MAX).await;
    let client = reqwest::Client::new();
    let options = CpuOptions {
        flag: "target",
        url: &server.url,
        embedded: false,
        pid: None,
        metrics: Some(&metrics),
    };
    let plan = cpu::plan(options, &client).await.unwrap();
    assert_eq!(plan, CpuPlan::Measure(CpuSource::Metrics(metrics.clone())));

    let results = run_fixed(&server.url, plan).await;
    let target = &results.targets[0];
    assert_eq!(target.cpu_unavailable, None);
    let row = &target.phases[0].rows[0];
    assert!(row.requests() > 0);
    // One scrape before the slice, one after: a quarter of a second apart.
    assert_eq!(row.server_cpu, Some(Duration::from_millis(250)));
    let per_request = row.cpu_per_request().unwrap();
    assert_eq!(
        per_request,
        Duration::from_millis(250) / row.requests() as u32
    );
    task.abort();
}

/// Metrics that answer when the run starts and fail after: the run goes on,
/// the row has no figure, and the target says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_that_fail_mid_run_make_the_figure_unavailable() {
    let server = common::start(Behaviour::EveryNth {
        n: u64::MAX,
        delay: Duration::ZERO,
    })
    .await;
    // Scrapes 0 (the plan) and 1 (before the slice) answer; 2 (after it) fails.
    let (metrics, task) = fake_metrics(2).await;
    let plan = cpu::plan(
        CpuOptions {
            flag: "target",
            url: &server.url,
            embedded: false,
            pid: None,
            metrics: Some(&metrics),
        },
        &reqwest::Client::new(),
    )
    .await
    .unwrap();
    let results = run_fixed(&server.url, plan).await;
    let target = &results.targets[0];
    let row = &target.phases[0].rows[0];
    assert!(row.requests() > 0);
    assert_eq!(row.server_cpu, None);
    assert_eq!(row.cpu_per_request(), None);
    assert_eq!(target.overall().server_cpu, None);
    assert!(target.cpu_source.is_some());
    let why = target.cpu_unavailable.as_deref().unwrap_or_default();
    assert!(why.contains("HTTP 500"), "{why:?}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_sources_are_refused_or_reported() {
    let server = common::start(Behaviour::EveryNth {
        n: u64::MAX,
        delay: Duration::ZERO,
    })
    .await;
    let client = reqwest::Client::new();
    let options = CpuOptions {
        flag: "target",
        url: &server.url,
        embedded: false,
        pid: None,
        metrics: None,
    };
    // Named by the operator and unreadable: an error, before any load.
    let no_counter = cpu::plan(
        CpuOptions {
            metrics: Some(&format!("{}/metrics", server.url)),
            ..options
        },
        &client,
    )
    .await;
    assert!(
        matches!(no_counter, Err(CpuError::NoCounter { .. })),
        "{no_counter:?}"
    );
    // A metrics endpoint that is down: nothing listens on a port just freed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = cpu::plan(
        CpuOptions {
            metrics: Some(&format!("http://{closed}/metrics")),
            ..options
        },
        &client,
    )
    .await;
    match down {
        // The message says why, not only that the request failed.
        Err(e @ CpuError::Scrape { .. }) => assert!(e.to_string().contains("refused"), "{e}"),
        other => panic!("{other:?}"),
    }
    let no_process = cpu::plan(
        CpuOptions {
            pid: Some(u32::MAX),
            ..options
        },
        &client,
    )
    .await;
    assert!(
        matches!(no_process, Err(CpuError::Io { .. })),
        "{no_process:?}"
    );
    // Found by the harness: this test's own process listens there, and its
    // CPU is the load generator's too, so the figure is n/a, with the reason.
    match cpu::plan(options, &client).await.unwrap() {
        CpuPlan::Unavailable(why) => assert!(why.contains("inside this process"), "{why}"),
        plan => panic!("{plan:?}"),
    }
    let remote = cpu::plan(
        CpuOptions {
            url: "http://authz.example:9090",
            ..options
        },
        &client,
    )
    .await
    .unwrap();
    match remote {
        CpuPlan::Unavailable(why) => assert!(why.contains("--target-metrics"), "{why}"),
        plan => panic!("{plan:?}"),
    }
}

/// A target whose CPU is not measured: every report says so, and no row
/// carries a figure (not a zero).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmeasured_target_is_reported_unavailable() {
    let server = common::start(Behaviour::EveryNth {
        n: u64::MAX,
        delay: Duration::ZERO,
    })
    .await;
    let why = "no process found listening on 127.0.0.1:1";
    let results = run_fixed(&server.url, CpuPlan::Unavailable(why.into())).await;
    let report = Report::build(
        &results,
        Machine {
            verify_strict_per_sec: 10_000.0,
            cores: 2,
            online_cpus: None,
        },
        RunSummary {
            model: "open".into(),
            users: None,
            rate: Some(200.0),
            duration_secs: 0.3,
            rounds: 1,
            depth: 1,
            distinct: 1,
            embedded: false,
        },
    );
    let target = &report.targets[0];
    assert_eq!(target.cpu_source, None);
    assert_eq!(target.cpu_unavailable.as_deref(), Some(why));
    for row in target.scenarios.iter().chain([&target.overall]) {
        assert!(row.requests > 0, "{}", row.name);
        assert_eq!(row.cpu_us_per_request, None, "{}", row.name);
        assert_eq!(row.server_cpu_secs, None, "{}", row.name);
    }
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert!(json["targets"][0]["overall"]["cpu_us_per_request"].is_null());
    assert_eq!(json["targets"][0]["cpu_unavailable"], why);

    let table = report::table(&report);
    assert!(table.contains("cpu/req"), "{table}");
    assert!(
        table.contains(&format!("server CPU unavailable: {why}")),
        "{table}"
    );
    let svg = report::svg(&report, &results);
    assert!(svg.contains("fixed · n/a CPU"), "{svg}");
}
