//! A plain HTTP server on 127.0.0.1 with scripted delays, for the recording
//! and coordinated-omission tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// How the server answers.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Every `n`-th request waits `delay`; the rest answer at once.
    EveryNth { n: u64, delay: Duration },
    /// When request number `after` arrives, the server stalls for `stall`:
    /// every request in flight or arriving then waits until the stall ends.
    StallOnce { after: u64, stall: Duration },
}

struct State {
    behaviour: Behaviour,
    seen: AtomicU64,
    stall_until: Mutex<Option<Instant>>,
}

/// A running test server; stops when dropped.
pub struct TestServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(state: Arc<State>) -> &'static str {
    let n = state.seen.fetch_add(1, Ordering::Relaxed) + 1;
    match state.behaviour {
        Behaviour::EveryNth { n: every, delay } => {
            if n.is_multiple_of(every) {
                tokio::time::sleep(delay).await;
            }
        }
        Behaviour::StallOnce { after, stall } => {
            let until = {
                let mut until = state.stall_until.lock().unwrap();
                if n == after {
                    *until = Some(Instant::now() + stall);
                }
                *until
            };
            if let Some(until) = until {
                tokio::time::sleep_until(until).await;
            }
        }
    }
    "ok"
}

/// Starts a server with `behaviour` on 127.0.0.1.
pub async fn start(behaviour: Behaviour) -> TestServer {
    let state = Arc::new(State {
        behaviour,
        seen: AtomicU64::new(0),
        stall_until: Mutex::new(None),
    });
    let app = axum::Router::new().fallback(move || answer(Arc::clone(&state)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    TestServer { url, task }
}
