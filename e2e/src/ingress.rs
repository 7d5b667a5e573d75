//! The ingress of the request-header pattern: an HTTP hop that, for every
//! request, fetches a warrant from the control plane for the agent it routes
//! to and forwards the request with `X-Tenuo-Warrant` set (a client's own
//! `X-Tenuo-Warrant` is dropped, never forwarded). A thread of the suite on
//! a process backend, the `ingress` binary in a pod on kind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tenuo_authz::crypto::PublicKey;

use crate::client::ControlPlaneClient;
use crate::http::request;

/// What the ingress needs to know.
#[derive(Debug, Clone)]
pub struct IngressSpec {
    /// The workload identity it fetches warrants as.
    pub workload: String,
    /// The agent's public key: the holder of the warrants.
    pub holder: PublicKey,
    /// TTL asked for each warrant.
    pub ttl_secs: u64,
    /// The agent (`host:port`), as [`crate::AgentNetwork::serve_upstream`].
    pub upstream: String,
    /// The control plane, as the suite reaches it.
    pub control_plane: SocketAddr,
}

/// Where the workload token comes from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// A token given once.
    Literal(String),
    /// A projected token file, read for every request (the kubelet rotates it).
    File(PathBuf),
}

impl TokenSource {
    fn read(&self) -> Result<String> {
        match self {
            Self::Literal(t) => Ok(t.clone()),
            Self::File(p) => Ok(std::fs::read_to_string(p)
                .with_context(|| format!("reading the token {}", p.display()))?
                .trim()
                .to_owned()),
        }
    }
}

/// Injects warrants into requests for one upstream.
#[derive(Debug, Clone)]
pub struct Injector {
    /// The agent (`host:port`, resolved per request).
    pub upstream: String,
    /// The control plane (`host:port`, resolved per request).
    pub control_plane: String,
    /// The holder of the injected warrants.
    pub holder: PublicKey,
    /// TTL asked for.
    pub ttl_secs: u64,
    /// The workload's credential.
    pub token: TokenSource,
}

/// One forwarded request, for the log.
#[derive(Debug, Clone)]
pub struct Forwarded {
    /// The injected warrant's id (empty when none was).
    pub warrant_id: String,
    /// The status answered to the client.
    pub status: u16,
}

fn resolve(host_port: &str) -> Result<SocketAddr> {
    host_port
        .to_socket_addrs()
        .with_context(|| format!("resolving {host_port}"))?
        .next()
        .with_context(|| format!("{host_port} has no address"))
}

/// Headers never forwarded: the warrant is the ingress's to set, and the
/// hop's own framing is rewritten.
const DROPPED: [&str; 5] = [
    "x-tenuo-warrant",
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
];

impl Injector {
    /// Serves one connection: reads the request, injects, forwards, answers.
    /// A failure to fetch a warrant is a 503, an unreachable agent a 502.
    pub fn serve(&self, client: TcpStream) -> Result<Forwarded> {
        client.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut reader = BufReader::new(client.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            bail!("not an HTTP request: {line:?}");
        };
        let (method, target) = (method.to_owned(), target.to_owned());
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
                if name == "content-length" {
                    length = value.parse().context("content-length")?;
                }
                if !DROPPED.contains(&name.as_str()) {
                    headers.push((name, value));
                }
            }
        }
        let mut body = vec![0; length.min(1 << 20)];
        reader.read_exact(&mut body)?;
        let body = String::from_utf8_lossy(&body).into_owned();

        let (status, reply_body, warrant_id) = match self.warrant() {
            Err(e) => (
                503,
                format!("{{\"error\":\"warrant: {e:#}\"}}"),
                String::new(),
            ),
            Ok((warrant, id)) => {
                let mut h: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                h.push(("x-tenuo-warrant", &warrant));
                match resolve(&self.upstream).and_then(|a| request(a, &method, &target, &h, &body))
                {
                    Ok(r) => (r.status, r.body, id),
                    Err(e) => (502, format!("{{\"error\":\"upstream: {e:#}\"}}"), id),
                }
            }
        };
        let mut out = client;
        write!(
            out,
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply_body}",
            reason(status),
            reply_body.len()
        )?;
        let _ = out.shutdown(Shutdown::Write);
        Ok(Forwarded { warrant_id, status })
    }

    /// A fresh warrant for the holder: (base64url, id).
    fn warrant(&self) -> Result<(String, String)> {
        let cp = ControlPlaneClient {
            addr: resolve(&self.control_plane)?,
            admin_token: String::new(),
        };
        let issued = cp.warrant(&self.token.read()?, &self.holder, Some(self.ttl_secs))?;
        Ok((issued.warrant, issued.warrant_id))
    }

    /// Accepts connections until `stop` (see [`stop_accepting`]), one
    /// thread each; returns when the requests in flight have been answered.
    pub fn run(self, listener: TcpListener, stop: Arc<AtomicBool>, log: bool) {
        let me = Arc::new(self);
        let mut in_flight: Vec<JoinHandle<()>> = Vec::new();
        for conn in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            in_flight.retain(|h| !h.is_finished());
            let me = Arc::clone(&me);
            in_flight.push(std::thread::spawn(move || {
                let result = me.serve(conn);
                if log {
                    // One JSON line per request; never the warrant itself.
                    let line = match result {
                        Ok(f) => serde_json::json!({"event": "forwarded",
                            "warrant_id": f.warrant_id, "status": f.status}),
                        Err(e) => serde_json::json!({"event": "error", "error": format!("{e:#}")}),
                    };
                    println!("{line}");
                }
            }));
        }
        for h in in_flight {
            let _ = h.join();
        }
    }
}

/// Stops an [`Injector::run`] listening on `addr`: sets `stop`, then connects
/// once so its blocked accept returns and sees the flag.
pub fn stop_accepting(stop: &AtomicBool, addr: SocketAddr) {
    stop.store(true, Ordering::SeqCst);
    // A wildcard listener (a pod's 0.0.0.0) is reached on loopback.
    let wake = match addr.ip() {
        ip if ip.is_unspecified() && addr.is_ipv6() => {
            SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port()))
        }
        ip if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())),
        _ => addr,
    };
    let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A running ingress: its address, and (when it is a thread here) the
/// means to stop it when dropped.
#[derive(Debug)]
pub struct Ingress {
    /// Where clients send requests.
    pub addr: SocketAddr,
    stop: Option<Arc<AtomicBool>>,
}

impl Ingress {
    /// An ingress running elsewhere (a pod), reached at `addr`.
    pub fn remote(addr: SocketAddr) -> Self {
        Self { addr, stop: None }
    }

    /// A thread of this process on a loopback port.
    pub fn spawn_local(spec: &IngressSpec, token: String) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let injector = Injector {
            upstream: spec.upstream.clone(),
            control_plane: spec.control_plane.to_string(),
            holder: spec.holder,
            ttl_secs: spec.ttl_secs,
            token: TokenSource::Literal(token),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        std::thread::spawn(move || injector.run(listener, s, false));
        Ok(Self {
            addr,
            stop: Some(stop),
        })
    }
}

impl Drop for Ingress {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            stop_accepting(stop, self.addr);
        }
    }
}
