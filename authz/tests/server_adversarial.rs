//! The real `tenuo-authorizer` binary under hostile clients: slow clients,
//! malformed HTTP/1.1, HTTP/2 and gRPC, oversized headers, and replay protection
//! switched on by its environment variable. After each attack the server must
//! still answer, and the descriptors it held must be released.

#[path = "support/server_process.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use support::{eventually, http, now, start_gateway, ServerProcess};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};

fn server(extra: &[(&str, &str)]) -> (ServerProcess, SigningKey, SigningKey) {
    let cp = SigningKey::from_bytes(&[41; 32]);
    let agent = SigningKey::from_bytes(&[42; 32]);
    (start_gateway(&cp.public_key(), extra), cp, agent)
}

fn healthy(s: &ServerProcess) {
    assert_eq!(http(s.addr, "GET", "/health", &[], "").status, 200);
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Sends raw bytes on a fresh connection and returns what comes back before
/// the server closes it (or the read times out).
fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

fn status_of(reply: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(reply);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[test]
fn slow_clients_neither_starve_others_nor_keep_their_descriptors() {
    let (s, _, _) = server(&[]);
    healthy(&s);
    let baseline = open_fds(s.pid());
    // Clients that never finish their headers, and one that never finishes its body.
    let mut slow: Vec<TcpStream> = (0..64)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).unwrap();
            c.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .unwrap();
            c
        })
        .collect();
    let mut body = TcpStream::connect(s.addr).unwrap();
    body.write_all(b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"tool\":")
        .unwrap();
    slow.push(body);
    assert!(
        eventually(Duration::from_secs(10), || open_fds(s.pid())
            >= baseline + 60),
        "the slow connections were accepted"
    );
    // Everyone else is still served meanwhile.
    for _ in 0..10 {
        healthy(&s);
    }
    // The server gives up on them (header read timeout, request timeout): each
    // connection is answered or closed, and its descriptor released.
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
        let mut sink = Vec::new();
        let _ = c.read_to_end(&mut sink);
    }
    assert!(
        eventually(Duration::from_secs(10), || open_fds(s.pid())
            <= baseline + 2),
        "descriptors: baseline {baseline}, now {}",
        open_fds(s.pid())
    );
    healthy(&s);
}

#[test]
fn malformed_http_is_refused_and_the_server_stays_up() {
    let (s, _, _) = server(&[]);
    let big_header = format!(
        "GET /files/read?path=/data/a HTTP/1.1\r\nhost: x\r\nx-tenuo-warrant: {}\r\n\r\n",
        "A".repeat(200 * 1024)
    );
    let many_headers = format!(
        "GET /health HTTP/1.1\r\nhost: x\r\n{}\r\n",
        "x-a: b\r\n".repeat(20_000)
    );
    let attacks: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n".to_vec(),
        big_header.into_bytes(),
        many_headers.into_bytes(),
        b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n".to_vec(),
        b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\n12345".to_vec(),
        b"POST /v1/check HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nnope\r\n".to_vec(),
        b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999\r\n\r\n{".to_vec(),
        b"GET /files/read?path=%ff%fe HTTP/1.1\r\nhost: x\r\nx-tenuo-warrant: \xff\xfe\r\nx-tenuo-pop: \xff\r\nconnection: close\r\n\r\n".to_vec(),
        // HTTP/2 prior knowledge, then garbage frames.
        [&b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..], &[0xff; 64]].concat(),
    ];
    for attack in &attacks {
        let reply = raw(s.addr, attack, Duration::from_secs(15));
        if let Some(status) = status_of(&reply) {
            assert!(
                (400..500).contains(&status),
                "{status} for {:?}",
                String::from_utf8_lossy(&attack[..attack.len().min(60)])
            );
        }
        healthy(&s);
    }
    // A body declared larger than the limit is refused without waiting for it.
    let reply = raw(
        s.addr,
        b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999\r\nconnection: close\r\n\r\n{",
        Duration::from_secs(15),
    );
    let text = String::from_utf8_lossy(&reply);
    assert_eq!(status_of(&reply), Some(403), "{text}");
    assert!(text.contains("constraint_violation"), "{text}");
    // A well-formed request with an oversized (but allowed) header is an undecodable warrant.
    let reply = http(
        s.addr,
        "GET",
        "/files/read?path=/data/a",
        &[("x-tenuo-warrant", &"A".repeat(60 * 1024))],
        "",
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["reason"], "invalid_warrant");
}

/// An HTTP/2 frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = len.to_be_bytes()[1..].to_vec();
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// HPACK literal header fields without indexing (no Huffman).
fn hpack(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0x00);
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.push(value.len() as u8);
        out.extend_from_slice(value.as_bytes());
    }
    out
}

#[test]
fn malformed_grpc_is_refused_and_the_server_stays_up() {
    let (s, _, _) = server(&[]);
    let headers = hpack(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/envoy.service.auth.v3.Authorization/Check"),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]);
    let grpc_call = |message: &[u8]| {
        [
            &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
            &frame(4, 0, 0, &[]),
            &frame(1, 0x4, 1, &headers),
            &frame(0, 0x1, 1, message),
        ]
        .concat()
    };
    let messages: Vec<Vec<u8>> = vec![
        // Not protobuf.
        [&[0, 0, 0, 0, 8][..], &[0xff; 8]].concat(),
        // A length prefix announcing 4 GiB.
        vec![0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3],
        // Compressed flag without a negotiated codec.
        vec![1, 0, 0, 0, 1, 0],
        // Truncated prefix.
        vec![0, 0],
        // Deeply nested protobuf groups/messages.
        [&[0, 0, 0, 0x27, 0x10][..], &[0x0a, 0x02].repeat(5000)].concat(),
    ];
    for message in &messages {
        // HTTP/2 keeps the connection open: read what comes within 2 s.
        let reply = raw(s.addr, &grpc_call(message), Duration::from_secs(2));
        assert!(!reply.is_empty(), "the server answered (SETTINGS at least)");
        healthy(&s);
    }
    // A well-formed Check with nothing in it is denied, not allowed.
    use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
    use envoy_types::pb::envoy::service::auth::v3::CheckRequest;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(async {
        let mut client = AuthorizationClient::connect(format!("http://{}", s.addr))
            .await
            .unwrap();
        match client.check(CheckRequest::default()).await {
            Ok(answer) => answer.into_inner().status.map_or(-1, |st| st.code),
            Err(status) => status.code() as i32,
        }
    });
    assert_ne!(code, 0, "an empty Check must not be allowed");
    healthy(&s);
}

#[test]
fn replay_protection_from_the_environment_denies_a_replayed_request() {
    let (s, cp, agent) = server(&[("TENUO_REPLAY_PROTECTION", "true"), ("DEBUG_MODE", "true")]);
    let now = now();
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let warrant = Issue::execution(agent.public_key())
        .tool("read_file", set)
        .ttl_secs(300)
        .sign(&cp, now)
        .unwrap();
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String("/data/a".into()));
    let pop = sign_pop(&agent, warrant.id(), "read_file", &args, now as i64).to_base64url();
    let token = warrant.to_base64url();
    let send = || {
        http(
            s.addr,
            "GET",
            "/files/read?path=/data/a",
            &[("x-tenuo-warrant", &token), ("x-tenuo-pop", &pop)],
            "",
        )
    };
    assert_eq!(send().status, 200);
    let replay = send();
    assert_eq!(replay.status, 403);
    assert_eq!(replay.json()["reason"], "invalid_pop");
    let header = replay.header("x-tenuo-deny-reason").unwrap_or_default();
    assert!(header.contains("replayed"), "{header}");
}
