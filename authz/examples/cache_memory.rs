//! Resident memory of the verified-chain cache under a flood of distinct chains:
//!
//! ```text
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000 64     # a 64 MiB cache budget
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000 200 3  # depth-3 chains
//! cargo run --release -p tenuo-authz --example cache_memory -- 100000 200 3 distinct
//! ```
//!
//! Arguments: how many chains (default 100,000), the cache budget in MiB (default
//! the [`CacheConfig`] default), the depth of each chain (default 1), and
//! `distinct` for holders of their own. Chain `i` is a root warrant granting
//! `read_file` on `/data/tenant-{i}/*`, then `depth - 1` delegations each
//! narrowing it (`/data/tenant-{i}/reports/*`) to the next holder, as the
//! server's gateway sees them. The holders are the same `depth` agents for every
//! chain (agents whose keys outlive their warrants, so the cache shares them),
//! or with `distinct` new keys for every chain (nothing to share). The authorizer
//! verifies and caches each (as the server does per request), and the example
//! prints resident memory (Linux `/proc`) as it goes, with the cache's own
//! counters, and last the resident bytes per chain between the first report and
//! the last (so the fixed costs drop out), with the bytes allocated per chain over
//! the same span (counted by a wrapper around the system allocator) and the bytes
//! the cache weighs each at (never less than its budget over its entry bound).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tenuo_authz::cache::CacheConfig;
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::wire::encode_base64url;
use tenuo_authz::Authorizer;

/// The system allocator, counting the bytes it holds for the program: what the
/// cache's entries ask for, as against what they cost in resident memory
/// (allocator headers, rounding and the holes freed temporaries leave).
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
    let distinct = match args.next().as_deref() {
        None => false,
        Some("distinct") => true,
        Some(other) => return Err(format!("unknown argument {other}").into()),
    };
    println!(
        "cache budget {} MiB, at most {} chains, depth {depth}, {} holders",
        cache.max_bytes >> 20,
        cache.max_entries,
        if distinct { "distinct" } else { "shared" }
    );
    let control_plane = SigningKey::generate()?;
    let new_holders = || {
        (0..depth)
            .map(|_| SigningKey::generate())
            .collect::<Result<Vec<_>, _>>()
    };
    let mut holders = new_holders()?;
    let authorizer = Authorizer::builder()
        .trusted_issuers([control_plane.public_key()])
        .cache(cache)
        .build()?;
    let now = authorizer.now() as u64;
    let before = rss_kib();
    let started = Instant::now();
    let mut first_report: Option<(u64, u64, usize)> = None;
    let mut last_report = (0, 0, 0);
    for i in 0..count {
        if distinct {
            holders = new_holders()?;
        }
        authorizer.prepare(&token(i, depth, &control_plane, &holders, now)?)?;
        if (i + 1) % (count / 5).max(1) == 0 {
            let entries = authorizer.cache_stats().unwrap_or_default().entries;
            let rss = rss_kib();
            let live = LIVE_BYTES.load(Ordering::Relaxed);
            first_report.get_or_insert((entries, rss, live));
            last_report = (entries, rss, live);
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
    if let Some((entries, rss, live)) = first_report {
        let added = last_report.0.saturating_sub(entries);
        let per_chain = |grown: u64| grown.checked_div(added);
        let resident = per_chain(last_report.1.saturating_sub(rss) * 1024);
        let allocated = per_chain(last_report.2.saturating_sub(live) as u64);
        if let (Some(resident), Some(allocated)) = (resident, allocated) {
            println!(
                "{resident} resident bytes per cached chain (RSS growth over the last {added} \
                 entries cached), {allocated} bytes allocated; the cache weighs each at {} bytes",
                stats.weighed_bytes / stats.entries.max(1)
            );
        }
    }
    Ok(())
}
