//! One scenario per deny reason: 403, the JSON body, the §3 log line found by
//! the guide's jq filter, the metric increment, and the `X-Tenuo-Deny-Reason`
//! header in debug mode only (checked after an upgrade to debug values).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tenuo_authz::constraint::{ArgValue, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::{decode_token, encode_base64url};
use tenuo_authz::Warrant;

use super::{now, row, Ctx, Outcome};
use crate::fixture::{base_values, READER};
use crate::http::{request, Reply};
use crate::logs::{denial_lines, sum_metric};
use crate::report::Row;
use crate::target::Target;

/// The reasons, in the report's order.
const REASONS: [&str; 8] = [
    "tool_not_in_warrant",
    "constraint_violation",
    "warrant_expired",
    "missing_pop",
    "invalid_pop",
    "chain_invalid",
    "untrusted_issuer",
    "warrant_revoked",
];

struct Agent {
    key: SigningKey,
    good: Warrant,
    revoked: Warrant,
}

fn args(name: &str, value: &str) -> Args {
    Args::from([(name.to_owned(), ArgValue::String(value.to_owned()))])
}

fn pop(key: &SigningKey, w: &Warrant, tool: &str, a: &Args) -> String {
    sign_pop(key, w.id(), tool, a, now() as i64).to_base64url()
}

fn decode(text: &str) -> Result<Warrant> {
    let (_, mut chain) = decode_token(text).context("decoding an issued warrant")?;
    chain.pop().context("empty chain")
}

