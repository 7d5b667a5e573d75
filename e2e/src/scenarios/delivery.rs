//! The guide's three delivery patterns, each driven end to end.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result};
use tenuo_authz::constraint::ArgValue;
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::wire::decode_token;

use super::{now, Ctx, Outcome};
use crate::fixture::{BATCH, READER};
use crate::http::request;
use crate::target::{AgentRun, Target};

const TASKS: u64 = 5;

fn from_agent(run: AgentRun, expect_warrants: u64) -> Outcome {
    let mut o = Outcome {
        requests: run.requests,
        failures: run.failures,
        problems: run.errors.clone(),
    };
    o.check(run.allowed >= TASKS, || {
        format!("{} allowed, want {TASKS}", run.allowed)
    });
    o.check(run.denied_as_expected >= 1, || {
        "the out-of-bounds probe was not denied".into()
    });
    o.check(run.warrants == expect_warrants, || {
        format!("{} warrants fetched, want {expect_warrants}", run.warrants)
    });
    o
}

/// A Python SDK agent asks the control plane for a warrant per task (TTL
/// 60 s), authenticated with its service account token, and calls through the
/// authorizer with `warrant.headers(key, tool, args)`.
pub(crate) fn control_plane_fetch(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let token = target.workload_token(READER)?;
    let args = vec![
        "fetch".to_owned(),
        "--control-plane".to_owned(),
        format!("http://{}", ctx.cp.addr),
        "--authorizer".to_owned(),
        format!("http://{}", target.authorizer()),
        "--tasks".to_owned(),
        TASKS.to_string(),
        "--ttl".to_owned(),
        "60".to_owned(),
    ];
    let env = vec![("TENUO_WORKLOAD_TOKEN".to_owned(), token)];
    let run = target.run_agent(&args, &env, None)?;
    Ok(from_agent(run, TASKS))
}

/// A warrant from a Secret, as environment variables (`envFrom`), in a batch
/// job written with the Python SDK.
pub(crate) fn env_from_secret(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let key = SigningKey::generate()?;
    let token = target.workload_token(BATCH)?;
    let issued = ctx.cp.warrant(&token, &key.public_key(), Some(300))?;
    target.write_secret(
        "tenuo-credentials",
        &BTreeMap::from([
            ("TENUO_WARRANT_BASE64".to_owned(), issued.warrant),
            ("TENUO_AGENT_KEY".to_owned(), key.to_hex().to_string()),
        ]),
    )?;
    let args = vec![
        "env".to_owned(),
        "--authorizer".to_owned(),
        format!("http://{}", target.authorizer()),
        "--tasks".to_owned(),
        TASKS.to_string(),
    ];
    let run = target.run_agent(&args, &[], Some("tenuo-credentials"))?;
    Ok(from_agent(run, 0))
}

/// The ingress injects `X-Tenuo-Warrant` (fetched from the control plane for
/// the agent it routes to); the agent's middleware reads it, signs the PoP with
/// its own key and calls through the authorizer.
pub(crate) fn request_header(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let authorizer = target.authorizer();
    let key = SigningKey::generate()?;
    let holder = key.public_key();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let agent_addr = listener.local_addr()?;
    let served = TASKS + 1;
    let agent = std::thread::spawn(move || -> Result<()> {
        for _ in 0..served {
            let (stream, _) = listener.accept()?;
            serve_agent(stream, &key, authorizer)?;
        }
        Ok(())
    });
    let token = target.workload_token(READER)?;
    let mut o = Outcome::default();
    for task in 0..served {
        // The ingress: a warrant per request, injected as a header.
        let issued = ctx.cp.warrant(&token, &holder, Some(60))?;
        let path = if task == TASKS {
            "/etc/passwd"
        } else {
            "/data/report"
        };
        let reply = request(
            agent_addr,
            "GET",
            &format!("/task?path={path}"),
            &[("x-tenuo-warrant", &issued.warrant)],
            "",
        )?;
        o.requests += 1;
        let want = if task == TASKS { 403 } else { 200 };
        if reply.status != want {
            o.failures += 1;
            o.problems.push(format!(
                "task {task}: {} (want {want}) {}",
                reply.status, reply.body
            ));
        }
    }
    match agent.join() {
        Ok(r) => r.context("the agent")?,
        Err(_) => anyhow::bail!("the agent thread panicked"),
    }
    Ok(o)
}

/// The agent's middleware: one request, answered with the authorizer's status.
fn serve_agent(stream: TcpStream, key: &SigningKey, authorizer: SocketAddr) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let mut warrant = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("x-tenuo-warrant") {
                warrant = value.trim().to_owned();
            }
        }
    }
    let target = first.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split_once("path=").map(|(_, p)| p).unwrap_or("");
    let (_, chain) = decode_token(&warrant).context("the injected warrant")?;
    let leaf = chain.last().context("empty chain")?;
    let args = Args::from([("path".to_owned(), ArgValue::String(path.to_owned()))]);
    let pop = sign_pop(key, leaf.id(), "read_file", &args, now() as i64).to_base64url();
    let reply = request(
        authorizer,
        "GET",
        &format!("/files/read?path={path}"),
        &[("x-tenuo-warrant", &warrant), ("x-tenuo-pop", &pop)],
        "",
    )?;
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    )?;
    Ok(())
}
