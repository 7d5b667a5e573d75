//! Secure-by-default checks on every pod and container the chart renders.

use k8s_openapi::api::core::v1::{Container, PodSecurityContext, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::checks::{violation, Pod, Violation, AUTHORIZER};
use super::objects::{Object, Typed};

pub(crate) fn check(objects: &[Typed], pods: &[Pod<'_>], out: &mut Vec<Violation>) {
    for pod in pods {
        let psc = pod.spec.security_context.clone().unwrap_or_default();
        for c in pod.all() {
            let at = format!("{} container {}", pod.id, c.name);
            container_security(c, &psc, &at, out);
            resources(c, &at, out);
        }
        for c in pod.long_running() {
            probes(c, &format!("{} container {}", pod.id, c.name), out);
        }
        seccomp(pod, &psc, out);
        if pod.spec.automount_service_account_token != Some(false) {
            out.push(violation(
                "sa-token",
                pod.id,
                "automountServiceAccountToken is not false".into(),
            ));
        }
        let runs_authorizer = pod.all().any(|c| c.name == AUTHORIZER);
        let sum = pod.annotations.get("checksum/config");
        let is_sha256 = |s: &String| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if runs_authorizer && !sum.is_some_and(is_sha256) {
            let msg = "no checksum/config annotation: config changes would not roll the pods";
            out.push(violation("checksum", pod.id, msg.into()));
        }
    }
    for t in objects {
        if let Object::ServiceAccount(sa) = &t.object {
            if sa.automount_service_account_token != Some(false) {
                let msg = "automountServiceAccountToken is not false".into();
                out.push(violation("sa-token", &t.id, msg));
            }
        }
    }
}

/// One violation per broken property, each under its own id: a values file
/// that breaks one of them fails exactly that check.
fn container_security(c: &Container, psc: &PodSecurityContext, at: &str, out: &mut Vec<Violation>) {
    let sc = c.security_context.clone().unwrap_or_default();
    let caps = sc.capabilities.clone().unwrap_or_default();
    let broken = [
        (
            sc.run_as_non_root.or(psc.run_as_non_root) != Some(true),
            "run-as-non-root",
            "runAsNonRoot is not true",
        ),
        (
            sc.run_as_user.or(psc.run_as_user) == Some(0),
            "uid-not-zero",
            "runs as uid 0",
        ),
        (
            sc.read_only_root_filesystem != Some(true),
            "read-only-root",
            "readOnlyRootFilesystem is not true",
        ),
        (
            sc.allow_privilege_escalation != Some(false),
            "no-privilege-escalation",
            "allowPrivilegeEscalation is not false",
        ),
        (sc.privileged == Some(true), "not-privileged", "privileged"),
        (
            !caps.drop.iter().flatten().any(|d| d == "ALL"),
            "drop-all-capabilities",
            "capabilities do not drop ALL",
        ),
        (
            caps.add.as_ref().is_some_and(|a| !a.is_empty()),
            "no-added-capabilities",
            "capabilities added",
        ),
    ];
    for (_, check, msg) in broken.into_iter().filter(|(bad, _, _)| *bad) {
        out.push(violation(check, at, msg.into()));
    }
}

fn seccomp(pod: &Pod<'_>, psc: &PodSecurityContext, out: &mut Vec<Violation>) {
    let confined = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let pod_type = psc.seccomp_profile.as_ref().map(|p| p.type_.as_str());
    if !pod_type.is_some_and(confined) {
        let msg = format!("pod seccompProfile is {pod_type:?}, not RuntimeDefault");
        out.push(violation("seccomp", pod.id, msg));
    }
    for c in pod.all() {
        let t = c
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref());
        if let Some(p) = t.filter(|p| !confined(&p.type_)) {
            let msg = format!("container {} seccompProfile is {}", c.name, p.type_);
            out.push(violation("seccomp", pod.id, msg));
        }
    }
}

fn probes(c: &Container, at: &str, out: &mut Vec<Violation>) {
    let want = [
        ("liveness-probe", "liveness", &c.liveness_probe, "/health"),
        ("readiness-probe", "readiness", &c.readiness_probe, "/ready"),
    ];
    for (check, kind, probe, path) in want {
        let Some(probe) = probe else {
            out.push(violation(check, at, format!("no {kind} probe")));
            continue;
        };
        if c.name == AUTHORIZER && !authorizer_probe(c, probe, path) {
            let msg = format!("{kind} probe is not GET {path} on port http");
            out.push(violation(check, at, msg));
        }
    }
}

fn authorizer_probe(c: &Container, probe: &Probe, path: &str) -> bool {
    let Some(get) = &probe.http_get else {
        return false;
    };
    let http = c
        .ports
        .iter()
        .flatten()
        .find(|p| p.name.as_deref() == Some("http"));
    let on_http = match &get.port {
        IntOrString::String(name) => name == "http",
        IntOrString::Int(n) => http.is_some_and(|p| p.container_port == *n),
    };
    on_http && get.path.as_deref() == Some(path)
}

fn resources(c: &Container, at: &str, out: &mut Vec<Violation>) {
    let r = c.resources.clone().unwrap_or_default();
    let has = |m: &Option<std::collections::BTreeMap<String, _>>, k: &str| {
        m.as_ref().is_some_and(|m| m.contains_key(k))
    };
    for (ok, what) in [
        (has(&r.requests, "cpu"), "cpu request"),
        (has(&r.requests, "memory"), "memory request"),
        (has(&r.limits, "memory"), "memory limit"),
    ] {
        if !ok {
            out.push(violation("resources", at, format!("no {what}")));
        }
    }
}
