//! Open loop: requests at a fixed arrival rate, latency from the intended send
//! time.
//!
//! Request `i` is due at `t0 + i / rate`, whether or not earlier requests have
//! been answered. A dispatcher thread sleeps (with the OS's sub-millisecond
//! timer, not tokio's 1 ms wheel) until each due time and hands the request to
//! the runtime; at most `max_in_flight` are outstanding, and when that bound is
//! full the dispatcher waits, so later requests go out late. Their latency is
//! still counted from when they were *due*: a target that stalls for 200 ms
//! delays every request due in those 200 ms, and all of them land in the tail.
//! This is the correction of coordinated omission (a closed loop, which waits
//! for each answer before asking again, records a stall once and hides it).
//!
//! Latency from the due time includes the client's own preparation of the call
//! (a cold call signs a chain link and a PoP first). Everything is bounded: the
//! count is `rate × duration`, and a hard stop at `duration + timeout` counts
//! what could not be sent as `not_sent` errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::call::{Call, Urls, Workload};
use crate::classify::{classify, Outcome};
use crate::error::LoadError;
use crate::recorder::Recorder;

/// Most requests one open-loop slice may schedule.
const MAX_REQUESTS: u64 = 50_000_000;

/// Settings of an open-loop slice.
#[derive(Debug, Clone)]
pub struct OpenLoop {
    /// Arrivals per second.
    pub rate: f64,
    /// Length of the schedule.
    pub duration: Duration,
    /// Most requests outstanding at once.
    pub max_in_flight: usize,
    /// Per-request timeout (also the grace after the schedule ends).
    pub timeout: Duration,
}

/// A short name for a transport failure.
pub(crate) fn error_kind(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

/// Sends one call to its URL under `urls` and classifies the answer.
pub(crate) async fn send(client: &reqwest::Client, urls: &Urls, call: &Call) -> Outcome {
    let url = match urls.of(call) {
        Ok(url) => url,
        Err(_) => return Outcome::Error("url".into()),
    };
    let request = call.headers(client.request(call.method.clone(), url));
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(body) => classify(status, &body),
                Err(e) => Outcome::Error(error_kind(&e)),
            }
        }
        Err(e) => Outcome::Error(error_kind(&e)),
    }
}

/// An HTTP client for the open loop (and warm-up): keep-alive pool, timeout.
pub fn client(timeout: Duration, max_in_flight: usize) -> Result<reqwest::Client, LoadError> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(max_in_flight)
        .tcp_nodelay(true)
        .build()?)
}

/// Runs the schedule against `base`, recording into `recorder`.
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    workload: Arc<dyn Workload>,
    recorder: Arc<Recorder>,
    seq: Arc<AtomicU64>,
    settings: &OpenLoop,
) -> Result<(), LoadError> {
    let rate = settings.rate.max(0.001);
    let count = ((rate * settings.duration.as_secs_f64()).round() as u64).min(MAX_REQUESTS);
    let max_in_flight = settings.max_in_flight.clamp(1, 1 << 20);
    let in_flight = Arc::new(Semaphore::new(max_in_flight));
    let handle = tokio::runtime::Handle::current();
    let urls = Arc::new(Urls::new(base));
    let client = client.clone();
    let gate = Arc::clone(&in_flight);
    let rec = Arc::clone(&recorder);
    let timeout = settings.timeout;
    let duration = settings.duration;
    let dispatcher = std::thread::Builder::new()
        .name("open-loop".into())
        .spawn(move || {
            // Timers and semaphores below need the runtime's context.
            let _runtime = handle.enter();
            let t0 = Instant::now() + Duration::from_millis(5);
            let hard_stop = t0 + duration + timeout;
            for i in 0..count {
                let due = t0 + Duration::from_secs_f64(i as f64 / rate);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let permit = match Arc::clone(&gate).try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => handle
                        .block_on(tokio::time::timeout_at(
                            hard_stop.into(),
                            Arc::clone(&gate).acquire_owned(),
                        ))
                        .ok()
                        .and_then(Result::ok),
                };
                let Some(permit) = permit.filter(|_| Instant::now() < hard_stop) else {
                    rec.record_unsent(0, count - i);
                    break;
                };
                let (client, urls, workload, rec, seq) = (
                    client.clone(),
                    Arc::clone(&urls),
                    Arc::clone(&workload),
                    Arc::clone(&rec),
                    Arc::clone(&seq),
                );
                handle.spawn(async move {
                    let call = workload.call(seq.fetch_add(1, Ordering::Relaxed));
                    let outcome = send(&client, &urls, &call).await;
                    let end = Instant::now();
                    rec.record(call.label, end - due, &outcome, call.expect);
                    rec.span(due, end);
                    drop(permit);
                });
            }
        })
        .map_err(|e| LoadError::io("open-loop dispatcher thread", e))?;
    let _ = tokio::task::spawn_blocking(move || dispatcher.join()).await;
    // Every permit back means every request finished (each is bounded by the timeout).
    let _ = tokio::time::timeout(
        timeout + Duration::from_secs(1),
        in_flight.acquire_many(max_in_flight as u32),
    )
    .await;
    Ok(())
}
