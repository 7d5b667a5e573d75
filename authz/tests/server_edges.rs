//! The real `tenuo-authorizer` binary at the edges a platform team meets on day
//! one: callers cannot choose the metrics' `tool` labels, the standard process
//! metrics follow the process, shedding is counted and logged while probes keep
//! answering, and nginx `auth_request` subrequests get only the statuses nginx
//! understands.

#[path = "support/server_process.rs"]
mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use support::{eventually, http, now, read_response, start_gateway};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::Warrant;

fn control_plane() -> SigningKey {
    SigningKey::from_bytes(&[61; 32])
}

fn agent() -> SigningKey {
    SigningKey::from_bytes(&[62; 32])
}

/// `read_file` on `/data/*` and `summarize` (a tool no gateway route names).
fn warrant() -> Warrant {
    let mut paths = ConstraintSet::new();
    paths.insert("path", Constraint::pattern("/data/*").unwrap());
    Issue::execution(agent().public_key())
        .tool("read_file", paths)
        .tool("summarize", ConstraintSet::new())
        .ttl_secs(600)
        .sign(&control_plane(), now())
        .unwrap()
}

fn path_args(path: &str) -> Args {
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String(path.into()));
    args
}

/// The `tool` label values of `tenuo_authz_total`.
fn tool_labels(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|line| line.starts_with("tenuo_authz_total{"))
        .filter_map(|line| {
            let rest = line.split("tool=\"").nth(1)?;
            Some(rest.split('"').next()?.to_owned())
        })
        .collect()
}

/// Resident memory of a process, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// A small xorshift generator: the names must differ, not be unpredictable.
struct Names(u64);

impl Names {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn letters(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| b'a' + (self.next() % 26) as u8).collect()
    }
}

