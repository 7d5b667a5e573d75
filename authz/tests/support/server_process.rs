//! Starts the real `tenuo-authorizer` binary on loopback and talks to it with a
//! minimal HTTP/1.1 client, so integration tests exercise exactly what ships.

#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tenuo_authz::crypto::PublicKey;

/// The routes the server suites drive: a tool whose argument comes from the
/// query, and one whose argument comes from the JSON body.
pub(crate) const GATEWAY: &str = r#"
version: "1"
settings: {}
tools:
  read_file:
    description: Read a file
    constraints:
      path: { from: query, path: "path", required: true }
  run:
    description: Run a command
    constraints:
      cmd: { from: body, path: "cmd", required: true }
routes:
  - pattern: "/files/read"
    method: ["GET"]
    tool: read_file
  - pattern: "/run"
    method: ["POST"]
    tool: run
"#;

/// Unix time in seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Waits (up to `limit`, polling) until `done` holds; returns whether it did.
pub(crate) fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// Sends SIGTERM to `child`, with a system call: minimal systems (Debian's
/// minbase) have no `kill` program.
pub(crate) fn sigterm(child: &Child) -> std::io::Result<()> {
    use rustix::process::{kill_process, Pid, Signal};
    kill_process(Pid::from_child(child), Signal::TERM).map_err(std::io::Error::from)
}

/// Writes `contents` to `name` in this test process's own temporary directory.
pub(crate) fn write_temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tenuo-server-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Starts the server trusting `issuer`, routing with [`GATEWAY`], with `extra`
/// environment on top.
pub(crate) fn start_gateway(issuer: &PublicKey, extra: &[(&str, &str)]) -> ServerProcess {
    let gateway = write_temp(&format!("gateway-{}.yaml", extra.len()), GATEWAY);
    let trusted = issuer.to_hex();
    let mut env = vec![
        ("TRUSTED_ISSUERS", trusted.as_str()),
        ("TENUO_GATEWAY_CONFIG", gateway.to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    ServerProcess::start(&env)
}

/// A running server process and its captured JSON log lines.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) metrics: SocketAddr,
    pub(crate) log: Arc<Mutex<Vec<serde_json::Value>>>,
}

/// An HTTP response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenuo-authorizer"));
    command
        .arg("serve")
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs the binary expecting it to refuse to start; returns (status, stderr).
pub(crate) fn start_failure(env: &[(&str, &str)]) -> (ExitStatus, String) {
    let output = command(env).output().expect("run tenuo-authorizer");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl ServerProcess {
    /// Starts the server and waits for its `started` log line.
    pub(crate) fn start(env: &[(&str, &str)]) -> Self {
        let (child, started, log) = spawn_logged(&mut command(env), LogLines::AllJson);
        let address = |field: &str| {
            started[field]
                .as_str()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("`started` has no {field} address: {started}"))
        };
        Self {
            addr: address("listen"),
            metrics: address("metrics"),
            child,
            log,
        }
    }

    /// The server's process id (for /proc figures).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a request to the main listener.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        http(self.addr, method, path, headers, body)
    }

    /// The metrics text.
    pub(crate) fn metrics(&self) -> String {
        http(self.metrics, "GET", "/metrics", &[], "").body
    }

    /// The value of one metric sample (0 when absent).
    pub(crate) fn metric(&self, sample: &str) -> f64 {
        self.metrics()
            .lines()
            .find_map(|line| {
                line.strip_prefix(sample)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }

    /// Log lines matching a predicate (`jq 'select(...)'`).
    pub(crate) fn log_lines(
        &self,
        predicate: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|v| predicate(v))
            .cloned()
            .collect()
    }

    /// The exit status, if the process has exited.
    pub(crate) fn status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        sigterm(&self.child).expect("SIGTERM tenuo-authorizer");
    }

    /// Waits for exit, at most `limit`.
    pub(crate) fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    exchange(&mut stream, &addr.to_string(), method, path, headers, body)
}

/// Writes one request on `stream` and reads its response.
fn exchange(
    stream: &mut (impl Read + Write),
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let raw = read_response(stream);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Reads one response: the head, then `content-length` bytes of body, or to the
/// end of the stream when there is no length. A server that keeps the
/// connection open after answering (despite `connection: close`) is not waited on.
pub(crate) fn read_response(stream: &mut impl Read) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
            let length = head.lines().find_map(|line| {
                line.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            if let Some(length) = length {
                while raw.len() < head_end + 4 + length {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => raw.extend_from_slice(&chunk[..n]),
                    }
                }
                return raw;
            }
            let _ = stream.read_to_end(&mut raw);
            return raw;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return raw,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The status of a request, or the connection error.
pub(crate) fn try_http(addr: SocketAddr, method: &str, path: &str) -> Result<u16, std::io::Error> {
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    Ok(http(addr, method, path, &[], "").status)
}

/// Whether every stdout line must be a JSON log line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LogLines {
    /// Our own start-up: anything else on stdout is a bug.
    AllJson,
    /// Subcommands and reference-style starts may print other text.
    SkipOthers,
}

/// Spawns `command` with stdout piped, collects its JSON log lines on a thread,
/// and waits (at most 30 s) for the `started` line, which it returns with the
/// child and the log.
fn spawn_logged(
    command: &mut Command,
    lines: LogLines,
) -> (Child, serde_json::Value, Arc<Mutex<Vec<serde_json::Value>>>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn tenuo-authorizer");
    let stdout = child.stdout.take().expect("stdout");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let value = match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(value) => value,
                Err(_) if lines == LogLines::SkipOthers => continue,
                Err(_) => panic!("log line is not JSON: {line}"),
            };
            if value["event"] == "started" {
                let _ = tx.send(value.clone());
            }
            sink.lock().unwrap().push(value);
        }
    });
    let started = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("tenuo-authorizer did not start: {command:?}"));
    (child, started, log)
}

/// A `tenuo-authorizer` started with exactly the given arguments and
/// environment (nothing of ours added), as a deployment written for the
/// reference authorizer would start it.
pub(crate) struct ExactProcess {
    child: Child,
    /// The `started` log line.
    pub(crate) started: serde_json::Value,
    /// Every JSON log line so far.
    pub(crate) log: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl ExactProcess {
    /// Starts the binary and waits for its `started` line (panics if it exits first).
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenuo-authorizer"));
        command
            .args(args)
            .env_clear()
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let (child, started, log) = spawn_logged(&mut command, LogLines::SkipOthers);
        Self {
            child,
            started,
            log,
        }
    }

    /// SIGTERM, then the exit status (at most 30 s).
    pub(crate) fn stop(mut self) -> ExitStatus {
        sigterm(&self.child).expect("SIGTERM tenuo-authorizer");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("tenuo-authorizer did not exit within 30 s of SIGTERM");
    }
}

impl Drop for ExactProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion with exactly these arguments, environment and
/// stdin; returns (status, stdout, stderr).
pub(crate) fn run_exact(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> (ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenuo-authorizer"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tenuo-authorizer");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("wait");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A loopback port free at the time of asking.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request with `Connection: close` over a Unix socket.
pub(crate) fn http_unix(
    socket: &std::path::Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    exchange(&mut stream, "localhost", method, path, headers, body)
}
