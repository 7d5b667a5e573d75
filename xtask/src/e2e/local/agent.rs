//! An agent Job's container as a process: `agent.py` with the host's Python,
//! killed when the Job's `activeDeadlineSeconds` pass (as the Job controller
//! would end its pod), its summary read from the last line it prints.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tenuo_e2e::agents::kubelet::Resolved;
use tenuo_e2e::AgentRun;

/// How often the deadline is checked.
const POLL: Duration = Duration::from_millis(50);

/// Runs `program script <args>` with the container's environment, within its
/// deadline; the summary on the last line of stdout.
pub(crate) fn run(program: &str, script: &Path, agent: &Resolved) -> Result<AgentRun> {
    let mut child = Command::new(program)
        .arg(script)
        .args(&agent.args)
        .envs(agent.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting the Python agent ({program})"))?;
    // Drained while it runs: a full pipe would block the agent.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let exited = wait(&mut child, agent.deadline);
    let (stdout, stderr) = (joined(stdout), joined(stderr));
    if !exited? {
        bail!(
            "the agent ran past the Job's activeDeadlineSeconds ({} s) and was killed; \
             stdout {stdout:?}, stderr {stderr}",
            agent.deadline.as_secs()
        );
    }
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("agent output {stdout:?}, stderr {stderr}"))
}

/// Whether the child exited within `deadline`; past it, the child is killed
/// and reaped.
fn wait(child: &mut Child, deadline: Duration) -> Result<bool> {
    let end = Instant::now() + deadline;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(true);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            child.wait().context("reaping the killed agent")?;
            return Ok(false);
        }
        std::thread::sleep(POLL);
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn joined(reader: JoinHandle<String>) -> String {
    reader.join().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(args: &[&str], deadline: Duration) -> Resolved {
        Resolved {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: vec![("REQUESTS".to_owned(), "3".to_owned())],
            deadline,
        }
    }

    #[test]
    fn the_summary_is_the_last_line_and_the_environment_is_passed() {
        let script = r#"echo starting; printf '{"requests": %s, "allowed": 2, "denied_as_expected": 1, "failures": 0}\n' "$REQUESTS""#;
        let run = run(
            "sh",
            Path::new("-c"),
            &agent(&[script], Duration::from_secs(30)),
        )
        .expect("runs");
        assert_eq!((run.requests, run.allowed), (3, 2));
    }

    #[test]
    fn a_run_past_its_deadline_is_killed_with_a_clear_error() {
        let started = Instant::now();
        let e = run(
            "sh",
            Path::new("-c"),
            &agent(&["echo up; exec sleep 30"], Duration::from_millis(300)),
        )
        .expect_err("killed");
        assert!(started.elapsed() < Duration::from_secs(10));
        let text = e.to_string();
        assert!(text.contains("activeDeadlineSeconds"), "{text}");
        assert!(text.contains("up"), "{text}");
    }
}