/// `count` unauthenticated `POST /v1/check`s on one keep-alive connection, each
/// naming a different tool about a megabyte long; returns the statuses seen.
fn flood_with_tool_names(addr: SocketAddr, count: usize, seed: u64) -> BTreeSet<u16> {
    let mut names = Names(seed | 1);
    // One megabyte of letters shared by every name; a random prefix makes each distinct.
    let tail = names.letters(1_000_000);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut statuses = BTreeSet::new();
    for _ in 0..count {
        let prefix = names.letters(24);
        let extra = (names.next() % 30_000) as usize;
        let (open, close) = (br#"{"tool":""#, br#""}"#);
        let length = open.len() + prefix.len() + tail.len() - extra + close.len();
        let head = format!(
            "POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(open).unwrap();
        stream.write_all(&prefix).unwrap();
        stream.write_all(&tail[extra..]).unwrap();
        stream.write_all(close).unwrap();
        let reply = read_response(&mut stream);
        let status = String::from_utf8_lossy(&reply[..reply.len().min(12)])
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        statuses.insert(status);
    }
    statuses
}

#[test]
fn callers_cannot_choose_the_tool_labels() {
    let s = start_gateway(&control_plane().public_key(), &[]);
    let w = warrant();
    let token = w.to_base64url();
    // A gateway route's tool, allowed.
    let args = path_args("/data/a");
    let pop = sign_pop(&agent(), w.id(), "read_file", &args, now() as i64).to_base64url();
    let allowed = s.request(
        "GET",
        "/files/read?path=/data/a",
        &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
        "",
    );
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    // A tool only the verified warrant names, allowed through /v1/check.
    let pop = sign_pop(&agent(), w.id(), "summarize", &Args::new(), now() as i64).to_base64url();
    let body = serde_json::json!({"warrant": token, "pop": pop, "tool": "summarize"});
    let allowed = s.request("POST", "/v1/check", &[], &body.to_string());
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    // A gateway route's tool, denied (outside the warrant's paths).
    let args = path_args("/etc/passwd");
    let pop = sign_pop(&agent(), w.id(), "read_file", &args, now() as i64).to_base64url();
    let denied = s.request(
        "GET",
        "/files/read?path=/etc/passwd",
        &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
        "",
    );
    assert_eq!(denied.status, 403, "{}", denied.body);

    let before = resident_kib(s.pid());
    // 10,000 requests without a warrant, each naming a new tool about 1 MB long.
    let floods: Vec<_> = (0..2u64)
        .map(|seed| {
            let addr = s.addr;
            std::thread::spawn(move || {
                flood_with_tool_names(addr, 5_000, 0x9e37_79b9_7f4a_7c15 ^ seed)
            })
        })
        .collect();
    for flood in floods {
        assert_eq!(flood.join().unwrap(), BTreeSet::from([401]));
    }
    let after = resident_kib(s.pid());

    let metrics = s.metrics();
    let labels = tool_labels(&metrics);
    let expected: BTreeSet<String> = ["read_file", "summarize", "other"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(labels, expected, "{metrics}");
    assert_eq!(
        s.metric("tenuo_authz_total{result=\"deny\",tool=\"other\"}"),
        10_000.0
    );
    assert_eq!(
        s.metric("tenuo_authz_total{result=\"allow\",tool=\"summarize\"}"),
        1.0
    );
    assert_eq!(
        s.metric("tenuo_authz_total{result=\"deny\",tool=\"read_file\"}"),
        1.0
    );
    // About 10 GB went through; the process keeps none of it.
    assert!(
        after < before + 64 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
    // The denial lines carry the names cut short, not a megabyte each.
    let longest = s
        .log_lines(|line| line["event"] == "authorization_denied")
        .iter()
        .filter_map(|line| line["tool"].as_str().map(str::len))
        .max()
        .unwrap_or(0);
    assert!(
        longest <= tenuo_authz::engine::MAX_LOGGED_FIELD_BYTES + '…'.len_utf8(),
        "a logged tool name is {longest} bytes"
    );
}

/// The value of the unlabelled sample `name` in a scrape.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {name} sample in:\n{metrics}"))
}

#[test]
fn the_process_metrics_follow_the_process() {
    let s = start_gateway(&control_plane().public_key(), &[]);
    let metrics = s.metrics();
    for (name, kind) in [
        ("process_cpu_seconds", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("process_threads", "gauge"),
    ] {
        let declared = format!("# TYPE {name} {kind}");
        assert!(
            metrics.contains(&declared),
            "no `{declared}` in:\n{metrics}"
        );
    }
    let resident = sample(&metrics, "process_resident_memory_bytes");
    let vm_rss = resident_kib(s.pid()) as f64 * 1024.0;
    assert!(resident > 0.0, "{metrics}");
    // The same figure /proc/PID/status gives, give or take what moved between reads.
    assert!(
        resident > vm_rss / 2.0 && resident < vm_rss * 2.0,
        "resident {resident} bytes, VmRSS {vm_rss} bytes"
    );
    assert!(sample(&metrics, "process_virtual_memory_bytes") >= resident);
    assert!(sample(&metrics, "process_threads") >= 1.0);
    // stdin, stdout, stderr and the two listeners at least, within the limit.
    let open = sample(&metrics, "process_open_fds");
    assert!(open >= 5.0, "{open} open fds");
    assert!(open <= sample(&metrics, "process_max_fds"));
    let started = sample(&metrics, "process_start_time_seconds");
    let unix_now = now() as f64;
    assert!(
        started <= unix_now + 1.0 && started > unix_now - 86_400.0,
        "started at {started}, now {unix_now}"
    );

    // Allowed calls (each verifying a PoP signature) raise the CPU counter. It
    // moves in clock ticks, so calls go on, a hundred at a time, until it has.
    let before = sample(&metrics, "process_cpu_seconds_total");
    assert!(before.is_finite() && before >= 0.0, "{before}");
    let w = warrant();
    let token = w.to_base64url();
    let args = path_args("/data/a");
    let mut after = before;
    for _ in 0..100 {
        let pop = sign_pop(&agent(), w.id(), "read_file", &args, now() as i64).to_base64url();
        for _ in 0..100 {
            let reply = s.request(
                "GET",
                "/files/read?path=/data/a",
                &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
                "",
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        after = sample(&s.metrics(), "process_cpu_seconds_total");
        if after > before {
            break;
        }
    }
    assert!(
        after > before,
        "CPU seconds stayed at {before} over 10,000 calls"
    );
    assert!(after.is_finite());
}

/// Opens a `POST /v1/check` that declares a body it never finishes, so the
/// request holds a slot until the request timeout.
fn slow_body(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"tool\":")
        .unwrap();
    stream
}

#[test]
fn shedding_is_counted_and_logged_while_probes_keep_answering() {
    let started = std::time::Instant::now();
    let s = start_gateway(
        &control_plane().public_key(),
        &[("TENUO_MAX_CONCURRENCY", "4")],
    );
    // Slow clients until a decision is shed: the server handles connections
    // concurrently, so a probe may take a slot before a slow client does (and
    // that client is shed instead); one more slow client each round settles it.
    let mut slow: Vec<TcpStream> = Vec::new();
    let shed = eventually(Duration::from_secs(20), || {
        slow.push(slow_body(s.addr));
        s.request("GET", "/files/read?path=/data/a", &[], "").status == 503
    });
    assert!(shed, "no request was shed with every slot held");
    let refused = s.request("GET", "/files/read?path=/data/a", &[], "");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.json()["reason"], "overloaded");
    // An nginx subrequest is shed with a status nginx understands.
    let subrequest = s.request(
        "GET",
        "/_tenuo",
        &[("x-original-uri", "/files/read?path=/data/a")],
        "",
    );
    assert_eq!(
        (subrequest.status, subrequest.header("x-tenuo-status")),
        (403, Some("503"))
    );
    // The probes answer on both listeners meanwhile.
    for path in ["/health", "/ready"] {
        assert_eq!(s.request("GET", path, &[], "").status, 200, "main {path}");
        assert_eq!(
            http(s.metrics, "GET", path, &[], "").status,
            200,
            "metrics {path}"
        );
    }
    assert!(s.metric("tenuo_requests_shed_total{reason=\"overloaded\"}") >= 3.0);
    // The held requests are cut by the request timeout, and counted as such;
    // the slow clients that found no slot were shed at once.
    let mut timeouts = 0;
    for stream in &mut slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let reply = read_response(stream);
        let text = String::from_utf8_lossy(&reply);
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        if text.contains(r#""reason":"timeout""#) {
            timeouts += 1;
        } else {
            assert!(text.contains(r#""reason":"overloaded""#), "{text}");
        }
    }
    assert!(timeouts >= 4, "{timeouts} held requests timed out");
    assert!(eventually(Duration::from_secs(5), || {
        s.metric("tenuo_requests_shed_total{reason=\"timeout\"}") >= 4.0
    }));
    let lines = s.log_lines(|line| line["event"] == "requests_shed");
    assert!(!lines.is_empty(), "no requests_shed line");
    assert!(lines.iter().all(|line| line["count"].as_u64() >= Some(1)));
    // At most one line a second.
    let seconds = started.elapsed().as_secs() as usize + 1;
    assert!(
        lines.len() <= seconds,
        "{} requests_shed lines in {seconds} s",
        lines.len()
    );
}

#[test]
fn nginx_subrequests_get_statuses_nginx_understands() {
    let s = start_gateway(&control_plane().public_key(), &[]);
    let garbage = [("x-tenuo-warrant", "%%%not-a-warrant")];
    // Not a subrequest: the undecodable warrant is a 400, as the reference answers.
    assert_eq!(
        s.request("GET", "/files/read?path=/data/a", &garbage, "")
            .status,
        400
    );
    // The same request as an nginx subrequest: 403, and the status it stands for.
    let mut headers = garbage.to_vec();
    headers.push(("x-original-uri", "/files/read?path=/data/a"));
    headers.push(("x-original-method", "GET"));
    let reply = s.request("GET", "/_tenuo", &headers, "");
    assert_eq!(
        (reply.status, reply.header("x-tenuo-status")),
        (403, Some("400")),
        "{reply:?}"
    );
    assert_eq!(reply.json()["reason"], "invalid_warrant");
    // 401 and 403 are nginx's own and pass unchanged.
    let reply = s.request(
        "GET",
        "/_tenuo",
        &[("x-original-uri", "/files/read?path=/data/a")],
        "",
    );
    assert_eq!((reply.status, reply.header("x-tenuo-status")), (401, None));

    // Set up for nginx, every answer is narrowed, and body routes are warned about.
    let s = start_gateway(
        &control_plane().public_key(),
        &[("TENUO_AUTH_REQUEST", "true")],
    );
    let body = serde_json::json!({"warrant": "%%%", "tool": "read_file"});
    let reply = s.request("POST", "/v1/check", &[], &body.to_string());
    assert_eq!(
        (reply.status, reply.header("x-tenuo-status")),
        (403, Some("400")),
        "{reply:?}"
    );
    let warnings = s.log_lines(|line| line["event"] == "config_warning");
    let routes: Vec<&str> = warnings
        .iter()
        .filter_map(|line| line["route"].as_str())
        .collect();
    assert_eq!(routes, ["/run"], "{warnings:?}");
}
