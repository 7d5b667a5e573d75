//! The guide's three delivery patterns, each driven end to end by the Python
//! SDK agent running as a Job (`crate::agents`): on kind a pod, locally a
//! process started as a kubelet would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use tenuo_authz::crypto::SigningKey;

use super::{Ctx, Outcome};
use crate::agents;
use crate::fixture::{BATCH, READER};
use crate::http::{request, Reply};
use crate::ingress::IngressSpec;
use crate::target::{AgentRun, Target};

const TASKS: u64 = 5;
/// The guide's per-task TTL.
const TASK_TTL: u64 = 60;
/// How long the header pattern's client waits for the agent to come up
/// (a pod to be scheduled and started on kind).
const AGENT_START: Duration = Duration::from_secs(180);

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
        format!("{} warrants received, want {expect_warrants}", run.warrants)
    });
    o
}

/// A Python SDK agent asks the control plane for a warrant per task (TTL
/// 60 s), authenticated with its pod's projected service account token, and
/// calls through the authorizer with `warrant.headers(key, tool, args)`.
pub(crate) fn control_plane_fetch(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let net = target.agent_network(ctx.cp.addr)?;
    let job = agents::fetch(&net, READER, TASKS, TASK_TTL);
    let run = target.run_agent_job(&job)?;
    Ok(from_agent(run, TASKS))
}

/// The guide's environment variable: a batch job's warrant (TTL 300 s, the
/// guide's upper bound) provisioned by an operator into the Secret
/// `tenuo-credentials`, read by the pod through `secretKeyRef`.
pub(crate) fn env_from_secret(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let key = SigningKey::generate()?;
    let token = target.workload_token(BATCH)?;
    let issued = ctx.cp.warrant(&token, &key.public_key(), Some(300))?;
    let net = target.agent_network(ctx.cp.addr)?;
    let job = agents::env_from_secret(&net, BATCH, &issued.warrant, &key, TASKS);
    let run = target.run_agent_job(&job)?;
    Ok(from_agent(run, 0))
}

/// The ingress injects `X-Tenuo-Warrant` (a warrant from the control plane
/// per request, for the agent's key) into the requests a client sends the
/// agent; the agent's middleware reads it, signs the PoP with its own key and
/// calls through the authorizer. The client sends a forged warrant header
/// too, which the ingress must drop.
pub(crate) fn request_header(target: &mut dyn Target, ctx: &Ctx) -> Result<Outcome> {
    let key = SigningKey::generate()?;
    let net = target.agent_network(ctx.cp.addr)?;
    let requests = TASKS + 1;
    let job = agents::header(&net, &key, requests);
    let ingress = target.start_ingress(&IngressSpec {
        workload: READER.to_owned(),
        holder: key.public_key(),
        ttl_secs: TASK_TTL,
        upstream: net.serve_upstream.clone(),
        control_plane: ctx.cp.addr,
    })?;
    let agent_done = Arc::new(AtomicBool::new(false));
    let client = spawn_client(ingress.addr, requests, Arc::clone(&agent_done));
    // Returns when the agent has served every request (or given up).
    let run = target.run_agent_job(&job);
    agent_done.store(true, Ordering::SeqCst);
    let replies = match client.join() {
        Ok(r) => r,
        Err(_) => anyhow::bail!("the client thread panicked"),
    };
    drop(ingress);
    let mut o = from_agent(run?, requests);
    // What the client saw: the agent's answers, through the ingress.
    for (task, reply) in replies.into_iter().enumerate() {
        let want = if task as u64 == TASKS { 403 } else { 200 };
        match reply {
            Ok(r) if r.status == want => {}
            Ok(r) => {
                o.failures += 1;
                o.problems.push(format!(
                    "client task {task}: {} (want {want}) {}",
                    r.status, r.body
                ));
            }
            Err(e) => {
                o.failures += 1;
                o.problems.push(format!("client task {task}: {e:#}"));
            }
        }
    }
    Ok(o)
}

/// The client: `requests` calls through the ingress, the last out of bounds;
/// retried while the agent is not up yet (502 from the ingress) and still
/// running.
fn spawn_client(
    ingress: SocketAddr,
    requests: u64,
    agent_done: Arc<AtomicBool>,
) -> JoinHandle<Vec<Result<Reply>>> {
    std::thread::spawn(move || {
        let deadline = Instant::now() + AGENT_START;
        (0..requests)
            .map(|task| {
                let path = if task == requests - 1 {
                    "/etc/passwd".to_owned()
                } else {
                    format!("/data/report-{task}")
                };
                let target = format!("/task?path={path}");
                loop {
                    let reply = request(
                        ingress,
                        "GET",
                        &target,
                        &[("x-tenuo-warrant", "forged-by-the-client")],
                        "",
                    );
                    let retry = match &reply {
                        Ok(r) => r.status == 502,
                        Err(_) => true,
                    };
                    let gone = agent_done.load(Ordering::SeqCst);
                    if !retry || gone || Instant::now() >= deadline {
                        return reply;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
            .collect()
    })
}
