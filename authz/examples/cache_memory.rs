//! Resident memory of the verified-chain cache under a flood of distinct chains:
//!
//! ```text
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000 64     # a 64 MiB cache budget
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000 200 3  # depth-3 chains
//! ```
//!
//! Arguments: how many chains (default 100,000), the cache budget in MiB (default
//! the [`CacheConfig`] default) and the depth of each chain (default 1). Chain `i`
//! is a root warrant granting `read_file` on `/data/tenant-{i}/*`, then `depth - 1`
//! delegations each narrowing it (`/data/tenant-{i}/reports/*`) to a new holder,
//! as the server's gateway sees them. The authorizer verifies and caches each (as
//! the server does per request), and the example prints resident memory (Linux
//! `/proc`) as it goes, with the cache's own counters, and last the resident bytes
//! per chain between the first report and the last (so the fixed costs, moka's
//! frequency sketch among them, drop out).

use std::time::Instant;

use tenuo_authz::cache::CacheConfig;
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::wire::encode_base64url;
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

/// The token of chain `i`: `depth` warrants, root first, held by `holders` in turn.
fn token(
    i: u64,
    depth: usize,
    control_plane: &SigningKey,
    holders: &[SigningKey],
    now: u64,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern(&format!("/data/tenant-{i}/*"))?);
    let mut chain = vec![Issue::execution(holders[0].public_key())
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(control_plane, now)?];
    for link in 1..depth {
        let mut narrower = ConstraintSet::new();
        narrower.insert(
            "path",
            Constraint::pattern(&format!("/data/tenant-{i}/reports/*"))?,
        );
        let child = Attenuate::from(&chain[link - 1])
            .holder(holders[link].public_key())
            .tool("read_file", narrower)
            .sign(&holders[link - 1], now)?;
        chain.push(child);
    }
    Ok(encode_base64url(&encode_chain(&chain)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let mut cache = CacheConfig::default();
    if let Some(mib) = args.next() {
        cache.max_bytes = mib.parse::<u64>()? * 1024 * 1024;
    }
    let depth: usize = args.next().map(|d| d.parse()).transpose()?.unwrap_or(1);
    if depth == 0 {
        return Err("the depth is at least 1".into());
    }
    println!(
        "cache budget {} MiB, at most {} chains, depth {depth}",
        cache.max_bytes >> 20,
        cache.max_entries
    );
    let control_plane = SigningKey::generate()?;
    let holders = (0..depth)
        .map(|_| SigningKey::generate())
        .collect::<Result<Vec<_>, _>>()?;
    let authorizer = Authorizer::builder()
        .trusted_issuers([control_plane.public_key()])
        .cache(cache)
        .build()?;
    let now = authorizer.now() as u64;
    let before = rss_kib();
    let started = Instant::now();
    let mut first_report: Option<(u64, u64)> = None;
    let mut last_report = (0, 0);
    for i in 0..count {
        authorizer.prepare(&token(i, depth, &control_plane, &holders, now)?)?;
        if (i + 1) % (count / 5).max(1) == 0 {
            let entries = authorizer.cache_stats().unwrap_or_default().entries;
            let rss = rss_kib();
            first_report.get_or_insert((entries, rss));
            last_report = (entries, rss);
            println!(
                "after {:>7} chains: RSS {:6.1} MiB, {entries} cached",
                i + 1,
                rss as f64 / 1024.0
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
    if let Some((entries, rss)) = first_report {
        let added = last_report.0.saturating_sub(entries);
        if added > 0 {
            println!(
                "{} resident bytes per cached chain (RSS growth over the last {added} entries cached)",
                last_report.1.saturating_sub(rss) * 1024 / added
            );
        }
    }
    Ok(())
}