/// Sends the request that must be denied for `reason`.
fn send(target: &dyn Target, ctx: &Ctx, a: &Agent, reason: &str, rid: &str) -> Result<Reply> {
    let addr = target.authorizer();
    let read = |w: &Warrant, path: &str, pop: Option<String>| {
        let token = w.to_base64url();
        let mut h = vec![("x-request-id", rid), ("x-tenuo-warrant", token.as_str())];
        if let Some(p) = &pop {
            h.push(("x-tenuo-pop", p));
        }
        request(addr, "GET", &format!("/files/read?path={path}"), &h, "")
    };
    let read_pop = |w: &Warrant, path: &str| pop(&a.key, w, "read_file", &args("path", path));
    let f = &ctx.fixture;
    match reason {
        "tool_not_in_warrant" => {
            let token = a.good.to_base64url();
            let p = pop(&a.key, &a.good, "run", &args("cmd", "ls"));
            let h = [
                ("x-request-id", rid),
                ("x-tenuo-warrant", token.as_str()),
                ("x-tenuo-pop", p.as_str()),
            ];
            request(addr, "POST", "/run", &h, r#"{"cmd":"ls"}"#)
        }
        "constraint_violation" => read(
            &a.good,
            "/etc/passwd",
            Some(read_pop(&a.good, "/etc/passwd")),
        ),
        "warrant_expired" => {
            let w = Issue::execution(a.key.public_key())
                .tool("read_file", ConstraintSet::new())
                .ttl_secs(60)
                .sign(&f.old, now() - 600)?;
            read(&w, "/data/a", Some(read_pop(&w, "/data/a")))
        }
        "missing_pop" => read(&a.good, "/data/a", None),
        "invalid_pop" => read(&a.good, "/data/a", Some(read_pop(&a.good, "/data/b"))),
        "chain_invalid" => {
            let unrelated = Issue::execution(f.stranger.public_key())
                .tool("read_file", ConstraintSet::new())
                .sign(&f.stranger, now())?;
            let chain = encode_base64url(&encode_chain(&[a.good.clone(), unrelated]));
            let p = read_pop(&a.good, "/data/a");
            let h = [
                ("x-request-id", rid),
                ("x-tenuo-warrant", chain.as_str()),
                ("x-tenuo-pop", p.as_str()),
            ];
            request(addr, "GET", "/files/read?path=/data/a", &h, "")
        }
        "untrusted_issuer" => {
            let w = Issue::execution(a.key.public_key())
                .tool("read_file", ConstraintSet::new())
                .ttl_secs(60)
                .sign(&f.stranger, now())?;
            read(&w, "/data/a", Some(read_pop(&w, "/data/a")))
        }
        "warrant_revoked" => read(&a.revoked, "/data/a", Some(read_pop(&a.revoked, "/data/a"))),
        other => anyhow::bail!("unknown reason {other}"),
    }
}

/// Every reason in production mode, then in debug mode.
pub(crate) fn run(target: &mut dyn Target, ctx: &Ctx) -> Vec<Row> {
    let start = Instant::now();
    let mut outcomes: BTreeMap<&str, (Outcome, Duration)> = REASONS
        .iter()
        .map(|r| (*r, (Outcome::default(), Duration::ZERO)))
        .collect();
    let setup = (|| -> Result<Agent> {
        let key = SigningKey::generate()?;
        let token = target.workload_token(READER)?;
        let good = decode(&ctx.cp.warrant(&token, &key.public_key(), None)?.warrant)?;
        let revoked = decode(&ctx.cp.warrant(&token, &key.public_key(), None)?.warrant)?;
        let srl = ctx.cp.revoke(&revoked.id().to_string())?;
        target.write_secret(
            "tenuo-revocations",
            &BTreeMap::from([("revocations".to_owned(), srl)]),
        )?;
        Ok(Agent { key, good, revoked })
    })();
    let agent = match setup {
        Ok(a) => a,
        Err(e) => {
            return vec![row("denials_setup", start, Err(e), target)];
        }
    };
    for debug in [false, true] {
        if debug {
            let values = base_values(&[ctx.old_hex()], true);
            if let Err(e) = target.upgrade(&values) {
                return vec![row("denials_debug_upgrade", start, Err(e), target)];
            }
        }
        for reason in REASONS {
            let t = Instant::now();
            let entry = outcomes.get_mut(reason).map(|(o, d)| (o, d));
            let Some((outcome, elapsed)) = entry else {
                continue;
            };
            if let Err(e) = check(target, ctx, &agent, reason, debug, outcome) {
                outcome.problems.push(format!("{e:#}"));
            }
            *elapsed += t.elapsed();
        }
    }
    // Back to production values for the scenarios that follow.
    let restored = target.upgrade(&base_values(&[ctx.old_hex()], false));
    let mut rows: Vec<Row> = REASONS
        .iter()
        .filter_map(|r| outcomes.remove(r).map(|o| (*r, o)))
        .map(|(reason, (outcome, elapsed))| {
            let mut r = row(
                &format!("deny_{reason}"),
                Instant::now(),
                Ok(outcome),
                target,
            );
            r.time = elapsed;
            r
        })
        .collect();
    if let Err(e) = restored {
        rows.push(row("denials_restore_upgrade", start, Err(e), target));
    }
    rows
}

fn check(
    target: &mut dyn Target,
    ctx: &Ctx,
    agent: &Agent,
    reason: &str,
    debug: bool,
    o: &mut Outcome,
) -> Result<()> {
    let sample = format!("tenuo_authz_denied_total{{reason=\"{reason}\"}}");
    let before = sum_metric(&target.metrics()?, &sample);
    let mode = if debug { "debug" } else { "prod" };
    let rid = format!("e2e-{reason}-{mode}");
    // A revocation reaches the pods when the mounted Secret does: poll.
    let deadline = Instant::now()
        + if reason == "warrant_revoked" {
            ctx.revocation_wait
        } else {
            Duration::ZERO
        };
    let reply = loop {
        let reply = send(target, ctx, agent, reason, &rid)?;
        o.requests += 1;
        if reply.json()["reason"] == reason || Instant::now() >= deadline {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let body = reply.json();
    o.check(reply.status == 403, || {
        format!("{mode}: status {} (want 403): {}", reply.status, reply.body)
    });
    o.check(
        body["authorized"] == false
            && body["reason"] == reason
            && body["request_id"] == rid.as_str(),
        || format!("{mode}: body {}", reply.body),
    );
    let header = reply.header("x-tenuo-deny-reason");
    if debug {
        o.check(
            header.is_some_and(|h| h.starts_with(&format!("{reason}: "))),
            || format!("debug: X-Tenuo-Deny-Reason is {header:?}"),
        );
    } else {
        o.check(header.is_none(), || {
            format!("production mode sent X-Tenuo-Deny-Reason: {header:?}")
        });
    }
    // jq 'select(.event == "authorization_denied")', then this request's line.
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let raw = target.logs()?;
        let found = denial_lines(&raw)
            .into_iter()
            .find(|l| l["request_id"] == rid.as_str());
        if found.is_some() || Instant::now() >= deadline {
            if found.is_some() {
                let leaked = raw.contains(&agent.good.to_base64url()[..40]);
                o.check(!leaked, || {
                    format!("{mode}: a warrant leaked into the logs")
                });
            }
            break found;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    match line {
        None => o
            .problems
            .push(format!("{mode}: no authorization_denied line for {rid}")),
        Some(l) => o.check(l["reason"] == reason && l["level"] == "warn", || {
            format!("{mode}: log line {l}")
        }),
    }
    let after = sum_metric(&target.metrics()?, &sample);
    o.check(after >= before + 1.0, || {
        format!("{mode}: {sample} went from {before} to {after}")
    });
    Ok(())
}
