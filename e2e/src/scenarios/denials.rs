//! One scenario per deny reason, each sent in production mode and again after
//! an upgrade to debug values: 403 and the §2 body (`reason`, `message`,
//! `request_id`); the §3 log line as the guide's three jq programs find it
//! (with the constraint, expected and actual of a violation); the
//! `X-Tenuo-Deny-Reason` header in debug mode only, with the guide's example
//! detail; and both `tenuo_authz_denied_total{reason}` and
//! `tenuo_authz_total{result="deny",tool}` counting it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tenuo_authz::constraint::{ArgValue, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Issue};
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::{decode_token, encode_base64url};
use tenuo_authz::{DenyReason, Warrant};

use super::{now, row, Ctx, Outcome};
use crate::fixture::{base_values, READER};
use crate::http::{request, Reply};
use crate::logs::{
    count_by_reason, count_of, denial_lines, sum_metric, tool_lines, ALL_DENIALS, BY_TOOL,
    BY_TOOL_NAME, COUNT_BY_REASON,
};
use crate::report::Row;
use crate::target::Target;

/// The reasons, in the report's order.
const REASONS: [DenyReason; 8] = [
    DenyReason::ToolNotInWarrant,
    DenyReason::ConstraintViolation,
    DenyReason::WarrantExpired,
    DenyReason::MissingPop,
    DenyReason::InvalidPop,
    DenyReason::ChainInvalid,
    DenyReason::UntrustedIssuer,
    DenyReason::WarrantRevoked,
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

/// What was sent for one denial: the reply, and the presented leaf warrant's
/// id and token, and the PoP (none of which may reach the logs but the id).
struct Sent {
    reply: Reply,
    warrant_id: String,
    token: String,
    pop: Option<String>,
}

/// Sends the request that must be denied for `reason`.
fn send(target: &dyn Target, ctx: &Ctx, a: &Agent, reason: DenyReason, rid: &str) -> Result<Sent> {
    let addr = target.authorizer();
    let f = &ctx.fixture;
    let read_pop = |w: &Warrant, path: &str| pop(&a.key, w, "read_file", &args("path", path));
    // (leaf, token presented, method, path, body, PoP)
    let (leaf, token, method, path, body, pop): (Warrant, String, _, String, _, Option<String>) =
        match reason {
            DenyReason::ToolNotInWarrant => {
                let p = pop(&a.key, &a.good, "run", &args("cmd", "ls"));
                let t = a.good.to_base64url();
                (
                    a.good.clone(),
                    t,
                    "POST",
                    "/run".into(),
                    r#"{"cmd":"ls"}"#,
                    Some(p),
                )
            }
            DenyReason::ConstraintViolation => {
                let p = read_pop(&a.good, "/etc/passwd");
                let t = a.good.to_base64url();
                (
                    a.good.clone(),
                    t,
                    "GET",
                    read_path("/etc/passwd"),
                    "",
                    Some(p),
                )
            }
            DenyReason::WarrantExpired => {
                let w = Issue::execution(a.key.public_key())
                    .tool("read_file", ConstraintSet::new())
                    .ttl_secs(60)
                    .sign(&f.old, now() - 600)?;
                let (p, t) = (read_pop(&w, "/data/a"), w.to_base64url());
                (w, t, "GET", read_path("/data/a"), "", Some(p))
            }
            DenyReason::MissingPop => {
                let t = a.good.to_base64url();
                (a.good.clone(), t, "GET", read_path("/data/a"), "", None)
            }
            DenyReason::InvalidPop => {
                // Signed over another argument than the one sent.
                let p = read_pop(&a.good, "/data/b");
                let t = a.good.to_base64url();
                (a.good.clone(), t, "GET", read_path("/data/a"), "", Some(p))
            }
            DenyReason::ChainInvalid => {
                // A second link the good warrant's holder never issued.
                let unrelated = Issue::execution(f.stranger.public_key())
                    .tool("read_file", ConstraintSet::new())
                    .sign(&f.stranger, now())?;
                let chain = encode_base64url(&encode_chain(&[a.good.clone(), unrelated]));
                let p = read_pop(&a.good, "/data/a");
                (
                    a.good.clone(),
                    chain,
                    "GET",
                    read_path("/data/a"),
                    "",
                    Some(p),
                )
            }
            DenyReason::UntrustedIssuer => {
                let w = Issue::execution(a.key.public_key())
                    .tool("read_file", ConstraintSet::new())
                    .ttl_secs(60)
                    .sign(&f.stranger, now())?;
                let (p, t) = (read_pop(&w, "/data/a"), w.to_base64url());
                (w, t, "GET", read_path("/data/a"), "", Some(p))
            }
            DenyReason::WarrantRevoked => {
                let p = read_pop(&a.revoked, "/data/a");
                let t = a.revoked.to_base64url();
                (
                    a.revoked.clone(),
                    t,
                    "GET",
                    read_path("/data/a"),
                    "",
                    Some(p),
                )
            }
            other => anyhow::bail!("no request is built to be denied {other}"),
        };
    let mut headers = vec![("x-request-id", rid), ("x-tenuo-warrant", token.as_str())];
    if let Some(p) = &pop {
        headers.push(("x-tenuo-pop", p));
    }
    let reply = request(addr, method, &path, &headers, body)?;
    Ok(Sent {
        reply,
        warrant_id: leaf.id().to_string(),
        token,
        pop,
    })
}

fn read_path(path: &str) -> String {
    format!("/files/read?path={path}")
}

/// The tool a denial is about: the route's.
fn tool_of(reason: DenyReason) -> &'static str {
    if reason == DenyReason::ToolNotInWarrant {
        "run"
    } else {
        "read_file"
    }
}

