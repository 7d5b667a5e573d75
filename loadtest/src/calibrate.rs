//! The machine's own yardstick: single-core `verify_strict` rate.
//!
//! Throughput and latency differ across machines; a regression gate that
//! compares raw requests per second across a laptop and a CI runner measures
//! the runners. So each run measures how many Ed25519 `verify_strict` calls one
//! core does per second, and the gate compares requests per second *per
//! verify per second* (and p99 in verify-times), ratios that carry across
//! machines far better than the raw figures. The rate is measured before and
//! after the load, and the lower one is used.
//!
//! ```
//! let rate = tenuo_loadtest::calibrate::verify_strict_rate(std::time::Duration::from_millis(20));
//! assert!(rate > 100.0);
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use tenuo_authz::crypto::SigningKey;

/// Verifications per second on one core: the median of five batches that
/// together take about `budget`.
pub fn verify_strict_rate(budget: Duration) -> f64 {
    let key = SigningKey::from_bytes(&[7; 32]);
    let message = [0x42u8; 200];
    let signature = key.sign(&message);
    let public = key.public_key();
    let slice = budget / 5;
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < slice || n == 0 {
                for _ in 0..16 {
                    let _ = black_box(public.verify_strict(black_box(&message), &signature));
                }
                n += 16;
            }
            n as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[2]
}
