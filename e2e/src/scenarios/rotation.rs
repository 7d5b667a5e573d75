//! Key rotation, the guide's five steps, under continuous load, and the
//! rollback; and a rollout restart under load.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tenuo_authz::constraint::{ArgValue, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::decode_token;
use tenuo_authz::Warrant;

use super::{now, row, Ctx, Outcome};
use crate::fixture::{base_values, ROTATION_TTL_SECS, ROTATOR};
use crate::http::{request, Reply};
use crate::load::Load;
use crate::report::Row;
use crate::target::Target;

const WORKERS: usize = 2;
const MAX_REQUESTS: u64 = 20_000;
const MAX_TIME: Duration = Duration::from_secs(240);
const SETTLE: Duration = Duration::from_secs(2);

fn start_load(target: &dyn Target, ctx: &Ctx) -> Result<Load> {
    let token = target.workload_token(ROTATOR)?;
    Ok(Load::start(
        target.authorizer(),
        ctx.cp.clone(),
        token,
        WORKERS,
        MAX_REQUESTS,
        MAX_TIME,
    ))
}

/// One call with a given warrant and its holder's key.
fn call(target: &dyn Target, key: &SigningKey, w: &Warrant) -> Result<Reply> {
    let args = Args::from([("path".to_owned(), ArgValue::String("/data/x".into()))]);
    let pop = sign_pop(key, w.id(), "read_file", &args, now() as i64).to_base64url();
    let token = w.to_base64url();
    request(
        target.authorizer(),
        "GET",
        "/files/read?path=/data/x",
        &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
        "",
    )
}

fn minted(issuer: &SigningKey, holder: &SigningKey) -> Result<Warrant> {
    Ok(Issue::execution(holder.public_key())
        .tool("read_file", ConstraintSet::new())
        .ttl_secs(60)
        .sign(issuer, now())?)
}

fn expect(o: &mut Outcome, step: &str, reply: Result<Reply>, want: Option<&str>) {
    o.requests += 1;
    match (reply, want) {
        (Ok(r), None) => o.check(r.status == 200, || {
            format!("{step}: want allow, got {} {}", r.status, r.body)
        }),
        (Ok(r), Some(reason)) => o.check(r.status == 403 && r.json()["reason"] == reason, || {
            format!("{step}: want {reason}, got {} {}", r.status, r.body)
        }),
        (Err(e), _) => o.problems.push(format!("{step}: {e:#}")),
    }
}

/// `kubectl rollout restart` while agents call: no allowed request may fail.
pub(crate) fn restart_under_load(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let load = start_load(target, ctx)?;
    std::thread::sleep(SETTLE);
    let restarted = target.restart();
    std::thread::sleep(SETTLE);
    let stats = load.finish();
    restarted?;
    let (requests, failures) = stats.snapshot();
    let mut o = Outcome {
        requests,
        failures,
        problems: Vec::new(),
    };
    if let Ok(errors) = stats.errors.lock() {
        o.problems.extend(errors.iter().cloned());
    }
    o.check(requests > 0, || "no load ran".into());
    Ok(o)
}

/// The five steps and the rollback: one row per step, one for all five, one
/// for the rollback.
pub(crate) fn run(target: &mut dyn Target, ctx: &Ctx) -> Vec<Row> {
    let start = Instant::now();
    let load = match start_load(target, ctx) {
        Ok(l) => l,
        Err(e) => return vec![row("rotation", start, Err(e), target)],
    };
    let holder = match SigningKey::generate() {
        Ok(k) => k,
        Err(e) => return vec![row("rotation", start, Err(e.into()), target)],
    };
    let f = &ctx.fixture;
    let steps: [(&str, Step); 5] = [
        ("rotation_1_trust_old", step1),
        ("rotation_2_trust_both_rolled_out", step2),
        ("rotation_3_sign_with_new", step3),
        ("rotation_4_old_warrants_expire", step4),
        ("rotation_5_trust_new_only", step5),
    ];
    let mut rows = Vec::new();
    let mut state = State {
        held_old: None,
        holder,
    };
    let mut total = Outcome::default();
    for (name, step) in steps {
        let t = Instant::now();
        let (r0, f0) = load.stats.snapshot();
        let mut o = Outcome::default();
        if let Err(e) = step(target, ctx, &mut state, &mut o) {
            o.problems.push(format!("{e:#}"));
        }
        std::thread::sleep(SETTLE);
        let (r1, f1) = load.stats.snapshot();
        o.requests += r1 - r0;
        o.failures += f1 - f0;
        total.requests += o.requests;
        total.failures += o.failures;
        total
            .problems
            .extend(o.problems.iter().map(|p| format!("{name}: {p}")));
        rows.push(row(name, t, Ok(o), target));
    }
    let stats = load.finish();
    if let Ok(errors) = stats.errors.lock() {
        total
            .problems
            .extend(errors.iter().map(|e| format!("load: {e}")));
    }
    total.check(
        stats.warrants.load(std::sync::atomic::Ordering::SeqCst) > 0,
        || "the load fetched no warrant".into(),
    );
    rows.push(row("rotation_all_five_steps", start, Ok(total), target));

    // Rollback: re-add OLD; warrants it signs are allowed again, under load.
    let t = Instant::now();
    let result = (|| -> Result<Outcome> {
        let load = start_load(target, ctx)?;
        let upgraded = target.upgrade(&base_values(&[ctx.old_hex(), ctx.new_hex()], false));
        let mut o = Outcome::default();
        if let Err(e) = upgraded {
            o.problems.push(format!("upgrade: {e:#}"));
        }
        let old = minted(&f.old, &state.holder)?;
        expect(&mut o, "rollback", call(target, &state.holder, &old), None);
        let new = minted(&f.new, &state.holder)?;
        expect(&mut o, "rollback", call(target, &state.holder, &new), None);
        std::thread::sleep(SETTLE);
        let stats = load.finish();
        let (r, fl) = stats.snapshot();
        o.requests += r;
        o.failures += fl;
        if let Ok(errors) = stats.errors.lock() {
            o.problems.extend(errors.iter().cloned());
        }
        Ok(o)
    })();
    rows.push(row("rotation_rollback", t, result, target));
    rows
}

