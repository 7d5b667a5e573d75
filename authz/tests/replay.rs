//! Opt-in PoP replay protection, end to end through the `Authorizer` and the
//! HTTP front end (inline and batched PoP verification).

#[path = "support/clock.rs"]
mod clock;
use clock::TestClock;

use std::sync::Arc;

use tenuo_authz::batch::{BatchConfig, PopBatch};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::engine::{AuthzConfig, CallRequest, ExtractError, RequestAuthorizer};
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::replay::{ReplayConfig, WhenFull};
use tenuo_authz::{Authorizer, Denial, DenyReason, Warrant};

const T0: i64 = 1_800_000_000;

struct World {
    cp: SigningKey,
    agent: SigningKey,
    warrant: Warrant,
    clock: TestClock,
}

fn world() -> World {
    let cp = SigningKey::from_bytes(&[31; 32]);
    let agent = SigningKey::from_bytes(&[32; 32]);
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let warrant = Issue::execution(agent.public_key())
        .tool("read_file", set)
        .ttl_secs(3600)
        .sign(&cp, T0 as u64)
        .unwrap();
    World {
        cp,
        agent,
        warrant,
        clock: TestClock::at(T0),
    }
}

impl World {
    fn authorizer(&self, replay: Option<ReplayConfig>) -> Authorizer {
        let mut builder = Authorizer::builder()
            .trusted_issuers([self.cp.public_key()])
            .clock(self.clock.reader());
        if let Some(config) = replay {
            builder = builder.replay_protection(config);
        }
        builder.build().unwrap()
    }

    fn pop(&self, args: &Args, now: i64) -> String {
        sign_pop(&self.agent, self.warrant.id(), "read_file", args, now).to_base64url()
    }

    fn call(&self, a: &Authorizer, args: &Args, pop: &str) -> Result<(), Denial> {
        a.authorize(
            Some(&self.warrant.to_base64url()),
            "read_file",
            args,
            Some(pop),
        )
        .map(|_| ())
    }
}

fn path(p: &str) -> Args {
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String(p.into()));
    args
}

#[test]
fn off_by_default_a_replay_is_allowed() {
    let w = world();
    let a = w.authorizer(None);
    let args = path("/data/a");
    let pop = w.pop(&args, T0);
    assert!(w.call(&a, &args, &pop).is_ok());
    assert!(w.call(&a, &args, &pop).is_ok());
    assert!(a.replay_store().is_none());
}

#[test]
fn a_replayed_pop_is_denied_invalid_pop_until_it_expires() {
    let w = world();
    let a = w.authorizer(Some(ReplayConfig::default()));
    let args = path("/data/a");
    let pop = w.pop(&args, T0);
    assert!(w.call(&a, &args, &pop).is_ok());
    let denied = w.call(&a, &args, &pop).unwrap_err();
    assert_eq!(denied.reason(), DenyReason::InvalidPop);
    assert!(
        denied.debug_header().starts_with("invalid_pop: "),
        "{}",
        denied.debug_header()
    );
    assert!(denied.to_string().contains("replayed"), "{denied}");

    // Other arguments, or the next window, are other PoPs.
    let other = path("/data/b");
    assert!(w.call(&a, &other, &w.pop(&other, T0)).is_ok());
    assert!(w.call(&a, &args, &w.pop(&args, T0 + 30)).is_ok());
    // Still refused from a later time inside the acceptance span.
    w.clock.set(T0 + 60);
    assert_eq!(
        w.call(&a, &args, &pop).unwrap_err().reason(),
        DenyReason::InvalidPop
    );

    // Once the PoP can no longer verify its entry is gone: memory follows the window.
    let store = a.replay_store().unwrap();
    assert_eq!(store.len(), 3);
    w.clock.set(T0 + store.ttl_secs() + 31);
    let fresh = w.pop(&args, T0 + store.ttl_secs() + 31);
    assert!(w.call(&a, &args, &fresh).is_ok());
    assert_eq!(store.len(), 1, "expired entries were dropped");
}

