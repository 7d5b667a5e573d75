//! Coordinated omission: a target that stalls for 200 ms.
//!
//! A closed loop (one goose user) waits out the stall once: one slow sample
//! among thousands, so its p99 stays low and only its max shows the stall. The
//! open loop keeps its schedule: every request due during the stall is late,
//! each counted from when it was due: at 250 requests/s the 50 requests due
//! during the stall are 10 % of the run, so p99 ≥ 100 ms.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Behaviour;
use tenuo_loadtest::closed_loop::{self, ClosedLoop};
use tenuo_loadtest::open_loop::{self, OpenLoop};
use tenuo_loadtest::{FixedCall, Recorder, Workload};

const STALL: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_inflates_the_open_loop_tail() {
    let workload: Arc<dyn Workload> = Arc::new(FixedCall::new("fixed", "/"));

    let server = common::start(Behaviour::StallOnce {
        after: 100,
        stall: STALL,
    })
    .await;
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
    drop(server);

    let server = common::start(Behaviour::StallOnce {
        after: 100,
        stall: STALL,
    })
    .await;
    let open = Arc::new(Recorder::new(workload.labels()));
    let client = open_loop::client(Duration::from_secs(5), 1024).unwrap();
    let settings = OpenLoop {
        // Well within what even a debug build on a busy machine answers, so
        // the tail is the stall's and not an overload's.
        rate: 250.0,
        duration: Duration::from_secs(2),
        max_in_flight: 1024,
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

    let closed = closed.take(Duration::from_secs(2)).remove(0);
    let open = open.take(Duration::from_secs(2)).remove(0);
    let (c99, o99) = (
        closed.hist.value_at_quantile(0.99),
        open.hist.value_at_quantile(0.99),
    );
    eprintln!(
        "closed: {} req, p99 {c99} µs, max {} µs; open: {} req, p99 {o99} µs, max {} µs",
        closed.requests(),
        closed.hist.max(),
        open.requests(),
        open.hist.max()
    );
    assert_eq!(closed.error_count() + open.error_count(), 0);
    // The closed loop saw the stall (its max) ...
    assert!(
        closed.hist.max() >= 150_000,
        "closed max {}",
        closed.hist.max()
    );
    // ... but hid it from its tail, which the open loop does not.
    assert!(
        o99 >= 100_000,
        "open-loop p99 {o99} µs: the stall must show"
    );
    assert!(c99 < o99, "closed p99 {c99} µs vs open p99 {o99} µs");
}
