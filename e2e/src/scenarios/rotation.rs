//! Key rotation as the guide's runbook writes it, under one continuous load:
//! add NEW to `TRUSTED_ISSUERS`; roll out the authorizer (`kubectl rollout
//! restart`); sign with NEW; wait out the max TTL; remove OLD; then the
//! rollback (re-add OLD). One row per step, one for the five together: each
//! step must carry load requests, and a row's failures are its failed load
//! requests plus its failed probes. And a rollout restart under load.

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
use crate::load::{Load, LoadStats};
use crate::report::Row;
use crate::target::Target;

const WORKERS: usize = 2;
/// Guards a run that never finishes (kind's rollouts take up to a minute
/// each); reaching it fails the load.
const DEADLINE: Duration = Duration::from_secs(900);
/// Load after each step, so every step's row counts requests made after its
/// change took effect.
const SETTLE: Duration = Duration::from_secs(2);

fn start_load(target: &dyn Target, ctx: &Ctx) -> Result<Load> {
    let token = target.workload_token(ROTATOR)?;
    Ok(Load::start(
        target.authorizer(),
        ctx.cp.clone(),
        token,
        WORKERS,
        DEADLINE,
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

/// A warrant signed by `issuer` directly (as a control plane holding it would).
fn minted(issuer: &SigningKey, holder: &SigningKey) -> Result<Warrant> {
    Ok(Issue::execution(holder.public_key())
        .tool("read_file", ConstraintSet::new())
        .ttl_secs(60)
        .sign(issuer, now())?)
}

/// A probe: allowed (`want` None) or denied for `want`. A wrong answer is a
/// failure of the row.
fn expect(o: &mut Outcome, what: &str, reply: Result<Reply>, want: Option<&str>) {
    o.requests += 1;
    match (reply, want) {
        (Ok(r), None) => o.check(r.status == 200, || {
            format!("{what}: want allow, got {} {}", r.status, r.body)
        }),
        (Ok(r), Some(reason)) => o.check(r.status == 403 && r.json()["reason"] == reason, || {
            format!("{what}: want {reason}, got {} {}", r.status, r.body)
        }),
        (Err(e), _) => o.fail(format!("{what}: {e:#}")),
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
        problems: errors_since(&stats, 0),
    };
    o.check(requests > 0, || "no load ran".into());
    Ok(o)
}

/// The load's error messages from the `from`-th on (they are counted in its
/// failures already).
fn errors_since(stats: &LoadStats, from: usize) -> Vec<String> {
    stats
        .errors
        .lock()
        .map(|e| e.iter().skip(from).map(|m| format!("load: {m}")).collect())
        .unwrap_or_default()
}

struct State {
    holder: SigningKey,
    /// Fetched from the control plane just before it switched to NEW.
    old_from_cp: Option<Warrant>,
}

type Step = fn(&mut dyn Target, &Ctx, &mut State, &mut Outcome) -> Result<()>;

/// Runs one step and measures the load across it (plus [`SETTLE`]).
fn measured(
    name: &str,
    step: Step,
    target: &mut dyn Target,
    ctx: &Ctx,
    state: &mut State,
    load: &Load,
) -> (Outcome, Instant) {
    let t = Instant::now();
    let (r0, f0) = load.stats.snapshot();
    let e0 = load.stats.errors.lock().map(|e| e.len()).unwrap_or(0);
    let mut o = Outcome::default();
    if let Err(e) = step(target, ctx, state, &mut o) {
        o.fail(format!("{e:#}"));
    }
    std::thread::sleep(SETTLE);
    let (r1, f1) = load.stats.snapshot();
    o.requests += r1 - r0;
    o.failures += f1 - f0;
    o.problems.extend(errors_since(&load.stats, e0));
    o.check(r1 > r0, || {
        format!("{name}: no load request during the step")
    });
    (o, t)
}

/// The five steps and the rollback, each a row, and a row for the five.
pub(crate) fn run(target: &mut dyn Target, ctx: &Ctx) -> Vec<Row> {
    let start = Instant::now();
    let holder = match SigningKey::generate() {
        Ok(k) => k,
        Err(e) => return vec![row("rotation", start, Err(e.into()), target)],
    };
    let load = match start_load(target, ctx) {
        Ok(l) => l,
        Err(e) => return vec![row("rotation", start, Err(e), target)],
    };
    let steps: [(&str, Step); 5] = [
        ("rotation_1_add_new_key", step1),
        ("rotation_2_roll_out", step2),
        ("rotation_3_sign_with_new", step3),
        ("rotation_4_old_warrants_expire", step4),
        ("rotation_5_remove_old_key", step5),
    ];
    let mut state = State {
        holder,
        old_from_cp: None,
    };
    let mut rows = Vec::new();
    let mut total = Outcome::default();
    for (name, step) in steps {
        let (o, t) = measured(name, step, target, ctx, &mut state, &load);
        total.requests += o.requests;
        total.failures += o.failures;
        total
            .problems
            .extend(o.problems.iter().map(|p| format!("{name}: {p}")));
        rows.push(row(name, t, Ok(o), target));
    }
    rows.push(row("rotation_all_five_steps", start, Ok(total), target));

    // The rollback, still under the same load, which then stops.
    let t = Instant::now();
    let (r0, f0) = load.stats.snapshot();
    let e0 = load.stats.errors.lock().map(|e| e.len()).unwrap_or(0);
    let mut o = Outcome::default();
    if let Err(e) = rollback(target, ctx, &mut state, &mut o) {
        o.fail(format!("{e:#}"));
    }
    std::thread::sleep(SETTLE);
    let stats = load.finish();
    let (r1, f1) = stats.snapshot();
    o.requests += r1 - r0;
    o.failures += f1 - f0;
    o.problems.extend(errors_since(&stats, e0));
    o.check(r1 > r0, || "no load request during the rollback".into());
    let warrants = stats.warrants.load(std::sync::atomic::Ordering::SeqCst);
    o.check(warrants > 0, || "the load fetched no warrant".into());
    rows.push(row("rotation_rollback_readd_old", t, Ok(o), target));
    rows
}

/// A warrant from the control plane, and the key that signed it.
fn issued(target: &dyn Target, ctx: &Ctx, holder: &SigningKey) -> Result<(Warrant, String)> {
    let token = target.workload_token(ROTATOR)?;
    let issued = ctx.cp.warrant(&token, &holder.public_key(), None)?;
    let (_, mut chain) = decode_token(&issued.warrant)?;
    let w = chain.pop().context("empty chain")?;
    Ok((w, issued.issuer))
}

/// Step 1, add NEW to `TRUSTED_ISSUERS` (`helm upgrade`: the env changes, so
/// the pods roll): NEW is refused before and allowed after; OLD throughout.
fn step1(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    let f = &ctx.fixture;
    let new = minted(&f.new, &s.holder)?;
    let before = call(target, &s.holder, &new);
    expect(o, "NEW before", before, Some("untrusted_issuer"));
    target.upgrade(&base_values(&[ctx.old_hex(), ctx.new_hex()], false))?;
    expect(o, "NEW", call(target, &s.holder, &new), None);
    let (w, issuer) = issued(target, ctx, &s.holder)?;
    o.check(issuer == ctx.old_hex(), || {
        format!("the control plane signs with {issuer}, not OLD")
    });
    expect(
        o,
        "OLD from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    Ok(())
}

/// Step 2, `kubectl rollout restart deployment/tenuo-authorizer`: both allowed.
fn step2(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    target.restart()?;
    let new = minted(&ctx.fixture.new, &s.holder)?;
    expect(o, "NEW", call(target, &s.holder, &new), None);
    let (w, _) = issued(target, ctx, &s.holder)?;
    expect(
        o,
        "OLD from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    Ok(())
}

/// Step 3, the control plane signs with NEW (and re-signs its revocation
/// list): a warrant it signed with OLD just before stays good; the new ones
/// are NEW's.
fn step3(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    let (old, issuer) = issued(target, ctx, &s.holder)?;
    o.check(issuer == ctx.old_hex(), || {
        format!("before the switch: signed by {issuer}, not OLD")
    });
    expect(
        o,
        "OLD, before the switch",
        call(target, &s.holder, &old),
        None,
    );
    let switched = ctx.cp.switch_key("new")?;
    o.check(switched == ctx.new_hex(), || {
        format!("switched to {switched}, not NEW")
    });
    expect(
        o,
        "OLD, after the switch",
        call(target, &s.holder, &old),
        None,
    );
    s.old_from_cp = Some(old);
    let srl = ctx.cp.revocations()?;
    target.write_secret(
        "tenuo-revocations",
        &BTreeMap::from([("revocations".to_owned(), srl)]),
    )?;
    let (w, issuer) = issued(target, ctx, &s.holder)?;
    o.check(issuer == ctx.new_hex(), || {
        format!("after the switch: signed by {issuer}, not NEW")
    });
    expect(
        o,
        "NEW from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    Ok(())
}

/// Step 4, wait out the max TTL: the OLD warrant of step 3 is now
/// `warrant_expired`; the control plane's NEW warrants are allowed.
fn step4(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    let old = s
        .old_from_cp
        .clone()
        .context("step 3 fetched no OLD warrant")?;
    let expires_at = old.payload().expires_at;
    o.check(
        expires_at.saturating_sub(old.payload().issued_at) <= ROTATION_TTL_SECS,
        || format!("the OLD warrant outlives the max TTL of {ROTATION_TTL_SECS} s"),
    );
    // Expired from its `expires_at` second on; one more for clock edges.
    let wait = (expires_at + 1).saturating_sub(now());
    std::thread::sleep(Duration::from_secs(wait));
    expect(
        o,
        "OLD after the max TTL",
        call(target, &s.holder, &old),
        Some("warrant_expired"),
    );
    let (w, _) = issued(target, ctx, &s.holder)?;
    expect(
        o,
        "NEW from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    Ok(())
}

/// Step 5, remove OLD: OLD is `untrusted_issuer`, NEW allowed.
fn step5(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    target.upgrade(&base_values(&[ctx.new_hex()], false))?;
    let old = minted(&ctx.fixture.old, &s.holder)?;
    expect(
        o,
        "OLD",
        call(target, &s.holder, &old),
        Some("untrusted_issuer"),
    );
    let (w, _) = issued(target, ctx, &s.holder)?;
    expect(
        o,
        "NEW from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    Ok(())
}

/// Rollback: re-add OLD; OLD is allowed again, and so is a control plane
/// switched back to signing with it.
fn rollback(target: &mut dyn Target, ctx: &Ctx, s: &mut State, o: &mut Outcome) -> Result<()> {
    target.upgrade(&base_values(&[ctx.old_hex(), ctx.new_hex()], false))?;
    let old = minted(&ctx.fixture.old, &s.holder)?;
    expect(o, "OLD", call(target, &s.holder, &old), None);
    let (w, _) = issued(target, ctx, &s.holder)?;
    expect(
        o,
        "NEW from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    let switched = ctx.cp.switch_key("old")?;
    o.check(switched == ctx.old_hex(), || {
        format!("switched back to {switched}, not OLD")
    });
    let (w, issuer) = issued(target, ctx, &s.holder)?;
    o.check(issuer == ctx.old_hex(), || {
        format!("after switching back: signed by {issuer}")
    });
    expect(
        o,
        "OLD from the control plane",
        call(target, &s.holder, &w),
        None,
    );
    Ok(())
}