#[test]
fn only_verified_pops_reach_the_store() {
    let w = world();
    let mut replay = ReplayConfig::default();
    replay.capacity = 4;
    replay.when_full = WhenFull::Deny;
    let a = w.authorizer(Some(replay));
    let args = path("/data/a");
    let store = a.replay_store().unwrap();
    // Bad PoPs, missing PoPs, untrusted chains and denied tools: nothing recorded.
    for i in 0..100u8 {
        let forged = w.agent.sign(&[i]).to_base64url();
        assert_eq!(
            w.call(&a, &args, &forged).unwrap_err().reason(),
            DenyReason::InvalidPop
        );
    }
    let token = w.warrant.to_base64url();
    assert!(a.authorize(Some(&token), "read_file", &args, None).is_err());
    assert!(a
        .authorize(Some(&token), "write_file", &args, Some(&w.pop(&args, T0)))
        .is_err());
    let stranger = SigningKey::from_bytes(&[77; 32]);
    let untrusted = Issue::execution(w.agent.public_key())
        .tool("read_file", ConstraintSet::new())
        .sign(&stranger, T0 as u64)
        .unwrap();
    let pop = sign_pop(&w.agent, untrusted.id(), "read_file", &args, T0).to_base64url();
    assert!(a
        .authorize(
            Some(&untrusted.to_base64url()),
            "read_file",
            &args,
            Some(&pop)
        )
        .is_err());
    assert!(store.is_empty(), "{} entries", store.len());

    // A full store denies new PoPs (fail closed) and still catches replays.
    let pops: Vec<(Args, String)> = (0..5)
        .map(|i| {
            let args = path(&format!("/data/{i}"));
            let pop = w.pop(&args, T0);
            (args, pop)
        })
        .collect();
    for (args, pop) in &pops[..4] {
        assert!(w.call(&a, args, pop).is_ok());
    }
    let full = w.call(&a, &pops[4].0, &pops[4].1).unwrap_err();
    assert_eq!(full.reason(), DenyReason::InvalidPop);
    assert!(full.to_string().contains("full"), "{full}");
    assert_eq!(store.len(), 4);
}

fn front_end(a: Authorizer) -> RequestAuthorizer {
    let extract = |r: &CallRequest<'_>| -> Result<(String, Args), ExtractError> {
        let p = r
            .parts
            .uri
            .query()
            .unwrap_or("")
            .trim_start_matches("path=");
        Ok(("read_file".to_owned(), path(p)))
    };
    RequestAuthorizer::new(
        Arc::new(a),
        Arc::new(extract),
        Arc::new(()),
        AuthzConfig::default(),
    )
}

fn request(w: &World, p: &str, pop: &str) -> http::request::Parts {
    http::Request::builder()
        .uri(format!("/read?path={p}"))
        .header("x-tenuo-warrant", w.warrant.to_base64url())
        .header("x-tenuo-pop", pop)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

#[test]
fn the_http_front_end_denies_replays_inline_and_batched() {
    let w = world();
    let args = path("/data/a");
    let pop = w.pop(&args, T0);
    let inline = front_end(w.authorizer(Some(ReplayConfig::default())));
    assert!(inline
        .decide(&request(&w, "/data/a", &pop), &[])
        .outcome
        .is_ok());
    let again = inline.decide(&request(&w, "/data/a", &pop), &[]).outcome;
    assert_eq!(again.unwrap_err().reason(), DenyReason::InvalidPop);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (batch, worker) = PopBatch::pair(BatchConfig::default());
        tokio::spawn(worker.run());
        let batched = front_end(w.authorizer(Some(ReplayConfig::default()))).with_pop_batch(batch);
        // Concurrent copies of one request: exactly one is allowed.
        let parts: Vec<_> = (0..8).map(|_| request(&w, "/data/a", &pop)).collect();
        let decided = futures_join_all(parts.iter().map(|p| batched.decide_batched(p, &[]))).await;
        let allowed = decided.iter().filter(|d| d.outcome.is_ok()).count();
        assert_eq!(allowed, 1, "{decided:?}");
        for d in decided.iter().filter(|d| d.outcome.is_err()) {
            let reason = d.outcome.as_ref().unwrap_err().reason();
            assert_eq!(reason, DenyReason::InvalidPop);
        }
    });
}

/// Polls every future to completion concurrently (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}
