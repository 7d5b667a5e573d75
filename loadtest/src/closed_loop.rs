//! Closed loop: goose users, each sending its next call as soon as the last
//! one is answered. goose runs the users, their ramp and the duration; the
//! latency of every call is measured here, in microseconds, around goose's
//! request and the body read, and recorded in the [`Recorder`] (goose's own
//! metrics are whole milliseconds and are switched off).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::config::GooseConfiguration;
use goose::prelude::*;

use crate::call::{Urls, Workload};
use crate::classify::{classify, Outcome};
use crate::error::LoadError;
use crate::recorder::Recorder;

/// Settings of a closed-loop slice.
#[derive(Debug, Clone)]
pub struct ClosedLoop {
    /// Concurrent goose users.
    pub users: usize,
    /// How long, rounded up to whole seconds (goose's unit).
    pub duration: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

fn goose_error(error: impl std::fmt::Display) -> LoadError {
    LoadError::Goose(error.to_string())
}

/// The transaction every user loops over: one call, timed and recorded.
fn transaction(
    urls: Arc<Urls>,
    workload: Arc<dyn Workload>,
    recorder: Arc<Recorder>,
    seq: Arc<AtomicU64>,
) -> Transaction {
    let function: TransactionFunction = Arc::new(move |user| {
        let urls = Arc::clone(&urls);
        let workload = Arc::clone(&workload);
        let recorder = Arc::clone(&recorder);
        let seq = Arc::clone(&seq);
        Box::pin(async move {
            let call = workload.call(seq.fetch_add(1, Ordering::Relaxed));
            // The user's own client (its connection pool) with a pre-parsed URL, rather
            // than `get_request_builder`, which joins and parses a URL per request.
            let url = urls
                .of(&call)
                .map_err(|e| Box::new(TransactionError::Url(e)))?;
            let builder = user.client.request(call.method.clone(), url);
            let request = GooseRequest::builder()
                .set_request_builder(call.headers(builder))
                .build();
            let start = Instant::now();
            let outcome = match user.request(request).await {
                Ok(goose) => match goose.response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.bytes().await {
                            Ok(body) => classify(status, &body),
                            Err(e) => Outcome::Error(crate::open_loop::error_kind(&e)),
                        }
                    }
                    Err(e) => Outcome::Error(crate::open_loop::error_kind(&e)),
                },
                Err(_) => Outcome::Error("goose".into()),
            };
            let end = Instant::now();
            recorder.record(call.label, end - start, &outcome, call.expect);
            recorder.span(start, end);
            Ok(())
        })
    });
    Transaction::new(function).set_name("call")
}

/// Runs `users` goose users against `base` (e.g. `http://127.0.0.1:9090`) for
/// the duration, recording into `recorder`.
pub async fn run(
    base: &str,
    workload: Arc<dyn Workload>,
    recorder: Arc<Recorder>,
    seq: Arc<AtomicU64>,
    settings: &ClosedLoop,
) -> Result<(), LoadError> {
    let users = settings.users.max(1);
    let secs = settings.duration.as_secs_f64().ceil().max(1.0) as usize;
    let hatch = format!("{}", users * 50);
    let timeout = format!("{}", settings.timeout.as_secs().max(1));
    let scenario = Scenario::new("authz").register_transaction(transaction(
        Arc::new(Urls::new(base)),
        workload,
        recorder,
        seq,
    ));
    GooseAttack::initialize_with_config(GooseConfiguration::default())
        .map_err(goose_error)?
        .register_scenario(scenario)
        .set_default(GooseDefault::Host, base)
        .map_err(goose_error)?
        .set_default(GooseDefault::Users, users)
        .map_err(goose_error)?
        .set_default(GooseDefault::IncreaseRate, hatch.as_str())
        .map_err(goose_error)?
        .set_default(GooseDefault::RunTime, secs)
        .map_err(goose_error)?
        .set_default(GooseDefault::Timeout, timeout.as_str())
        .map_err(goose_error)?
        .set_default(GooseDefault::NoMetrics, true)
        .map_err(goose_error)?
        .set_default(GooseDefault::NoTelnet, true)
        .map_err(goose_error)?
        .set_default(GooseDefault::Quiet, 1)
        .map_err(goose_error)?
        .execute()
        .await
        .map_err(goose_error)?;
    Ok(())
}
