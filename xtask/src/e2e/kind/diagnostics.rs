//! What to show when the kind run fails, at any stage: the pods, each
//! container's log (and its previous container's, when it restarted), a
//! description of every pod that is not ready, and the events. Every command
//! may fail (no cluster yet, a pod gone): diagnostics never do.

use serde_json::Value;
use tenuo_e2e::agents::AGENTS_NAMESPACE;
use tenuo_e2e::NAMESPACE;
use xshell::{cmd, Shell};

fn read(sh: &Shell, args: &[&str]) -> String {
    cmd!(sh, "kubectl {args...}")
        .quiet()
        .ignore_status()
        .ignore_stderr()
        .read()
        .unwrap_or_default()
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Everything above, each log and listing cut to its last `lines` lines.
pub(crate) fn collect(sh: &Shell, lines: usize) -> String {
    let mut out = format!(
        "== pods\n{}\n",
        read(sh, &["get", "pods", "-A", "-o", "wide"])
    );
    let n = lines.to_string();
    for ns in [NAMESPACE, AGENTS_NAMESPACE] {
        let pods: Value = serde_json::from_str(&read(sh, &["-n", ns, "get", "pods", "-o", "json"]))
            .unwrap_or(Value::Null);
        for pod in pods["items"].as_array().into_iter().flatten() {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            let statuses = ["initContainerStatuses", "containerStatuses"]
                .iter()
                .flat_map(|k| pod["status"][*k].as_array().into_iter().flatten());
            for c in statuses {
                let container = c["name"].as_str().unwrap_or_default();
                let logs = read(sh, &["-n", ns, "logs", name, "-c", container, "--tail", &n]);
                out.push_str(&format!("== logs {ns}/{name} {container}\n{logs}\n"));
                if c["restartCount"].as_u64().unwrap_or(0) > 0 {
                    let previous = read(
                        sh,
                        &[
                            "-n",
                            ns,
                            "logs",
                            name,
                            "-c",
                            container,
                            "--previous",
                            "--tail",
                            &n,
                        ],
                    );
                    out.push_str(&format!(
                        "== previous logs {ns}/{name} {container} ({} restarts)\n{previous}\n",
                        c["restartCount"]
                    ));
                }
            }
            let phase = pod["status"]["phase"].as_str().unwrap_or_default();
            let ready = pod["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            if !ready && phase != "Succeeded" {
                let described = read(sh, &["-n", ns, "describe", "pod", name]);
                out.push_str(&format!(
                    "== describe {ns}/{name} ({phase})\n{}\n",
                    tail(&described, lines)
                ));
            }
        }
    }
    let events = read(sh, &["get", "events", "-A", "--sort-by=.lastTimestamp"]);
    out.push_str(&format!("== events\n{}\n", tail(&events, lines)));
    out
}
