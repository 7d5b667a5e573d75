//! The verified-chain cache bounds its memory by weighing each chain with
//! `PreparedChain::approximate_size`, an estimate of the resident bytes the chain
//! holds. This holds the estimate to what a prepared chain really allocates
//! (counted by a wrapper around the system allocator, each allocation rounded as
//! glibc lays it out): never less, and not much more, for chains of one to eight
//! warrants and the common kinds of constraint; never less for the regexes
//! whose compiled programs it stands in for.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tenuo_authz::cache::prepare;
use tenuo_authz::constraint::{Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::wire::encode_base64url;

/// The system allocator, counting the resident bytes of what is live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// An allocation's resident bytes under glibc: an 8-byte header, 16-byte
/// granules, 32 bytes at least.
fn resident(size: usize) -> usize {
    (size + 8).next_multiple_of(16).max(32)
}

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(resident(layout.size()), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(resident(layout.size()), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(resident(new_size), Ordering::Relaxed);
        LIVE.fetch_sub(resident(layout.size()), Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The grants each chain of the test carries, one kind of constraint apiece (and
/// a few together).
fn grants() -> Vec<(&'static str, ConstraintSet)> {
    let one = |name: &str, c: Constraint| ConstraintSet::new().with(name, c);
    vec![
        (
            "wildcard glob",
            one(
                "path",
                Constraint::pattern("/data/tenant-42/reports/*").unwrap(),
            ),
        ),
        (
            "glob with a class",
            one("path", Constraint::pattern("/data/[a-f]*/x?").unwrap()),
        ),
        ("exact", one("mode", Constraint::exact("read-only"))),
        (
            "one of",
            one(
                "env",
                Constraint::one_of(["staging", "production", "a-much-longer-environment-name"]),
            ),
        ),
        (
            "range",
            one("n", Constraint::range(Some(0.0), Some(10.0)).unwrap()),
        ),
        ("cidr", one("ip", Constraint::cidr("10.0.0.0/8").unwrap())),
        (
            "subpath",
            one("file", Constraint::subpath("/srv/data").unwrap()),
        ),
        (
            "url pattern",
            one(
                "url",
                Constraint::url_pattern("https://*.example.com/api/*").unwrap(),
            ),
        ),
        (
            "shlex",
            one("cmd", Constraint::shlex(["ls", "cat", "grep"])),
        ),
        (
            "nested",
            one(
                "path",
                Constraint::all(vec![
                    Constraint::pattern("/data/*").unwrap(),
                    Constraint::not(Constraint::pattern("*.key").unwrap()).unwrap(),
                ])
                .unwrap(),
            ),
        ),
        (
            "several arguments",
            ConstraintSet::new()
                .with("path", Constraint::pattern("/data/*").unwrap())
                .with(
                    "a_rather_long_argument_name_beyond_inline",
                    Constraint::exact(1),
                )
                .with("mode", Constraint::one_of(["r", "w"])),
        ),
    ]
}

/// The tools a chain grants, each with its constraints.
type Tools<'a> = Vec<(&'a str, ConstraintSet)>;

fn token(depth: usize, tools: &[(&str, ConstraintSet)]) -> String {
    let root = SigningKey::from_bytes(&[1; 32]);
    let keys: Vec<SigningKey> = (0..depth)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 10; 32]))
        .collect();
    let now = 1_800_000_000;
    let mut issue = Issue::execution(keys[0].public_key());
    for (tool, set) in tools {
        issue = issue.tool(*tool, set.clone());
    }
    let mut chain = vec![issue.ttl_secs(3600).sign(&root, now).unwrap()];
    for i in 1..depth {
        let mut attenuate = Attenuate::from(&chain[i - 1]).holder(keys[i].public_key());
        for (tool, set) in tools {
            attenuate = attenuate.tool(*tool, set.clone());
        }
        chain.push(attenuate.sign(&keys[i - 1], now).unwrap());
    }
    encode_base64url(&encode_chain(&chain))
}

/// One test, so that no other thread allocates while it counts.
#[test]
fn the_estimate_covers_what_a_chain_holds() {
    the_estimate_covers_what_a_chain_allocates_and_not_much_more();
    the_stand_ins_for_compiled_constraints_cover_them();
}

fn the_estimate_covers_what_a_chain_allocates_and_not_much_more() {
    let all = grants();
    let mut cases: Vec<(String, usize, Tools)> = Vec::new();
    for depth in [1, 3, 8] {
        for (what, set) in &all {
            cases.push((what.to_string(), depth, vec![("read_file", set.clone())]));
        }
        let tools = all.iter().map(|(what, set)| (*what, set.clone())).collect();
        cases.push(("every grant, a tool apiece".into(), depth, tools));
    }
    for (what, depth, tools) in cases {
        let token = token(depth, &tools);
        // Once first, for whatever is set up on first use.
        drop(prepare(&token).unwrap());
        let before = LIVE.load(Ordering::SeqCst);
        let chain = prepare(&token).unwrap();
        let allocated = LIVE.load(Ordering::SeqCst) - before;
        assert!(chain.is_sound(), "{what}, depth {depth}");
        let estimate = chain.approximate_size();
        assert!(
            estimate >= allocated,
            "{what}, depth {depth}: estimated {estimate} bytes, allocated {allocated}"
        );
        assert!(
            estimate <= allocated + allocated / 4,
            "{what}, depth {depth}: estimated {estimate} bytes, allocated only {allocated}"
        );
    }
}

fn the_stand_ins_for_compiled_constraints_cover_them() {
    let one = |name: &str, c: Constraint| ConstraintSet::new().with(name, c);
    let cases = [
        (
            "regex",
            one(
                "host",
                Constraint::regex("^(staging|production)-[0-9]{1,4}\\.example\\.com$").unwrap(),
            ),
        ),
        (
            "literal regex",
            one("db", Constraint::regex("prod").unwrap()),
        ),
    ];
    for (what, set) in cases {
        let token = token(3, &[("fetch", set)]);
        drop(prepare(&token).unwrap());
        let before = LIVE.load(Ordering::SeqCst);
        let chain = prepare(&token).unwrap();
        let allocated = LIVE.load(Ordering::SeqCst) - before;
        let estimate = chain.approximate_size();
        assert!(
            estimate >= allocated,
            "{what}: estimated {estimate} bytes, allocated {allocated}"
        );
    }
}
