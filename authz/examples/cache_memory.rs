//! Resident memory of the verified-chain cache under a flood of distinct chains:
//!
//! ```text
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000 64   # a 64 MiB cache budget
//! ```
//!
//! Mints N distinct warrants, has the authorizer verify and cache each (as the
//! server does per request), and prints resident memory (Linux `/proc`) before
//! and after, with the cache's own counters.

use std::time::Instant;

use tenuo_authz::cache::CacheConfig;
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::Authorizer;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let mut cache = CacheConfig::default();
    if let Some(mib) = std::env::args().nth(2) {
        cache.max_bytes = mib.parse::<u64>()? * 1024 * 1024;
    }
    println!(
        "cache budget {} MiB, at most {} chains",
        cache.max_bytes >> 20,
        cache.max_entries
    );
    let control_plane = SigningKey::generate()?;
    let agent = SigningKey::generate()?;
    let authorizer = Authorizer::builder()
        .trusted_issuers([control_plane.public_key()])
        .cache(cache)
        .build()?;
    let now = authorizer.now() as u64;
    let before = rss_kib();
    let started = Instant::now();
    for i in 0..count {
        let mut set = ConstraintSet::new();
        set.insert("path", Constraint::pattern(&format!("/data/tenant-{i}/*"))?);
        let warrant = Issue::execution(agent.public_key())
            .tool("read_file", set)
            .ttl_secs(3600)
            .sign(&control_plane, now)?;
        authorizer.prepare(&warrant.to_base64url())?;
        if (i + 1) % (count / 5).max(1) == 0 {
            let entries = authorizer.cache_stats().unwrap_or_default().entries;
            println!(
                "after {:>7} chains: RSS {:6.1} MiB, {entries} cached",
                i + 1,
                rss_kib() as f64 / 1024.0
            );
        }
    }
    let stats = authorizer.cache_stats().unwrap_or_default();
    println!(
        "{count} distinct chains in {:.1} s: RSS {:.1} MiB before, {:.1} MiB after; cache holds {} entries ({} misses)",
        started.elapsed().as_secs_f64(),
        before as f64 / 1024.0,
        rss_kib() as f64 / 1024.0,
        stats.entries,
        stats.misses
    );
    Ok(())
}
