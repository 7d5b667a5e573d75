//! Recording: a known delay shows up at the right percentile.
//!
//! The server delays every 20th request by 20 ms (5 %), so p90 must be fast
//! and p99 at least 20 ms, through goose's closed loop and the open loop alike.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Behaviour;
use tenuo_loadtest::closed_loop::{self, ClosedLoop};
use tenuo_loadtest::open_loop::{self, OpenLoop};
use tenuo_loadtest::{FixedCall, Recorder, Workload};

const DELAY_US: u64 = 20_000;

fn check(label: &str, recorder: &Recorder) {
    let stats = recorder.take(Duration::from_secs(1)).remove(0);
    let h = &stats.hist;
    assert!(
        stats.requests() >= 100,
        "{label}: only {} requests",
        stats.requests()
    );
    assert_eq!(stats.error_count(), 0, "{label}: {:?}", stats.errors);
    // 95 % answer at once: the 90th percentile is below the delay.
    assert!(
        h.value_at_quantile(0.90) < DELAY_US,
        "{label}: p90 {}",
        h.value_at_quantile(0.90)
    );
    // 5 % wait 20 ms: the 99th percentile is at least the delay (HDR keeps 3 digits).
    assert!(
        h.value_at_quantile(0.99) >= DELAY_US - 20,
        "{label}: p99 {}",
        h.value_at_quantile(0.99)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_delay_lands_at_p99() {
    let server = common::start(Behaviour::EveryNth {
        n: 20,
        delay: Duration::from_micros(DELAY_US),
    })
    .await;
    let workload: Arc<dyn Workload> = Arc::new(FixedCall::new("fixed", "/"));

    let closed = Arc::new(Recorder::new(workload.labels()));
    let settings = ClosedLoop {
        users: 1,
        duration: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
    };
    closed_loop::run(
        &server.url,
        Arc::clone(&workload),
        Arc::clone(&closed),
        Arc::default(),
        &settings,
    )
    .await
    .unwrap();
    check("closed loop", &closed);

    let open = Arc::new(Recorder::new(workload.labels()));
    let client = open_loop::client(Duration::from_secs(5), 64).unwrap();
    let settings = OpenLoop {
        rate: 200.0,
        duration: Duration::from_secs(2),
        max_in_flight: 64,
        timeout: Duration::from_secs(5),
    };
    open_loop::run(
        &client,
        &server.url,
        workload,
        Arc::clone(&open),
        Arc::default(),
        &settings,
    )
    .await
    .unwrap();
    check("open loop", &open);
}

#[test]
fn recorder_places_values_exactly() {
    use tenuo_loadtest::{Expect, Outcome};
    let recorder = Recorder::new(vec!["r".into()]);
    for _ in 0..980 {
        recorder.record(
            0,
            Duration::from_micros(250),
            &Outcome::Allow,
            Expect::Allow,
        );
    }
    for _ in 0..20 {
        recorder.record(
            0,
            Duration::from_millis(40),
            &Outcome::Deny("invalid_pop".into()),
            Expect::Allow,
        );
    }
    let stats = recorder.take(Duration::from_secs(2)).remove(0);
    assert_eq!(stats.requests(), 1000);
    assert_eq!(stats.unexpected, 20);
    assert_eq!(stats.deny["invalid_pop"], 20);
    assert_eq!(stats.rps(), 500.0);
    let h = &stats.hist;
    assert_eq!(h.value_at_quantile(0.98), 250);
    assert!(h.value_at_quantile(0.985) >= 39_980);
    // Clamped to the histogram's range rather than lost.
    recorder.record(0, Duration::from_secs(3600), &Outcome::Allow, Expect::Any);
    let stats = recorder.take(Duration::from_secs(2)).remove(0);
    assert!(stats.hist.max() >= 59_900_000);
}
