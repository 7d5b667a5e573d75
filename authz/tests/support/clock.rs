//! A clock a test sets by hand, shared with the authorizers it builds.

#![allow(dead_code)] // each test binary uses a different part

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Unix seconds that the test moves and every authorizer built with
/// [`TestClock::reader`] reads.
#[derive(Debug, Clone)]
pub(crate) struct TestClock(Arc<AtomicI64>);

impl TestClock {
    /// A clock showing `now`.
    pub(crate) fn at(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    /// Moves the clock to `now`.
    pub(crate) fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// What the clock shows.
    pub(crate) fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// A clock for `AuthorizerBuilder::clock` that follows this one.
    pub(crate) fn reader(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}