struct State {
    held_old: Option<Warrant>,
    holder: SigningKey,
}

type Step = fn(&mut dyn Target, &Ctx, &mut State, &mut Outcome) -> Result<()>;

fn issued(target: &dyn Target, ctx: &Ctx, holder: &SigningKey) -> Result<(Warrant, String)> {
    let token = target.workload_token(ROTATOR)?;
    let issued = ctx.cp.warrant(&token, &holder.public_key(), None)?;
    let (_, mut chain) = decode_token(&issued.warrant)?;
    let w = chain.pop().context("empty chain")?;
    Ok((w, issued.issuer))
}

/// 1. Trust OLD: the control plane signs with OLD, and that is allowed.
fn step1(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    let (w, issuer) = issued(target, ctx, &s.holder)?;
    o.check(issuer == ctx.old_hex(), || {
        format!("signed by {issuer}, not OLD")
    });
    expect(o, "trust OLD", call(target, &s.holder, &w), None);
    s.held_old = Some(w);
    Ok(())
}

/// 2. Trust OLD and NEW, rolled out: both allowed.
fn step2(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    target.upgrade(&base_values(&[ctx.old_hex(), ctx.new_hex()], false))?;
    let new = minted(&ctx.fixture.new, &s.holder)?;
    expect(o, "trust both (NEW)", call(target, &s.holder, &new), None);
    let old = minted(&ctx.fixture.old, &s.holder)?;
    expect(o, "trust both (OLD)", call(target, &s.holder, &old), None);
    Ok(())
}

/// 3. The control plane signs with NEW (and re-signs its revocation list).
fn step3(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    let issuer = ctx.cp.switch_key("new")?;
    o.check(issuer == ctx.new_hex(), || {
        format!("switched to {issuer}, not NEW")
    });
    let srl = ctx.cp.revocations()?;
    target.write_secret(
        "tenuo-revocations",
        &BTreeMap::from([("revocations".to_owned(), srl)]),
    )?;
    let (w, issuer) = issued(target, ctx, &s.holder)?;
    o.check(issuer == ctx.new_hex(), || {
        format!("signed by {issuer}, not NEW")
    });
    expect(o, "sign with NEW", call(target, &s.holder, &w), None);
    Ok(())
}

/// 4. Wait out the max TTL: warrants OLD signed have expired.
fn step4(target: &mut dyn Target, _ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    std::thread::sleep(Duration::from_secs(ROTATION_TTL_SECS + 1));
    let old = s.held_old.as_ref().context("no OLD warrant held")?;
    expect(
        o,
        "OLD expired",
        call(target, &s.holder, old),
        Some("warrant_expired"),
    );
    Ok(())
}

/// 5. Trust NEW only: OLD denied, NEW allowed.
fn step5(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    target.upgrade(&base_values(&[ctx.new_hex()], false))?;
    let old = minted(&ctx.fixture.old, &s.holder)?;
    expect(
        o,
        "NEW only (OLD)",
        call(target, &s.holder, &old),
        Some("untrusted_issuer"),
    );
    let (w, _) = issued(target, ctx, &s.holder)?;
    expect(o, "NEW only (NEW)", call(target, &s.holder, &w), None);
    Ok(())
}