/// Every reason in production mode, then in debug mode.
pub(crate) fn run(target: &mut dyn Target, ctx: &Ctx) -> Vec<Row> {
    let start = Instant::now();
    let mut outcomes: BTreeMap<DenyReason, (Outcome, Duration)> = REASONS
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
            let entry = outcomes.get_mut(&reason).map(|(o, d)| (o, d));
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

/// The guide's example, verbatim: what debug mode says about reading
/// /etc/passwd with a warrant for `Pattern(/data/*)`.
const CONSTRAINT_HEADER: &str = "constraint_violation: path=/etc/passwd not in Pattern(/data/*)";

/// Reasons whose §3 line names the warrant (the denial carries its id).
const NAMES_WARRANT: [DenyReason; 4] = [
    DenyReason::ToolNotInWarrant,
    DenyReason::ConstraintViolation,
    DenyReason::WarrantExpired,
    DenyReason::WarrantRevoked,
];

fn check(
    target: &mut dyn Target,
    ctx: &Ctx,
    agent: &Agent,
    reason: DenyReason,
    debug: bool,
    o: &mut Outcome,
) -> Result<()> {
    let tool = tool_of(reason);
    let denied = format!("tenuo_authz_denied_total{{reason=\"{reason}\"}}");
    let decided = format!("tenuo_authz_total{{result=\"deny\",tool=\"{tool}\"}}");
    let metrics = target.metrics()?;
    let (denied0, decided0) = (
        sum_metric(&metrics, &denied),
        sum_metric(&metrics, &decided),
    );
    let mode = if debug { "debug" } else { "prod" };
    let rid = format!("e2e-{reason}-{mode}");
    // A revocation reaches the pods when the mounted Secret does: poll.
    let deadline = Instant::now()
        + if reason == DenyReason::WarrantRevoked {
            ctx.revocation_wait
        } else {
            Duration::ZERO
        };
    let sent = loop {
        let sent = send(target, ctx, agent, reason, &rid)?;
        o.requests += 1;
        if sent.reply.json()["reason"] == reason.as_str() || Instant::now() >= deadline {
            break sent;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let reply = &sent.reply;

    // The response: 403 and the §2 body.
    let body = reply.json();
    o.check(reply.status == 403, || {
        format!("{mode}: status {} (want 403): {}", reply.status, reply.body)
    });
    let message = body["message"].as_str().unwrap_or_default();
    o.check(
        body["authorized"] == false
            && body["reason"] == reason.as_str()
            && !message.is_empty()
            && body["request_id"] == rid.as_str(),
        || {
            format!(
                "{mode}: body {} (want authorized, reason, message, request_id {rid})",
                reply.body
            )
        },
    );
    if !debug && reason == DenyReason::ConstraintViolation {
        o.check(!message.contains("/etc/passwd"), || {
            format!("production mode: the message reveals the argument: {message:?}")
        });
    }

    // `X-Tenuo-Deny-Reason: <reason>: <detail>`, in debug mode only.
    let header = reply.header("x-tenuo-deny-reason");
    if debug {
        let detail = header.and_then(|h| h.strip_prefix(&format!("{reason}: ")));
        o.check(detail.is_some_and(|d| !d.trim().is_empty()), || {
            format!("debug: X-Tenuo-Deny-Reason is {header:?}, want \"{reason}: <detail>\"")
        });
        if reason == DenyReason::ConstraintViolation {
            o.check(header == Some(CONSTRAINT_HEADER), || {
                format!("debug: X-Tenuo-Deny-Reason is {header:?}, the guide shows {CONSTRAINT_HEADER:?}")
            });
        }
    } else {
        o.check(header.is_none(), || {
            format!("production mode sent X-Tenuo-Deny-Reason: {header:?}")
        });
    }

    if ctx.jq {
        check_log(target, &sent, reason, &rid, mode, o)?;
    } else {
        o.fail(format!(
            "{mode}: jq is not on PATH, so the guide's filters could not look for the log line \
             (install jq)"
        ));
    }

    // Both metrics the contract and the guide name. Sums over the serving
    // replicas: nothing replaced them since the first read.
    let metrics = target.metrics()?;
    for (sample, before) in [(&denied, denied0), (&decided, decided0)] {
        let after = sum_metric(&metrics, sample);
        o.check(after >= before + 1.0, || {
            format!("{mode}: {sample} went from {before} to {after}")
        });
    }
    Ok(())
}

/// The §3 line, found by the guide's three jq programs run verbatim: "All
/// denials" and "By tool" on the raw log stream, "Count by reason" on this
/// request's lines of it.
fn check_log(
    target: &dyn Target,
    sent: &Sent,
    reason: DenyReason,
    rid: &str,
    mode: &str,
    o: &mut Outcome,
) -> Result<()> {
    let tool = tool_of(reason);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (raw, line) = loop {
        let raw = target.logs()?;
        // "All denials"; the last line of this request (a revocation is polled).
        let found = denial_lines(&raw)?
            .into_iter()
            .rfind(|l| l["request_id"] == rid);
        if found.is_some() || Instant::now() >= deadline {
            break (raw, found);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let Some(line) = line else {
        o.fail(format!(
            "{mode}: jq '{ALL_DENIALS}' found no line with request_id {rid}"
        ));
        return Ok(());
    };
    o.check(
        line["level"] == "warn"
            && line["event"] == "authorization_denied"
            && line["reason"] == reason.as_str()
            && line["tool"] == tool,
        || format!("{mode}: log line {line} (want level warn, reason {reason}, tool {tool})"),
    );
    if reason == DenyReason::ConstraintViolation {
        o.check(
            line["constraint"] == "path"
                && line["expected"] == "Pattern(/data/*)"
                && line["actual"] == "/etc/passwd",
            || {
                format!(
                    "{mode}: log line {line} (want constraint path, expected Pattern(/data/*), \
                     actual /etc/passwd)"
                )
            },
        );
    }
    if NAMES_WARRANT.contains(&reason) {
        o.check(line["warrant_id"] == sent.warrant_id.as_str(), || {
            format!(
                "{mode}: log line {line} (want warrant_id {})",
                sent.warrant_id
            )
        });
    }
    // "By tool" selects read_file's denials, and only those.
    let by_tool = tool_lines(&raw)?.iter().any(|l| l["request_id"] == rid);
    let want = tool == BY_TOOL_NAME;
    o.check(by_tool == want, || {
        format!("{mode}: jq '{BY_TOOL}' selected this {tool} denial: {by_tool}, want {want}")
    });
    // "Count by reason" counts this request's line under its reason: run on
    // the request's own lines, as totals compared across two reads would
    // count whichever pods each read saw.
    let counts = count_by_reason(&lines_of(&raw, rid))?;
    o.check(count_of(&counts, reason.as_str()) >= 1, || {
        format!(
            "{mode}: jq -r '{COUNT_BY_REASON}' | sort | uniq -c over request {rid}'s lines \
             counted {counts:?}, want {reason}"
        )
    });
    // Never a warrant or a PoP in the logs.
    let leaked = raw.contains(&sent.token[..40])
        || sent.pop.as_ref().is_some_and(|p| raw.contains(p.as_str()));
    o.check(!leaked, || {
        format!("{mode}: a warrant or a PoP leaked into the logs")
    });
    Ok(())
}

/// The raw log's lines with this `request_id` (a line that is not JSON is
/// none of them).
fn lines_of(raw: &str, rid: &str) -> String {
    raw.lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v["request_id"] == rid)
        })
        .map(|l| format!("{l}\n"))
        .collect()
}
